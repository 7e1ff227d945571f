import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HookDone, HttpResponse, VUContext, VUEvents } from 'artillery';
import { parseDurationMs } from '../config/duration';
import { type ContainerPlan, resolveContainerPlan } from '../config/settings/container';
import { AdminTokenSource } from './lib/container/admin-token';
import { causeOfTransportError } from './lib/container/classify';
import { type Answer, ContainerCycle, type CycleTimings, type Route } from './lib/container/cycle';
import { CONTAINER_EMITTED_METRICS, CONTAINER_METRICS as M } from './lib/container/metric-names';
import { TenantLeases } from './lib/container/tenant-lease';
import { count } from './lib/metrics';

/**
 * Hooks of scenarios/container-provisioning.yml. The flow (suspend, resume, readiness polls,
 * restore) is the YAML's; these hooks lease tenants, time the calls, judge each answer and count
 * every cycle's outcome by cause (processors/lib/container/cycle.ts).
 */

export const EMITTED_METRICS: readonly string[] = CONTAINER_EMITTED_METRICS;

/** Request names of the flow, by the route each one judges. */
const STEP_ROUTES: Readonly<Record<string, Route | 'restore'>> = {
  container_suspend: 'suspend',
  container_resume: 'resume',
  container_status: 'poll',
  container_restore: 'restore',
};
const ADMIN_STEPS = new Set(['container_suspend', 'container_status', 'container_restore']);

interface WorkerRun {
  plan: ContainerPlan;
  timings: CycleTimings;
  requestTimeoutMs: number | undefined;
  adminTokens: AdminTokenSource | undefined;
  leases: TenantLeases;
  deadline: number;
  usersStarted: number;
  usersActive: number;
}

interface UserState {
  index: number;
  cycles: number;
  cycle: ContainerCycle | undefined;
  leased: string | undefined;
  /** Send time of the request in flight (one at a time per user). */
  sentAt: number;
  over: boolean;
}

const warned = new Set<string>();
function warnOnce(key: string, message: string): void {
  if (warned.has(key)) return;
  warned.add(key);
  console.warn(`WARNING: ${message}`);
}

let run: WorkerRun | 'invalid' | undefined;
/** Keyed by the user's `context.vars`, which `ifTrue` steps receive instead of the context. */
const users = new WeakMap<object, UserState>();

function durationVar(context: VUContext, name: string, override: number | undefined): number | undefined {
  if (override !== undefined) return override;
  const value: unknown = context.vars[name];
  if (typeof value === 'number') return value * 1000;
  return typeof value === 'string' ? parseDurationMs(value) : undefined;
}

/**
 * Resolved once per worker, when its first user starts: the deadline (that start + loopDuration)
 * is shared by every user of the worker, so that all stop together.
 */
function workerRun(context: VUContext): WorkerRun | 'invalid' {
  if (run !== undefined) return run;
  const resolved = resolveContainerPlan(process.env);
  if (!resolved.ok) {
    console.error(`container scenario: invalid settings, no load sent:\n  ${resolved.problems.join('\n  ')}`);
    run = 'invalid';
    return run;
  }
  const { plan } = resolved;
  const { overrides } = plan;
  const durationMs = durationVar(context, 'loopDuration', overrides.durationMs);
  const pollIntervalMs = durationVar(context, 'pollInterval', overrides.pollIntervalMs);
  const readyTimeoutMs = durationVar(context, 'readyTimeout', overrides.readyTimeoutMs);
  const thinkTimeMs = durationVar(context, 'thinkTime', overrides.thinkTimeMs);
  const missing = Object.entries({
    loopDuration: durationMs,
    pollInterval: pollIntervalMs,
    readyTimeout: readyTimeoutMs,
    thinkTime: thinkTimeMs,
  })
    .filter(([, ms]) => ms === undefined)
    .map(([name]) => name);
  if (
    durationMs === undefined ||
    pollIntervalMs === undefined ||
    readyTimeoutMs === undefined ||
    thinkTimeMs === undefined
  ) {
    console.error(
      `container scenario: config.variables ${missing.join(', ')} missing or not a duration, no load sent`,
    );
    run = 'invalid';
    return run;
  }
  const testId = typeof context.vars.$testId === 'string' ? context.vars.$testId : undefined;
  run = {
    plan,
    timings: { pollIntervalMs, readyTimeoutMs, thinkTimeMs },
    requestTimeoutMs: overrides.requestTimeoutMs,
    adminTokens: plan.admin ? new AdminTokenSource(plan.admin) : undefined,
    leases: TenantLeases.forRun(testId, plan.tenantIds),
    deadline: performance.now() + durationMs,
    usersStarted: 0,
    usersActive: 0,
  };
  return run;
}

