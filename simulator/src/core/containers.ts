import type { FaultController } from './faults';
import { roll } from './faults';
import type { LatencyController } from './latency';
import type { Tenant } from './state';
import type { StatsRecorder } from './stats';

/**
 * Container lifecycle: none -> (create) stopped -> (start) starting -> (cold start) running with
 * health "starting" -> first health check -> healthy/unhealthy. A suspend (or credits running out)
 * stops it at any point. "starting" is the simulator's own name for the cold start: docker reports
 * the container running from the start call on, and the API shows the cold start as health
 * "starting" (src/api/admin-view.ts).
 */
export class ContainerManager {
  private readonly stopListeners = new Set<(tenant: Tenant) => void>();

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

  /** Called whenever a container stops (what runs inside it, e.g. a terminal's shell, ends). */
  onStop(listener: (tenant: Tenant) => void): () => void {
    this.stopListeners.add(listener);
    return () => this.stopListeners.delete(listener);
  }

  /** Docker keeps a stopped container's last StartedAt, so the start time stays. */
  stop(tenant: Tenant): void {
    const container = tenant.container;
    if (container.state === 'none') return;
    const wasUp = container.state === 'running' || container.state === 'starting';
    tenant.container = {
      state: 'stopped',
      health: 'none',
      startedAt: container.startedAt,
      readyAt: null,
      generation: container.generation + 1,
    };
    if (wasUp) for (const listener of this.stopListeners) listener(tenant);
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
