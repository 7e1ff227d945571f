import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { VUEvents } from 'artillery';
import fc from 'fast-check';
import { classifyNetworkError, classifyStatus } from '../../processors/lib/http-errors';
import { judgeBufferedAnswer } from '../../processors/lib/llm/completion';
import { judgeEngineResponse } from '../../processors/lib/llm/engine-response';
import { recordOutcome } from '../../processors/lib/llm/record';
import { parseServerTiming, serverTimingDuration } from '../../processors/lib/llm/server-timing';
import { SseDecoder, type SseEvent } from '../../processors/lib/llm/sse';
import { StreamAccumulator } from '../../processors/lib/llm/stream';

const upstreamOf = (header: string | string[] | undefined) =>
  serverTimingDuration(parseServerTiming(header), 'upstream');

describe('Server-Timing parser', () => {
  it('reads upstream and app durations as the simulator sends them', () => {
    const entries = parseServerTiming('upstream;dur=812.4, app;dur=3.0');
    assert.deepEqual(entries, [
      { name: 'upstream', durMs: 812.4 },
      { name: 'app', durMs: 3 },
    ]);
  });

  it('handles repeated headers, whitespace, case, quoted desc with commas and semicolons', () => {
    const entries = parseServerTiming(['cache;desc="hit, warm; edge"', ' upstream ; DUR = 12 ;desc=model']);
    assert.equal(serverTimingDuration(entries, 'upstream'), 12);
    assert.equal(entries[0]?.desc, 'hit, warm; edge');
    assert.equal(entries[1]?.desc, 'model');
  });

  it('keeps the first dur of an entry, as the spec says', () => {
    assert.equal(upstreamOf('upstream;dur=5;dur=9'), 5);
  });

  it('degrades malformed input to "no upstream", never to a wrong number', () => {
    for (const header of [
      undefined,
      '',
      'upstream',
      'upstream;dur',
      'upstream;dur=',
      'upstream;dur=abc',
      'upstream;dur=-5',
      'upstream;dur=Infinity',
      'upstream;dur=NaN',
      '"upstream";dur=5',
      'up stream;dur=5',
      ';dur=5',
      ',,,',
      'upstream;dur="12', // unterminated quote swallows the rest
    ])
      assert.equal(upstreamOf(header), undefined, `header ${JSON.stringify(header)}`);
  });

  it('a malformed entry does not spoil a valid one next to it', () => {
    assert.equal(upstreamOf('garbage;;;, upstream;dur=42, app;dur=oops'), 42);
  });

  it('never throws on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const value = upstreamOf(text);
        assert.ok(value === undefined || (Number.isFinite(value) && value >= 0));
      }),
    );
  });
});

const decodeAll = (parts: (string | Uint8Array)[]) => {
  const decoder = new SseDecoder();
  const events: SseEvent[] = [];
  for (const part of parts) events.push(...decoder.push(part));
  const end = decoder.end();
  return { events: [...events, ...end.events], unterminated: end.unterminated };
};

