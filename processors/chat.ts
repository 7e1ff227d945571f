import type { VUContext, VUEvents } from 'artillery';
import { CHAT_BUCKETS, type ChatBucket } from '../config/settings/chat';
import { loadChatMessages, MessagePicker } from './lib/chat/messages';
import { CHAT_AREA, CHAT_EMITTED_METRICS, CHAT_METRICS as M } from './lib/chat/metric-names';
import { BucketMix } from './lib/chat/mix';
import { chatDurationMs, chatRunSettings } from './lib/chat/settings';
import { createFailureExplainer } from './lib/failure-log';
import { reportGeneratorHealth } from './lib/generator-health';
import {
  emitZeroIsolationCounters,
  ISOLATION_EMITTED_METRICS,
  ISOLATION_PROBE_MESSAGE,
  probeChatIsolation,
  registerConversation,
  toChatProbeAnswer,
} from './lib/isolation';
import { count, countFailure, observe } from './lib/metrics';
import { emitZeroSessionCounters, sendChatMessage, signUpAndLogIn, type WebClient } from './lib/web-session';

/**
 * Chat sessions (scenarios/chat-sessions.yml): each virtual user signs up and logs in once
 * (lib/web-session.ts, shared with signup-tenant-chat), then until the run's deadline sends a
 * message, waits CHAT_THINK_TIME, and sends the next one in the same conversation.
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
 * The names live in lib/chat/metric-names.ts, with the EMITTED_METRICS list derived from them.
 */

export const EMITTED_METRICS: readonly string[] = [...CHAT_EMITTED_METRICS, ...ISOLATION_EMITTED_METRICS];

interface ChatUser {
  client: WebClient;
  conversationId?: string;
}

const users = new WeakMap<VUContext, ChatUser>();
let runDeadline: number | undefined;
let mix: BucketMix | undefined;
let picker: MessagePicker | undefined;

const explainOnce = createFailureExplainer('chat-sessions');

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));
const untilDeadline = () => (runDeadline === undefined ? 0 : runDeadline - performance.now());

function emitZeroCounters(events: VUEvents): void {
  emitZeroSessionCounters(events);
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

/** Signup and login of this user; a user without a session sends nothing and is counted. */
export async function startChatUser(context: VUContext, events: VUEvents): Promise<void> {
  // Before anything can throw: a run whose users cannot start must fail the gate (0 successes).
  emitZeroCounters(events);
  emitZeroIsolationCounters(events);
  const settings = chatRunSettings();
  reportGeneratorHealth(events);
  mix ??= new BucketMix(settings.CHAT_MIX);
  picker ??= new MessagePicker(loadChatMessages(settings.CHAT_MESSAGES_FILE));
  // Every user chats until the same moment: the profile's duration after the first one arrived.
  runDeadline ??= performance.now() + chatDurationMs(settings, context.vars.$environment);

  const login = await signUpAndLogIn(events, {
    webBaseUrl: settings.WEB_BASE_URL,
    timeoutMs: settings.CHAT_REQUEST_TIMEOUT,
    callbackPath: '/dashboard/chat',
    runId: settings.LOADTEST_RUN_ID,
  });
  if (!login.ok) {
    count(events, M.usersFailed);
    explainOnce(login.step, login.cause, login.detail);
    return;
  }
  count(events, M.usersReady);
  users.set(context, { client: login.session.client });
}

/** Loop condition: a user with a session chats until the run's deadline. */
export function keepChatting(context: VUContext, next: (again: boolean) => void): void {
  next(users.has(context) && untilDeadline() > 0);
}

/** One message: send it (again after Retry-After on a 429), check the conversation, then think. */
export async function sendChatTurn(context: VUContext, events: VUEvents): Promise<void> {
  const user = users.get(context);
  if (!user || untilDeadline() <= 0) return;
  const settings = chatRunSettings();
  reportGeneratorHealth(events);
  const bucket: ChatBucket = mix!.next();
  const message = picker!.next(bucket);
  count(events, M.messages(bucket));

  for (;;) {
    count(events, M.attempts);
    const outcome = await sendChatMessage(user.client, { message, conversationId: user.conversationId });
    if (outcome.ok) {
      observe(events, M.latencyMs(bucket), outcome.ms);
      if (user.conversationId === undefined || outcome.conversationId === user.conversationId) {
        if (user.conversationId !== undefined) count(events, M.conversationContinued);
        count(events, M.success);
      } else {
        count(events, M.conversationMismatch);
        countFailure(events, CHAT_AREA, 'conversation_mismatch');
        explainOnce(
          'chat',
          'conversation_mismatch',
          'the answer named another conversation than the one sent',
        );
      }
      // The platform's answer is the truth from here on: continue in the conversation it named.
      user.conversationId = outcome.conversationId;
      break;
    }
    countFailure(events, CHAT_AREA, outcome.cause);
    if (outcome.cause !== 'rate_limited') {
      explainOnce('chat', outcome.cause, outcome.detail);
      break;
    }
    // Rate limiting is the web app's policy, not slowness: wait as told, record no latency, resend.
    count(events, M.rateLimited);
    const waitMs = outcome.retryAfterMs ?? 1000;
    observe(events, M.retryAfterMs, waitMs);
    if (waitMs >= untilDeadline()) {
      await sleep(untilDeadline());
      return;
    }
    await sleep(waitMs);
  }
  if (user.conversationId !== undefined) {
    // Opt-in (ISOLATION_PROBES): once per user, post into another user's (another tenant's) conversation.
    const owner = String(context.vars.$uuid);
    const client = user.client;
    registerConversation(owner, user.conversationId);
    await probeChatIsolation(events, owner, (foreignId) =>
      sendChatMessage(client, { message: ISOLATION_PROBE_MESSAGE, conversationId: foreignId }).then(
        toChatProbeAnswer,
      ),
    );
  }
  await sleep(Math.min(settings.CHAT_THINK_TIME, untilDeadline()));
}
