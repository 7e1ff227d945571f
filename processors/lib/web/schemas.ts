import { z } from 'zod';

/**
 * The web app's answers (docs/CONTRACT.md, "Web app"), parsed, never trusted. Objects are
 * loose where the real app may add fields; what the suite relies on is required.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const CsrfAnswer = z.object({ csrfToken: z.string().min(1).max(512) });

export const SignupOk = z.object({ ok: z.literal(true) });

export const ErrorAnswer = z.object({ error: z.string() });

/** The credentials callback with `json=true`: where the browser would be sent next. */
export const CallbackAnswer = z.object({ url: z.string().min(1) });

export const SessionUser = z.object({
  id: z.string().min(1),
  email: z.string().nullish(),
  tenantId: z.string().nullish(),
});

/** `{}` without a session; a user and an expiry with one. */
export const SessionAnswer = z.object({
  user: SessionUser.optional(),
  expires: z.string().optional(),
});

export const ChatAnswer = z.object({
  conversationId: z.string().regex(UUID, { error: 'conversationId is not a UUID' }),
  message: z.object({
    role: z.literal('assistant'),
    content: z.string().min(1, { error: 'empty assistant message' }),
  }),
});

export type ParseResult<T> = { ok: true; value: T } | { ok: false; problem: string };

/** JSON.parse plus a schema; a broken or unexpected body is a problem to count, never a throw. */
export function parseJson<T>(text: string, schema: z.ZodType<T>): ParseResult<T> {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { ok: false, problem: text.length === 0 ? 'empty body' : 'body is not JSON' };
  }
  const parsed = schema.safeParse(body);
  if (parsed.success) return { ok: true, value: parsed.data };
  const first = parsed.error.issues[0];
  return {
    ok: false,
    problem: first ? `${first.path.join('.') || '(body)'}: ${first.message}` : 'unexpected body',
  };
}

/** The `error` text of a contract error body, if the body is one (for diagnostics). */
export function errorText(text: string): string | undefined {
  const parsed = parseJson(text, ErrorAnswer);
  return parsed.ok ? parsed.value.error.slice(0, 200) : undefined;
}
