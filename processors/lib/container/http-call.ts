import { performance } from 'node:perf_hooks';

/** One HTTP exchange with the platform, timed on the monotonic clock. */
export type CallOutcome =
  | { kind: 'answer'; status: number; body: string; sentAt: number; receivedAt: number }
  | { kind: 'failed'; cause: 'timeout' | 'connection_error'; sentAt: number; receivedAt: number };

export interface CallOptions {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  timeoutMs: number;
}

/**
 * Sends the request and reads the whole body; never throws. A timeout or a dropped connection is
 * an outcome (counted by cause by the caller), not an exception that could end the virtual user.
 */
export async function call(options: CallOptions): Promise<CallOutcome> {
  const signal = AbortSignal.timeout(Math.max(1, Math.ceil(options.timeoutMs)));
  const sentAt = performance.now();
  try {
    const response = await fetch(options.url, { method: options.method, headers: options.headers, signal });
    const body = await response.text();
    return { kind: 'answer', status: response.status, body, sentAt, receivedAt: performance.now() };
  } catch (error) {
    const name = error instanceof Error ? error.name : '';
    if (name === 'TimeoutError' || name === 'AbortError')
      return { kind: 'failed', cause: 'timeout', sentAt, receivedAt: performance.now() };
    // fetch reports refused, reset and half-read connections as TypeError ("fetch failed", "terminated").
    if (error instanceof TypeError)
      return { kind: 'failed', cause: 'connection_error', sentAt, receivedAt: performance.now() };
    throw error;
  }
}

/** JSON.parse that reports failure instead of throwing. */
export function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}
