import { z } from 'zod';

/**
 * The request body. The real proxy decodes strictly and answers 400 to any unknown field, so the
 * body carries exactly these five fields and nothing else (no `stream_options`, no `user`).
 */
export interface CompletionBody {
  model: string;
  messages: { role: 'user'; content: string }[];
  temperature: number;
  max_tokens: number;
  stream: boolean;
}

export function completionBody(options: {
  model: string;
  prompt: string;
  temperature: number;
  maxTokens: number;
  stream: boolean;
}): CompletionBody {
  return {
    model: options.model,
    messages: [{ role: 'user', content: options.prompt }],
    temperature: options.temperature,
    max_tokens: options.maxTokens,
    stream: options.stream,
  };
}

/** Rows of config/payloads/llm-prompts.csv as Artillery hands them over (`loadAll`). */
export const promptRowsSchema = z
  .array(z.object({ kind: z.string(), prompt: z.string().trim().min(1) }))
  .min(1, { error: 'the prompt payload has no rows' });
export type PromptRow = z.infer<typeof promptRowsSchema>[number];

/** Auth headers: the service key when set, else the bearer JWT. Values never leave this header. */
export function authHeaders(settings: {
  SERVICE_API_KEY?: string | undefined;
  API_BEARER_TOKEN?: string | undefined;
}): Record<string, string> | undefined {
  if (settings.SERVICE_API_KEY) return { 'x-service-api-key': settings.SERVICE_API_KEY };
  if (settings.API_BEARER_TOKEN) return { authorization: `Bearer ${settings.API_BEARER_TOKEN}` };
  return undefined;
}
