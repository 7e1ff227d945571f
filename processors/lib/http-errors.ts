import type { FailureCause } from './metrics';

/**
 * One status → failure-cause mapping for every area, so that "402" means credit exhaustion in
 * every report and never shows up as a latency or a generic error. Area-specific meanings that
 * need more than the status (a 307 to /login meaning "session rejected", a 409 on signup) are the
 * area's to decide before falling back to this.
 */

/** True for statuses the platform uses for a successful answer. */
export function isSuccessStatus(status: number): boolean {
  return status >= 200 && status < 300;
}

const BILLING_HINT = /insufficient credits|billing_error|billing error/i;

/**
 * Cause of a non-2xx answer; undefined for 2xx. `body` (the raw text, when read) only sharpens the
 * verdict: the contract's billing errors name themselves even when a proxy in between rewrites
 * the status.
 */
export function classifyStatus(status: number, body?: string): FailureCause | undefined {
  if (isSuccessStatus(status)) return undefined;
  if (status === 402) return 'credits_exhausted';
  if (body !== undefined && status >= 400 && status < 500 && BILLING_HINT.test(body))
    return 'credits_exhausted';
  switch (status) {
    case 400:
    case 405:
    case 413:
    case 415:
    case 422:
      return 'bad_request';
    case 401:
      return 'unauthorized';
    case 403:
      return 'forbidden';
    case 404:
      return 'not_found';
    case 408:
      return 'timeout';
    case 429:
      return 'rate_limited';
    case 502:
    case 503:
    case 504:
      return 'upstream_error';
    default:
      return status >= 500 ? 'server_error' : 'unexpected_status';
  }
}

const TIMEOUT_CODES = new Set([
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/**
 * Cause of a request that got no complete answer: a timeout when the client gave up waiting,
 * otherwise a connection error (refused, reset, closed mid-body, DNS). Works for node:http,
 * undici/fetch (the code sits on `cause`) and AbortSignal.timeout errors.
 */
export function classifyNetworkError(error: unknown): FailureCause {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const { name, code } = current as { name?: unknown; code?: unknown };
    if (name === 'TimeoutError') return 'timeout';
    if (typeof code === 'string' && TIMEOUT_CODES.has(code)) return 'timeout';
    current = (current as { cause?: unknown }).cause;
  }
  return 'connection_error';
}
