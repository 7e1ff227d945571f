import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { VUContext, VUEvents } from 'artillery';
import { type ContainerPlan, resolveContainerPlan } from '../config/settings/container';
import { remoteTargetProblems } from '../scripts/lib/remote-guard';
import { AdminTokenSource } from './lib/container/admin-token';
import { type CycleDeps, coldCycle, warmCycle } from './lib/container/cycle';
import { CONTAINER_EMITTED_METRICS, CONTAINER_METRICS as M } from './lib/container/metric-names';
import { TenantLeases } from './lib/container/tenant-lease';
import { GENERATOR_EMITTED_METRICS, reportGeneratorHealth } from './lib/generator-health';
import { count, observe } from './lib/metrics';

/**
 * Container provisioning (scenarios/container-provisioning.yml). Each virtual user loops cycles
 * until the run's deadline: cold (suspend, resume, wait for running + healthy) or warm (resume a
 * running container, the call only). See processors/lib/container/ for the parts.
 */

export const EMITTED_METRICS: readonly string[] = [
  ...CONTAINER_EMITTED_METRICS,
  ...GENERATOR_EMITTED_METRICS,
];

interface WorkerRun {
  plan: ContainerPlan;
  adminTokens: AdminTokenSource | undefined;
  leases: TenantLeases;
  deadline: number;
  usersStarted: number;
  usersActive: number;
}

const warned = new Set<string>();
function warnOnce(key: string, message: string): void {
  if (warned.has(key)) return;
  warned.add(key);
  console.warn(`WARNING: ${message}`);
}

let run: WorkerRun | 'invalid' | undefined;

/** The plan is resolved once per worker, when its first user starts (so the deadline is shared). */
function workerRun(context: VUContext): WorkerRun | 'invalid' {
  if (run !== undefined) return run;
  const environment = typeof context.vars.$environment === 'string' ? context.vars.$environment : undefined;
  const resolved = resolveContainerPlan(process.env, environment);
  const problems = resolved.ok
    ? remoteTargetProblems({
        urls: { API_BASE_URL: resolved.plan.apiBaseUrl },
        allowRemote: resolved.plan.remote.allowRemote,
        allowedHosts: resolved.plan.remote.allowedHosts,
      })
    : resolved.problems;
  if (!resolved.ok || problems.length > 0) {
    console.error(`container scenario: invalid settings, no load sent:\n  ${problems.join('\n  ')}`);
    run = 'invalid';
    return run;
  }
  const { plan } = resolved;
  const testId = typeof context.vars.$testId === 'string' ? context.vars.$testId : undefined;
  run = {
    plan,
    adminTokens: plan.admin ? new AdminTokenSource(plan.admin) : undefined,
    leases: TenantLeases.forRun(testId, plan.tenantIds),
    deadline: performance.now() + plan.durationMs,
    usersStarted: 0,
    usersActive: 0,
  };
  return run;
}

function deps(current: WorkerRun, events: VUEvents): CycleDeps {
  return { plan: current.plan, adminTokens: current.adminTokens, events, warnOnce };
}

export async function containerUserStart(context: VUContext, events: VUEvents): Promise<void> {
  reportGeneratorHealth(events);
  // The ensure checks divide success by attempts: both must exist even if no cycle ever succeeds.
  count(events, M.attempts, 0);
  count(events, M.success, 0);
  count(events, 'container.failures', 0);
  const current = workerRun(context);
  if (current === 'invalid') {
    count(events, M.settingsInvalid);
    return;
  }
  context.vars.containerUserIndex = current.usersStarted++;
  current.usersActive++;
  const { plan } = current;
  observe(events, M.limitStartupP95Ms, plan.limits.startupP95Ms);
  observe(events, M.limitSuccessMinPct, plan.limits.successMinPct);
  if (plan.resumeCallOnly)
    warnOnce(
      'resume-call-only',
      'container: no admin credentials (ADMIN_JWT or API_JWT_SECRET), so only the resume call can be ' +
        'measured: on a running container it is a no-op and says nothing about startup. ' +
        'container.startup_ms is not measured, so its check fails; container.mode.resume_call_only counts these cycles.',
    );
  if (plan.mode === 'cold' && current.usersStarted > plan.tenantIds.length)
    warnOnce(
      'users-over-tenants',
      `container: more users than TENANT_IDS (${plan.tenantIds.length}); a tenant is cycled by one user at ` +
        'a time, so at most that many cold starts run at once (container.lease_waits counts the waits)',
    );
}

/** Acquires a tenant no other user is cycling; waits (until the deadline) while all are busy. */
async function leaseTenant(current: WorkerRun, events: VUEvents): Promise<string | undefined> {
  let waited = false;
  for (;;) {
    const id = current.leases.tryAcquire();
    if (id !== undefined) return id;
    if (!waited) count(events, M.leaseWaits);
    waited = true;
    const left = current.deadline - performance.now();
    if (left <= 0) return undefined;
    await sleep(Math.min(current.plan.pollIntervalMs, 50, left));
  }
}

export async function containerCycle(context: VUContext, events: VUEvents): Promise<void> {
  reportGeneratorHealth(events);
  const current = workerRun(context);
  if (current === 'invalid' || performance.now() >= current.deadline) return;
  try {
    if (current.plan.mode === 'cold') {
      const tenantId = await leaseTenant(current, events);
      if (tenantId === undefined) return;
      try {
        await coldCycle(deps(current, events), tenantId);
      } finally {
        current.leases.release(tenantId);
      }
    } else {
      // Resuming a running container changes nothing, so users may share tenants; spread them anyway.
      const index = Number(context.vars.containerUserIndex ?? 0);
      const cycle = Number(context.vars.containerCycleIndex ?? 0);
      context.vars.containerCycleIndex = cycle + 1;
      const tenantId = current.plan.tenantIds[(index + cycle) % current.plan.tenantIds.length]!;
      await warmCycle(deps(current, events), tenantId);
    }
  } catch (error) {
    count(events, M.processorErrors);
    warnOnce('processor-error', `container: unexpected error in a cycle: ${(error as Error).message}`);
  }
  const left = current.deadline - performance.now();
  if (left > 0 && current.plan.thinkTimeMs > 0) await sleep(Math.min(current.plan.thinkTimeMs, left));
}

/** `whileTrue` of the scenario's loop (evaluated after each iteration). */
export function containerKeepCycling(context: VUContext, next: (keepGoing: boolean) => void): void {
  const current = workerRun(context);
  next(current !== 'invalid' && performance.now() < current.deadline);
}

export async function containerUserEnd(context: VUContext): Promise<void> {
  const current = workerRun(context);
  if (current === 'invalid') return;
  current.usersActive--;
  if (current.usersActive === 0) current.leases.cleanup();
}
