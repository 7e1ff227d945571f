import { z } from 'zod';
import { judgeBufferedAnswer } from './completion';
import type { CompletionOutcome } from './record';
import { parseServerTiming, serverTimingDuration } from './server-timing';

/**
 * The answer to the scenario's `post` (llm_completion) as Artillery's HTTP engine hands it to an
 * afterResponse hook: got's response with the whole body read as text and got's timings
 * (`timings.phases.total` = socket wait + connect + request + wait for the first byte + download,
 * i.e. request sent → last byte on a kept-alive connection).
 */
const headerValue = z.union([z.string(), z.array(z.string())]).optional();

const engineResponseSchema = z.object({
  statusCode: z.number().int(),
  headers: z.record(z.string(), headerValue).default({}),
  trailers: z.record(z.string(), headerValue).optional(),
  body: z.unknown(),
  timings: z.object({
    start: z.number().optional(),
    phases: z.object({ total: z.number().nonnegative().optional() }).partial().default({}),
  }),
});

const text = (value: string | string[] | undefined) => (Array.isArray(value) ? value.join(', ') : value);

/**
 * Judges one answer of the engine path. Anything that is not a usable completion is a counted
 * failure by cause (credits, status, malformed body), never an exception in the virtual user.
 */
export function judgeEngineResponse(response: unknown, now = Date.now()): CompletionOutcome {
  const parsed = engineResponseSchema.safeParse(response);
  if (!parsed.success) {
    // Not got's response object: nothing to time or read (a change in Artillery, not the platform).
    return { ok: false, status: undefined, totalMs: 0, cause: 'malformed_body', malformed: 'bad_shape' };
  }
  const { statusCode, headers, trailers, body, timings } = parsed.data;
  // The hook runs on the body's end, so "now" is the end when got's own total is not there yet.
  const totalMs = timings.phases.total ?? (timings.start !== undefined ? now - timings.start : 0);
  const bodyText = typeof body === 'string' ? body : Buffer.isBuffer(body) ? body.toString('utf8') : '';
  const verdict = judgeBufferedAnswer(statusCode, text(headers['content-type']), bodyText);
  if (!verdict.ok)
    return {
      ok: false,
      status: statusCode,
      totalMs,
      cause: verdict.cause,
      ...(verdict.malformed ? { malformed: verdict.malformed } : {}),
    };
  const upstreamOf = (from: Record<string, string | string[] | undefined> | undefined) =>
    from ? serverTimingDuration(parseServerTiming(text(from['server-timing'])), 'upstream') : undefined;
  return {
    ok: true,
    status: statusCode,
    totalMs,
    mode: 'json',
    usage: verdict.completion.usage,
    upstreamMs: upstreamOf(headers) ?? upstreamOf(trailers),
    upstreamSpanMs: totalMs,
    timing: undefined,
  };
}
