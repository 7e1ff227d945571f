import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RouteFamily } from '../control-types';
import type { SimContext } from '../core/context';
import {
  type FaultDecision,
  resetConnection,
  sendJsonWithFaults,
  sendMalformed,
  sendSlowly,
} from '../core/faults';

/** Rolls the route family's faults for this request and waits out any injected delay. */
export async function beginFaults(ctx: SimContext, family: RouteFamily): Promise<FaultDecision> {
  const decision = ctx.faults.decide(family);
  if (decision.delayMs > 0) await ctx.latency.sleep(decision.delayMs);
  return decision;
}

/**
 * Answers an injected reset or error before the route does its work; returns undefined when the
 * route should go on. `errorBody` is the route's own contract error body.
 */
export function answerInjectedFailure(
  request: FastifyRequest,
  reply: FastifyReply,
  decision: FaultDecision,
  errorBody: unknown,
  contentType = 'application/json; charset=utf-8',
): FastifyReply | undefined {
  if (decision.kind === 'reset') return resetConnection(request, reply);
  if (decision.kind !== 'error') return undefined;
  const body = typeof errorBody === 'string' ? errorBody : JSON.stringify(errorBody);
  return reply.code(decision.errorStatus).type(contentType).send(body);
}

export function sendJson(
  request: FastifyRequest,
  reply: FastifyReply,
  decision: FaultDecision,
  status: number,
  payload: unknown,
): Promise<FastifyReply> {
  return sendJsonWithFaults(request, reply, decision, status, payload);
}

/** A non-JSON answer (HTML page, redirect) under the same malformed/slow-body faults. */
export function sendText(
  reply: FastifyReply,
  decision: FaultDecision,
  status: number,
  contentType: string,
  body: string,
): FastifyReply {
  if (decision.kind === 'malformed') return sendMalformed(reply, decision.malformedKind, body);
  reply.code(status).type(contentType);
  if (decision.slowBodyMs > 0 && body.length > 0) return sendSlowly(reply, body, decision.slowBodyMs);
  return reply.send(body);
}

export function sendRedirect(reply: FastifyReply, decision: FaultDecision, status: number, location: string) {
  if (decision.kind === 'malformed') return sendMalformed(reply, decision.malformedKind, '');
  return reply.code(status).header('location', location).send();
}
