import type { HookDone, HttpResponse, VUContext, VUEvents } from 'artillery';
import { classifyNetworkError } from '../http-errors';
import { count, countFailure, type FailureCause, observe } from '../metrics';
import { emitZeroSessionCounters, type SessionStep, stepCounter, WEB_SESSION_METRICS } from '../web-session';
import { newTestCredentials } from './accounts';
import { markSent, toWebAnswer } from './artillery-answer';
import { judgeCallback, judgeCsrf, judgeSession, judgeSignup, type StepFailure } from './auth';
import type { CookieChange } from './transport';

/**
 * Artillery hooks of the signup and login requests that signup-tenant-chat.yml and
 * chat-sessions.yml spell out step by step (docs/CONTRACT.md):
 *
 *   auth_csrf (beforeRequest beginSignup) → auth_signup → auth_csrf (beginLogin)
 *   → auth_callback (followRedirect: false) → auth_session
 *
 * Each afterResponse hook judges one answer with the rules of auth.ts and emits the same metrics
 * as every other path of the suite (web-session.ts: signup.* / login.* counters, signup.latency_ms,
 * login.latency_ms, auth.csrf_latency_ms, login.session_latency_ms). A login counts only with a
 * session cookie set by the callback AND a session naming a tenant.
 *
 * A failed step sets the user's `userOk` variable to false; every later request of the flow
 * carries `ifTrue: "userOk"`, so the user stops there and its failure stays a counted outcome by
 * cause, not an Artillery VU error (errors.* keep meaning transport failures, which Artillery
 * counts and which end the user by themselves).
 *
 * Variables set for the YAML: email, password (random per user; used only by the signup body,
 * which sealCredentials renders itself, and the callback form), webOrigin (the target's origin:
 * `-t` moves it), callbackUrl, csrfToken, tenantId, userOk.
 */

export interface WebUserOptions {
  /** Path of the credentials callbackUrl on the web app's origin (e.g. /dashboard). */
  callbackPath: string;
  runId?: string;
  /** Per request, ms; undefined = the scenario's `config.http.timeout`. */
  requestTimeoutMs?: number;
  /** Called once the session is proven. */
  onLoggedIn?: (context: VUContext, events: VUEvents) => void;
  /** Called when a step fails (already counted as `<step>.failures.<cause>`). */
  onFailed?: (context: VUContext, events: VUEvents, failure: SessionStepFailure) => void;
}

export interface SessionStepFailure {
  step: SessionStep;
  cause: FailureCause;
  status?: number;
  /** Statuses and the platform's error texts; never credentials or tokens. */
  detail: string;
}

interface WebUserState {
  options: WebUserOptions;
  step: SessionStep;
  csrfCookieNames: Set<string>;
  /** Every cookie the csrf answers set was `Secure` (a production build's `__Host-` pair). */
  csrfCookiesSecure: boolean;
  sessionCookies: CookieChange[];
  /**
   * Artillery's cookie jar (tough-cookie 5) sends `Secure` cookies over https only, loopback
   * included, unlike a browser: over plain http a production build's cookies never come back.
   */
  secureCookiesTravel: boolean;
}

export const SECURE_COOKIES_OVER_HTTP =
  'the web app sets Secure cookies (a production build: __Host-/__Secure- names) but is served over ' +
  'plain http, so they never travel back and it rejects the login and every protected route. Serve it ' +
  'over https (or run a dev build): this is not a latency or capacity problem.';

const users = new WeakMap<VUContext, WebUserState>();

function stateOf(context: VUContext): WebUserState {
  const state = users.get(context);
  if (!state)
    throw new Error('web session hooks: prepareWebUser() did not run for this user (beforeScenario)');
  return state;
}

/** The target this user really loads: `-t` wins over config.target, and both land in vars.target. */
export function targetOf(context: VUContext): URL {
  const raw = context.vars.target;
  if (typeof raw !== 'string' || raw.trim() === '')
    throw new Error('no target: set WEB_BASE_URL or pass -t/--target (config.target is empty)');
  try {
    return new URL(raw);
  } catch {
    throw new Error(`the target ${JSON.stringify(raw)} is not a URL (WEB_BASE_URL or -t)`);
  }
}

