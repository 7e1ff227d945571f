import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { SimContext } from '../core/context';
import { resetConnection, sendMalformed, sendSlowly } from '../core/faults';
import { sleep } from '../core/latency';
import type { ApiAuthenticator } from './auth';
import { billCall } from './billing';
import { creditsExhausted, parseJsonBody } from './completions';
import { goFieldKeys } from './go-decode';
import { goEscape, pgUuid, sendError } from './go-json';
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

/** normalizeInbound: metadata keys and values trimmed, entries with a blank key dropped. */
function normalizeMetadata(metadata: Record<string, string> | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata ?? {}))
    if (key.trim() !== '') out[key.trim()] = value.trim();
  return out;
}

/** As the real router: the conversation id may come as `conversation_id` or `conversationId`. */
function conversationIdOf(metadata: Record<string, string>): string {
  return metadata.conversation_id || metadata.conversationId || '';
}

/** lib/pq's message for a text PostgreSQL cannot read as a uuid. */
const badUuid = (text: string) => `pq: invalid input syntax for type uuid: ${JSON.stringify(text)}`;

const INBOUND_FIELDS = ['tenant_id', 'tenantId', 'content', 'channel', 'metadata'];

async function handleInbound(
  ctx: SimContext,
  auth: ApiAuthenticator,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  if (!auth.hasServiceKey(request.headers)) return sendError(reply, 401, 'Unauthorized');
  const parsed = inboundRequest.safeParse(goFieldKeys(parseJsonBody(request.body), INBOUND_FIELDS));
  if (!parsed.success) return sendError(reply, 400, 'invalid JSON body');
  const tenantId = (parsed.data.tenant_id?.trim() || parsed.data.tenantId?.trim()) ?? '';
  const content = parsed.data.content?.trim() ?? '';
  const channel = parsed.data.channel?.trim().toLowerCase() ?? '';
  const metadata = normalizeMetadata(parsed.data.metadata);
  if (!tenantId) return sendError(reply, 400, 'tenant id is required');
  if (!content) return sendError(reply, 400, 'content is required');
  if (!CHANNELS.has(channel))
    return sendError(reply, 400, `unsupported channel: ${parsed.data.channel ?? ''}`);

  const decision = ctx.faults.decide('inbound');
  await sleep(decision.delayMs + ctx.latency.sampleMs('inbound'));
  if (decision.kind === 'reset') return resetConnection(request, reply);
  if (decision.kind === 'error') return sendError(reply, decision.errorStatus, 'failed to route message');

  // resolveConversationID: a given conversation is looked up by id and tenant (uuid columns: a text
  // that is no uuid fails the query, 500), else one is inserted (an unknown tenant breaks the
  // foreign key, 500). Only "conversation not found" is a 400.
  const tenantUuid = pgUuid(tenantId);
  const tenant = tenantUuid ? ctx.state.getTenant(tenantUuid) : undefined;
  const requested = conversationIdOf(metadata);
  let conversation: ReturnType<typeof ctx.state.createConversation> | undefined;
  if (requested) {
    const conversationUuid = pgUuid(requested);
    if (!conversationUuid) return sendError(reply, 500, `query conversation: ${badUuid(requested)}`);
    if (!tenantUuid) return sendError(reply, 500, `query conversation: ${badUuid(tenantId)}`);
    conversation = tenant ? ctx.state.getConversation(tenant.id, conversationUuid) : undefined;
    if (!conversation) return sendError(reply, 400, 'conversation not found');
  }
  if (!tenantUuid) return sendError(reply, 500, `create conversation: ${badUuid(tenantId)}`);
  if (!tenant)
    return sendError(
      reply,
      500,
      'create conversation: pq: insert or update on table "conversations" violates foreign key constraint "conversations_tenant_id_fkey"',
    );
  if (!conversation) {
    conversation = ctx.state.createConversation(tenant.id);
    ctx.stats.chat.conversations += 1;
  }
  conversation.messages.push({ role: 'user', content, at: new Date() });

  const model = findModel(metadata.model ?? '') ?? findModel(DEFAULT_MODEL_ID)!;
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
  // OutboundMessage in its struct order, with the encoder's newline; faults may still mangle it.
  // tenant_id is the id as the request gave it (trimmed), not the stored spelling.
  const text = `${goEscape(
    JSON.stringify({
      tenant_id: tenantId,
      content: answer,
      channel,
      conversation_id: conversation.id,
    }),
  )}\n`;
  if (decision.kind === 'malformed') return sendMalformed(reply, decision.malformedKind, text);
  reply.code(200).type('application/json');
  if (decision.slowBodyMs > 0) return sendSlowly(reply, text, decision.slowBodyMs);
  return reply.send(text);
}
