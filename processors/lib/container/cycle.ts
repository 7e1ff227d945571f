import type { VUEvents } from 'artillery';
import type { z } from 'zod';
import { count, countFailure, type FailureCause, observe } from '../metrics';
import { causeOfStatus, isPermanentPollFailure } from './classify';
import { CONTAINER_AREA, CONTAINER_METRICS as M } from './metric-names';
import { readContainer, StateTimeline } from './readiness';
import { adminTenantAnswer, resumeAnswer, suspendAnswer } from './schemas';

/** The figures one user cycles with: the scenario YAML's, each overridable by a setting. */
export interface CycleTimings {
  pollIntervalMs: number;
  readyTimeoutMs: number;
  thinkTimeMs: number;
}

export type Route = 'suspend' | 'resume' | 'poll';

/** One answer as the afterResponse hook saw it, timed on the monotonic clock. */
export interface Answer {
  status: number;
  body: string;
  sentAt: number;
  receivedAt: number;
}

/** Which request steps of the flow run next (the YAML's `ifTrue` variables). */
export interface StepsDue {
  suspendDue: boolean;
  resumeDue: boolean;
  pollDue: boolean;
  restoreDue: boolean;
}

export interface CycleDeps {
  timings: CycleTimings;
  events: VUEvents;
  /** Prints a message once per worker (e.g. a platform that reports no container health). */
  warnOnce: (key: string, message: string) => void;
  /** Warm because no admin credentials were given: counted apart. */
  resumeCallOnly: boolean;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * One cycle of one user, driven by the flow's hooks: cold = suspend -> resume -> poll the admin
 * tenant view until running and healthy (startup = resume sent -> ready seen); warm = the resume
 * call alone. It decides which steps are due next and counts every outcome exactly once: each
 * attempt ends as one success or one failure with its cause.
 */
export class ContainerCycle {
  readonly due: StepsDue = { suspendDue: false, resumeDue: false, pollDue: false, restoreDue: false };
  private ended = false;
  private resumeSentAt: number | undefined;
  private readyBy = 0;
  private timeline: StateTimeline | undefined;
  private everRead = false;
  private unchecked = false;
  private lastProblem: FailureCause | undefined;

  constructor(
    private readonly deps: CycleDeps,
    readonly mode: 'cold' | 'warm',
    readonly tenantId: string,
  ) {
    const { events } = deps;
    count(events, M.attempts);
    if (mode === 'cold') {
      count(events, M.cold.attempts);
      this.due.suspendDue = true;
    } else {
      count(events, M.warm.attempts);
      if (deps.resumeCallOnly) count(events, M.resumeCallOnly);
      this.due.resumeDue = true;
    }
  }

  get isOver(): boolean {
    return this.ended;
  }

  onSuspend(answer: Answer): void {
    this.due.suspendDue = false;
    const failure = this.judge(answer, 'suspend', suspendAnswer).cause;
    if (failure) {
      count(this.deps.events, M.cold.suspendFailures);
      this.fail(failure);
      return;
    }
    observe(this.deps.events, M.cold.suspendCallMs, answer.receivedAt - answer.sentAt);
    this.due.resumeDue = true;
  }

  onResume(answer: Answer): void {
    this.due.resumeDue = false;
    const failure = this.judge(answer, 'resume', resumeAnswer).cause;
    if (failure) {
      this.fail(failure);
      // The suspend left the container stopped: the flow's restore step brings it back up.
      if (this.mode === 'cold') this.due.restoreDue = true;
      return;
    }
    // Only answered-200 calls: a fast 402 or 500 would make the call look quicker than it is.
    const elapsed = answer.receivedAt - answer.sentAt;
    observe(this.deps.events, M.resumeCallMs, elapsed);
    observe(this.deps.events, this.mode === 'cold' ? M.cold.resumeCallMs : M.warm.resumeCallMs, elapsed);
    if (this.mode === 'warm') {
      this.succeed();
      return;
    }
    this.resumeSentAt = answer.sentAt;
    this.readyBy = answer.sentAt + this.deps.timings.readyTimeoutMs;
    this.timeline = new StateTimeline(answer.sentAt);
    this.due.pollDue = true;
  }

