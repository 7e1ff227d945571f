import { z } from 'zod';
import { durationMs, milliseconds, optionalDurationMs } from './shared';

/**
 * Chat sessions with mixed message lengths (scenarios/chat-sessions.yml). Keys are environment
 * variable names; WEB_BASE_URL and LOADTEST_RUN_ID are common settings.
 *
 * The CHAT_P99_MS_* gates are read by the scenario's ensure checks through `$env`; the checks
 * fall back to CHAT_DEFAULTS when a variable is unset (`(X or N)`), and a test keeps both equal.
 */
export const CHAT_DEFAULTS = {
  CHAT_P99_MS_SHORT: 5000,
  CHAT_P99_MS_MEDIUM: 8000,
  CHAT_P99_MS_LONG: 12000,
} as const;

export const CHAT_BUCKETS = ['short', 'medium', 'long'] as const;
export type ChatBucket = (typeof CHAT_BUCKETS)[number];

/** `short,medium,long` weights, e.g. "50,35,15"; they need not add up to 100. */
const chatMix = z
  .string()
  .default('50,35,15')
  .transform((text, ctx) => {
    const parts = text.split(',').map((p) => p.trim());
    const weights = parts.map(Number);
    if (
      parts.length !== 3 ||
      weights.some((w) => !Number.isInteger(w) || w < 0) ||
      weights.every((w) => w === 0)
    ) {
      ctx.addIssue({
        code: 'custom',
        message: `must be three non-negative whole weights for short,medium,long (e.g. 50,35,15), not "${text}"`,
      });
      return z.NEVER;
    }
    return { short: weights[0]!, medium: weights[1]!, long: weights[2]! } satisfies Record<
      ChatBucket,
      number
    >;
  });

export const chatSettings = z.object({
  /** Concurrent chat users; unset = the profile's chat shape (the runner turns it into phases). */
  CHAT_VUS: z.coerce.number().int().min(0).max(10_000).optional(),
  /** How long users keep chatting; unset = the profile's chat duration. */
  CHAT_DURATION: optionalDurationMs(),
  /** Pause after each answer before the next message. */
  CHAT_THINK_TIME: durationMs('1s'),
  /** Share of short / medium / long messages. */
  CHAT_MIX: chatMix,
  /** Messages by length bucket (JSON); default config/payloads/chat-messages.json. */
  CHAT_MESSAGES_FILE: z.string().min(1).optional(),
  /** Any single request (login included) that takes longer is abandoned and counted as `timeout`. */
  CHAT_REQUEST_TIMEOUT: durationMs('60s'),
  /** Gates: p99 of successful /api/chat answers per message length. */
  CHAT_P99_MS_SHORT: milliseconds(CHAT_DEFAULTS.CHAT_P99_MS_SHORT),
  CHAT_P99_MS_MEDIUM: milliseconds(CHAT_DEFAULTS.CHAT_P99_MS_MEDIUM),
  CHAT_P99_MS_LONG: milliseconds(CHAT_DEFAULTS.CHAT_P99_MS_LONG),
});

export type ChatSettings = z.infer<typeof chatSettings>;