describe('SSE decoder', () => {
  const stream =
    ': keep-alive comment\n' +
    'data: {"a":1}\n\n' +
    'event: note\r\ndata: line one\r\ndata: line two\r\n\r\n' +
    'data:no-space\r\rdata: [DONE]\n\n';

  const expected: SseEvent[] = [
    { type: 'message', data: '{"a":1}' },
    { type: 'note', data: 'line one\nline two' },
    { type: 'message', data: 'no-space' },
    { type: 'message', data: '[DONE]' },
  ];

  it('decodes events with \\n, \\r\\n and \\r line ends, comments and multi-line data', () => {
    const { events, unterminated } = decodeAll([stream]);
    assert.deepEqual(events, expected);
    assert.equal(unterminated, false);
  });

  it('gives the same events however the bytes are split (UTF-8 and \\r\\n across chunks)', () => {
    const bytes = Buffer.from(`${stream}data: héllo → 世界\n\n`, 'utf8');
    const all = [...expected, { type: 'message', data: 'héllo → 世界' }];
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 12 }),
        (cuts) => {
          const sorted = [...cuts].sort((a, b) => a - b);
          const parts: Uint8Array[] = [];
          let last = 0;
          for (const cut of sorted) {
            parts.push(bytes.subarray(last, cut));
            last = cut;
          }
          parts.push(bytes.subarray(last));
          assert.deepEqual(decodeAll(parts).events, all);
        },
      ),
    );
  });

  it('reports an event cut off before its blank line (truncated stream) and drops it', () => {
    const { events, unterminated } = decodeAll(['data: {"a":1}\n\ndata: {"b":']);
    assert.deepEqual(events, [{ type: 'message', data: '{"a":1}' }]);
    assert.equal(unterminated, true);
  });

  it('ignores blank lines without data and unknown fields', () => {
    const { events } = decodeAll(['\n\nretry: 10\nid: 7\nfoo\n\ndata: x\n\n']);
    assert.deepEqual(events, [{ type: 'message', data: 'x' }]);
  });
});

const chunk = (content: string | undefined, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    model: 'openai/gpt-4.1-mini',
    choices: [{ index: 0, delta: content === undefined ? {} : { content }, finish_reason: null }],
    ...extra,
  });
const usage = { prompt_tokens: 12, completion_tokens: 4, total_tokens: 16 };

describe('stream accumulator', () => {
  it('times first token, gaps between content chunks and the decode rate', () => {
    const acc = new StreamAccumulator(1000);
    acc.onData(chunk(''), 1040); // role chunk with empty content: not a token
    acc.onData(chunk('the'), 1100);
    acc.onData(chunk(' agent'), 1110);
    acc.onData(chunk(' reviewed'), 1130);
    acc.onData(chunk(' it'), 1160);
    acc.onData(chunk(undefined, { usage }), 1161);
    acc.onData('[DONE]', 1162);
    const verdict = acc.finish(false);
    assert.ok(verdict.ok);
    assert.deepEqual(verdict.usage, usage);
    assert.equal(verdict.timing.ttftMs, 100);
    assert.deepEqual(verdict.timing.gapsMs, [10, 20, 30]);
    assert.equal(verdict.timing.meanGapMs, 20);
    // 3 tokens after the first over 60 ms.
    assert.equal(verdict.timing.outputTokensPerSecond, 50);
  });

  it('a stream without [DONE] is truncated, one without usage is missing usage', () => {
    const truncated = new StreamAccumulator(0);
    truncated.onData(chunk('a', { usage }), 1);
    assert.deepEqual(truncated.finish(false), {
      ok: false,
      cause: 'malformed_body',
      malformed: 'truncated_stream',
    });

    const noUsage = new StreamAccumulator(0);
    noUsage.onData(chunk('a'), 1);
    noUsage.onData('[DONE]', 2);
    assert.deepEqual(noUsage.finish(false), {
      ok: false,
      cause: 'malformed_body',
      malformed: 'missing_usage',
    });

    const cutAfterDone = new StreamAccumulator(0);
    cutAfterDone.onData(chunk('a', { usage }), 1);
    cutAfterDone.onData('[DONE]', 2);
    assert.equal(cutAfterDone.finish(true).ok, false);
  });

  it('a chunk that is not JSON or not a chunk is malformed; an error event is an upstream failure', () => {
    for (const bad of ['{"id":', '<html>', '42', '{"object":"chat.completion.chunk"}']) {
      const acc = new StreamAccumulator(0);
      acc.onData(bad, 1);
      acc.onData('[DONE]', 2);
      assert.deepEqual(
        acc.finish(false),
        { ok: false, cause: 'malformed_body', malformed: 'bad_chunk' },
        bad,
      );
    }
    const errored = new StreamAccumulator(0);
    errored.onData(chunk('a'), 1);
    errored.onData('{"error":{"message":"upstream died","type":"upstream_error"}}', 2);
    assert.deepEqual(errored.finish(false), { ok: false, cause: 'upstream_error' });
  });

  it('data after [DONE] is malformed', () => {
    const acc = new StreamAccumulator(0);
    acc.onData(chunk('a', { usage }), 1);
    acc.onData('[DONE]', 2);
    acc.onData(chunk('late'), 3);
    assert.equal(acc.finish(false).ok, false);
  });
});

