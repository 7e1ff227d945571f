/**
 * Exponential reconnect backoff with ±20% jitter, so that sockets dropped together do not all
 * reconnect in the same millisecond. `attempt` counts from 1 for the first retry.
 */
export function reconnectDelayMs(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  const jitter = 0.8 + 0.4 * random();
  return Math.round(Math.min(maxMs, exponential * jitter));
}
