import { performance } from 'node:perf_hooks';
import type { HttpResponse, VUContext } from 'artillery';
import { cookieChanges, type WebAnswer } from './transport';

/**
 * Artillery's HTTP engine answers (got responses, as afterResponse hooks see them) in the shape
 * the judgements of auth.ts and chat.ts read.
 */

const sentAt = new WeakMap<VUContext, number>();

/** Marks the start of this user's current request (fallback timing, see answerMs). */
export function markSent(context: VUContext): void {
  sentAt.set(context, performance.now());
}

interface GotTimings {
  phases?: { total?: number; firstByte?: number };
}

/**
 * Time of one exchange, request sent to last body byte: got's `timings.phases.total` (what
 * Artillery's `http.total` reports); a slow body counts, since an answer is judged on the whole
 * of it. Measured from markSent() when got's timings are missing (a decompressed stream).
 */
export function answerMs(response: HttpResponse, context: VUContext): number {
  const timings = response.timings as GotTimings | undefined;
  const total = timings?.phases?.total;
  if (typeof total === 'number' && Number.isFinite(total)) return total;
  const started = sentAt.get(context);
  return started === undefined ? 0 : performance.now() - started;
}

function bodyText(body: unknown): string {
  if (typeof body === 'string') return body;
  if (Buffer.isBuffer(body)) return body.toString('utf8');
  if (body === undefined || body === null) return '';
  // A parsed body (a hook or plugin ran JSON.parse first): judged on its JSON text.
  try {
    return JSON.stringify(body);
  } catch {
    return '';
  }
}

export function toWebAnswer(response: HttpResponse, context: VUContext): WebAnswer {
  const headers = new Headers();
  const setCookies: string[] = [];
  for (const [name, value] of Object.entries(response.headers ?? {})) {
    if (value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) {
      // Header values a server sent may hold bytes Headers refuses; they matter to no judgement.
      try {
        headers.append(name, v);
      } catch {}
      if (name.toLowerCase() === 'set-cookie') setCookies.push(v);
    }
  }
  return {
    kind: 'answer',
    status: response.statusCode ?? 0,
    headers,
    text: bodyText(response.body),
    ms: answerMs(response, context),
    cookies: cookieChanges(setCookies),
  };
}