/** beforeScenario part: the user's credentials, Origin and state; zero counters for the checks. */
export function prepareWebUser(context: VUContext, events: VUEvents, options: WebUserOptions): void {
  emitZeroSessionCounters(events);
  const target = targetOf(context);
  const credentials = newTestCredentials(options.runId);
  context.vars.email = credentials.email;
  context.vars.password = credentials.password;
  context.vars.webOrigin = target.origin;
  context.vars.callbackUrl = `${target.origin}${options.callbackPath}`;
  context.vars.userOk = true;
  users.set(context, {
    options,
    step: 'signup',
    csrfCookieNames: new Set(),
    csrfCookiesSecure: false,
    sessionCookies: [],
    secureCookiesTravel: target.protocol === 'https:',
  });
}

/** Ends the user's flow with a counted failure of the current step. */
function fail(context: VUContext, events: VUEvents, failure: StepFailure): void {
  const state = stateOf(context);
  countFailure(events, state.step, failure.cause);
  count(events, stepCounter(state.step, 'request_errors'));
  context.vars.userOk = false;
  state.options.onFailed?.(context, events, {
    step: state.step,
    cause: failure.cause,
    ...(failure.status === undefined ? {} : { status: failure.status }),
    detail: failure.detail,
  });
}

type RequestParams = Record<string, unknown>;

function countRequest(requestParams: RequestParams, context: VUContext, events: VUEvents): void {
  const state = stateOf(context);
  count(events, stepCounter(state.step, 'requests'));
  // Artillery reads `timeout` (seconds) after the beforeRequest hooks.
  if (state.options.requestTimeoutMs !== undefined)
    requestParams.timeout = state.options.requestTimeoutMs / 1000;
  markSent(context);
}

// ---- beforeRequest -------------------------------------------------------------------------

/** The first csrf request: the signup step begins. */
export function beginSignup(
  requestParams: RequestParams,
  context: VUContext,
  events: VUEvents,
  done: HookDone,
): void {
  stateOf(context).step = 'signup';
  count(events, stepCounter('signup', 'attempts'));
  countRequest(requestParams, context, events);
  done();
}

/** The second csrf request: the login step begins. */
export function beginLogin(
  requestParams: RequestParams,
  context: VUContext,
  events: VUEvents,
  done: HookDone,
): void {
  stateOf(context).step = 'login';
  count(events, stepCounter('login', 'attempts'));
  countRequest(requestParams, context, events);
  done();
}

/** Every further request of the signup and login steps. */
export function countSessionRequest(
  requestParams: RequestParams,
  context: VUContext,
  events: VUEvents,
  done: HookDone,
): void {
  countRequest(requestParams, context, events);
  done();
}

/**
 * Renders the step's `json` body itself and sends it as bytes: Artillery's templating debug and
 * its DEBUG=http request log print a `json` body in full (the password with it), a byte body as
 * `< Buffer >`. What goes on the wire is exactly the YAML's `json`, with its `{{ }}` filled in.
 */
export function sealCredentials(
  requestParams: RequestParams,
  context: VUContext,
  _events: VUEvents,
  done: HookDone,
): void {
  const json = requestParams.json;
  if (json === undefined || json === null || typeof json !== 'object') {
    done();
    return;
  }
  const render = (value: unknown): unknown => {
    if (typeof value === 'string') {
      const whole = /^\{\{\s*([A-Za-z_$][\w$]*)\s*\}\}$/.exec(value);
      return whole ? context.vars[whole[1]!] : value;
    }
    if (Array.isArray(value)) return value.map(render);
    if (value && typeof value === 'object')
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, render(v)]));
    return value;
  };
  requestParams.body = Buffer.from(JSON.stringify(render(json)));
  delete requestParams.json;
  // A new headers object: the step's own is shared by every user of the scenario.
  requestParams.headers = {
    ...(requestParams.headers as Record<string, string> | undefined),
    'content-type': 'application/json',
  };
  done();
}

// ---- afterResponse -------------------------------------------------------------------------

type AfterResponse = (
  requestParams: RequestParams,
  response: HttpResponse,
  context: VUContext,
  events: VUEvents,
  done: HookDone,
) => void;

