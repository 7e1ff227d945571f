import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { VUEvents } from 'artillery';
import type { ContainerPlan } from '../../../config/settings/container';
import { count, countFailure, type FailureCause, observe } from '../metrics';
import type { AdminTokenSource } from './admin-token';
import { causeOfStatus, isPermanentPollFailure } from './classify';
import { type CallOutcome, call, parseJson } from './http-call';
import { CONTAINER_AREA, CONTAINER_METRICS as M } from './metric-names';
import { readContainer, StateTimeline } from './readiness';
import { adminTenantAnswer, type ContainerSnapshot, resumeAnswer, suspendAnswer } from './schemas';

export interface CycleDeps {
  plan: ContainerPlan;
  /** Present whenever admin credentials were given (always in cold mode). */
  adminTokens: AdminTokenSource | undefined;
  events: VUEvents;
  /** Prints a message once per worker (e.g. a platform that reports no container health). */
  warnOnce: (key: string, message: string) => void;
}

type Result<T> = { ok: true; value: T } | { ok: false; cause: FailureCause };

const tenantPath = (id: string) => encodeURIComponent(id);

async function adminHeaders(deps: CycleDeps): Promise<Record<string, string>> {
  return { authorization: `Bearer ${await deps.adminTokens!.token()}` };
}

/** The contract's resume route takes the service key; an admin JWT is a valid Bearer there too. */
async function resumeHeaders(deps: CycleDeps): Promise<Record<string, string>> {
  if (deps.plan.serviceApiKey) return { 'x-service-api-key': deps.plan.serviceApiKey };
  return adminHeaders(deps);
}

function failureOf(outcome: CallOutcome, route: 'suspend' | 'resume' | 'poll'): FailureCause | undefined {
  if (outcome.kind === 'failed') return outcome.cause;
  if (outcome.status !== 200) return causeOfStatus(outcome.status, route);
  return undefined;
}

/** Parses a 200 body; a body that does not match is counted as malformed for that route. */
function parseAnswer<T>(
  deps: CycleDeps,
  route: 'suspend' | 'resume' | 'poll',
  body: string,
  schema: { safeParse(value: unknown): { success: true; data: T } | { success: false } },
): Result<T> {
  const json = parseJson(body);
  const parsed = json.ok ? schema.safeParse(json.value) : undefined;
  if (parsed?.success) return { ok: true, value: parsed.data };
  count(deps.events, M.malformed(route));
  return { ok: false, cause: 'malformed_body' };
}

async function suspend(deps: CycleDeps, tenantId: string): Promise<Result<true>> {
  const outcome = await call({
    method: 'POST',
    url: `${deps.plan.apiBaseUrl}/api/admin/tenants/${tenantPath(tenantId)}/suspend`,
    headers: await adminHeaders(deps),
    timeoutMs: deps.plan.requestTimeoutMs,
  });
  const failure = failureOf(outcome, 'suspend');
  if (failure) return { ok: false, cause: failure };
  observe(deps.events, M.cold.suspendCallMs, outcome.receivedAt - outcome.sentAt);
  const parsed = parseAnswer(deps, 'suspend', (outcome as { body: string }).body, suspendAnswer);
  return parsed.ok ? { ok: true, value: true } : parsed;
}

/** Resolves with the time the resume request was sent (the start of the startup measurement). */
async function resume(deps: CycleDeps, tenantId: string, mode: 'cold' | 'warm'): Promise<Result<number>> {
  const outcome = await call({
    method: 'POST',
    url: `${deps.plan.apiBaseUrl}/api/tenants/${tenantPath(tenantId)}/resume`,
    headers: await resumeHeaders(deps),
    timeoutMs: deps.plan.requestTimeoutMs,
  });
  const failure = failureOf(outcome, 'resume');
  if (failure) return { ok: false, cause: failure };
  const parsed = parseAnswer(deps, 'resume', (outcome as { body: string }).body, resumeAnswer);
  if (!parsed.ok) return parsed;
  // Only answered-200 calls: a fast 402 or 500 would make the call look quicker than it is.
  const elapsed = outcome.receivedAt - outcome.sentAt;
  observe(deps.events, M.resumeCallMs, elapsed);
  observe(deps.events, mode === 'cold' ? M.cold.resumeCallMs : M.warm.resumeCallMs, elapsed);
  return { ok: true, value: outcome.sentAt };
}

/** Puts a container a failed cycle left suspended back up, so that other scenarios find it running. */
async function restore(deps: CycleDeps, tenantId: string): Promise<void> {
  const outcome = await call({
    method: 'POST',
    url: `${deps.plan.apiBaseUrl}/api/admin/tenants/${tenantPath(tenantId)}/resume`,
    headers: await adminHeaders(deps),
    timeoutMs: deps.plan.requestTimeoutMs,
  });
  count(deps.events, failureOf(outcome, 'resume') ? M.cold.restoreFailed : M.cold.restored);
}

