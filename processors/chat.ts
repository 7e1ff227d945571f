import { performance } from 'node:perf_hooks';
import type { HookDone, HttpResponse, VUContext, VUEvents } from 'artillery';
import { formatDuration } from '../config/duration';
import { CHAT_BUCKETS, type ChatBucket } from '../config/settings/chat';
import { loadChatMessages, MessagePicker } from './lib/chat/messages';
import { CHAT_AREA, CHAT_EMITTED_METRICS, CHAT_METRICS as M } from './lib/chat/metric-names';
import { BucketMix } from './lib/chat/mix';
import { type ChatRunSettings, chatDurationMs, chatRunSettings } from './lib/chat/settings';
import { createFailureExplainer } from './lib/failure-log';
import {
  emitZeroIsolationCounters,
  ISOLATION_EMITTED_METRICS,
  ISOLATION_PROBE_MESSAGE,
  isolationProbesEnabled,
  probeChatIsolation,
  registerConversation,
  toChatProbeAnswer,
} from './lib/isolation';
import { count, countFailure, observe } from './lib/metrics';
import { markSent, toWebAnswer } from './lib/web/artillery-answer';
import { classifyChatAnswer } from './lib/web/chat';
import {
  prepareWebUser,
  SESSION_REQUEST_NAMES,
  sessionTransportError,
  transportFailureOf,
} from './lib/web/session-hooks';

/**
 * Hooks of scenarios/chat-sessions.yml: each virtual user signs up and logs in once (the same
 * steps and hooks as signup-tenant-chat, lib/web/session-hooks.ts, re-exported below), then loops
 * until the run's deadline: pickMessage chooses the next message of the length mix, the YAML posts
 * it to /api/chat, checkChatAnswer judges the answer and sets the pause before the next one.
 *
 *   chat.messages.<bucket>           messages chosen per length bucket (the CHAT_MIX split)
 *   chat.attempts / chat.success     requests to /api/chat and answers that held up
 *   chat.latency_ms.<bucket>         time of successful answers per length bucket
 *   chat.failures[.<cause>]          every failed request by cause, 429s as rate_limited
 *   chat.rate_limited                429s: the user waits Retry-After (chat.retry_after_ms) and
 *                                    sends the message again; no latency is recorded for them
 *   chat.conversation_continued      answers that kept the user's conversationId
 *   chat.conversation_mismatch       answers that came back with another one (a failure)
 *   chat.users.ready / .failed       users who did / did not get a session (signup.*, login.* tell why)
 *
 * The deadline is the first user's start in this worker plus the environment's `loopDuration`
 * (CHAT_DURATION overrides it), so every user of a run stops at the same moment.
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

export const EMITTED_METRICS: readonly string[] = [...CHAT_EMITTED_METRICS, ...ISOLATION_EMITTED_METRICS];

interface ChatUser {
  conversationId?: string;
  bucket?: ChatBucket;
  /** The last message was rate limited: send it again instead of a new one. */
  resend: boolean;
  /** The conversation the isolation probe posts into (another user's). */
  probeTarget?: string;
}

const users = new WeakMap<VUContext, ChatUser>();
let runDeadline: number | undefined;
let mix: BucketMix | undefined;
let picker: MessagePicker | undefined;

/** Conversations of this worker's users in order of arrival: the isolation probes' targets. */
const conversations = new Map<string, string>();

const explainOnce = createFailureExplainer('chat-sessions');

const untilDeadline = () => (runDeadline === undefined ? 0 : runDeadline - performance.now());
/** A pause for `think: "{{ pause }}"`, never past the deadline. */
const pauseOf = (ms: number) => formatDuration(Math.max(0, Math.round(Math.min(ms, untilDeadline()))));

function emitZeroCounters(events: VUEvents): void {
  for (const name of [
    M.attempts,
    M.success,
    M.failures,
    M.rateLimited,
    M.conversationContinued,
    M.conversationMismatch,
    M.usersReady,
    M.usersFailed,
    ...CHAT_BUCKETS.map(M.messages),
  ])
    count(events, name, 0);
}