/** The variables the flow's steps read: which step is due, the tenant, the waits. */
function publish(context: VUContext, user: UserState | undefined, waitMs = 0): void {
  const cycle = user?.cycle;
  const due = cycle && !user.over ? cycle.due : undefined;
  context.vars.suspendDue = due?.suspendDue ?? false;
  context.vars.resumeDue = due?.resumeDue ?? false;
  context.vars.pollDue = due?.pollDue ?? false;
  context.vars.restoreDue = due?.restoreDue ?? false;
  context.vars.tenantId = cycle?.tenantId ?? '';
  context.vars.pollWait = `${Math.round(waitMs)}ms`;
}

/** `thinkTime`, cut short at the deadline, for the pause after a cycle. */
function publishCycleWait(context: VUContext, current: WorkerRun): void {
  const left = Math.max(0, current.deadline - performance.now());
  context.vars.cycleWait = `${Math.round(Math.min(current.timings.thinkTimeMs, left))}ms`;
}

function releaseLease(current: WorkerRun, user: UserState): void {
  if (user.leased === undefined) return;
  current.leases.release(user.leased);
  user.leased = undefined;
}

/** The user is done (deadline, or a transport failure that Artillery ends it for). */
function userOver(current: WorkerRun, user: UserState): void {
  if (user.over) return;
  user.over = true;
  releaseLease(current, user);
  current.usersActive--;
  if (current.usersActive === 0) current.leases.cleanup();
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
    await sleep(Math.min(current.timings.pollIntervalMs, 50, left));
  }
}

/** Starts the user's next cycle; false when the deadline has come (or passed while waiting for a tenant). */
async function beginCycle(current: WorkerRun, user: UserState, events: VUEvents): Promise<boolean> {
  user.cycle = undefined;
  if (performance.now() >= current.deadline) return false;
  const { plan } = current;
  let tenantId: string | undefined;
  if (plan.mode === 'cold') {
    tenantId = await leaseTenant(current, events);
    if (tenantId === undefined) return false;
    user.leased = tenantId;
  } else {
    // Resuming a running container changes nothing, so users may share tenants; spread them anyway.
    tenantId = plan.tenantIds[(user.index + user.cycles) % plan.tenantIds.length]!;
  }
  user.cycles++;
  user.cycle = new ContainerCycle(
    { timings: current.timings, events, warnOnce, resumeCallOnly: plan.resumeCallOnly },
    plan.mode,
    tenantId,
  );
  return true;
}

function guarded(events: VUEvents, what: string, error: unknown): void {
  count(events, M.processorErrors);
  warnOnce(`processor-error-${what}`, `container: unexpected error in ${what}: ${(error as Error).message}`);
}

// --- scenario hooks -------------------------------------------------------------------------

/** beforeScenario: the user's variables and its first cycle. */
export function containerUserStart(context: VUContext, events: VUEvents, done: HookDone): void {
  // The ensure checks divide success by attempts: both must exist even if no cycle ever succeeds.
  count(events, M.attempts, 0);
  count(events, M.success, 0);
  count(events, 'container.failures', 0);
  context.__containerEvents = events;
  publish(context, undefined);
  context.vars.cycleWait = '0ms';
  context.vars.adminToken = '';
  const current = workerRun(context);
  if (current === 'invalid') {
    count(events, M.settingsInvalid);
    done();
    return;
  }
  const { plan } = current;
  const user: UserState = {
    index: current.usersStarted++,
    cycles: 0,
    cycle: undefined,
    leased: undefined,
    sentAt: 0,
    over: false,
  };
  users.set(context.vars, user);
  current.usersActive++;
  // Set only without a service key: the resume step then carries the admin token instead.
  context.vars.resumeBearer = undefined;
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
  beginCycle(current, user, events)
    .then((started) => {
      if (!started) userOver(current, user);
      publish(context, user);
      done();
    })
    .catch((error: unknown) => {
      guarded(events, 'containerUserStart', error);
      userOver(current, user);
      publish(context, user);
      done();
    });
}

/** whileTrue of the cycle loop: ends the cycle, then begins the next one before the deadline. */
export function containerNextCycle(context: VUContext, next: (keepGoing: boolean) => void): void {
  const user = users.get(context.vars);
  if (run === undefined || run === 'invalid' || !user || user.over) {
    next(false);
    return;
  }
  const current = run;
  releaseLease(current, user);
  const events = eventsOf(context);
  beginCycle(current, user, events)
    .then((started) => {
      if (!started) userOver(current, user);
      publish(context, user);
      next(started);
    })
    .catch((error: unknown) => {
      guarded(events, 'containerNextCycle', error);
      userOver(current, user);
      publish(context, user);
      next(false);
    });
}

/** whileTrue of the readiness loop: another poll while one is due and the deadline has not passed. */
export function containerStillStarting(context: VUContext, next: (keepGoing: boolean) => void): void {
  const user = users.get(context.vars);
  const cycle = user?.cycle;
  const again = cycle !== undefined && !user!.over && cycle.pollAgain(performance.now());
  if (!again && run !== undefined && run !== 'invalid') publishCycleWait(context, run);
  publish(context, user);
  next(again);
}

