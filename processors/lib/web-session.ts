import type { VUEvents } from 'artillery';
import { count, countFailure, type FailureCause, observe } from './metrics';
import { newTestCredentials, type TestCredentials } from './web/accounts';
import {
  fetchCsrfToken,
  postCredentials,
  readSession,
  type StepFailure,
  type StepResult,
  signUp,
} from './web/auth';
import { WebClient } from './web/http-client';
import type { WebTransport } from './web/transport';

/**
 * Web-app session of a test user: signup and login exactly as a client of the real platform must
 * do them (docs/CONTRACT.md), for callers that drive requests themselves: the browser journey
 * (through its page's request API) and the benchmarks. The HTTP scenarios spell the same steps out
 * in YAML with the hooks of web/session-hooks.ts, which emit the same metrics.
 *
 * Stable API (used by signup-browser and bench/lib/target.ts; change only compatibly):
 *
 *   const outcome = await signUpAndLogIn(events, { webBaseUrl });
 *   if (!outcome.ok) { outcome.step, outcome.cause, outcome.detail }    // already counted
 *   else {
 *     const { client, tenantId, email } = outcome.session;              // client: cookie jar + Origin
 *     const chat = await sendChatMessage(outcome.session.client, { message, conversationId });
 *   }
 *   await registerAccount(events, transport, credentials)                // signup step alone
 *   await logIn(events, transport, credentials, options)                 // login step alone (any transport)
 *   emitZeroSessionCounters(events)                                      // at VU start, for ensure checks
 *   WEB_SESSION_EMITTED_METRICS                                          // in the processor's EMITTED_METRICS
 *
 * Flow: csrf → signup (JSON, Origin) → csrf → credentials callback (form, csrfToken, callbackUrl,
 * json=true, csrf cookie from the jar) → session. A login succeeds only when the callback set a
 * session cookie AND /api/auth/session returns a user with a tenantId.
 *
 * Metrics (WEB_SESSION_METRICS): signup.latency_ms (POST /api/auth/signup) and login.latency_ms
 * (POST /api/auth/callback/credentials) are the two bcrypt-bound requests the auth targets apply
 * to; auth.csrf_latency_ms (both steps) and login.session_latency_ms time the cheap ones. Per step
 * (`signup`, `login`): <step>.attempts, <step>.success, <step>.failures[.<cause>],
 * <step>.requests and <step>.request_errors (requests whose answer failed the step).
 *
 * Cookies are kept by a real jar (tough-cookie): no cookie name is assumed, so the dev names and
 * the production `__Host-`/`__Secure-` names both work. Passwords are generated per user, held in
 * memory by the caller's credentials object and never emitted or logged.
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

export interface WebSession<T extends WebTransport = WebClient> {
  /** Cookie jar, Origin and timeouts of this user: pass it to sendChatMessage and friends. */
  client: T;
  email: string;
  userId: string;
  tenantId: string;
  /** Names of the cookies that carry the session (whatever the deployment calls them). */
  sessionCookieNames: string[];
}

export interface SessionFailure {
  ok: false;
  step: SessionStep;
  cause: FailureCause;
  status?: number;
  /** Statuses and the platform's error texts; never credentials or tokens. */
  detail: string;
}

export type SessionOutcome<T extends WebTransport = WebClient> =
  | { ok: true; session: WebSession<T>; credentials: TestCredentials }
  | SessionFailure;

export interface WebSessionOptions {
  /** The web app (WEB_BASE_URL); its origin is sent as `Origin`. */
  webBaseUrl: string;
  /** Per request; a slower answer is abandoned and counted as `timeout`. Default 30 s. */
  timeoutMs?: number;
  /** Sent as the credentials callbackUrl (absolute, on the web app's origin). Default /dashboard. */
  callbackPath?: string;
  /** Tag of the test accounts (LOADTEST_RUN_ID by default). */
  runId?: string;
}

/** Makes every counter the session steps may emit exist, so ensure checks on them always evaluate. */
export function emitZeroSessionCounters(events: VUEvents): void {
  for (const step of SESSION_STEPS) {
    for (const counter of STEP_COUNTERS) count(events, stepCounter(step, counter), 0);
  }
}

