import { z } from 'zod';
import { classifyStatus } from '../http-errors';
import type { FailureCause } from '../metrics';

/**
 * What the OpenAI-compatible proxy answers (CONTRACT.md, `POST /v1/chat/completions`), parsed
 * with zod: anything that does not fit is a counted `malformed_body` with a detail saying how,
 * never an exception inside a virtual user.
 */

export const usageSchema = z.object({
  prompt_tokens: z.number().int().nonnegative(),
  completion_tokens: z.number().int().nonnegative(),
  total_tokens: z.number().int().nonnegative(),
});
export type Usage = z.infer<typeof usageSchema>;

const choiceSchema = z.object({
  index: z.number().int(),
  message: z.object({ role: z.string(), content: z.string().nullable() }),
  finish_reason: z.string().nullable(),
});

/** The completion without usage: a missing usage is its own malformed detail. */
const completionShapeSchema = z.object({
  id: z.string(),
  object: z.literal('chat.completion'),
  model: z.string(),
  choices: z.array(choiceSchema).min(1),
});

export const chatCompletionSchema = completionShapeSchema.extend({ usage: usageSchema });
export type ChatCompletion = z.infer<typeof chatCompletionSchema>;

/** One streamed chunk; `usage` rides on the last chunk (the simulator's SSE extra). */
export const chatCompletionChunkSchema = z.object({
  id: z.string(),
  object: z.literal('chat.completion.chunk'),
  model: z.string().optional(),
  choices: z.array(
    z.object({
      index: z.number().int(),
      delta: z.object({ role: z.string().optional(), content: z.string().nullable().optional() }),
      finish_reason: z.string().nullable().optional(),
    }),
  ),
  usage: usageSchema.nullable().optional(),
});
export type ChatCompletionChunk = z.infer<typeof chatCompletionChunkSchema>;

/** `{"error":{"message","type"}}` (proxy) or `{"error":"..."}` (auth middleware). */
export const errorBodySchema = z.object({
  error: z.union([z.string(), z.object({ message: z.string(), type: z.string().optional() })]),
});

/** How a 2xx body failed to be a completion; emitted as `llm.malformed.<detail>`. */
export const MALFORMED_DETAILS = [
  'empty',
  'html',
  'wrong_content_type',
  'truncated_json',
  'missing_usage',
  'bad_shape',
  'truncated_stream',
  'bad_chunk',
] as const;
export type MalformedDetail = (typeof MALFORMED_DETAILS)[number];

export type BodyVerdict =
  | { ok: true; completion: ChatCompletion }
  | { ok: false; cause: FailureCause; malformed?: MalformedDetail };

export function isJsonContentType(contentType: string | undefined): boolean {
  return contentType !== undefined && /^application\/(?:[\w.+-]+\+)?json\b/i.test(contentType.trim());
}

export function isEventStreamContentType(contentType: string | undefined): boolean {
  return contentType !== undefined && /^text\/event-stream\b/i.test(contentType.trim());
}

const malformed = (detail: MalformedDetail): BodyVerdict => ({
  ok: false,
  cause: 'malformed_body',
  malformed: detail,
});

/** Judges a fully read (non-streamed) answer. */
export function judgeBufferedAnswer(
  status: number,
  contentType: string | undefined,
  body: string,
): BodyVerdict {
  const trimmed = body.trim();
  const statusCause = classifyStatus(status, trimmed.slice(0, 2000));
  // The proxy's own errors are JSON; an HTML page means something else (a gateway, an error
  // page) answered in its place. Credit exhaustion stays credit exhaustion whatever the body.
  if (
    statusCause &&
    statusCause !== 'credits_exhausted' &&
    (trimmed.startsWith('<') || /^text\/html\b/i.test(contentType?.trim() ?? ''))
  )
    return malformed('html');
  if (statusCause) return { ok: false, cause: statusCause };
  if (trimmed === '') return malformed('empty');
  if (trimmed.startsWith('<')) return malformed('html');
  if (!isJsonContentType(contentType)) return malformed('wrong_content_type');
  let json: unknown;
  try {
    json = JSON.parse(trimmed);
  } catch {
    return malformed('truncated_json');
  }
  const parsed = chatCompletionSchema.safeParse(json);
  if (parsed.success) return { ok: true, completion: parsed.data };
  const usageAbsent =
    typeof json === 'object' && json !== null && (json as { usage?: unknown }).usage == null;
  if (usageAbsent && completionShapeSchema.safeParse(json).success) return malformed('missing_usage');
  return malformed('bad_shape');
}
