import type { StateLabel } from './readiness';

/**
 * Metric names of the container area (processors/lib/metrics.ts conventions). The ensure block of
 * scenarios/container-provisioning.yml reads startupMs, attempts and success.
 */
export const CONTAINER_AREA = 'container';

export const CONTAINER_METRICS = {
  /** Cycles started, both modes (the success ratio's denominator). */
  attempts: 'container.attempts',
  /** Cycles that ended as intended: cold ready and healthy, warm resume answered 200. */
  success: 'container.success',
  /** Cold only: resume request sent -> first poll that saw the container running and healthy. */
  startupMs: 'container.startup_ms',
  /** Every resume call (request sent -> whole answer read), both modes. */
  resumeCallMs: 'container.resume_call_ms',
  cold: {
    attempts: 'container.mode.cold',
    success: 'container.cold.success',
    resumeCallMs: 'container.cold.resume_call_ms',
    suspendCallMs: 'container.cold.suspend_call_ms',
    suspendFailures: 'container.cold.suspend_failures',
    polls: 'container.cold.polls',
    /** Polls answered with a 5xx or a garbled body (polling goes on). */
    pollErrors: 'container.cold.poll_errors',
    /** Running but without any health status: readiness cannot be observed on this platform. */
    noHealthCheck: 'container.cold.no_health_check',
    restored: 'container.cold.restored',
    restoreFailed: 'container.cold.restore_failed',
  },
  warm: {
    attempts: 'container.mode.warm',
    success: 'container.warm.success',
    resumeCallMs: 'container.warm.resume_call_ms',
  },
  /** Warm because no admin credentials were given: only the resume call could be measured. */
  resumeCallOnly: 'container.mode.resume_call_only',
  /** A cycle had to wait because every tenant was in another user's cycle (more users than tenants). */
  leaseWaits: 'container.lease_waits',
  settingsInvalid: 'container.settings_invalid',
  processorErrors: 'container.processor_errors',
  stateMs: (label: StateLabel) => `container.state_ms.${label}`,
  malformed: (route: 'suspend' | 'resume' | 'poll') => `container.malformed.${route}`,
} as const;

/** Every name above (`*`: one or more characters), for `npm run validate` (docs/DESIGN.md, Metrics). */
export const CONTAINER_EMITTED_METRICS: readonly string[] = [
  flatNames(CONTAINER_METRICS),
  'container.failures',
  'container.failures.*',
  'container.state_ms.*',
  'container.malformed.*',
].flat();

function flatNames(tree: object): string[] {
  const names: string[] = [];
  for (const value of Object.values(tree)) {
    if (typeof value === 'string') names.push(value);
    else if (typeof value === 'object' && value !== null) names.push(...flatNames(value));
  }
  return names;
}
