import { createHash } from 'node:crypto';
import type { SimContext } from '../core/context';
import type { Tenant } from '../core/state';
import { wireStatus } from './tenant-status';
import { usageLedger } from './usage-ledger';

/**
 * What GET /api/admin/tenants[/{id}] reports about a tenant (routes/admin.go), built from the
 * simulator's state. Readiness shows only here, as the orchestrator's docker inspect gives it.
 */

/** A docker container id: 64 hex digits, stable for the tenant. */
export function containerIdOf(tenant: Tenant): string | null {
  if (tenant.container.state === 'none') return null;
  return createHash('sha256').update(`container:${tenant.id}`).digest('hex');
}

/**
 * tenants.user_id is NOT NULL on the platform (every tenant belongs to a user). Tenants seeded
 * through the control API have no user; they get a stable made-up id so the field keeps its type.
 */
function userIdOf(tenant: Tenant): string {
  if (tenant.userId) return tenant.userId;
  const hex = createHash('sha1').update(`user:${tenant.id}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * tenantContainerSnapshot: `{"state":"not_provisioned"}` without a container, else docker's view.
 * Docker has no "starting" state: ContainerStart returns with the container running, and the
 * simulator's cold start is the time the health check reports "starting". A stopped container's
 * health is "unhealthy" (docker sets it when the health monitor stops) and it keeps its last
 * StartedAt. The orchestrator never fills memory or CPU, so both are 0.
 */
export function containerSnapshot(tenant: Tenant): Record<string, unknown> {
  const container = tenant.container;
  const id = containerIdOf(tenant);
  if (id === null) return { state: 'not_provisioned' };
  const running = container.state === 'running' || container.state === 'starting';
  let health: string;
  if (!running) health = 'unhealthy';
  else if (container.state === 'starting') health = 'starting';
  else health = container.health === 'none' ? 'unknown' : container.health;
  return {
    id,
    state: running ? 'running' : 'stopped',
    running,
    health,
    started_at: container.startedAt,
    memory_mb: 0,
    cpu_pct: 0,
  };
}

function tenantColumns(tenant: Tenant) {
  return {
    user_id: userIdOf(tenant),
    email: tenant.email?.trim() || null,
    status: wireStatus(tenant),
    container_id: containerIdOf(tenant),
    container: containerSnapshot(tenant),
    credits_balance_cents: tenant.creditsCents,
    created_at: tenant.createdAt,
  };
}

/** GET /api/admin/tenants/{id}; `id` is echoed as the path gave it, as the real handler does. */
export function adminTenantDetail(ctx: SimContext, tenant: Tenant, id: string) {
  return {
    tenant: {
      id,
      ...tenantColumns(tenant),
      // No feature policies or linked channels exist in the simulator: empty lists, as for a new tenant.
      config: { policies: [], channels: [] },
      usage: usageLedger(ctx).detail(tenant.id),
    },
  };
}

/** GET /api/admin/tenants: newest first. */
export function adminTenantList(ctx: SimContext) {
  const ledger = usageLedger(ctx);
  const tenants = ctx.state
    .listTenants()
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())
    .map((tenant) => ({ id: tenant.id, ...tenantColumns(tenant), usage: ledger.summary(tenant.id) }));
  return { tenants };
}
