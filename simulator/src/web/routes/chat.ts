import type { FastifyInstance } from 'fastify';
import { parseJsonBody } from '../body';
import { answerInjectedFailure, beginFaults, sendJson } from '../fault-response';
import { verifyMutationOrigin } from '../origin';
import type { InboundRequest } from '../platform-api';
import { type ChatBody, chatBodySchema, inboundAnswerSchema } from '../schemas';
import type { WebServices } from '../services';
import { routeSession } from '../session';

const FAILED = { error: 'Failed to generate assistant response' };
const INCOMPLETE = { error: 'Channel router returned incomplete response' };

/** The inbound metadata is a string map on the API: only string-valued chat options travel. */
function inboundMetadata(body: ChatBody): Record<string, string> {
  const metadata: Record<string, string> = {};
  if (body.conversationId) metadata.conversation_id = body.conversationId;
  if (body.agentId) metadata.agent_id = body.agentId;
  if (body.model) metadata.model = body.model;
  if (body.systemPrompt) metadata.system_prompt = body.systemPrompt;
  if (body.enabledTools?.length) metadata.enabled_tools = body.enabledTools.join(',');
  return metadata;
}

/**
 * POST /api/chat after the middleware (307 without session, 429 over the limit): Origin, tenant,
 * body, then the API's inbound route over HTTP.
 */
export function registerChatRoutes(app: FastifyInstance, services: WebServices): void {
  const { ctx } = services;

  app.post('/api/chat', async (request, reply) => {
    const fault = await beginFaults(ctx, 'chat');
    const failed = answerInjectedFailure(request, reply, fault, FAILED);
    if (failed) return failed;
    const origin = verifyMutationOrigin(request, services.site());
    if (!origin.ok) return sendJson(request, reply, fault, 403, { error: origin.error });
    const session = await routeSession(services, request);
    if (session.kind !== 'valid' || !session.claims.tenantId) {
      return sendJson(request, reply, fault, 401, { error: 'Unauthorized' });
    }
    const body = parseJsonBody(request);
    if (!body.ok) return sendJson(request, reply, fault, 400, { error: 'Invalid JSON body' });
    const parsed = chatBodySchema.safeParse(body.value);
    if (!parsed.success) {
      return sendJson(request, reply, fault, 400, {
        error: 'Invalid request body',
        issues: parsed.error.issues,
      });
    }

    await ctx.latency.sleep(ctx.latency.sampleMs('chat'));
    const inbound: InboundRequest = {
      tenant_id: session.claims.tenantId,
      content: parsed.data.message,
      channel: 'web',
      metadata: inboundMetadata(parsed.data),
    };
    let answer: unknown;
    try {
      answer = await services.api.inbound(inbound);
    } catch {
      return sendJson(request, reply, fault, 500, FAILED);
    }
    const shaped = inboundAnswerSchema.safeParse(answer);
    const content = shaped.success ? shaped.data.content?.trim() : undefined;
    const conversationId = shaped.success
      ? (shaped.data.conversation_id?.trim() ??
        shaped.data.conversationId?.trim() ??
        parsed.data.conversationId)
      : undefined;
    if (!content || !conversationId) return sendJson(request, reply, fault, 502, INCOMPLETE);
    ctx.stats.chat.messages += 1;
    return sendJson(request, reply, fault, 200, { conversationId, message: { role: 'assistant', content } });
  });

  // The route exports POST only: every other method is 405 (after the middleware).
  app.route({
    method: ['GET', 'PUT', 'PATCH', 'DELETE'],
    url: '/api/chat',
    handler: async (_request, reply) => reply.code(405).header('allow', 'POST, OPTIONS').send(),
  });
}