const completion = JSON.stringify({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  model: 'openai/gpt-4.1-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
  usage,
});

describe('buffered answer', () => {
  it('accepts a chat.completion with usage', () => {
    const verdict = judgeBufferedAnswer(200, 'application/json; charset=utf-8', completion);
    assert.ok(verdict.ok);
    assert.deepEqual(verdict.completion.usage, usage);
  });

  it('names each kind of malformed 2xx body', () => {
    const { usage: _dropped, ...withoutUsage } = JSON.parse(completion) as Record<string, unknown>;
    const cases: [string | undefined, string, string][] = [
      ['application/json', '', 'empty'],
      ['text/html', '<html><body>oops</body></html>', 'html'],
      ['text/plain', completion, 'wrong_content_type'],
      [undefined, completion, 'wrong_content_type'],
      ['application/json', completion.slice(0, completion.length / 2), 'truncated_json'],
      ['application/json', JSON.stringify(withoutUsage), 'missing_usage'],
      ['application/json', JSON.stringify({ ...withoutUsage, usage: null }), 'missing_usage'],
      ['application/json', JSON.stringify({ ...withoutUsage, usage: { prompt_tokens: -1 } }), 'bad_shape'],
      ['application/json', '{"ok":true}', 'bad_shape'],
      ['application/json', '[]', 'bad_shape'],
    ];
    for (const [type, body, detail] of cases)
      assert.deepEqual(
        judgeBufferedAnswer(200, type, body),
        { ok: false, cause: 'malformed_body', malformed: detail },
        `${type} ${body.slice(0, 40)}`,
      );
  });

  it('classifies error answers by status; 402 is credit exhaustion whatever the body', () => {
    const err = (message: string, type: string) => JSON.stringify({ error: { message, type } });
    assert.deepEqual(
      judgeBufferedAnswer(402, 'application/json', err('Insufficient credits', 'billing_error')),
      {
        ok: false,
        cause: 'credits_exhausted',
      },
    );
    assert.deepEqual(judgeBufferedAnswer(402, 'text/html', '<html>pay</html>'), {
      ok: false,
      cause: 'credits_exhausted',
    });
    assert.deepEqual(judgeBufferedAnswer(400, 'application/json', err('model not found: x', 'invalid')), {
      ok: false,
      cause: 'bad_request',
    });
    assert.deepEqual(judgeBufferedAnswer(502, 'application/json', err('upstream', 'upstream_error')), {
      ok: false,
      cause: 'upstream_error',
    });
    // A gateway's HTML page in place of the proxy's JSON error.
    assert.deepEqual(judgeBufferedAnswer(502, 'text/html', '<html>502 Bad Gateway</html>'), {
      ok: false,
      cause: 'malformed_body',
      malformed: 'html',
    });
  });
});

