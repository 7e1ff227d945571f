import { performance } from 'node:perf_hooks';
import type { HookDone, HttpResponse, VUContext, VUEvents } from 'artillery';
import { SignJWT } from 'jose';
import { z } from 'zod';
import { createFailureExplainer } from './lib/failure-log';
import { count, countFailure, type FailureCause, observe } from './lib/metrics';
import { answerMs, markSent, toWebAnswer } from './lib/web/artillery-answer';
import { classifyChatAnswer } from './lib/web/chat';
import { parseJson } from './lib/web/schemas';
import {
  prepareWebUser,
  SESSION_REQUEST_NAMES,
  type SessionStepFailure,
  sessionTransportError,
  transportFailureOf,
} from './lib/web/session-hooks';
import { type SignupRunSettings, signupRunSettings } from './lib/web/signup-settings';
import { WEB_SESSION_EMITTED_METRICS } from './lib/web-session';

/**
 * Hooks of scenarios/signup-tenant-chat.yml: one virtual user = one new account onboarded end to
 * end. The YAML holds the flow; the signup and login requests are judged by lib/web/session-hooks.ts
 * (re-exported below), this module adds the user's start, the first chat and the whole-onboarding
 * view:
 *
 *   onboarding.attempts / .success / .failures[.<cause>]   one per user
 *   onboarding.duration_ms                                  first request to the assistant's answer (successes)
 *   first_chat.latency_ms, first_chat.success / .failures[.<cause>] / .requests / .request_errors
 *   onboarding.container_checks, onboarding.tenants_without_container,
 *   onboarding.container_check_failures                     the admin tenant view after onboarding
 *
 * The container check runs where the admin tenant view can be read (API_BASE_URL plus ADMIN_JWT,
 * or API_JWT_SECRET to sign an admin token). The real web app asks the API to start a new tenant's
 * container with POST /api/tenants/{id}/start, which the API answers 405, so new tenants stay
 * without one while signup answers 200: a tenant without a container is a finding of the run, not
 * a failed onboarding.
 *
 * A failed onboarding is a counted outcome, never a VU error; the first few failures of each cause
 * are printed (statuses and error texts only, never credentials).
 */

export {
  beginLogin,
  beginSignup,
  checkCallback,
  checkCsrf,
  checkSession,
  checkSignup,
  countSessionRequest,
  sealCredentials,
} from './lib/web/session-hooks';

const FALLBACK_FIRST_MESSAGE = 'Hello! This is my first message after signing up.';
const explainOnce = createFailureExplainer('signup-tenant-chat');

const ONBOARDING_AREA = 'onboarding';
const FIRST_CHAT_AREA = 'first_chat';

/** This scenario's own metric names (the signup and login steps name theirs in lib/web-session.ts). */
export const ONBOARDING_METRICS = {
  attempts: `${ONBOARDING_AREA}.attempts`,
  success: `${ONBOARDING_AREA}.success`,
  failures: `${ONBOARDING_AREA}.failures`,
  durationMs: `${ONBOARDING_AREA}.duration_ms`,
  firstChatLatencyMs: `${FIRST_CHAT_AREA}.latency_ms`,
  firstChatSuccess: `${FIRST_CHAT_AREA}.success`,
  firstChatFailures: `${FIRST_CHAT_AREA}.failures`,
  firstChatRequests: `${FIRST_CHAT_AREA}.requests`,
  firstChatRequestErrors: `${FIRST_CHAT_AREA}.request_errors`,
  containerChecks: `${ONBOARDING_AREA}.container_checks`,
  tenantsWithoutContainer: `${ONBOARDING_AREA}.tenants_without_container`,
  containerCheckFailures: `${ONBOARDING_AREA}.container_check_failures`,
} as const;
const M = ONBOARDING_METRICS;

/** Every metric this processor can emit (`*`: one or more characters), for `npm run validate`. */
export const EMITTED_METRICS: readonly string[] = [
  ...Object.values(ONBOARDING_METRICS),
  `${ONBOARDING_AREA}.failures.*`,
  `${FIRST_CHAT_AREA}.failures.*`,
  ...WEB_SESSION_EMITTED_METRICS,
];

interface Onboarding {
  startedAt: number;
  /** The tenant whose container state is read after the onboarding. */
  tenantId?: string;
}
const onboardings = new WeakMap<VUContext, Onboarding>();

