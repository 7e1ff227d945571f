import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { SimContext } from '../core/context';
import { sendJsonWithFaults } from '../core/faults';
import { sleep } from '../core/latency';
import { UUID_PATTERN } from '../core/state';
import type { ApiAuthenticator } from './auth';
import { parseJsonBody } from './completions';
import { completionTokenTarget, countPromptTokens, runModel } from './model-call';
import { costCents, DEFAULT_MODEL_ID, findModel } from './models';
import { sendError } from './tenants';

const inboundRequest = z.strictObject({
  tenant_id: z.string().nullish(),
  content: z.string().nullish(),
  channel: z.string().nullish(),
  metadata: z.record(z.string(), z.string()).nullish(),
});

const CHANNELS = new Set(['web', 'telegram', 'whatsapp']);

/** The channel router: the web chat's backend. Two LLM calls run before it answers. */
export function registerInboundRoutes(app: FastifyInstance, ctx: SimContext, auth: ApiAuthenticator): void {
  app.post(
    '/api/channels/inbound',
    { config: { statsName: 'api.inbound', family: 'inbound' } },
    (request, reply) => handleInbound(ctx, auth, request, reply),
  );
}

async function handleInbound(
  ctx: SimContext,
  auth: ApiAuthenticator,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  if (!auth.hasServiceKey(request.headers)) return sendError(reply, 401, 'Unauthorized');
  const parsed = inboundRequest.safeParse(parseJsonBody(request.body));
  if (!parsed.success) return sendError(reply, 400, 'invalid request body');
  const { tenant_id: tenantId, content, channel, metadata } = parsed.data;
  if (!tenantId || !content) return sendError(reply, 400, 'tenant_id and content are required');
  if (!channel || !CHANNELS.has(channel)) return sendError(reply, 400, 'invalid channel');
  const tenant = UUID_PATTERN.test(tenantId) ? ctx.state.getTenant(tenantId) : undefined;
  if (!tenant) return sendError(reply, 404, 'tenant not found');

  const decision = ctx.faults.decide('inbound');
  await sleep(decision.delayMs + ctx.latency.sampleMs('inbound'));
  if (decision.kind === 'error') return sendError(reply, decision.errorStatus, 'failed to route message');

  const requested = metadata?.conversation_id;
  let conversation = requested ? ctx.state.getConversation(tenant.id, requested) : undefined;
  if (!conversation) {
    conversation = ctx.state.createConversation(tenant.id);
    ctx.stats.chat.conversations += 1;
  }
  conversation.messages.push({ role: 'user', content, at: new Date() });

  const model = findModel(metadata?.model ?? '') ?? findModel(DEFAULT_MODEL_ID)!;
  let reply_ = '';
  // The router plans with one LLM call and answers with a second, both billed like proxy calls.
  for (let call = 0; call < 2; call++) {
    if (ctx.faults.live.credits?.exhausted || tenant.creditsCents <= 0) {
      tenant.status = 'paused';
      ctx.stats.llm.paymentRequired += 1;
      return sendError(reply, 402, 'insufficient credits');
    }
    const messages = [...conversation.messages.map((m) => ({ content: m.content }))];
    const promptTokens = countPromptTokens(messages);
    const started = performance.now();
    const answer = await runModel(ctx, completionTokenTarget(ctx, undefined));
    const cents = costCents(model, promptTokens, answer.completionTokens);
    ctx.state.bill(tenant, cents);
    ctx.stats.recordLlm({
      promptTokens,
      completionTokens: answer.completionTokens,
      cents,
      appMs: performance.now() - started - answer.upstreamMs,
      upstreamMs: answer.upstreamMs,
      streamed: false,
    });
    reply_ = answer.content;
  }
  conversation.messages.push({ role: 'assistant', content: reply_, at: new Date() });
  return sendJsonWithFaults(request, reply, decision, 200, {
    tenant_id: tenant.id,
    content: reply_,
    channel,
    conversation_id: conversation.id,
  });
}