function userOf(context: VUContext): ChatUser {
  const user = users.get(context);
  if (!user) throw new Error('chat-sessions: startChatUser did not run for this user (beforeScenario)');
  return user;
}

/** beforeScenario: settings, the run's deadline, and this user's account and Origin. */
export function startChatUser(context: VUContext, events: VUEvents, done: HookDone): void {
  // Before anything can throw: a run whose users cannot start must fail the gate (0 successes).
  emitZeroCounters(events);
  emitZeroIsolationCounters(events);
  try {
    const settings: ChatRunSettings = chatRunSettings();
    mix ??= new BucketMix(settings.CHAT_MIX);
    picker ??= new MessagePicker(loadChatMessages(settings.CHAT_MESSAGES_FILE));
    runDeadline ??= performance.now() + chatDurationMs(settings, context.vars.loopDuration);
    users.set(context, { resend: false });
    context.vars.pause = '0ms';
    context.vars.probeNow = false;
    context.vars.probeMessage = ISOLATION_PROBE_MESSAGE;
    prepareWebUser(context, events, {
      callbackPath: '/dashboard/chat',
      ...(settings.LOADTEST_RUN_ID ? { runId: settings.LOADTEST_RUN_ID } : {}),
      ...(settings.CHAT_REQUEST_TIMEOUT !== undefined
        ? { requestTimeoutMs: settings.CHAT_REQUEST_TIMEOUT }
        : {}),
      onLoggedIn: (_ctx, ev) => count(ev, M.usersReady),
      onFailed: (_ctx, ev, failure) => {
        count(ev, M.usersFailed);
        explainOnce(failure.step, failure.cause, failure.detail);
      },
    });
    done();
  } catch (error) {
    done(error instanceof Error ? error : new Error(String(error)));
  }
}

/** whileTrue of the chat loop: a user with a session chats until the run's deadline. */
export function keepChatting(context: VUContext, next: (again: boolean) => void): void {
  next(context.vars.userOk === true && untilDeadline() > 0);
}

function applyTimeout(requestParams: Record<string, unknown>): void {
  const timeoutMs = chatRunSettings().CHAT_REQUEST_TIMEOUT;
  // Artillery reads `timeout` (seconds) after the beforeRequest hooks.
  if (timeoutMs !== undefined) requestParams.timeout = timeoutMs / 1000;
}

/** beforeRequest of chat_message: the next message of the mix (or the rate-limited one again). */
export function pickMessage(
  requestParams: Record<string, unknown>,
  context: VUContext,
  events: VUEvents,
  done: HookDone,
): void {
  const user = userOf(context);
  if (!user.resend || user.bucket === undefined) {
    const bucket = mix!.next();
    user.bucket = bucket;
    context.vars.message = picker!.next(bucket);
    count(events, M.messages(bucket));
  }
  user.resend = false;
  count(events, M.attempts);
  // A new object: the step's own json is shared by every user of the scenario.
  if (user.conversationId !== undefined)
    requestParams.json = { ...(requestParams.json as object), conversationId: user.conversationId };
  applyTimeout(requestParams);
  markSent(context);
  done();
}