/** Runs a judgement; a hook never throws into Artillery (that would end the user as an error). */
function judged(body: (response: HttpResponse, context: VUContext, events: VUEvents) => void): AfterResponse {
  return (_requestParams, response, context, events, done) => {
    try {
      body(response, context, events);
      done();
    } catch (error) {
      done(error instanceof Error ? error : new Error(String(error)));
    }
  };
}

/** GET /api/auth/csrf: the token (validated; the YAML's capture is only a convenience). */
export const checkCsrf = judged((response, context, events) => {
  const answer = toWebAnswer(response, context);
  const result = judgeCsrf(answer);
  if (!result.ok) {
    delete context.vars.csrfToken;
    fail(context, events, result);
    return;
  }
  observe(events, WEB_SESSION_METRICS.csrfLatency, answer.ms);
  const state = stateOf(context);
  for (const cookie of answer.cookies) state.csrfCookieNames.add(cookie.name);
  // Asked again with its cookies, the app sets none: the first answer's say stands.
  if (answer.cookies.length > 0) state.csrfCookiesSecure = answer.cookies.every((c) => c.secure);
  context.vars.csrfToken = result.value;
});

/** POST /api/auth/signup: refusals take the platform's time too (bcrypt runs before the duplicate check). */
export const checkSignup = judged((response, context, events) => {
  const answer = toWebAnswer(response, context);
  observe(events, WEB_SESSION_METRICS.signupLatency, answer.ms);
  const result = judgeSignup(answer);
  if (!result.ok) {
    fail(context, events, result);
    return;
  }
  count(events, stepCounter('signup', 'success'));
});

/** POST /api/auth/callback/credentials: only a session cookie set here is evidence of a login. */
export const checkCallback = judged((response, context, events) => {
  const answer = toWebAnswer(response, context);
  observe(events, WEB_SESSION_METRICS.loginLatency, answer.ms);
  const state = stateOf(context);
  const result = judgeCallback(answer, state.csrfCookieNames);
  if (!result.ok) {
    // The CSRF cookie was Secure and could not travel: the deployment, not the token, failed.
    if (result.cause === 'csrf_refused' && state.csrfCookiesSecure && !state.secureCookiesTravel)
      fail(context, events, {
        ...result,
        cause: 'session_rejected',
        detail: `login: CSRF check refused: ${SECURE_COOKIES_OVER_HTTP}`,
      });
    else fail(context, events, result);
    return;
  }
  state.sessionCookies = result.value.sessionCookies;
});

/** GET /api/auth/session: the proof of the login, a user with a tenant. */
export const checkSession = judged((response, context, events) => {
  const answer = toWebAnswer(response, context);
  observe(events, WEB_SESSION_METRICS.sessionLatency, answer.ms);
  const state = stateOf(context);
  const result = judgeSession(answer, { sessionCookies: state.sessionCookies }, state.secureCookiesTravel);
  if (!result.ok) {
    fail(context, events, result);
    return;
  }
  count(events, stepCounter('login', 'success'));
  context.vars.tenantId = result.value.tenantId;
  context.vars.userId = result.value.userId;
  state.options.onLoggedIn?.(context, events);
});

// ---- onError ---------------------------------------------------------------------------------

/** Names of the requests of the signup and login steps in the YAML. */
export const SESSION_REQUEST_NAMES: ReadonlySet<string> = new Set([
  'auth_csrf',
  'auth_signup',
  'auth_callback',
  'auth_session',
]);

const seenErrors = new WeakSet<object>();

/**
 * A request that got no answer (timeout, reset): Artillery counts it as `errors.<code>` and ends
 * the user; the scenario's `onError` hook names the cause. Artillery may run the onError hooks of
 * one failed request twice (the request's error event and its promise): counted once.
 */
export function transportFailureOf(error: unknown, requestParams: object): StepFailure | undefined {
  if (seenErrors.has(requestParams)) return undefined;
  seenErrors.add(requestParams);
  const cause = classifyNetworkError(error);
  const code = error && typeof error === 'object' && 'code' in error ? String(error.code) : '';
  return { ok: false, cause, detail: `no answer (${code || cause})` };
}

/** onError part for the session steps: counts the failure as the current step's. */
export function sessionTransportError(context: VUContext, events: VUEvents, failure: StepFailure): void {
  fail(context, events, failure);
}