/**
 * Latency of requests the platform answered, refusals included. A request that got no answer
 * (timeout, reset) is a failure by cause: its time says nothing about the platform's speed.
 */
function observeAnswered(events: VUEvents, name: string, result: StepResult<unknown>): void {
  if (result.ok) observe(events, name, result.ms);
  else if (result.status !== undefined && result.ms !== undefined) observe(events, name, result.ms);
}

function failed(events: VUEvents, step: SessionStep, failure: StepFailure): SessionFailure {
  countFailure(events, step, failure.cause);
  count(events, stepCounter(step, 'request_errors'));
  return { ok: false, step, cause: failure.cause, status: failure.status, detail: failure.detail };
}

export async function signUpAndLogIn(events: VUEvents, options: WebSessionOptions): Promise<SessionOutcome> {
  const client = new WebClient(options.webBaseUrl, options.timeoutMs ?? 30_000);
  const credentials = newTestCredentials(options.runId);
  const signup = await registerAccount(events, client, credentials);
  if (!signup.ok) return signup;
  return logIn(events, client, credentials, options);
}

/** Signup alone (csrf → POST /api/auth/signup) on any transport, counted as the `signup` step. */
export async function registerAccount(
  events: VUEvents,
  client: WebTransport,
  credentials: TestCredentials,
): Promise<{ ok: true } | SessionFailure> {
  count(events, stepCounter('signup', 'attempts'));
  // A browser reaches the signup form through a page that fetched the CSRF pair: do the same.
  count(events, stepCounter('signup', 'requests'));
  const csrf = await fetchCsrfToken(client);
  if (!csrf.ok) return failed(events, 'signup', csrf);
  observe(events, WEB_SESSION_METRICS.csrfLatency, csrf.ms);

  count(events, stepCounter('signup', 'requests'));
  const signup = await signUp(client, credentials);
  // Refusals take the platform's time too (bcrypt runs before the duplicate check).
  observeAnswered(events, WEB_SESSION_METRICS.signupLatency, signup);
  if (!signup.ok) return failed(events, 'signup', signup);
  count(events, stepCounter('signup', 'success'));
  return { ok: true };
}

/** Logs a user in on `client` (csrf → credentials callback → session) and proves the session. */
export async function logIn<T extends WebTransport>(
  events: VUEvents,
  client: T,
  credentials: TestCredentials,
  options: Pick<WebSessionOptions, 'callbackPath'> = {},
): Promise<SessionOutcome<T>> {
  count(events, stepCounter('login', 'attempts'));

  count(events, stepCounter('login', 'requests'));
  const csrf = await fetchCsrfToken(client);
  if (!csrf.ok) return failed(events, 'login', csrf);
  observe(events, WEB_SESSION_METRICS.csrfLatency, csrf.ms);

  count(events, stepCounter('login', 'requests'));
  const callback = await postCredentials(
    client,
    credentials,
    csrf.value,
    options.callbackPath ?? '/dashboard',
  );
  observeAnswered(events, WEB_SESSION_METRICS.loginLatency, callback);
  if (!callback.ok) return failed(events, 'login', callback);

  count(events, stepCounter('login', 'requests'));
  const session = await readSession(client, callback.value);
  observeAnswered(events, WEB_SESSION_METRICS.sessionLatency, session);
  if (!session.ok) return failed(events, 'login', session);
  count(events, stepCounter('login', 'success'));

  return {
    ok: true,
    credentials,
    session: {
      client,
      email: session.value.email ?? credentials.email,
      userId: session.value.userId,
      tenantId: session.value.tenantId,
      sessionCookieNames: callback.value.sessionCookies.map((c) => c.name),
    },
  };
}

export { currentRunId, newTestCredentials, type TestCredentials } from './web/accounts';
export {
  type ChatOutcome,
  type ChatRequest,
  SESSION_REJECTED_EXPLANATION,
  sendChatMessage,
} from './web/chat';
export { WebClient } from './web/http-client';
export type { WebTransport } from './web/transport';
