import { z } from 'zod';
import { commonSettings } from './common';
import { booleanFlag, durationMs, optionalDurationMs, positiveInt } from './shared';

/**
 * The LLM proxy scenario (scenarios/llm-proxy.yml). Keys are environment variable names.
 * Load shapes (users, loop time, steps) live in the scenario's YAML environments; the gate limits
 * are the literal numbers of its `config.ensure.conditions`. The limit settings below are optional
 * overrides with no default of their own: the runner rewrites the matching condition's number.
 */

/** A limit override: unset means the number written in the scenario's ensure condition. */
const optionalLimit = (max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().finite().min(0).max(max).optional();

export const llmSettings = z.object({
  /** Users in flight per step: a runner setting, applied as `--overrides` on the phases. */
  LLM_VUS: z.coerce.number().int().min(1).max(100_000).optional(),
  /** How long each user keeps sending; unset = the environment's `loopDuration` variable. */
  LLM_DURATION: optionalDurationMs({ positive: true }),
  /** Pause between a user's answer and its next request. */
  LLM_THINK_TIME: durationMs('200ms'),
  /** A model id the proxy knows (GET /v1/models); an unknown one is a 400 for every request. */
  LLM_MODEL: z.string().trim().min(1).default('openai/gpt-4.1-mini'),
  LLM_MAX_TOKENS: positiveInt(64, 1_000_000),
  LLM_TEMPERATURE: z.coerce.number().min(0).max(2).default(0.7),
  /** Ask for Server-Sent Events and measure time to first token and inter-token latency. */
  LLM_STREAM: booleanFlag(false),
  /** A request without an answer after this long is a timeout; unset = the scenario's `http.timeout`. */
  LLM_REQUEST_TIMEOUT: optionalDurationMs({ positive: true }),
  /** Limit override: llm.success / llm.attempts, percent. */
  LLM_SUCCESS_RATE_MIN_PCT: optionalLimit(100),
  /** Limit override: llm.proxy_overhead_ms p99, ms. */
  LLM_OVERHEAD_P99_MS: optionalLimit(),
  /** Limit override: end-to-end latency (llm.latency_ms) p99, ms. */
  LLM_LATENCY_P99_MS: optionalLimit(),
  /** Limit override (streaming runs only): time to first token p99, ms. */
  LLM_TTFT_P99_MS: optionalLimit(),
});

export type LlmSettings = z.infer<typeof llmSettings>;

/** Everything the LLM processor reads: the common settings plus the area's. */
export const llmRunSettings = commonSettings.extend(llmSettings.shape);
export type LlmRunSettings = z.infer<typeof llmRunSettings>;
