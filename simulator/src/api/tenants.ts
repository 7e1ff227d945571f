import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SimContext } from '../core/context';
import { resetConnection, roll, sendMalformed } from '../core/faults';
import { sleep } from '../core/latency';
import { type Tenant, UUID_PATTERN } from '../core/state';
import { callerOf } from './auth';

export function sendError(reply: FastifyReply, status: number, error: string) {
  return reply.code(status).type('application/json').send(JSON.stringify({ error }));
}

function sendJson(reply: FastifyReply, status: number, payload: unknown) {
  return reply.code(status).type('application/json').send(JSON.stringify(payload));
}

type IdParams = { Params: { id: string } };

/** The admin view of a tenant (routes/admin.go): the only place where container readiness shows. */
function adminTenantBody(tenant: Tenant) {
  const container = tenant.container;
  const containerId = container.state === 'none' ? null : `sim-${tenant.id.replace(/-/g, '').slice(0, 12)}`;
  return {
    tenant: {
      id: tenant.id,
      user_id: tenant.userId,
      email: tenant.email,
      status: tenant.status,
      container_id: containerId,
      container: {
        id: containerId,
        state: container.state,
        running: container.state === 'running',
        health: container.health,
        started_at: container.startedAt?.toISOString() ?? null,
      },
      credits_balance_cents: tenant.creditsCents,
      created_at: tenant.createdAt.toISOString(),
    },
  };
}

export function registerTenantRoutes(app: FastifyInstance, ctx: SimContext): void {
  const containersRoute = (statsName: string) => ({ config: { statsName, family: 'containers' as const } });

  /** Applies the containers family's injected delay/reset/error/malformed body; true when the request was answered. */
  async function injected(request: FastifyRequest, reply: FastifyReply, errorBody: string): Promise<boolean> {
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

  app.post<IdParams>(
    '/api/tenants/:id/resume',
    containersRoute('api.tenant_resume'),
    async (request, reply) => {
      ctx.stats.containers.resumeCalls += 1;
      if (await injected(request, reply, 'failed to resume tenant')) return reply;
      const id = request.params.id.trim();
      if (!UUID_PATTERN.test(id)) return sendError(reply, 500, 'billing error');
      const tenant = ctx.state.getTenant(id);
      if (!tenant) return sendError(reply, 500, 'billing error');
      if (ctx.faults.live.credits?.exhausted || tenant.creditsCents <= 0)
        return sendError(reply, 402, 'insufficient credits');
      if (tenant.container.state === 'none' || roll(ctx.faults.live.containers?.resumeFailRate)) {
        ctx.stats.containers.resumeFailures += 1;
        return sendError(reply, 500, 'failed to resume tenant');
      }
      if (tenant.container.state === 'stopped') {
        // The answer comes once the start call returns; the cold start goes on in the background.
        await sleep(ctx.latency.sampleMs('containerResumeCall'));
        ctx.containers.start(tenant);
      }
      tenant.status = 'active';
      return sendJson(reply, 200, { status: 'active' });
    },
  );

  // No /api/tenants/{id}/start: the deployed API does not mount it (CONTRACT.md: any other POST is 405),
  // so the web app's signup falls through to its logged failure exactly as on the real platform.

  const adminOnly = async (request: FastifyRequest, reply: FastifyReply) => {
    const caller = callerOf(request);
    if (caller.kind !== 'jwt' || !caller.admin) return sendError(reply, 403, 'forbidden');
  };

  app.post<IdParams>(
    '/api/admin/tenants/:id/suspend',
    { ...containersRoute('api.admin_suspend'), preHandler: adminOnly },
    async (request, reply) => {
      if (await injected(request, reply, 'failed to suspend tenant')) return reply;
      const tenant = ctx.state.getTenant(request.params.id.trim());
      if (!tenant) return sendError(reply, 404, 'tenant not found');
      ctx.containers.stop(tenant);
      tenant.status = 'paused';
      return sendJson(reply, 200, { tenant_id: tenant.id, status: 'suspended' });
    },
  );

  app.post<IdParams>(
    '/api/admin/tenants/:id/resume',
    { ...containersRoute('api.admin_resume'), preHandler: adminOnly },
    async (request, reply) => {
      ctx.stats.containers.resumeCalls += 1;
      if (await injected(request, reply, 'failed to resume tenant')) return reply;
      const tenant = ctx.state.getTenant(request.params.id.trim());
      if (!tenant) return sendError(reply, 404, 'tenant not found');
      if (roll(ctx.faults.live.containers?.resumeFailRate)) {
        ctx.stats.containers.resumeFailures += 1;
        return sendError(reply, 500, 'failed to resume tenant');
      }
      const restartMode = tenant.container.state === 'none' ? 'create' : 'start';
      ctx.containers.create(tenant);
      if (tenant.container.state === 'stopped') {
        await sleep(ctx.latency.sampleMs('containerResumeCall'));
        ctx.containers.start(tenant);
      }
      tenant.status = 'active';
      return sendJson(reply, 200, { tenant_id: tenant.id, status: 'active', restart_mode: restartMode });
    },
  );

  app.get<IdParams>(
    '/api/admin/tenants/:id',
    { ...containersRoute('api.admin_tenant'), preHandler: adminOnly },
    async (request, reply) => {
      if (await injected(request, reply, 'failed to load tenant')) return reply;
      const tenant = ctx.state.getTenant(request.params.id.trim());
      if (!tenant) return sendError(reply, 404, 'tenant not found');
      return sendJson(reply, 200, adminTenantBody(tenant));
    },
  );
}
