import type { VUEvents } from 'artillery';
import { count, countFailure, type FailureCause, observe } from '../metrics';
import type { MalformedDetail, Usage } from './completion';
import type { StreamTiming } from './stream';

/** One request's result as measured on the client, from either path (engine or SSE function). */
export type CompletionOutcome =
  | {
      ok: true;
      status: number;
      /** Request sent → last byte of the answer, ms. */
      totalMs: number;
      /** `json`: asked and answered buffered; `stream`: SSE; `buffered_stream`: asked to stream, got JSON. */
      mode: 'json' | 'stream' | 'buffered_stream';
      usage: Usage;
      /** Model time from `Server-Timing: upstream;dur=` (header or trailer), when present. */
      upstreamMs: number | undefined;
      /**
       * The client-side span `upstreamMs` is part of: the whole answer, except for a stream whose
       * Server-Timing came in the headers, which were sent before the body and so can only
       * describe the request up to then (request sent → headers received).
       */
      upstreamSpanMs: number;
      timing: StreamTiming | undefined;
    }
  | {
      ok: false;
      /** Undefined when no answer came (timeout, reset). */
      status: number | undefined;
      totalMs: number;
      cause: FailureCause;
      malformed?: MalformedDetail;
    };

/**
 * Metric names of the LLM scenario. The ensure checks in scenarios/llm-proxy.yml read some of
 * them, and the ensure plugin finds metric names in a check by plain substring search: a metric
 * whose name occurs inside a longer name in the same check (`llm.failures` inside
 * `llm.failures.credits_exhausted`) may be substituted first and break the check. Hence the gate's
 * own `llm.credits_exhausted_responses` next to the conventional `llm.failures.credits_exhausted`.
 */
export const LLM = {
  attempts: 'llm.attempts',
  success: 'llm.success',
  tokensPrompt: 'llm.tokens.prompt',
  tokensCompletion: 'llm.tokens.completion',
  tokensTotal: 'llm.tokens.total',
  requestPromptTokens: 'llm.request_tokens.prompt',
  requestCompletionTokens: 'llm.request_tokens.completion',
  requestTotalTokens: 'llm.request_tokens.total',
  latencyMs: 'llm.latency_ms',
  proxyOverheadMs: 'llm.proxy_overhead_ms',
  upstreamMs: 'llm.upstream_ms',
  overheadByServerTiming: 'llm.overhead_method.server_timing',
  overheadByInferenceBudget: 'llm.overhead_method.inference_budget',
  streamedResponses: 'llm.streamed_responses',
  streamBuffered: 'llm.stream_buffered',
  ttftMs: 'llm.ttft_ms',
  interTokenMs: 'llm.inter_token_ms',
  interTokenMeanMs: 'llm.inter_token_mean_ms',
  outputTokensPerSecond: 'llm.output_tokens_per_s',
  creditsExhaustedResponses: 'llm.credits_exhausted_responses',
  configError: 'llm.config_error',
  malformedPrefix: 'llm.malformed.',
  /** Every answer's HTTP status, streamed ones included (Artillery's http.codes.* count only the engine's). */
  statusPrefix: 'llm.codes.',
} as const;

/**
 * Every metric the scenario emits, as globs (`*` = one or more characters of a name), for
 * `npm run validate` (it checks that ensure checks read metrics that can exist).
 */
export const LLM_EMITTED_METRICS: readonly string[] = [
  ...Object.values(LLM).filter((name) => !name.endsWith('.')),
  'llm.failures',
  'llm.failures.*',
  `${LLM.malformedPrefix}*`,
  `${LLM.statusPrefix}*`,
];

/** Failure causes this scenario can produce (all reported, zero or not). */
export const LLM_FAILURE_CAUSES = [
  'credits_exhausted',
  'bad_request',
  'unauthorized',
  'forbidden',
  'not_found',
  'rate_limited',
  'upstream_error',
  'server_error',
  'malformed_body',
  'timeout',
  'connection_error',
  'unexpected_status',
] as const satisfies readonly FailureCause[];

/**
 * Counters the gate reads start at zero in every run, so a healthy run reports "0" instead of a
 * metric that never appeared (which ensure counts as a failed check).
 */
export function recordUserStart(events: VUEvents): void {
  count(events, LLM.attempts, 0);
  count(events, LLM.success, 0);
  count(events, LLM.creditsExhaustedResponses, 0);
  count(events, LLM.streamedResponses, 0);
  count(events, LLM.streamBuffered, 0);
  for (const cause of LLM_FAILURE_CAUSES) count(events, `llm.failures.${cause}`, 0);
  count(events, 'llm.failures', 0);
}

/**
 * One request about to be sent. Counted before the answer so that requests which never get one
 * (a timeout or reset ends the virtual user before any response hook) still weigh on the success rate.
 */
export function recordAttempt(events: VUEvents): void {
  count(events, LLM.attempts);
}

export function recordFailure(events: VUEvents, cause: FailureCause, malformed?: MalformedDetail): void {
  countFailure(events, 'llm', cause);
  if (cause === 'credits_exhausted') count(events, LLM.creditsExhaustedResponses);
  if (malformed) count(events, `${LLM.malformedPrefix}${malformed}`);
}

/**
 * Records one answered request. Credit exhaustion and every other failure are counts only: a 402
 * answered in 3 ms must never pull the latency percentiles down.
 */
export function recordOutcome(events: VUEvents, outcome: CompletionOutcome, inferenceBudgetMs: number): void {
  if (outcome.status !== undefined) count(events, `${LLM.statusPrefix}${outcome.status}`);
  if (!outcome.ok) {
    recordFailure(events, outcome.cause, outcome.malformed);
    return;
  }
  count(events, LLM.success);
  const { usage } = outcome;
  count(events, LLM.tokensPrompt, usage.prompt_tokens);
  count(events, LLM.tokensCompletion, usage.completion_tokens);
  count(events, LLM.tokensTotal, usage.total_tokens);
  observe(events, LLM.requestPromptTokens, usage.prompt_tokens);
  observe(events, LLM.requestCompletionTokens, usage.completion_tokens);
  observe(events, LLM.requestTotalTokens, usage.total_tokens);

  observe(events, LLM.latencyMs, outcome.totalMs);
  if (outcome.upstreamMs !== undefined) {
    count(events, LLM.overheadByServerTiming);
    observe(events, LLM.upstreamMs, outcome.upstreamMs);
    observe(events, LLM.proxyOverheadMs, Math.max(0, outcome.upstreamSpanMs - outcome.upstreamMs));
  } else {
    count(events, LLM.overheadByInferenceBudget);
    observe(events, LLM.proxyOverheadMs, Math.max(0, outcome.totalMs - inferenceBudgetMs));
  }

  if (outcome.mode === 'buffered_stream') count(events, LLM.streamBuffered);
  const timing = outcome.timing;
  if (outcome.mode !== 'stream' || !timing) return;
  count(events, LLM.streamedResponses);
  if (timing.ttftMs !== undefined) observe(events, LLM.ttftMs, timing.ttftMs);
  for (const gap of timing.gapsMs) observe(events, LLM.interTokenMs, gap);
  if (timing.meanGapMs !== undefined) observe(events, LLM.interTokenMeanMs, timing.meanGapMs);
  if (timing.outputTokensPerSecond !== undefined)
    observe(events, LLM.outputTokensPerSecond, timing.outputTokensPerSecond);
}
