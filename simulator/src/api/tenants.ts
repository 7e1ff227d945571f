import type { FastifyInstance } from 'fastify';
import type { SimContext } from '../core/context';
import { roll } from '../core/faults';
import { sleep } from '../core/latency';
import { containerFault, containersRoute } from './container-faults';
import { pgUuid, sendError, sendGoJson } from './go-json';
import { activateTenant } from './tenant-status';

type IdParams = { Params: { id: string } };

/**
 * POST /api/tenants/{id}/resume (the service route the web app calls after signup). In the real
 * handler's order: credit check (a query on the uuid column: a non-UUID id fails it, 500 "billing
 * error"; an unknown tenant has no credits row, balance 0, 402), then ResumeTenant: status set to
 * active FIRST, then the container start (no container: 500, the status stays active).
 */
export function registerTenantRoutes(app: FastifyInstance, ctx: SimContext): void {
  app.post<IdParams>(
    '/api/tenants/:id/resume',
    containersRoute('api.tenant_resume'),
    async (request, reply) => {
      ctx.stats.containers.resumeCalls += 1;
      if (await containerFault(ctx, request, reply, 'failed to resume tenant')) return reply;
      const uuid = pgUuid(request.params.id);
      if (!uuid) return sendError(reply, 500, 'billing error');
      const tenant = ctx.state.getTenant(uuid);
      if (!tenant || ctx.faults.live.credits?.exhausted || tenant.creditsCents <= 0)
        return sendError(reply, 402, 'insufficient credits');
      activateTenant(tenant);
      if (tenant.container.state === 'none' || roll(ctx.faults.live.containers?.resumeFailRate)) {
        ctx.stats.containers.resumeFailures += 1;
        return sendError(reply, 500, 'failed to resume tenant');
      }
      if (tenant.container.state === 'stopped') {
        // The answer comes once docker's start call returns; the cold start goes on in the background.
        await sleep(ctx.latency.sampleMs('containerResumeCall'));
        ctx.containers.start(tenant);
      }
      return sendGoJson(reply, 200, { status: 'active' });
    },
  );

  // No /api/tenants/{id}/start: the deployed API does not mount it (CONTRACT.md: any other POST is 405),
  // so the web app's signup falls through to its logged failure exactly as on the real platform.
}