/** beforeRequest (every step): the send time, a fresh admin token, CONTAINER_REQUEST_TIMEOUT. */
export function containerBeforeRequest(
  requestParams: Record<string, unknown>,
  context: VUContext,
  events: VUEvents,
  done: HookDone,
): void {
  const current = run;
  if (current === undefined || current === 'invalid') {
    done();
    return;
  }
  if (current.requestTimeoutMs !== undefined) requestParams.timeout = current.requestTimeoutMs / 1000;
  const name = typeof requestParams.name === 'string' ? requestParams.name : '';
  const stamp = () => {
    const user = users.get(context.vars);
    if (user) user.sentAt = performance.now();
    done();
  };
  const tokens = current.adminTokens;
  const needsAdmin = ADMIN_STEPS.has(name) || (name === 'container_resume' && !current.plan.serviceApiKey);
  if (!tokens || !needsAdmin) {
    stamp();
    return;
  }
  // Renewed tokens (a locally signed one lives 5 minutes) are picked up by the step's headers.
  tokens
    .token()
    .then((token) => {
      context.vars.adminToken = token;
      if (!current.plan.serviceApiKey) context.vars.resumeBearer = `Bearer ${token}`;
      stamp();
    })
    .catch((error: unknown) => {
      guarded(events, 'containerBeforeRequest', error);
      stamp();
    });
}

function answerOf(response: HttpResponse, user: UserState): Answer {
  return {
    status: response.statusCode ?? 0,
    body: typeof response.body === 'string' ? response.body : '',
    sentAt: user.sentAt,
    receivedAt: performance.now(),
  };
}

/** Runs `judge` on the answer of the user's cycle; never lets an exception end the user. */
function afterAnswer(
  what: string,
  context: VUContext,
  events: VUEvents,
  done: HookDone,
  judge: (cycle: ContainerCycle, user: UserState, current: WorkerRun) => number | undefined,
): void {
  const user = users.get(context.vars);
  const current = run;
  let waitMs = 0;
  try {
    if (user?.cycle && current !== undefined && current !== 'invalid') {
      waitMs = judge(user.cycle, user, current) ?? 0;
      if (user.cycle.isOver) publishCycleWait(context, current);
    }
  } catch (error) {
    guarded(events, what, error);
  }
  publish(context, user, waitMs);
  done();
}

/**
 * An afterResponse hook that hands the step's answer to the user's cycle; the judge returns the
 * wait before the next step, or undefined for none.
 */
function answerHook(
  what: string,
  judge: (cycle: ContainerCycle, answer: Answer, response: HttpResponse) => number | undefined,
) {
  return (
    _req: Record<string, unknown>,
    response: HttpResponse,
    context: VUContext,
    events: VUEvents,
    done: HookDone,
  ): void =>
    afterAnswer(what, context, events, done, (cycle, user) =>
      judge(cycle, answerOf(response, user), response),
    );
}

export const containerSuspended = answerHook('containerSuspended', (cycle, answer) => {
  cycle.onSuspend(answer);
  return undefined;
});

export const containerResumed = answerHook('containerResumed', (cycle, answer) => {
  cycle.onResume(answer);
  return undefined;
});

export const containerPolled = answerHook('containerPolled', (cycle, answer) => cycle.onPoll(answer));

export const containerRestored = answerHook('containerRestored', (cycle, _answer, response) => {
  cycle.onRestore(response.statusCode ?? 0);
  return undefined;
});

/** onError: a timeout or dropped connection. Artillery ends the user after this hook. */
export function containerTransportError(
  error: Error & { code?: string },
  requestParams: Record<string, unknown>,
  context: VUContext,
  events: VUEvents,
  done: HookDone,
): void {
  try {
    const user = users.get(context.vars);
    const current = run;
    if (user && current !== undefined && current !== 'invalid') {
      const name = typeof requestParams.name === 'string' ? requestParams.name : '';
      const route = STEP_ROUTES[name];
      if (user.cycle && route)
        user.cycle.onTransportError(route, causeOfTransportError(error.code), performance.now());
      userOver(current, user);
    }
  } catch (caught) {
    guarded(events, 'containerTransportError', caught);
  }
  done();
}

/** afterScenario: the user reached the deadline. */
export function containerUserEnd(context: VUContext, _events: VUEvents, done: HookDone): void {
  const user = users.get(context.vars);
  if (user && run !== undefined && run !== 'invalid') userOver(run, user);
  done();
}

/**
 * whileTrue functions get no event emitter; the one the user's hooks last saw is kept for them.
 */
function eventsOf(context: VUContext): VUEvents {
  const events: unknown = context.__containerEvents;
  if (events && typeof (events as VUEvents).emit === 'function') return events as VUEvents;
  return { emit: () => undefined };
}