describe('status and network error classification', () => {
  it('maps statuses to causes', () => {
    const table: [number, string | undefined][] = [
      [200, undefined],
      [204, undefined],
      [400, 'bad_request'],
      [401, 'unauthorized'],
      [402, 'credits_exhausted'],
      [403, 'forbidden'],
      [404, 'not_found'],
      [405, 'bad_request'],
      [408, 'timeout'],
      [429, 'rate_limited'],
      [500, 'server_error'],
      [502, 'upstream_error'],
      [503, 'upstream_error'],
      [504, 'upstream_error'],
      [307, 'unexpected_status'],
      [418, 'unexpected_status'],
    ];
    for (const [status, cause] of table) assert.equal(classifyStatus(status), cause, String(status));
  });

  it('a billing error body is credit exhaustion even behind another 4xx status', () => {
    assert.equal(
      classifyStatus(400, '{"error":{"message":"Insufficient credits","type":"billing_error"}}'),
      'credits_exhausted',
    );
    assert.equal(classifyStatus(500, '{"error":"billing error"}'), 'server_error');
  });

  it('tells timeouts from connection errors, following error causes', () => {
    assert.equal(classifyNetworkError(Object.assign(new Error('x'), { code: 'ETIMEDOUT' })), 'timeout');
    assert.equal(classifyNetworkError(new DOMException('t', 'TimeoutError')), 'timeout');
    assert.equal(
      classifyNetworkError(new TypeError('fetch failed', { cause: { code: 'UND_ERR_HEADERS_TIMEOUT' } })),
      'timeout',
    );
    assert.equal(
      classifyNetworkError(Object.assign(new Error('x'), { code: 'ECONNRESET' })),
      'connection_error',
    );
    assert.equal(
      classifyNetworkError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })),
      'connection_error',
    );
    assert.equal(classifyNetworkError('weird'), 'connection_error');
    const loop: { cause?: unknown } = {};
    loop.cause = loop;
    assert.equal(classifyNetworkError(loop), 'connection_error');
  });
});

function collectEvents(): {
  events: VUEvents;
  counters: Map<string, number>;
  histograms: Map<string, number[]>;
} {
  const counters = new Map<string, number>();
  const histograms = new Map<string, number[]>();
  const events = {
    emit(type: string, name: string, value?: number) {
      if (type === 'counter') counters.set(name, (counters.get(name) ?? 0) + (value ?? 1));
      if (type === 'histogram') histograms.set(name, [...(histograms.get(name) ?? []), value ?? Number.NaN]);
    },
  } as VUEvents;
  return { events, counters, histograms };
}

/** What Artillery's HTTP engine hands an afterResponse hook: got's response, body as text, timings. */
function engineResponse(options: {
  status?: number;
  headers?: Record<string, string | string[]>;
  trailers?: Record<string, string>;
  body?: string;
  totalMs?: number;
}) {
  return {
    statusCode: options.status ?? 200,
    headers: { 'content-type': 'application/json', ...options.headers },
    trailers: options.trailers ?? {},
    body: options.body ?? completion,
    timings: { start: 1_000, phases: { firstByte: 5, total: options.totalMs ?? 40 } },
  };
}

