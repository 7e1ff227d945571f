import type { FaultController } from './faults';
import { roll } from './faults';
import type { LatencyController } from './latency';
import type { Tenant } from './state';
import type { StatsRecorder } from './stats';

/**
 * Container lifecycle: none -> (create) stopped -> (start) starting -> (cold start) running with
 * health "starting" -> first health check -> healthy/unhealthy. A suspend stops it at any point.
 */
export class ContainerManager {
  constructor(
    private readonly latency: LatencyController,
    private readonly faults: FaultController,
    private readonly stats: StatsRecorder,
    /** Interval of the container health check (30 s on the real platform), before time scaling. */
    private readonly healthCheckIntervalMs: number,
  ) {}

  create(tenant: Tenant): void {
    if (tenant.container.state !== 'none') return;
    tenant.container = {
      ...tenant.container,
      state: 'stopped',
      health: 'none',
      generation: tenant.container.generation + 1,
    };
  }

  /** Starts a stopped container; no-op when it is starting or running. Returns whether it started. */
  start(tenant: Tenant): boolean {
    const container = tenant.container;
    if (container.state === 'starting' || container.state === 'running' || container.state === 'none')
      return false;
    const generation = container.generation + 1;
    const multiplier = this.faults.live.containers?.coldStartMultiplier ?? 1;
    const coldStartMs = this.latency.sampleMs('containerColdStart') * Math.max(0, multiplier);
    const healthDelayMs = this.latency.scale(this.healthCheckIntervalMs);
    const startedAt = Date.now();
    tenant.container = {
      state: 'starting',
      health: 'starting',
      startedAt: new Date(startedAt),
      readyAt: new Date(startedAt + coldStartMs + healthDelayMs),
      generation,
    };
    setTimeout(() => {
      if (tenant.container.generation !== generation) return;
      tenant.container.state = 'running';
      this.stats.recordColdStart(Date.now() - startedAt);
      setTimeout(() => {
        if (tenant.container.generation !== generation) return;
        const unhealthy = roll(this.faults.live.containers?.unhealthyRate);
        tenant.container.health = unhealthy ? 'unhealthy' : 'healthy';
      }, healthDelayMs).unref();
    }, coldStartMs).unref();
    return true;
  }

  stop(tenant: Tenant): void {
    const container = tenant.container;
    if (container.state === 'none') return;
    tenant.container = {
      state: 'stopped',
      health: 'none',
      startedAt: null,
      readyAt: null,
      generation: container.generation + 1,
    };
  }

  /** A seeded tenant: container running and healthy at once, as after an admin resume has settled. */
  markReady(tenant: Tenant): void {
    const now = new Date();
    tenant.container = {
      state: 'running',
      health: 'healthy',
      startedAt: now,
      readyAt: now,
      generation: tenant.container.generation + 1,
    };
  }
}
