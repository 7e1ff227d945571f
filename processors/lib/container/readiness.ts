import type { ContainerSnapshot } from './schemas';

/**
 * Labels for the time a cold start spends in each container state, kept to a fixed set so that a
 * platform answering odd states cannot multiply metric names.
 *   stopped            not running yet (the start was requested but has not taken effect)
 *   starting           created or started, the process not running yet
 *   health_starting    running, the first health check has not passed yet (docker: "starting")
 *   running_unchecked  running, but the container reports no health (image without a health check)
 *   unhealthy          running, health check failing
 *   not_provisioned    the tenant has no container
 *   unknown            the API could not inspect the container
 *   other              anything else
 */
export const STATE_LABELS = [
  'stopped',
  'starting',
  'health_starting',
  'running_unchecked',
  'unhealthy',
  'not_provisioned',
  'unknown',
  'other',
] as const;
export type StateLabel = (typeof STATE_LABELS)[number];

export type Reading = { ready: true } | { ready: false; label: StateLabel };

/** Ready means what a user needs: the container is running AND its health check passes. */
export function readContainer(snapshot: ContainerSnapshot): Reading {
  const state = snapshot.state.toLowerCase();
  const health = (snapshot.health ?? '').toLowerCase();
  const running = snapshot.running ?? state === 'running';
  if (running) {
    if (health === 'healthy') return { ready: true };
    if (health === 'unhealthy') return { ready: false, label: 'unhealthy' };
    if (health === 'starting') return { ready: false, label: 'health_starting' };
    return { ready: false, label: 'running_unchecked' };
  }
  switch (state) {
    case 'stopped':
    case 'exited':
    case 'paused':
      return { ready: false, label: 'stopped' };
    case 'starting':
    case 'created':
    case 'restarting':
      return { ready: false, label: 'starting' };
    case 'not_provisioned':
    case 'none':
      return { ready: false, label: 'not_provisioned' };
    case 'unknown':
      return { ready: false, label: 'unknown' };
    default:
      return { ready: false, label: 'other' };
  }
}

/**
 * Splits the time from the resume request to readiness over the states seen by the polls. Between
 * two polls the container is counted in the state the earlier poll saw; before the first poll, in
 * the state the first poll saw. The parts add up to the whole, each off by at most one poll period.
 */
export class StateTimeline {
  private readonly totals = new Map<StateLabel, number>();
  private last: { at: number; label: StateLabel | undefined } | undefined;

  constructor(private readonly startedAt: number) {}

  /** A poll's reading at time `at`; `undefined` label: ready (no time is owed after it). */
  observe(at: number, label: StateLabel | undefined): void {
    if (this.last === undefined) {
      // Ready at the first poll: the whole wait was start-up the polls did not catch.
      this.add(label ?? 'starting', at - this.startedAt);
    } else if (this.last.label !== undefined) {
      this.add(this.last.label, at - this.last.at);
    }
    this.last = { at, label };
  }

  /** The wait ended without readiness at `at`: the last state seen lasted until then. */
  close(at: number): void {
    if (this.last?.label !== undefined) this.add(this.last.label, at - this.last.at);
    this.last = undefined;
  }

  durations(): ReadonlyMap<StateLabel, number> {
    return this.totals;
  }

  private add(label: StateLabel, ms: number): void {
    this.totals.set(label, (this.totals.get(label) ?? 0) + Math.max(0, ms));
  }
}