// ---- the admin tenant view ---------------------------------------------------------------------

/** Claims of a locally signed admin token (the API's admin middleware accepts any of them). */
const ADMIN_CLAIMS = { sub: 'agentteams-loadtest', role: 'admin', isAdmin: true };
const ADMIN_TOKEN_TTL_S = 300;

interface AdminView {
  apiBaseUrl: string;
  token: () => Promise<string>;
}

let adminView: AdminView | null | undefined;

/** The admin tenant view, when the settings make it readable; null when they do not. */
function adminViewOf(settings: SignupRunSettings): AdminView | null {
  if (adminView !== undefined) return adminView;
  const apiBaseUrl = settings.API_BASE_URL;
  const given = settings.ADMIN_JWT;
  const secret = settings.API_JWT_SECRET;
  if (!apiBaseUrl || (!given && !secret)) {
    adminView = null;
    return adminView;
  }
  let cached: { token: string; renewAt: number } | undefined;
  const token = async (): Promise<string> => {
    if (given) return given;
    const now = Math.floor(Date.now() / 1000);
    if (cached && cached.renewAt > now) return cached.token;
    const signed = await new SignJWT(ADMIN_CLAIMS)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt(now)
      .setExpirationTime(now + ADMIN_TOKEN_TTL_S)
      .sign(new TextEncoder().encode(secret));
    cached = { token: signed, renewAt: now + ADMIN_TOKEN_TTL_S - 60 };
    return signed;
  };
  adminView = { apiBaseUrl, token };
  return adminView;
}

/** GET /api/admin/tenants/{id}: `container.state` is "not_provisioned" until a container exists. */
const AdminTenantAnswer = z.object({
  tenant: z.object({
    container: z.object({ state: z.string().optional(), running: z.boolean().optional() }).nullish(),
    container_id: z.string().nullish(),
  }),
});

let unprovisionedNotePrinted = false;

// ---- hooks ---------------------------------------------------------------------------------------

function emitZeroCounters(events: VUEvents, containerCheck: boolean): void {
  for (const name of [
    M.success,
    M.failures,
    M.firstChatSuccess,
    M.firstChatFailures,
    M.firstChatRequests,
    M.firstChatRequestErrors,
  ])
    count(events, name, 0);
  if (containerCheck)
    for (const name of [M.containerChecks, M.tenantsWithoutContainer, M.containerCheckFailures])
      count(events, name, 0);
}

function onboardingFailed(events: VUEvents, step: string, cause: FailureCause, detail: string): void {
  countFailure(events, ONBOARDING_AREA, cause);
  explainOnce(step, cause, detail);
}

/** beforeScenario: a new account for this user, its Origin from the real target, zeroed counters. */
export function startOnboarding(context: VUContext, events: VUEvents, done: HookDone): void {
  try {
    const settings = signupRunSettings();
    const view = adminViewOf(settings);
    emitZeroCounters(events, view !== null);
    count(events, M.attempts);
    onboardings.set(context, { startedAt: performance.now() });
    const firstMessage =
      typeof context.vars.firstMessage === 'string' ? context.vars.firstMessage.trim() : '';
    context.vars.firstMessage = firstMessage || FALLBACK_FIRST_MESSAGE;
    context.vars.checkContainer = false;
    if (view) context.vars.apiBaseUrl = view.apiBaseUrl;
    prepareWebUser(context, events, {
      callbackPath: settings.SIGNUP_CALLBACK_PATH,
      ...(settings.LOADTEST_RUN_ID ? { runId: settings.LOADTEST_RUN_ID } : {}),
      // The HTTP scenario's timeout is its config.http.timeout unless the setting is given.
      ...(process.env.SIGNUP_REQUEST_TIMEOUT ? { requestTimeoutMs: settings.SIGNUP_REQUEST_TIMEOUT } : {}),
      onLoggedIn: (ctx) => {
        const onboarding = onboardings.get(ctx);
        if (onboarding && typeof ctx.vars.tenantId === 'string') onboarding.tenantId = ctx.vars.tenantId;
        // The tenant exists from here on, whatever the first chat does: its container is worth a look.
        ctx.vars.checkContainer = view !== null;
      },
      onFailed: (_ctx, ev, failure: SessionStepFailure) =>
        onboardingFailed(ev, failure.step, failure.cause, failure.detail),
    });
    done();
  } catch (error) {
    done(error instanceof Error ? error : new Error(String(error)));
  }
}

