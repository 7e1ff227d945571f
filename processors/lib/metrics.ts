import type { VUEvents } from 'artillery';

/**
 * Custom metric names follow one convention so that reports, ensure checks and the telegraf
 * templates can rely on them:
 *   <area>.<what>[.<detail>]      area: auth, signup, login, onboarding, chat, llm, terminal, container, generator
 *   histograms in milliseconds end in `_ms` (llm.proxy_overhead_ms, terminal.rtt_ms)
 *   failures are counters `<area>.failures.<cause>` with a cause from FAILURE_CAUSES
 *   successes are counters `<area>.success`, attempts `<area>.attempts`
 */
export const FAILURE_CAUSES = [
  'credits_exhausted',
  'bad_request',
  'unauthorized',
  'forbidden',
  'not_found',
  'rate_limited',
  'server_error',
  'upstream_error',
  'malformed_body',
  'timeout',
  'connection_error',
  'session_rejected',
  'csrf_refused',
  'origin_refused',
  'signup_conflict',
  'wrong_credentials',
  'no_tenant',
  // A login answered 200 without a session cookie, or a session the web app does not know.
  'no_session_cookie',
  'chat_failed',
  'conversation_mismatch',
  'readiness_timeout',
  'unhealthy',
  'resume_failed',
  // A browser page that failed in itself (CSP violation, uncaught exception, failed request).
  'page_error',
  'unexpected_status',
] as const;
export type FailureCause = (typeof FAILURE_CAUSES)[number];

export function count(events: VUEvents, name: string, value = 1): void {
  events.emit('counter', name, value);
}

export function observe(events: VUEvents, name: string, value: number): void {
  events.emit('histogram', name, value);
}

export function countFailure(events: VUEvents, area: string, cause: FailureCause): void {
  events.emit('counter', `${area}.failures.${cause}`, 1);
  events.emit('counter', `${area}.failures`, 1);
}