describe('engine answers (afterResponse) and recording', () => {
  it('without Server-Timing the overhead is total minus INFERENCE_BUDGET_MS, clamped at 0', () => {
    const outcome = judgeEngineResponse(engineResponse({ totalMs: 30 }));
    assert.ok(outcome.ok && outcome.mode === 'json' && outcome.upstreamMs === undefined);
    const small = collectEvents();
    recordOutcome(small.events, outcome, 10);
    assert.equal(small.counters.get('llm.overhead_method.inference_budget'), 1);
    assert.equal(small.counters.get('llm.overhead_method.server_timing'), undefined);
    assert.deepEqual(small.histograms.get('llm.latency_ms'), [30]);
    assert.deepEqual(small.histograms.get('llm.proxy_overhead_ms'), [20]);
    const large = collectEvents();
    recordOutcome(large.events, outcome, 60_000);
    assert.deepEqual(large.histograms.get('llm.proxy_overhead_ms'), [0]);
    assert.equal(large.counters.get('llm.tokens.total'), usage.total_tokens);
    assert.equal(large.counters.get('llm.success'), 1);
    assert.equal(large.counters.get('llm.codes.200'), 1);
    // Attempts are counted before the request (beforeRequest), never on the answer.
    assert.equal(large.counters.get('llm.attempts'), undefined);
  });

  it('with Server-Timing (header or trailer) the overhead is total minus upstream', () => {
    for (const response of [
      engineResponse({ totalMs: 40, headers: { 'server-timing': 'upstream;dur=20, app;dur=1' } }),
      engineResponse({ totalMs: 40, trailers: { 'server-timing': 'upstream;dur=20' } }),
    ]) {
      const outcome = judgeEngineResponse(response);
      assert.ok(outcome.ok && outcome.upstreamMs === 20);
      const { events, counters, histograms } = collectEvents();
      recordOutcome(events, outcome, 0);
      assert.equal(counters.get('llm.overhead_method.server_timing'), 1);
      assert.deepEqual(histograms.get('llm.proxy_overhead_ms'), [20]);
      assert.deepEqual(histograms.get('llm.upstream_ms'), [20]);
    }
  });

  it('without got timings the hook falls back to now minus the request start', () => {
    const response = { ...engineResponse({}), timings: { start: 1_000, phases: {} } };
    const outcome = judgeEngineResponse(response, 1_075);
    assert.equal(outcome.totalMs, 75);
  });

  it('failures are counts only: a 402 records no latency and names itself', () => {
    const outcome = judgeEngineResponse(
      engineResponse({
        status: 402,
        body: '{"error":{"message":"Insufficient credits","type":"billing_error"}}',
        totalMs: 3,
      }),
    );
    const { events, counters, histograms } = collectEvents();
    recordOutcome(events, outcome, 0);
    assert.equal(counters.get('llm.failures.credits_exhausted'), 1);
    assert.equal(counters.get('llm.credits_exhausted_responses'), 1);
    assert.equal(counters.get('llm.failures'), 1);
    assert.equal(counters.get('llm.codes.402'), 1);
    assert.equal(histograms.size, 0);
  });

  it('rate limits, 5xx and malformed bodies are counted by cause, never thrown', () => {
    const cases: [ReturnType<typeof engineResponse> | unknown, string, string | undefined][] = [
      [engineResponse({ status: 429, body: '{"error":"Too many requests"}' }), 'rate_limited', undefined],
      [
        engineResponse({ status: 502, body: '{"error":{"message":"upstream","type":"x"}}' }),
        'upstream_error',
        undefined,
      ],
      [engineResponse({ status: 500, body: '{"error":"x"}' }), 'server_error', undefined],
      [
        engineResponse({
          status: 502,
          body: '<html>bad gateway</html>',
          headers: { 'content-type': 'text/html' },
        }),
        'malformed_body',
        'html',
      ],
      [engineResponse({ body: '{"id":' }), 'malformed_body', 'truncated_json'],
      [engineResponse({ body: '' }), 'malformed_body', 'empty'],
      [
        engineResponse({ body: completion, headers: { 'content-type': 'text/plain' } }),
        'malformed_body',
        'wrong_content_type',
      ],
      [undefined, 'malformed_body', 'bad_shape'],
      ['not a response', 'malformed_body', 'bad_shape'],
    ];
    for (const [response, cause, detail] of cases) {
      const outcome = judgeEngineResponse(response);
      assert.ok(!outcome.ok, `${cause}/${detail}`);
      assert.equal(outcome.cause, cause);
      assert.equal(outcome.malformed, detail);
      const { events, counters, histograms } = collectEvents();
      recordOutcome(events, outcome, 0);
      assert.equal(counters.get(`llm.failures.${cause}`), 1);
      if (detail) assert.equal(counters.get(`llm.malformed.${detail}`), 1);
      assert.equal(histograms.size, 0);
    }
  });

  it('never throws on arbitrary bodies and statuses', () => {
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 599 }), fc.string(), (status, body) => {
        const outcome = judgeEngineResponse(engineResponse({ status, body }));
        assert.ok(outcome.ok === false || (status >= 200 && status < 300));
      }),
    );
  });
});
