import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { SimContext } from '../core/context';
import { roll } from '../core/faults';
import { sleep } from '../core/latency';
import type { Tenant } from '../core/state';
import { adminTenantDetail, adminTenantList } from './admin-view';
import { parseJsonBody } from './completions';
import { containerFault, containersRoute } from './container-faults';
import { goFieldKeys } from './go-decode';
import { pgUuid, sendError, sendGoJson } from './go-json';
import { activateTenant, suspendTenant } from './tenant-status';

type IdParams = { Params: { id: string } };

/** POST /api/admin/tenants/{id}/credits: `{amount: int64, reason: string}`, strict. */
const creditsRequest = z.strictObject({
  amount: z.number().int().nullish(),
  reason: z.string().nullish(),
});

/**
 * The tenant's row for an admin route (routes/admin.go): the path id trimmed (empty: 400), then a
 * query on the uuid column (a non-UUID id makes it fail: 500 with the route's own message), then
 * 404 when no row. Answers the error itself and returns undefined.
 */
function lookUp(
  ctx: SimContext,
  reply: FastifyReply,
  rawId: string,
  queryError: string,
): { tenant: Tenant; id: string } | undefined {
  const id = rawId.trim();
  if (id === '') {
    sendError(reply, 400, 'missing tenant id');
    return undefined;
  }
  const uuid = pgUuid(id);
  if (!uuid) {
    sendError(reply, 500, queryError);
    return undefined;
  }
  const tenant = ctx.state.getTenant(uuid);
  if (!tenant) {
    sendError(reply, 404, 'tenant not found');
    return undefined;
  }
  return { tenant, id };
}

/** The admin tenant routes. The admin check itself runs in the API's request hook, for all of /api/admin. */
export function registerAdminTenantRoutes(app: FastifyInstance, ctx: SimContext): void {
  app.get('/api/admin/tenants', containersRoute('api.admin_tenants'), async (request, reply) => {
    if (await containerFault(ctx, request, reply, 'failed to query tenants')) return reply;
    return sendGoJson(reply, 200, adminTenantList(ctx));
  });

  app.get<IdParams>('/api/admin/tenants/:id', containersRoute('api.admin_tenant'), async (request, reply) => {
    if (await containerFault(ctx, request, reply, 'failed to load tenant')) return reply;
    const found = lookUp(ctx, reply, request.params.id, 'failed to load tenant');
    if (!found) return reply;
    return sendGoJson(reply, 200, adminTenantDetail(ctx, found.tenant, found.id));
  });

  app.post<IdParams>(
    '/api/admin/tenants/:id/suspend',
    containersRoute('api.admin_suspend'),
    async (request, reply) => {
      if (await containerFault(ctx, request, reply, 'failed to stop tenant container')) return reply;
      const found = lookUp(ctx, reply, request.params.id, 'failed to verify tenant');
      if (!found) return reply;
      // A tenant without a container is suspended all the same (the stop error is only noted).
      ctx.containers.stop(found.tenant);
      suspendTenant(found.tenant);
      return sendGoJson(reply, 200, { tenant_id: found.id, status: 'suspended' });
    },
  );

  app.post<IdParams>(
    '/api/admin/tenants/:id/resume',
    containersRoute('api.admin_resume'),
    async (request, reply) => {
      ctx.stats.containers.resumeCalls += 1;
      if (await containerFault(ctx, request, reply, 'failed to start tenant container')) return reply;
      const found = lookUp(ctx, reply, request.params.id, 'failed to verify tenant');
      if (!found) return reply;
      const tenant = found.tenant;
      if (roll(ctx.faults.live.containers?.resumeFailRate)) {
        ctx.stats.containers.resumeFailures += 1;
        return sendError(reply, 500, 'failed to start tenant container');
      }
      // Start fails with "no container for tenant": the orchestrator creates one (and starts it).
      const restartMode = tenant.container.state === 'none' ? 'create' : 'start';
      ctx.containers.create(tenant);
      if (tenant.container.state === 'stopped') {
        await sleep(ctx.latency.sampleMs('containerResumeCall'));
        ctx.containers.start(tenant);
      }
      // No credit check here: an admin resume brings back even a drained tenant.
      activateTenant(tenant);
      return sendGoJson(reply, 200, { tenant_id: found.id, status: 'active', restart_mode: restartMode });
    },
  );

  app.post<IdParams>(
    '/api/admin/tenants/:id/credits',
    containersRoute('api.admin_credits'),
    async (request, reply) => {
      if (await containerFault(ctx, request, reply, 'failed to update credits')) return reply;
      if (request.params.id.trim() === '') return sendError(reply, 400, 'missing tenant id');
      const parsed = creditsRequest.safeParse(goFieldKeys(parseJsonBody(request.body), ['amount', 'reason']));
      if (!parsed.success) return sendError(reply, 400, 'invalid JSON body');
      const amount = parsed.data.amount ?? 0;
      const reason = parsed.data.reason?.trim() ?? '';
      if (amount === 0) return sendError(reply, 400, 'amount must be non-zero');
      if (reason === '') return sendError(reply, 400, 'reason is required');
      const found = lookUp(ctx, reply, request.params.id, 'failed to verify tenant');
      if (!found) return reply;
      // A credit adjustment changes the balance only: a paused tenant stays paused until resumed.
      found.tenant.creditsCents += amount;
      return sendGoJson(reply, 200, {
        tenant_id: found.id,
        amount,
        reason,
        balance_cents: found.tenant.creditsCents,
        updated_at: new Date(),
      });
    },
  );
}