  /**
   * Judges one poll; returns how long to wait before the next one (the rest of the poll period,
   * measured from when this poll was sent, never past the readiness deadline), 0 when done.
   */
  onPoll(answer: Answer): number {
    const { events, timings } = this.deps;
    count(events, M.cold.polls);
    const judged = this.judge(answer, 'poll', adminTenantAnswer);
    const failure = judged.cause;
    if (failure !== undefined) {
      if (isPermanentPollFailure(failure)) {
        this.stopPolling(answer.receivedAt);
        this.fail(failure);
        return 0;
      }
      // A 5xx or a garbled answer may be followed by a good one: keep polling.
      count(events, M.cold.pollErrors);
      this.lastProblem = failure;
    } else if (judged.value) {
      this.everRead = true;
      this.lastProblem = undefined;
      const reading = readContainer(judged.value.tenant.container);
      if (reading.ready) {
        this.timeline?.observe(answer.receivedAt, undefined);
        this.stopPolling(undefined);
        observe(events, M.startupMs, answer.receivedAt - (this.resumeSentAt ?? answer.sentAt));
        this.succeed();
        return 0;
      }
      this.timeline?.observe(answer.receivedAt, reading.label);
      if (reading.label === 'unhealthy') {
        this.stopPolling(undefined);
        this.fail('unhealthy');
        return 0;
      }
      this.unchecked = reading.label === 'running_unchecked';
    }
    const nextAt = Math.min(answer.sentAt + timings.pollIntervalMs, this.readyBy);
    return Math.max(0, nextAt - answer.receivedAt);
  }

  /** After the wait between polls: another poll, or the readiness deadline has passed. */
  pollAgain(now: number): boolean {
    if (!this.due.pollDue) return false;
    if (now < this.readyBy) return true;
    this.stopPolling(now);
    if (this.unchecked) {
      count(this.deps.events, M.cold.noHealthCheck);
      this.deps.warnOnce(
        'no-health-check',
        'container: containers run but report no health status, so readiness cannot be observed; ' +
          'cycles end as readiness_timeout (container.cold.no_health_check counts them)',
      );
    }
    this.fail(this.everRead ? 'readiness_timeout' : (this.lastProblem ?? 'readiness_timeout'));
    return false;
  }

  onRestore(status: number): void {
    this.due.restoreDue = false;
    count(this.deps.events, status === 200 ? M.cold.restored : M.cold.restoreFailed);
  }

  /**
   * A timeout or dropped connection on `route`: Artillery ends the user after it, so the cycle
   * ends here as a failure of that cause.
   */
  onTransportError(route: Route | 'restore', cause: FailureCause, now: number): void {
    if (route === 'suspend') count(this.deps.events, M.cold.suspendFailures);
    if (route === 'restore') count(this.deps.events, M.cold.restoreFailed);
    this.stopPolling(now);
    this.due.suspendDue = this.due.resumeDue = this.due.restoreDue = false;
    this.fail(cause);
  }

  /** Parses a 200 body with `schema`; returns the failure cause of anything else. */
  private judge<T>(
    answer: Answer,
    route: Route,
    schema: z.ZodType<T>,
  ): { cause: FailureCause; value?: undefined } | { cause?: undefined; value: T } {
    if (answer.status !== 200) return { cause: causeOfStatus(answer.status, route) };
    const parsed = schema.safeParse(parseJson(answer.body));
    if (parsed.success) return { value: parsed.data };
    count(this.deps.events, M.malformed(route));
    return { cause: 'malformed_body' };
  }

  /** Ends the readiness wait; `at`: it ended without readiness then (the last state lasted until then). */
  private stopPolling(at: number | undefined): void {
    this.due.pollDue = false;
    const timeline = this.timeline;
    if (!timeline) return;
    this.timeline = undefined;
    if (at !== undefined) timeline.close(at);
    for (const [label, ms] of timeline.durations()) observe(this.deps.events, M.stateMs(label), ms);
  }

  private fail(cause: FailureCause): void {
    if (this.ended) return;
    this.ended = true;
    countFailure(this.deps.events, CONTAINER_AREA, cause);
  }

  private succeed(): void {
    if (this.ended) return;
    this.ended = true;
    count(this.deps.events, M.success);
    count(this.deps.events, this.mode === 'cold' ? M.cold.success : M.warm.success);
  }
}
