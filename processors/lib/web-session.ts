import type { VUEvents } from 'artillery';
import { count } from './metrics';

/**
 * Metric names of the web-app session steps (signup, login), for every path that signs users up
 * or logs them in: the HTTP scenarios' hooks (web/session-hooks.ts, the steps spelled out in
 * YAML), the signup processor and the chat processor. The browser journey counts its own steps.
 *
 *   emitZeroSessionCounters(events)      // at VU start, for ensure checks
 *   WEB_SESSION_EMITTED_METRICS          // in the processor's EMITTED_METRICS
 *
 * Flow (docs/CONTRACT.md): csrf → signup (JSON, Origin) → csrf → credentials callback (form,
 * csrfToken, callbackUrl, json=true, csrf cookie) → session. A login succeeds only when the
 * callback set a session cookie AND /api/auth/session returns a user with a tenantId.
 *
 * Metrics (WEB_SESSION_METRICS): signup.latency_ms (POST /api/auth/signup) and login.latency_ms
 * (POST /api/auth/callback/credentials) are the two bcrypt-bound requests the auth targets apply
 * to; auth.csrf_latency_ms (both steps) and login.session_latency_ms time the cheap ones. Per step
 * (`signup`, `login`): <step>.attempts, <step>.success, <step>.failures[.<cause>],
 * <step>.requests and <step>.request_errors (requests whose answer failed the step).
 */

export const WEB_SESSION_METRICS = {
  signupLatency: 'signup.latency_ms',
  loginLatency: 'login.latency_ms',
  csrfLatency: 'auth.csrf_latency_ms',
  sessionLatency: 'login.session_latency_ms',
} as const;

const SESSION_STEPS = ['signup', 'login'] as const;
export type SessionStep = (typeof SESSION_STEPS)[number];

const STEP_COUNTERS = ['attempts', 'success', 'failures', 'requests', 'request_errors'] as const;
export type StepCounter = (typeof STEP_COUNTERS)[number];

/** `<step>.<counter>`: the only way counters of a step are named, so the list below cannot drift. */
export const stepCounter = (step: SessionStep, counter: StepCounter) => `${step}.${counter}`;

/**
 * Every metric the session steps can emit (`*`: one or more characters), for the EMITTED_METRICS
 * of each processor that signs users up or logs them in (docs/DESIGN.md, Metrics).
 */
export const WEB_SESSION_EMITTED_METRICS: readonly string[] = [
  ...Object.values(WEB_SESSION_METRICS),
  ...SESSION_STEPS.flatMap((step) => [
    ...STEP_COUNTERS.map((counter) => stepCounter(step, counter)),
    // countFailure(events, step, cause)
    `${step}.failures.*`,
  ]),
];

/** Makes every counter the session steps may emit exist, so ensure checks on them always evaluate. */
export function emitZeroSessionCounters(events: VUEvents): void {
  for (const step of SESSION_STEPS) {
    for (const counter of STEP_COUNTERS) count(events, stepCounter(step, counter), 0);
  }
}
