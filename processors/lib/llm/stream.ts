import type { FailureCause } from '../metrics';
import { chatCompletionChunkSchema, errorBodySchema, type MalformedDetail, type Usage } from './completion';

/**
 * Timing of one streamed answer, built from SSE events as they arrive.
 *
 * Definitions (all client-side, from the moment the request was sent):
 * - time to first token (TTFT): until the first chunk whose `delta.content` is non-empty;
 * - inter-token latency: the gap between two successive content chunks (the OpenAI format carries
 *   about one token per chunk); every gap is one sample, and the per-request mean gap
 *   (last − first) / (chunks − 1) is reported separately;
 * - output tokens per second: the decode rate after the first token,
 *   (completion_tokens − 1) / (time of last content chunk − time of first content chunk);
 * - end-to-end: until the stream ended (`[DONE]` and the connection's end of body).
 */
export interface StreamTiming {
  /** Undefined when the answer carried no content at all. */
  ttftMs: number | undefined;
  /** Gaps between successive content chunks, ms. */
  gapsMs: number[];
  meanGapMs: number | undefined;
  outputTokensPerSecond: number | undefined;
  contentChunks: number;
}

export type StreamVerdict =
  | { ok: true; usage: Usage; timing: StreamTiming }
  | { ok: false; cause: FailureCause; malformed?: MalformedDetail };

export class StreamAccumulator {
  private readonly contentTimes: number[] = [];
  private usage: Usage | undefined;
  private done = false;
  private failure: StreamVerdict | undefined;

  constructor(private readonly sentAtMs: number) {}

  /** True once the stream can no longer succeed (bad chunk, error event, data after [DONE]). */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  onData(data: string, atMs: number): void {
    if (this.failure) return;
    if (this.done) {
      this.failure = { ok: false, cause: 'malformed_body', malformed: 'bad_chunk' };
      return;
    }
    if (data.trim() === '[DONE]') {
      this.done = true;
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      this.failure = { ok: false, cause: 'malformed_body', malformed: 'bad_chunk' };
      return;
    }
    const chunk = chatCompletionChunkSchema.safeParse(json);
    if (!chunk.success) {
      // An error object mid-stream is the upstream giving up after the 200 went out.
      this.failure = errorBodySchema.safeParse(json).success
        ? { ok: false, cause: 'upstream_error' }
        : { ok: false, cause: 'malformed_body', malformed: 'bad_chunk' };
      return;
    }
    if (chunk.data.choices.some((c) => typeof c.delta.content === 'string' && c.delta.content.length > 0))
      this.contentTimes.push(atMs);
    if (chunk.data.usage) this.usage = chunk.data.usage;
  }

  /** Verdict once the body has ended; `unterminated` = the decoder held a partial event. */
  finish(unterminated: boolean): StreamVerdict {
    if (this.failure) return this.failure;
    if (!this.done || unterminated)
      return { ok: false, cause: 'malformed_body', malformed: 'truncated_stream' };
    if (!this.usage) return { ok: false, cause: 'malformed_body', malformed: 'missing_usage' };
    const first = this.contentTimes[0];
    const ttftMs = first === undefined ? undefined : first - this.sentAtMs;
    const gapsMs: number[] = [];
    for (let i = 1; i < this.contentTimes.length; i++)
      gapsMs.push(this.contentTimes[i]! - this.contentTimes[i - 1]!);
    const span = this.contentTimes.length > 1 ? this.contentTimes.at(-1)! - first! : 0;
    return {
      ok: true,
      usage: this.usage,
      timing: {
        ttftMs,
        gapsMs,
        meanGapMs: gapsMs.length > 0 ? span / gapsMs.length : undefined,
        outputTokensPerSecond:
          span > 0 && this.usage.completion_tokens > 1
            ? (this.usage.completion_tokens - 1) / (span / 1000)
            : undefined,
        contentChunks: this.contentTimes.length,
      },
    };
  }
}
