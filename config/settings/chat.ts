import { z } from 'zod';
import { durationMs, optionalDurationMs } from './shared';

/**
 * Chat sessions with mixed message lengths (scenarios/chat-sessions.yml). Keys are environment
 * variable names; WEB_BASE_URL and LOADTEST_RUN_ID are common settings.
 *
 * Users, phases, loop time and gate limits are the literal figures of the scenario's YAML; the
 * limit settings here are optional overrides without a default of their own (the runner rewrites
 * the matching ensure condition, config/limits.ts).
 */

/** A limit override: unset means the number written in the scenario's ensure condition. */
const optionalLimit = (max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().finite().min(0).max(max).optional();

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
  /**
   * Chat users per step: a runner setting, applied as `--overrides` on the phases (under plain
   * Artillery, write the `--overrides` yourself). Unset = the environment's phases.
   */
  CHAT_VUS: z.coerce.number().int().min(0).max(10_000).optional(),
  /** How long users keep chatting; unset = the environment's `loopDuration` variable. */
  CHAT_DURATION: optionalDurationMs({ positive: true }),
  /** Pause after each answer before the next message. */
  CHAT_THINK_TIME: durationMs('1s'),
  /** Share of short / medium / long messages. */
  CHAT_MIX: chatMix,
  /** Messages by length bucket (JSON); default config/payloads/chat-messages.json. */
  CHAT_MESSAGES_FILE: z.string().min(1).optional(),
  /**
   * Any single request (login included) that takes longer is abandoned and counted by Artillery
   * as `errors.ETIMEDOUT`; unset = the scenario's `config.http.timeout`.
   */
  CHAT_REQUEST_TIMEOUT: optionalDurationMs({ positive: true }),
  /** Limit override: chat.success / (chat.attempts - chat.rate_limited), percent. */
  CHAT_SUCCESS_RATE_MIN_PCT: optionalLimit(100),
  /** Limit overrides: p99 of successful /api/chat answers per message length, ms. */
  CHAT_P99_MS_SHORT: optionalLimit(),
  CHAT_P99_MS_MEDIUM: optionalLimit(),
  CHAT_P99_MS_LONG: optionalLimit(),
});

export type ChatSettings = z.infer<typeof chatSettings>;
