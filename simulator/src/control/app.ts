import { timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { z } from 'zod';
import type { Faults, LatencySettings } from '../control-types';
import type { SimContext } from '../core/context';
import { tenantView } from '../core/state';
import { creditsSchema, faultsSchema, latencyPatchSchema, seedSchema } from './schemas';
import { seedTenants } from './seed';

function tokenMatches(header: string | undefined, token: string): boolean {
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header.trim()) : null;
  if (!match) return false;
  const given = Buffer.from(match[1]!);
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function invalid(reply: FastifyReply, error: z.ZodError) {
  return reply.code(400).send({ error: 'invalid body', issues: error.issues });
}

/** Drops `null`/`undefined` leaves so a PUT stores only faults that are on. */
function withoutNulls<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (_key, v) => (v === null ? undefined : v))) as T;
}

/** The simulator's own admin API (fault injection, latency, ground truth), on its own port. */
export function buildControl(ctx: SimContext): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024, forceCloseConnections: true });

  app.addHook('onRequest', async (request, reply) => {
    if (request.url === '/health') return;
    if (!tokenMatches(request.headers.authorization, ctx.secrets.adminToken))
      return reply.code(401).send({ error: 'Unauthorized' });
  });

  app.get('/health', async () => ({ status: 'ok' }));

  app.get('/faults', async () => ctx.faults.get());
  app.put('/faults', async (request, reply) => {
    const parsed = faultsSchema.safeParse(request.body ?? {});
    if (!parsed.success) return invalid(reply, parsed.error);
    return ctx.faults.set(withoutNulls(parsed.data) as Faults);
  });
  app.patch('/faults', async (request, reply) => {
    const parsed = faultsSchema.safeParse(request.body ?? {});
    if (!parsed.success) return invalid(reply, parsed.error);
    return ctx.faults.patch(parsed.data as Faults);
  });
  app.delete('/faults', async () => ctx.faults.clear());

  app.get('/latency', async () => ctx.latency.get());
  app.patch('/latency', async (request, reply) => {
    const parsed = latencyPatchSchema.safeParse(request.body ?? {});
    if (!parsed.success) return invalid(reply, parsed.error);
    return ctx.latency.patch(parsed.data as Partial<LatencySettings>);
  });

  app.get('/stats', async () => ctx.stats.snapshot(ctx.state.userCount, ctx.state.tenantCount));
  app.post('/stats/reset', async (_request, reply) => {
    ctx.stats.reset();
    return reply.code(204).send();
  });

  app.post('/tenants', async (request, reply) => {
    const parsed = seedSchema.safeParse(request.body ?? {});
    if (!parsed.success) return invalid(reply, parsed.error);
    const { count, tag, ...options } = parsed.data;
    return { tenantIds: seedTenants(ctx, count, tag, options) };
  });
  app.get('/tenants', async () => ({ tenants: ctx.state.listTenants().map(tenantView) }));
  app.get<{ Params: { id: string } }>('/tenants/:id', async (request, reply) => {
    const tenant = ctx.state.getTenant(request.params.id);
    if (!tenant) return reply.code(404).send({ error: 'tenant not found' });
    return tenantView(tenant);
  });
  app.put<{ Params: { id: string } }>('/tenants/:id/credits', async (request, reply) => {
    const tenant = ctx.state.getTenant(request.params.id);
    if (!tenant) return reply.code(404).send({ error: 'tenant not found' });
    const parsed = creditsSchema.safeParse(request.body ?? {});
    if (!parsed.success) return invalid(reply, parsed.error);
    tenant.creditsCents = parsed.data.cents;
    // A refill reactivates a tenant paused by exhaustion, as a top-up does on the platform.
    tenant.status = tenant.creditsCents > 0 ? 'active' : 'paused';
    return tenantView(tenant);
  });

  return app;
}
