import { z } from 'zod';
import { commonSettings } from './common';
import { booleanFlag, durationMs, milliseconds, optionalDurationMs, positiveInt } from './shared';

/**
 * The LLM proxy scenario (scenarios/llm-proxy.yml). Keys are environment variable names.
 * LLM_VUS / LLM_DURATION default to the profile's `llm` shape (config/profiles.ts): the YAML
 * falls back to the profile when LLM_VUS is unset, the processor does the same for LLM_DURATION.
 * The gate limits are read by the processor, which emits each one as an `llm.limit.*` metric that
 * the ensure checks compare against, so they work whether or not the variable is set.
 */
export const llmSettings = z.object({
  /** Users in flight (per ramp step for stress); unset = the profile's llm shape. */
  LLM_VUS: z.coerce.number().int().min(1).max(100_000).optional(),
  /** How long each user keeps sending; unset = the profile's llm duration. */
  LLM_DURATION: optionalDurationMs({ positive: true }),
  /** Pause between a user's answer and its next request. */
  LLM_THINK_TIME: durationMs('200ms'),
  /** A model id the proxy knows (GET /v1/models); an unknown one is a 400 for every request. */
  LLM_MODEL: z.string().trim().min(1).default('openai/gpt-4.1-mini'),
  LLM_MAX_TOKENS: positiveInt(64, 1_000_000),
  LLM_TEMPERATURE: z.coerce.number().min(0).max(2).default(0.7),
  /** Ask for Server-Sent Events and measure time to first token and inter-token latency. */
  LLM_STREAM: booleanFlag(false),
  /** A request without a complete answer after this long is counted as a timeout. */
  LLM_REQUEST_TIMEOUT: durationMs('60s'),
  /** Gate: llm.success / llm.attempts must stay above this percentage. */
  LLM_SUCCESS_RATE_MIN_PCT: z.coerce.number().min(0).max(100).default(95),
  /** Gate: llm.proxy_overhead_ms p99 must stay below this. */
  LLM_OVERHEAD_P99_MS: milliseconds(500),
  /** Gate: end-to-end latency (llm.latency_ms) p99 must stay below this. */
  LLM_LATENCY_P99_MS: milliseconds(30_000),
  /** Gate (streaming runs only): time to first token p99 must stay below this. */
  LLM_TTFT_P99_MS: milliseconds(5_000),
});

export type LlmSettings = z.infer<typeof llmSettings>;

/** Everything the LLM processor reads: the common settings plus the area's. */
export const llmRunSettings = commonSettings.extend(llmSettings.shape);
export type LlmRunSettings = z.infer<typeof llmRunSettings>;
