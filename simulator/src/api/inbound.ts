import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { SimContext } from '../core/context';
import { resetConnection, sendJsonWithFaults } from '../core/faults';
import { sleep } from '../core/latency';
import { UUID_PATTERN } from '../core/state';
import type { ApiAuthenticator } from './auth';
import { billCall } from './billing';
import { creditsExhausted, parseJsonBody } from './completions';
import { sendError } from './go-json';
import { completionTokenTarget, countPromptTokens, runModel } from './model-call';
import { costCents, DEFAULT_MODEL_ID, findModel } from './models';

const inboundRequest = z.strictObject({
  tenant_id: z.string().nullish(),
  tenantId: z.string().nullish(),
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

/** As the real router: the conversation id may come as `conversation_id` or `conversationId`. */
function conversationIdOf(metadata: Record<string, string> | null | undefined): string {
  return (metadata?.conversation_id?.trim() || metadata?.conversationId?.trim()) ?? '';
}

async function handleInbound(
  ctx: SimContext,
  auth: ApiAuthenticator,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  if (!auth.hasServiceKey(request.headers)) return sendError(reply, 401, 'Unauthorized');
  const parsed = inboundRequest.safeParse(parseJsonBody(request.body));
  if (!parsed.success) return sendError(reply, 400, 'invalid JSON body');
  const tenantId = (parsed.data.tenant_id?.trim() || parsed.data.tenantId?.trim()) ?? '';
  const content = parsed.data.content?.trim() ?? '';
  const channel = parsed.data.channel?.trim().toLowerCase() ?? '';
  const metadata = parsed.data.metadata;
  if (!tenantId) return sendError(reply, 400, 'tenant id is required');
  if (!content) return sendError(reply, 400, 'content is required');
  if (!CHANNELS.has(channel))
    return sendError(reply, 400, `unsupported channel: ${parsed.data.channel ?? ''}`);

  const decision = ctx.faults.decide('inbound');
  await sleep(decision.delayMs + ctx.latency.sampleMs('inbound'));
  if (decision.kind === 'reset') return resetConnection(request, reply);
  if (decision.kind === 'error') return sendError(reply, decision.errorStatus, 'failed to route message');

  const tenant = UUID_PATTERN.test(tenantId) ? ctx.state.getTenant(tenantId) : undefined;
  // The real router's conversation insert fails on the tenant foreign key.
  if (!tenant) return sendError(reply, 500, 'create conversation: tenant not found');
  const requested = conversationIdOf(metadata);
  let conversation = requested ? ctx.state.getConversation(tenant.id, requested) : undefined;
  if (requested && !conversation) return sendError(reply, 400, 'conversation not found');
  if (!conversation) {
    conversation = ctx.state.createConversation(tenant.id);
    ctx.stats.chat.conversations += 1;
  }
  conversation.messages.push({ role: 'user', content, at: new Date() });

  const model = findModel(metadata?.model ?? '') ?? findModel(DEFAULT_MODEL_ID)!;
  let answer = '';
  // The router plans with one LLM call and answers with a second, both billed like proxy calls.
  for (let call = 0; call < 2; call++) {
    if (creditsExhausted(ctx, tenant)) {
      ctx.stats.llm.paymentRequired += 1;
      return sendError(
        reply,
        500,
        'llm proxy returned 402: {"error":{"message":"Insufficient credits","type":"billing_error"}}',
      );
    }
    const promptTokens = countPromptTokens(conversation.messages.slice(-50));
    const started = performance.now();
    const generated = await runModel(ctx, completionTokenTarget(ctx, undefined));
    const cents = costCents(model, promptTokens, generated.completionTokens);
    billCall(ctx, tenant, model.id, promptTokens, generated.completionTokens, cents);
    ctx.stats.recordLlm({
      promptTokens,
      completionTokens: generated.completionTokens,
      cents,
      appMs: performance.now() - started - generated.upstreamMs,
      upstreamMs: generated.upstreamMs,
      streamed: false,
    });
    answer = generated.content;
  }
  conversation.messages.push({ role: 'assistant', content: answer, at: new Date() });
  return sendJsonWithFaults(request, reply, decision, 200, {
    tenant_id: tenant.id,
    content: answer,
    channel,
    conversation_id: conversation.id,
  });
}
