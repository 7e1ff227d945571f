import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { SimContext } from '../core/context';
import { resetConnection, sendMalformed, sendSlowly } from '../core/faults';
import { sleep } from '../core/latency';
import type { Tenant } from '../core/state';
import { completionTokenTarget, countPromptTokens, runModel } from './model-call';
import { costCents, findModel, MODELS } from './models';

/** Go's json decoder with DisallowUnknownFields: unknown fields and wrong types are a 400. */
const completionRequest = z.strictObject({
  model: z.string().nullish(),
  messages: z.array(z.strictObject({ role: z.string().nullish(), content: z.string().nullish() })).nullish(),
  temperature: z.number().nullish(),
  max_tokens: z.number().int().nullish(),
  stream: z.boolean().nullish(),
});

export function sendOpenAiError(
  reply: FastifyReply,
  status: number,
  message: string,
  type = 'invalid_request_error',
) {
  return reply
    .code(status)
    .type('application/json')
    .send(JSON.stringify({ error: { message, type } }));
}

/** Parses a raw body as one JSON value, refusing trailing data; undefined when it is not JSON. */
export function parseJsonBody(body: unknown): unknown {
  if (typeof body !== 'string' || body.trim() === '') return undefined;
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

export function serverTiming(upstreamMs: number, appMs: number): string {
  return `upstream;dur=${upstreamMs.toFixed(1)}, app;dur=${Math.max(0, appMs).toFixed(1)}`;
}

/**
 * Balance check as the real proxy does it: <= 0 (or the credits-exhausted fault) is 402 and the
 * tenant is paused.
 */
export function creditsExhausted(ctx: SimContext, tenant: Tenant): boolean {
  if (ctx.faults.live.credits?.exhausted || tenant.creditsCents <= 0) {
    tenant.status = 'paused';
    return true;
  }
  return false;
}

export function registerModelRoutes(app: FastifyInstance, ctx: SimContext): void {
  app.get('/v1/models', { config: { statsName: 'api.models', family: 'llm' } }, async (_request, reply) => {
    const data = MODELS.map((model) => ({ id: model.id, object: 'model', owned_by: model.provider }));
    return reply.type('application/json').send(JSON.stringify({ object: 'list', data }));
  });

  app.post(
    '/v1/chat/completions',
    { config: { statsName: 'api.completions', family: 'llm' } },
    (request, reply) => handleCompletion(ctx, request, reply),
  );
}

async function handleCompletion(ctx: SimContext, request: FastifyRequest, reply: FastifyReply) {
  const started = performance.now();
  const tenantId = request.headers['x-tenant-id'];
  if (typeof tenantId !== 'string' || tenantId === '')
    return sendOpenAiError(reply, 401, 'missing X-Tenant-ID header');

  const parsed = completionRequest.safeParse(parseJsonBody(request.body));
  if (!parsed.success) return sendOpenAiError(reply, 400, 'invalid request body');
  const body = parsed.data;
  const messages = (body.messages ?? []).map((m) => ({ role: m.role ?? '', content: m.content ?? '' }));
  if (messages.length < 1 || messages.length > 100)
    return sendOpenAiError(reply, 400, 'messages must contain between 1 and 100 entries');

  const model = findModel(body.model ?? '');
  if (!model) return sendOpenAiError(reply, 400, `model not found: ${body.model ?? ''}`);

  const tenant = ctx.state.getTenant(tenantId);
  if (!tenant) return sendOpenAiError(reply, 500, 'billing error');
  if (creditsExhausted(ctx, tenant)) {
    ctx.stats.llm.paymentRequired += 1;
    return sendOpenAiError(reply, 402, 'Insufficient credits', 'billing_error');
  }

  const decision = ctx.faults.decide('llm');
  const appDelayMs = ctx.latency.sampleMs('proxyApp') + (ctx.faults.live.llm?.appDelayMs ?? 0);
  await sleep(decision.delayMs + appDelayMs);
  if (decision.kind === 'reset') return resetConnection(request, reply);
  if (decision.kind === 'error') {
    const status = ctx.faults.route('llm').errorStatus ?? 502;
    return sendOpenAiError(reply, status, 'upstream error: openai returned 500: simulated upstream failure');
  }

  const promptTokens = countPromptTokens(messages);
  const target = completionTokenTarget(ctx, body.max_tokens);
  const id = `chatcmpl-${randomBytes(12).toString('hex')}`;
  const streaming = body.stream === true && !ctx.faults.live.llm?.bufferStreams;
  if (streaming && decision.kind !== 'malformed') {
    return streamCompletion(ctx, reply, {
      id,
      model: model.id,
      promptTokens,
      target,
      started,
      tenant,
    });
  }
  if (decision.kind === 'malformed' && decision.malformedKind === 'html') return sendMalformed(reply, 'html');

  const answer = await runModel(ctx, target);
  const cents = costCents(model, promptTokens, answer.completionTokens);
  ctx.state.bill(tenant, cents);
  const appMs = performance.now() - started - answer.upstreamMs;
  ctx.stats.recordLlm({
    promptTokens,
    completionTokens: answer.completionTokens,
    cents,
    appMs,
    upstreamMs: answer.upstreamMs,
    streamed: false,
  });
  const usage = {
    prompt_tokens: promptTokens,
    completion_tokens: answer.completionTokens,
    total_tokens: promptTokens + answer.completionTokens,
  };
  const completion = {
    id,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: model.id,
    choices: [{ index: 0, message: { role: 'assistant', content: answer.content }, finish_reason: 'stop' }],
    ...(decision.kind === 'malformed' && decision.malformedKind === 'missing-usage' ? {} : { usage }),
  };
  reply.header('server-timing', serverTiming(answer.upstreamMs, appMs));
  const text = JSON.stringify(completion);
  if (decision.kind === 'malformed' && decision.malformedKind !== 'missing-usage')
    return sendMalformed(reply, decision.malformedKind, text);
  reply.code(200).type('application/json');
  if (decision.slowBodyMs > 0) return sendSlowly(reply, text, decision.slowBodyMs);
  return reply.send(text);
}

interface StreamPlan {
  id: string;
  model: string;
  promptTokens: number;
  target: number;
  started: number;
  tenant: Tenant;
}

/**
 * SSE in OpenAI's chunk format. Headers go out before the model answers, so Server-Timing here
 * carries the proxy's own time so far and the upstream time to the first token is in the events.
 */
async function streamCompletion(
  ctx: SimContext,
  reply: FastifyReply,
  plan: StreamPlan,
): Promise<FastifyReply> {
  reply.hijack();
  const res = reply.raw;
  const created = Math.floor(Date.now() / 1000);
  const chunk = (
    delta: Record<string, unknown>,
    finish: string | null,
    extra: Record<string, unknown> = {},
  ) =>
    `data: ${JSON.stringify({
      id: plan.id,
      object: 'chat.completion.chunk',
      created,
      model: plan.model,
      choices: [{ index: 0, delta, finish_reason: finish }],
      ...extra,
    })}\n\n`;
  let closed = false;
  // The response (not the keep-alive socket, which outlives it) tells when the client went away.
  res.once('close', () => {
    closed = true;
  });
  const upstreamStarted = performance.now();
  let firstTokenAt = 0;
  const answer = await runModel(ctx, plan.target, (text, index) => {
    if (closed) return false;
    if (index === 0) {
      firstTokenAt = performance.now();
      const appMs = upstreamStarted - plan.started;
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'server-timing': serverTiming(firstTokenAt - upstreamStarted, appMs),
      });
      res.write(chunk({ role: 'assistant', content: '' }, null));
    }
    res.write(chunk({ content: text }, null));
    return true;
  });
  const cents = costCents(
    findModel(plan.model) ?? {
      id: plan.model,
      provider: 'openai',
      inputCentsPerM: 0,
      outputCentsPerM: 0,
      markupPct: 0,
    },
    plan.promptTokens,
    answer.completionTokens,
  );
  ctx.state.bill(plan.tenant, cents);
  ctx.stats.recordLlm({
    promptTokens: plan.promptTokens,
    completionTokens: answer.completionTokens,
    cents,
    appMs: upstreamStarted - plan.started,
    upstreamMs: answer.upstreamMs,
    streamed: true,
  });
  if (closed) return reply;
  const usage = {
    prompt_tokens: plan.promptTokens,
    completion_tokens: answer.completionTokens,
    total_tokens: plan.promptTokens + answer.completionTokens,
  };
  res.write(chunk({}, 'stop', { usage }));
  res.end('data: [DONE]\n\n');
  return reply;
}
