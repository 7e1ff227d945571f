import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { classifyNetworkError } from '../http-errors';
import type { FailureCause } from '../metrics';
import { isEventStreamContentType, judgeBufferedAnswer, type MalformedDetail } from './completion';
import type { CompletionOutcome } from './record';
import { parseServerTiming, serverTimingDuration } from './server-timing';
import { SseDecoder } from './sse';
import { StreamAccumulator } from './stream';

/**
 * One streamed `POST /v1/chat/completions` (`stream: true`), read chunk by chunk so that each
 * token is timed when its bytes land: Artillery's HTTP engine hands a hook only the whole body.
 * Non-streamed completions go through the engine (scenarios/llm-proxy.yml `post`).
 */

export interface StreamCall {
  url: URL;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  /** The virtual user's keep-alive agent: one connection per user, as on the engine path. */
  agent: http.Agent | undefined;
}

/** Bodies beyond this are not kept (a completion of 64 tokens is a few kB). */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

export function requestStream(call: StreamCall): Promise<CompletionOutcome> {
  const client = call.url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    const sentAt = performance.now();
    let settled = false;
    let status: number | undefined;
    const settle = (outcome: CompletionOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const fail = (cause: FailureCause, malformed?: MalformedDetail) =>
      settle({
        ok: false,
        cause,
        ...(malformed ? { malformed } : {}),
        status,
        totalMs: performance.now() - sentAt,
      });

    let request: http.ClientRequest;
    try {
      request = client.request(call.url, {
        method: 'POST',
        agent: call.agent,
        headers: { ...call.headers, 'content-length': Buffer.byteLength(call.body).toString() },
      });
    } catch (error) {
      // Node refuses a header value with invalid characters synchronously; nothing was sent.
      settled = true;
      resolve({ ok: false, cause: classifyNetworkError(error), status: undefined, totalMs: 0 });
      return;
    }
    const timer = setTimeout(() => {
      const error = Object.assign(new Error(`no complete answer within ${call.timeoutMs} ms`), {
        code: 'ETIMEDOUT',
      });
      fail('timeout');
      request.destroy(error);
    }, call.timeoutMs);

    request.on('error', (error) => fail(classifyNetworkError(error)));
    request.on('response', (response) => {
      const headersAt = performance.now();
      const answeredStatus = response.statusCode ?? 0;
      status = answeredStatus;
      const contentType = headerText(response.headers['content-type']);
      const upstreamFrom = (headers: NodeJS.Dict<string | string[]>) =>
        serverTimingDuration(parseServerTiming(headerText(headers['server-timing'])), 'upstream');
      // A body cut off mid-way (reset after the headers) is a connection error, not a malformed answer.
      response.on('error', (error) => fail(classifyNetworkError(error)));
      response.on('close', () => {
        if (!response.complete) fail('connection_error');
      });

      const streamed = answeredStatus >= 200 && answeredStatus < 300 && isEventStreamContentType(contentType);
      if (streamed) {
        const decoder = new SseDecoder();
        const accumulator = new StreamAccumulator(sentAt);
        response.on('data', (chunk: Buffer) => {
          const at = performance.now();
          for (const event of decoder.push(chunk)) accumulator.onData(event.data, at);
        });
        response.on('end', () => {
          const endedAt = performance.now();
          const { events, unterminated } = decoder.end();
          for (const event of events) accumulator.onData(event.data, endedAt);
          const verdict = accumulator.finish(unterminated);
          if (!verdict.ok) return fail(verdict.cause, verdict.malformed);
          const inHeaders = upstreamFrom(response.headers);
          settle({
            ok: true,
            mode: 'stream',
            usage: verdict.usage,
            upstreamMs: inHeaders ?? upstreamFrom(response.trailers),
            upstreamSpanMs: (inHeaders !== undefined ? headersAt : endedAt) - sentAt,
            timing: verdict.timing,
            status: answeredStatus,
            totalMs: endedAt - sentAt,
          });
        });
        return;
      }

      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_BUFFERED_BYTES) chunks.push(chunk);
      });
      response.on('end', () => {
        const endedAt = performance.now();
        if (size > MAX_BUFFERED_BYTES) return fail('malformed_body', 'bad_shape');
        const verdict = judgeBufferedAnswer(
          answeredStatus,
          contentType,
          Buffer.concat(chunks).toString('utf8'),
        );
        if (!verdict.ok) return fail(verdict.cause, verdict.malformed);
        settle({
          ok: true,
          // Asked to stream, answered in one piece: measured like a non-streamed answer.
          mode: 'buffered_stream',
          usage: verdict.completion.usage,
          upstreamMs: upstreamFrom(response.headers) ?? upstreamFrom(response.trailers),
          upstreamSpanMs: endedAt - sentAt,
          timing: undefined,
          status: answeredStatus,
          totalMs: endedAt - sentAt,
        });
      });
    });
    request.end(call.body);
  });
}
