import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SimContext } from '../core/context';
import { resetConnection, sendMalformed } from '../core/faults';
import { sleep } from '../core/latency';
import { sendError } from './go-json';

/**
 * The containers family's injected delay, reset, error or malformed body on one request; true when
 * the request was answered by the fault. `errorBody` is what the route's own failure would say.
 */
export async function containerFault(
  ctx: SimContext,
  request: FastifyRequest,
  reply: FastifyReply,
  errorBody: string,
): Promise<boolean> {
  const decision = ctx.faults.decide('containers');
  await sleep(decision.delayMs);
  if (decision.kind === 'reset') {
    resetConnection(request, reply);
    return true;
  }
  if (decision.kind === 'error') {
    sendError(reply, decision.errorStatus, errorBody);
    return true;
  }
  if (decision.kind === 'malformed') {
    sendMalformed(reply, decision.malformedKind);
    return true;
  }
  return false;
}

export const containersRoute = (statsName: string) => ({
  config: { statsName, family: 'containers' as const },
});
