import type { SimContext } from '../core/context';
import type { Tenant } from '../core/state';

/**
 * The tenants.status column has three values: active, paused (credits ran out) and suspended (an
 * admin suspended it). The simulator's own state and control view know only active/paused, so a
 * suspend is kept here: the tenant is paused in the state and marked suspended for the wire.
 */
const suspended = new WeakSet<Tenant>();

export type WireTenantStatus = 'active' | 'paused' | 'suspended';

export function wireStatus(tenant: Tenant): WireTenantStatus {
  if (tenant.status === 'active') return 'active';
  return suspended.has(tenant) ? 'suspended' : 'paused';
}

/** UPDATE tenants SET status = 'suspended' (the admin suspend route). */
export function suspendTenant(tenant: Tenant): void {
  tenant.status = 'paused';
  suspended.add(tenant);
}

/** UPDATE tenants SET status = 'active' (tenant resume and admin resume). */
export function activateTenant(tenant: Tenant): void {
  tenant.status = 'active';
  suspended.delete(tenant);
}

/**
 * The proxy's post-billing check (llmproxy PauseTenant): a balance <= 0 sets status 'paused' and
 * stops the tenant's container.
 */
export function pauseIfDrained(ctx: SimContext, tenant: Tenant): void {
  if (tenant.creditsCents > 0) return;
  tenant.status = 'paused';
  suspended.delete(tenant);
  ctx.containers.stop(tenant);
}
