import type { FastifyRequest } from 'fastify';

export type JsonBody = { ok: true; value: unknown } | { ok: false };

function rawBody(request: FastifyRequest): string {
  return typeof request.body === 'string' ? request.body : '';
}

/** `Request.json()` as route handlers use it: the text is parsed whatever the content type says. */
export function parseJsonBody(request: FastifyRequest): JsonBody {
  try {
    return { ok: true, value: JSON.parse(rawBody(request)) as unknown };
  } catch {
    return { ok: false };
  }
}

/**
 * NextAuth's body reader: JSON or form-encoded by content type, anything else is no body. Values
 * keep their JSON types, so `json: true` (a boolean) is not the string "true".
 */
export function parseAuthBody(request: FastifyRequest): Record<string, unknown> {
  const type = String(request.headers['content-type'] ?? '').toLowerCase();
  const text = rawBody(request);
  if (type.includes('application/json')) {
    try {
      const value: unknown = JSON.parse(text);
      return typeof value === 'object' && value !== null && !Array.isArray(value)
        ? (value as Record<string, unknown>)
        : {};
    } catch {
      return {};
    }
  }
  if (type.includes('application/x-www-form-urlencoded'))
    return Object.fromEntries(new URLSearchParams(text));
  return {};
}
