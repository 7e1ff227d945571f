import type { SeedTenantsRequest } from '../control-types';
import type { SimContext } from '../core/context';

export type SeedOptions = Pick<SeedTenantsRequest, 'container' | 'creditsCents'>;

/** Tenants ready for load: credits as new, container running and healthy (as after an admin resume). */
export function seedTenants(
  ctx: SimContext,
  count: number,
  tag?: string,
  options: SeedOptions = {},
): string[] {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const tenant = ctx.state.createTenant(tag ? { tag } : {});
    const container = options.container ?? 'running';
    if (container !== 'none') ctx.containers.create(tenant);
    if (container === 'running') ctx.containers.markReady(tenant);
    if (options.creditsCents !== undefined) {
      tenant.creditsCents = options.creditsCents;
      if (tenant.creditsCents <= 0) tenant.status = 'paused';
    }
    ids.push(tenant.id);
  }
  return ids;
}