/** afterResponse of chat_message: success, conversation continuity, rate limit, or a cause. */
export function checkChatAnswer(
  _requestParams: Record<string, unknown>,
  response: HttpResponse,
  context: VUContext,
  events: VUEvents,
  done: HookDone,
): void {
  const user = userOf(context);
  const bucket = user.bucket!;
  const outcome = classifyChatAnswer(toWebAnswer(response, context));
  const thinkMs = chatRunSettings().CHAT_THINK_TIME;
  if (outcome.ok) {
    observe(events, M.latencyMs(bucket), outcome.ms);
    if (user.conversationId === undefined || outcome.conversationId === user.conversationId) {
      if (user.conversationId !== undefined) count(events, M.conversationContinued);
      count(events, M.success);
    } else {
      count(events, M.conversationMismatch);
      countFailure(events, CHAT_AREA, 'conversation_mismatch');
      explainOnce('chat', 'conversation_mismatch', 'the answer named another conversation than the one sent');
    }
    // The platform's answer is the truth from here on: continue in the conversation it named.
    user.conversationId = outcome.conversationId;
    aimProbe(context, user);
    context.vars.pause = pauseOf(thinkMs);
    done();
    return;
  }
  countFailure(events, CHAT_AREA, outcome.cause);
  if (outcome.cause === 'rate_limited') {
    // Rate limiting is the web app's policy, not slowness: wait as told, record no latency, resend.
    count(events, M.rateLimited);
    const waitMs = outcome.retryAfterMs ?? 1000;
    observe(events, M.retryAfterMs, waitMs);
    user.resend = true;
    context.vars.pause = pauseOf(waitMs);
  } else {
    explainOnce('chat', outcome.cause, outcome.detail);
    context.vars.pause = pauseOf(thinkMs);
  }
  done();
}

// ---- isolation probe (ISOLATION_PROBES=true) ----------------------------------------------------

/** Once per user, once its own conversation exists: aim at the first other user's conversation. */
function aimProbe(context: VUContext, user: ChatUser): void {
  const owner = String(context.vars.$uuid);
  if (user.conversationId === undefined) return;
  if (!conversations.has(owner)) {
    conversations.set(owner, user.conversationId);
    registerConversation(owner, user.conversationId);
  }
  context.vars.probeNow = false;
  if (!isolationProbesEnabled() || user.probeTarget !== undefined) return;
  for (const [other, id] of conversations) {
    if (other === owner) continue;
    user.probeTarget = id;
    context.vars.probeNow = true;
    return;
  }
}

/** beforeRequest of isolation_probe: the foreign conversation goes into the body. */
export function aimIsolationProbe(
  requestParams: Record<string, unknown>,
  context: VUContext,
  _events: VUEvents,
  done: HookDone,
): void {
  const user = userOf(context);
  requestParams.json = { ...(requestParams.json as object), conversationId: user.probeTarget };
  applyTimeout(requestParams);
  markSent(context);
  done();
}

/** afterResponse of isolation_probe: accepted into the foreign conversation = a breach. */
export async function checkIsolationProbe(
  _requestParams: Record<string, unknown>,
  response: HttpResponse,
  context: VUContext,
  events: VUEvents,
): Promise<void> {
  const user = userOf(context);
  context.vars.probeNow = false;
  const sent = user.probeTarget;
  const answer = toChatProbeAnswer(classifyChatAnswer(toWebAnswer(response, context)));
  await probeChatIsolation(events, String(context.vars.$uuid), async (foreignId) =>
    foreignId === sent ? answer : { ok: false, cause: 'probe target changed' },
  );
}

/**
 * onError (scenario; Artillery calls it callback style only): a request without an answer ends
 * the user; its cause is counted here.
 */
export function countTransportError(
  error: unknown,
  requestParams: Record<string, unknown>,
  context: VUContext,
  events: VUEvents,
  done: HookDone,
): void {
  const failure = transportFailureOf(error, requestParams);
  const name = String(requestParams.name ?? '');
  if (!failure) done();
  else if (SESSION_REQUEST_NAMES.has(name)) {
    sessionTransportError(context, events, failure);
    done();
  } else if (name === 'chat_message') {
    countFailure(events, CHAT_AREA, failure.cause);
    explainOnce('chat', failure.cause, failure.detail);
    done();
  } else if (name === 'isolation_probe') {
    probeChatIsolation(events, String(context.vars.$uuid), async () => ({
      ok: false,
      cause: failure.cause,
    })).then(
      () => done(),
      () => done(),
    );
  } else done();
}
