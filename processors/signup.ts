import { performance } from 'node:perf_hooks';
import type { VUContext, VUEvents } from 'artillery';
import { createFailureExplainer } from './lib/failure-log';
import { GENERATOR_METRICS, reportGeneratorHealth } from './lib/generator-health';
import { count, countFailure, type FailureCause, observe } from './lib/metrics';
import { signupRunSettings } from './lib/web/signup-settings';
import {
  emitZeroSessionCounters,
  sendChatMessage,
  signUpAndLogIn,
  WEB_SESSION_EMITTED_METRICS,
  WEB_SESSION_METRICS,
} from './lib/web-session';

/**
 * Signup → tenant → first chat (scenarios/signup-tenant-chat.yml): one virtual user = one new
 * account onboarded end to end. The steps and their proofs are in lib/web-session.ts; this adds
 * the first chat message and the whole-onboarding view:
 *
 *   onboarding.attempts / .success / .failures[.<cause>]   one per user
 *   onboarding.duration_ms                                  csrf to the assistant's answer (successes)
 *   first_chat.latency_ms, first_chat.success / .failures[.<cause>] / .requests / .request_errors
 *   signup.limit.latency_p99_ms, login.limit.latency_p99_ms   the gate's limits (SIGNUP_P99_MS...)
 *
 * A failed onboarding is a counted outcome, never a VU error; the first few failures of each cause
 * are printed (statuses and error texts only, never credentials).
 */

const FALLBACK_FIRST_MESSAGE = 'Hello! This is my first message after signing up.';
const explainOnce = createFailureExplainer('signup-tenant-chat');

const AUTH_COST_NOTE =
  'auth latency. On the real platform signup and login are bound by password hashing: bcrypt cost 12 ' +
  'takes ~400-450 ms per request on 2 vCPUs and concurrent ones queue for the CPU, so a p99 below ' +
  "200 ms at 50 users cannot be met by that code (the simulator's realistic profile reproduces it). " +
  "That is the platform's auth cost, not an error of the suite.";
let authNotePrinted = false;

/**
 * Passes every metric on, and says once per worker why an auth request missed its target, so
 * that a failed auth check reads as auth cost in the run's output and not as an unexplained number.
 */
function explainingAuthLatency(events: VUEvents, targets: Record<string, number>): VUEvents {
  return {
    emit(type: 'counter' | 'histogram' | 'rate', name: string, value?: number): void {
      if (type === 'rate') {
        events.emit(type, name, value);
        return;
      }
      const target = targets[name];
      if (
        type === 'histogram' &&
        target !== undefined &&
        value !== undefined &&
        value > target &&
        !authNotePrinted
      ) {
        authNotePrinted = true;
        console.error(
          `[signup-tenant-chat] ${name} ${Math.round(value)} ms > the ${target} ms target: ${AUTH_COST_NOTE}`,
        );
      }
      events.emit(type, name, value ?? 0);
    },
  };
}

/** The gate's limits travel as metrics, so the checks read the settings (or their defaults). */
export const SIGNUP_LIMITS = {
  signupP99Ms: 'signup.limit.latency_p99_ms',
  loginP99Ms: 'login.limit.latency_p99_ms',
} as const;

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
} as const;
const M = ONBOARDING_METRICS;

/** Every metric this processor can emit (`*`: one or more characters), for `npm run validate`. */
export const EMITTED_METRICS: readonly string[] = [
  ...Object.values(ONBOARDING_METRICS),
  `${ONBOARDING_AREA}.failures.*`,
  `${FIRST_CHAT_AREA}.failures.*`,
  ...Object.values(SIGNUP_LIMITS),
  ...WEB_SESSION_EMITTED_METRICS,
  ...Object.values(GENERATOR_METRICS),
];

function emitZeroCounters(events: VUEvents): void {
  emitZeroSessionCounters(events);
  for (const name of [
    M.success,
    M.failures,
    M.firstChatSuccess,
    M.firstChatFailures,
    M.firstChatRequests,
    M.firstChatRequestErrors,
  ])
    count(events, name, 0);
}

function onboardingFailed(events: VUEvents, step: string, cause: FailureCause, detail: string): void {
  countFailure(events, ONBOARDING_AREA, cause);
  explainOnce(step, cause, detail);
}

export async function onboardUser(context: VUContext, events: VUEvents): Promise<void> {
  const settings = signupRunSettings();
  reportGeneratorHealth(events);
  emitZeroCounters(events);
  observe(events, SIGNUP_LIMITS.signupP99Ms, settings.SIGNUP_P99_MS);
  observe(events, SIGNUP_LIMITS.loginP99Ms, settings.LOGIN_P99_MS);
  count(events, M.attempts);
  const started = performance.now();

  const authEvents = explainingAuthLatency(events, {
    [WEB_SESSION_METRICS.signupLatency]: settings.SIGNUP_P99_MS,
    [WEB_SESSION_METRICS.loginLatency]: settings.LOGIN_P99_MS,
  });
  const login = await signUpAndLogIn(authEvents, {
    webBaseUrl: settings.WEB_BASE_URL,
    timeoutMs: settings.SIGNUP_REQUEST_TIMEOUT,
    callbackPath: settings.SIGNUP_CALLBACK_PATH,
    runId: settings.LOADTEST_RUN_ID,
  });
  if (!login.ok) {
    onboardingFailed(events, login.step, login.cause, login.detail);
    return;
  }

  const firstMessage =
    typeof context.vars.firstMessage === 'string' && context.vars.firstMessage.trim()
      ? context.vars.firstMessage.trim()
      : FALLBACK_FIRST_MESSAGE;
  count(events, M.firstChatRequests);
  const chat = await sendChatMessage(login.session.client, { message: firstMessage });
  if (chat.status !== undefined) observe(events, M.firstChatLatencyMs, chat.ms);
  if (!chat.ok) {
    countFailure(events, FIRST_CHAT_AREA, chat.cause);
    count(events, M.firstChatRequestErrors);
    onboardingFailed(events, 'first_chat', chat.cause, chat.detail);
    return;
  }
  count(events, M.firstChatSuccess);
  count(events, M.success);
  observe(events, M.durationMs, performance.now() - started);
  reportGeneratorHealth(events);
}
