import { CHAT_BUCKETS, type ChatBucket } from '../../../config/settings/chat';
import { WEB_SESSION_EMITTED_METRICS } from '../web-session';

/** The area of chat-sessions' own metrics (countFailure(events, CHAT_AREA, cause)). */
export const CHAT_AREA = 'chat';

/** Metric names of scenarios/chat-sessions.yml (meanings: processors/chat.ts). */
export const CHAT_METRICS = {
  attempts: 'chat.attempts',
  success: 'chat.success',
  failures: 'chat.failures',
  rateLimited: 'chat.rate_limited',
  retryAfterMs: 'chat.retry_after_ms',
  conversationContinued: 'chat.conversation_continued',
  conversationMismatch: 'chat.conversation_mismatch',
  usersReady: 'chat.users.ready',
  usersFailed: 'chat.users.failed',
  messages: (bucket: ChatBucket) => `chat.messages.${bucket}`,
  latencyMs: (bucket: ChatBucket) => `chat.latency_ms.${bucket}`,
} as const;

/**
 * Every metric chat-sessions can emit (`*`: one or more characters), for `npm run validate`
 * (docs/DESIGN.md, Metrics): its own and the signup/login steps' (generator health is the
 * agentteams plugin's).
 */
export const CHAT_EMITTED_METRICS: readonly string[] = [
  ...Object.values<unknown>(CHAT_METRICS).filter((name): name is string => typeof name === 'string'),
  `${CHAT_AREA}.failures.*`,
  ...CHAT_BUCKETS.flatMap((bucket) => [CHAT_METRICS.messages(bucket), CHAT_METRICS.latencyMs(bucket)]),
  ...WEB_SESSION_EMITTED_METRICS,
];
