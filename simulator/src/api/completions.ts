import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { SimContext } from '../core/context';
import { resetConnection, sendMalformed, sendSlowly } from '../core/faults';
import { sleep } from '../core/latency';
import type { Tenant } from '../core/state';
import { billCall } from './billing';
import { goFieldKeys } from './go-decode';
import { goJson, pgUuid } from './go-json';
import { completionTokenTarget, countPromptTokens, runModel } from './model-call';
import { costCents, findModel, MODELS, type ModelEntry, upstreamModelId } from './models';

/** Go's json decoder with DisallowUnknownFields: unknown fields and wrong types are a 400. */
const REQUEST_FIELDS = ['model', 'messages', 'temperature', 'max_tokens', 'stream'];
const MESSAGE_FIELDS = ['role', 'content'];

/** Keys as Go's decoder matches them (case-insensitively), in the request and in each message. */
function goRequestKeys(body: unknown): unknown {
  const request = goFieldKeys(body, REQUEST_FIELDS);
  if (typeof request !== 'object' || request === null || Array.isArray(request)) return request;
  const messages = (request as Record<string, unknown>).messages;
  if (!Array.isArray(messages)) return request;
  return { ...request, messages: messages.map((m) => goFieldKeys(m, MESSAGE_FIELDS)) };
}

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
    .send(goJson({ error: { message, type } }));
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
    return reply.type('application/json').send(goJson({ object: 'list', data }));
  });

  app.post(
    '/v1/chat/completions',
    { config: { statsName: 'api.completions', family: 'llm' } },
    (request, reply) => handleCompletion(ctx, request, reply),
  );
}

/**
 * The real handler's order (llmproxy/proxy.go): X-Tenant-ID, strict body, model, messages, model
 * lookup, then the credit check, which is a query on the uuid column: a non-UUID tenant fails it
 * (500 "billing error"), an unknown one has no credits row and so a balance of 0 (402).
 */
async function handleCompletion(ctx: SimContext, request: FastifyRequest, reply: FastifyReply) {
  const started = performance.now();
  const tenantHeader = request.headers['x-tenant-id'];
  if (typeof tenantHeader !== 'string' || tenantHeader === '')
    return sendOpenAiError(reply, 401, 'missing X-Tenant-ID header');
  const tenantId = tenantHeader.trim();
  if (tenantId === '') return sendOpenAiError(reply, 401, 'invalid X-Tenant-ID header');

  const parsed = completionRequest.safeParse(goRequestKeys(parseJsonBody(request.body)));
  if (!parsed.success) return sendOpenAiError(reply, 400, 'invalid request body');
  const body = parsed.data;
  const modelId = body.model?.trim() ?? '';
  if (modelId === '') return sendOpenAiError(reply, 400, 'model is required');
  const messages = (body.messages ?? []).map((m) => ({ role: m.role ?? '', content: m.content ?? '' }));
  if (messages.length === 0) return sendOpenAiError(reply, 400, 'messages are required');
  if (messages.length > 100) return sendOpenAiError(reply, 400, 'too many messages');
  if (messages.some((m) => m.role.trim() === '' || m.content.trim() === ''))
    return sendOpenAiError(reply, 400, 'messages must include role and content');

  const model = findModel(modelId);
  if (!model) return sendOpenAiError(reply, 400, `model not found: ${modelId}`);

  const uuid = pgUuid(tenantId);
  if (!uuid) return sendOpenAiError(reply, 500, 'billing error');
  const tenant = ctx.state.getTenant(uuid);
  if (!tenant || creditsExhausted(ctx, tenant)) {
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
      model,
      promptTokens,
      target,
      started,
      tenant,
    });
  }
  if (decision.kind === 'malformed' && decision.malformedKind === 'html') return sendMalformed(reply, 'html');

  const answer = await runModel(ctx, target);
  const cents = costCents(model, promptTokens, answer.completionTokens);
  billCall(ctx, tenant, model.id, promptTokens, answer.completionTokens, cents);
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
    model: upstreamModelId(model),
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
  model: ModelEntry;
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
      model: upstreamModelId(plan.model),
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
  const cents = costCents(plan.model, plan.promptTokens, answer.completionTokens);
  billCall(ctx, plan.tenant, plan.model.id, plan.promptTokens, answer.completionTokens, cents);
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