/** beforeRequest of first_chat. */
export function countFirstChat(
  _requestParams: Record<string, unknown>,
  context: VUContext,
  events: VUEvents,
  done: HookDone,
): void {
  count(events, M.firstChatRequests);
  markSent(context);
  done();
}

/** afterResponse of first_chat: counts only with an assistant message and a conversationId. */
export function checkFirstChat(
  _requestParams: Record<string, unknown>,
  response: HttpResponse,
  context: VUContext,
  events: VUEvents,
  done: HookDone,
): void {
  const chat = classifyChatAnswer(toWebAnswer(response, context));
  observe(events, M.firstChatLatencyMs, chat.ms);
  if (!chat.ok) {
    countFailure(events, FIRST_CHAT_AREA, chat.cause);
    count(events, M.firstChatRequestErrors);
    onboardingFailed(events, 'first_chat', chat.cause, chat.detail);
    context.vars.userOk = false;
    done();
    return;
  }
  count(events, M.firstChatSuccess);
  count(events, M.success);
  const onboarding = onboardings.get(context);
  if (onboarding) observe(events, M.durationMs, performance.now() - onboarding.startedAt);
  done();
}

/** beforeRequest of admin_tenant_view: the admin Bearer token, added here so the YAML holds none. */
export async function authorizeAdminView(
  requestParams: Record<string, unknown>,
  context: VUContext,
  events: VUEvents,
): Promise<void> {
  const view = adminViewOf(signupRunSettings());
  if (!view) throw new Error('admin_tenant_view ran without admin credentials (ifTrue: checkContainer)');
  count(events, M.containerChecks);
  requestParams.headers = {
    ...(requestParams.headers as Record<string, string> | undefined),
    authorization: `Bearer ${await view.token()}`,
  };
  markSent(context);
}

/** afterResponse of admin_tenant_view: a tenant left without a container is counted, not failed. */
export function checkTenantContainer(
  _requestParams: Record<string, unknown>,
  response: HttpResponse,
  context: VUContext,
  events: VUEvents,
  done: HookDone,
): void {
  const answer = toWebAnswer(response, context);
  const parsed = answer.status === 200 ? parseJson(answer.text, AdminTenantAnswer) : undefined;
  if (!parsed?.ok) {
    count(events, M.containerCheckFailures);
    explainOnce(
      'admin_tenant_view',
      answer.status === 200 ? 'malformed_body' : 'unexpected_status',
      `GET /api/admin/tenants/{id}: ${answer.status}${parsed && !parsed.ok ? ` (${parsed.problem})` : ''}, ${Math.round(answerMs(response, context))} ms`,
    );
    done();
    return;
  }
  const { container, container_id: containerId } = parsed.value.tenant;
  const provisioned =
    (containerId !== null && containerId !== undefined && containerId !== '') ||
    (container?.state !== undefined && container.state !== 'not_provisioned');
  if (!provisioned) {
    count(events, M.tenantsWithoutContainer);
    if (!unprovisionedNotePrinted) {
      unprovisionedNotePrinted = true;
      console.error(
        '[signup-tenant-chat] finding: a tenant has no container after its onboarding (admin view: ' +
          'not_provisioned). The real web app asks for one with POST /api/tenants/{id}/start, which ' +
          'the API answers 405, and falls back to /resume only on 404; counted as ' +
          `${M.tenantsWithoutContainer}, not as a failed onboarding.`,
      );
    }
  }
  done();
}

/** onError (scenario): a request without an answer ends the user; its cause is counted here. */
export function countTransportError(
  error: unknown,
  requestParams: Record<string, unknown>,
  context: VUContext,
  events: VUEvents,
  done: HookDone,
): void {
  const failure = transportFailureOf(error, requestParams);
  const name = String(requestParams.name ?? '');
  if (failure) {
    if (SESSION_REQUEST_NAMES.has(name)) sessionTransportError(context, events, failure);
    else if (name === 'first_chat') {
      countFailure(events, FIRST_CHAT_AREA, failure.cause);
      count(events, M.firstChatRequestErrors);
      onboardingFailed(events, 'first_chat', failure.cause, failure.detail);
    } else if (name === 'admin_tenant_view') count(events, M.containerCheckFailures);
  }
  done();
}
