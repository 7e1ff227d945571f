import type { FailureCause } from '../metrics';

/** The failure cause of a non-2xx answer on a container route (CONTRACT.md, API section). */
export function causeOfStatus(status: number, route: 'suspend' | 'resume' | 'poll'): FailureCause {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 402) return 'credits_exhausted';
  if (status === 404) return 'not_found';
  if (status === 429) return 'rate_limited';
  // The resume route answers 500 {"error":"failed to resume tenant"} when the start fails.
  if (status === 500 && route === 'resume') return 'resume_failed';
  if (status >= 500) return 'server_error';
  if (status >= 400) return 'bad_request';
  return 'unexpected_status';
}

/** Answers that will not change however long the poll goes on. */
export function isPermanentPollFailure(cause: FailureCause): boolean {
  return cause === 'unauthorized' || cause === 'forbidden' || cause === 'not_found';
}

/**
 * The cause of a transport failure by Node's error code: Artillery reports got's response timeout
 * as ETIMEDOUT; everything else (ECONNRESET, ECONNREFUSED, EPIPE, socket hang up) lost the connection.
 */
export function causeOfTransportError(code: string | undefined): FailureCause {
  return code === 'ETIMEDOUT' || code === 'ESOCKETTIMEDOUT' || code === 'ERR_SOCKET_TIMEOUT'
    ? 'timeout'
    : 'connection_error';
}
