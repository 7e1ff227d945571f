import type { FastifyReply } from 'fastify';

/**
 * Go's encoding/json as the real API writes its answers (json.NewEncoder(w).Encode): map keys
 * sorted, HTML characters escaped, times as RFC 3339 with trailing zeros of the fraction dropped,
 * and a trailing newline.
 * Clients that compare raw bodies or field order see what the Go server sends.
 */

/** time.Time's MarshalJSON: RFC 3339 in UTC, fraction without trailing zeros (none when zero). */
export function goTime(date: Date): string {
  const iso = date.toISOString();
  const [seconds, fraction = ''] = iso.slice(0, -1).split('.');
  const trimmed = fraction.replace(/0+$/, '');
  return `${seconds}${trimmed ? `.${trimmed}` : ''}Z`;
}

/** A map[string]any: Go sorts the keys of maps (struct fields keep their order; none are used here). */
function sortKeys(value: unknown): unknown {
  if (value instanceof Date) return goTime(value);
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const source = value as Record<string, unknown>;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(source).sort()) sorted[key] = sortKeys(source[key]);
    return sorted;
  }
  return value;
}

/**
 * JSON text as Go writes it: encoding/json escapes <, >, & and U+2028/U+2029 inside strings (they
 * can only occur inside strings in JSON text, so replacing them everywhere is safe).
 */
export function goEscape(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function goJson(payload: unknown): string {
  return `${goEscape(JSON.stringify(sortKeys(payload)))}\n`;
}

export function sendGoJson(reply: FastifyReply, status: number, payload: unknown): FastifyReply {
  return reply.code(status).type('application/json').send(goJson(payload));
}

/** writeAPIError / writeError: `{"error":"..."}` plus the encoder's newline. */
export function sendError(reply: FastifyReply, status: number, error: string): FastifyReply {
  return sendGoJson(reply, status, { error });
}

/**
 * How PostgreSQL reads a uuid: hex digits, case-insensitive, optional braces, a hyphen allowed after
 * any group of four digits. Anything else makes the query fail (the routes' 500s). Canonical or undefined.
 */
export function pgUuid(text: string): string | undefined {
  const match = /^(\{)?((?:[0-9a-f]{4}-?){7}[0-9a-f]{4})(\})?$/i.exec(text);
  if (!match || Boolean(match[1]) !== Boolean(match[3])) return undefined;
  const hex = match[2]!.replace(/-/g, '').toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