async function poll(
  deps: CycleDeps,
  tenantId: string,
  timeoutMs: number,
): Promise<Result<ContainerSnapshot>> {
  const outcome = await call({
    method: 'GET',
    url: `${deps.plan.apiBaseUrl}/api/admin/tenants/${tenantPath(tenantId)}`,
    headers: await adminHeaders(deps),
    timeoutMs,
  });
  count(deps.events, M.cold.polls);
  const failure = failureOf(outcome, 'poll');
  if (failure) return { ok: false, cause: failure };
  const parsed = parseAnswer(deps, 'poll', (outcome as { body: string }).body, adminTenantAnswer);
  return parsed.ok ? { ok: true, value: parsed.value.tenant.container } : parsed;
}

/**
 * Polls the admin tenant route at a fixed period from the resume until the container is running
 * and healthy. Resolves with the time the ready answer arrived: what a client can know, so the
 * figure is late by at most one poll period plus one request.
 */
async function waitUntilReady(
  deps: CycleDeps,
  tenantId: string,
  resumeSentAt: number,
): Promise<Result<number>> {
  const { pollIntervalMs, readyTimeoutMs, requestTimeoutMs } = deps.plan;
  const deadline = resumeSentAt + readyTimeoutMs;
  const timeline = new StateTimeline(resumeSentAt);
  let nextPollAt = performance.now();
  let lastProblem: FailureCause | undefined;
  let everRead = false;
  let unchecked = false;
  try {
    for (;;) {
      const wait = nextPollAt - performance.now();
      if (wait > 0) await sleep(wait);
      const remaining = deadline - performance.now();
      if (remaining <= 0) break;
      const sentAt = performance.now();
      nextPollAt = sentAt + pollIntervalMs;
      const answer = await poll(deps, tenantId, Math.max(1, Math.min(requestTimeoutMs, remaining)));
      const receivedAt = performance.now();
      if (!answer.ok) {
        if (isPermanentPollFailure(answer.cause)) return answer;
        count(deps.events, M.cold.pollErrors);
        lastProblem = answer.cause;
        continue;
      }
      everRead = true;
      lastProblem = undefined;
      const reading = readContainer(answer.value);
      if (reading.ready) {
        timeline.observe(receivedAt, undefined);
        return { ok: true, value: receivedAt };
      }
      timeline.observe(receivedAt, reading.label);
      if (reading.label === 'unhealthy') return { ok: false, cause: 'unhealthy' };
      unchecked = reading.label === 'running_unchecked';
    }
    timeline.close(performance.now());
  } finally {
    for (const [label, ms] of timeline.durations()) observe(deps.events, M.stateMs(label), ms);
  }
  if (unchecked) {
    count(deps.events, M.cold.noHealthCheck);
    deps.warnOnce(
      'no-health-check',
      'container: containers run but report no health status, so readiness cannot be observed; ' +
        'cycles end as readiness_timeout (container.cold.no_health_check counts them)',
    );
  }
  return { ok: false, cause: everRead ? 'readiness_timeout' : (lastProblem ?? 'readiness_timeout') };
}

function fail(deps: CycleDeps, cause: FailureCause): void {
  countFailure(deps.events, CONTAINER_AREA, cause);
}

/** Suspend -> resume -> poll until running and healthy; startup = resume sent -> ready seen. */
export async function coldCycle(deps: CycleDeps, tenantId: string): Promise<void> {
  count(deps.events, M.attempts);
  count(deps.events, M.cold.attempts);
  const suspended = await suspend(deps, tenantId);
  if (!suspended.ok) {
    count(deps.events, M.cold.suspendFailures);
    fail(deps, suspended.cause);
    return;
  }
  const resumed = await resume(deps, tenantId, 'cold');
  if (!resumed.ok) {
    fail(deps, resumed.cause);
    await restore(deps, tenantId);
    return;
  }
  const ready = await waitUntilReady(deps, tenantId, resumed.value);
  if (!ready.ok) {
    fail(deps, ready.cause);
    return;
  }
  observe(deps.events, M.startupMs, ready.value - resumed.value);
  count(deps.events, M.success);
  count(deps.events, M.cold.success);
}

/** Resume on a running container: a no-op for the platform, so only the call itself is timed. */
export async function warmCycle(deps: CycleDeps, tenantId: string): Promise<void> {
  count(deps.events, M.attempts);
  count(deps.events, M.warm.attempts);
  if (deps.plan.resumeCallOnly) count(deps.events, M.resumeCallOnly);
  const resumed = await resume(deps, tenantId, 'warm');
  if (!resumed.ok) {
    fail(deps, resumed.cause);
    return;
  }
  count(deps.events, M.success);
  count(deps.events, M.warm.success);
}
