import type { FailureCause } from '../metrics';
import { causeOfStatus, isOriginRefusal } from './causes';
import { CallbackAnswer, CsrfAnswer, errorText, parseJson, SessionAnswer, SignupOk } from './schemas';
import type { CookieChange, WebAnswer } from './transport';

/**
 * The NextAuth exchanges of signup and login (docs/CONTRACT.md: signup, csrf, credentials
 * callback, session). Each `judge*` function says what one answer proved or the cause of its
 * failure: the scenarios' afterResponse hooks (web/session-hooks.ts, on Artillery's HTTP engine)
 * judge every answer with them. Nothing here emits metrics.
 */

export interface StepFailure {
  ok: false;
  cause: FailureCause;
  status?: number;
  /** Diagnostic text: statuses and the platform's error texts, never credentials or tokens. */
  detail: string;
  /** Time of the request that failed, when it got that far. */
  ms?: number;
}

export type StepResult<T> = { ok: true; value: T; ms: number } | StepFailure;

function statusFailure(
  answer: WebAnswer,
  what: string,
  cause = causeOfStatus(answer.status, answer.text),
): StepFailure {
  const error = errorText(answer.text);
  return {
    ok: false,
    cause,
    status: answer.status,
    detail: `${what}: ${answer.status}${error ? ` ${JSON.stringify(error)}` : ''}`,
    ms: answer.ms,
  };
}

function malformed(answer: WebAnswer, what: string, problem: string): StepFailure {
  return {
    ok: false,
    cause: 'malformed_body',
    status: answer.status,
    detail: `${what}: ${problem}`,
    ms: answer.ms,
  };
}

/** GET /api/auth/csrf: the token (its cookie pair came with the answer). */
export function judgeCsrf(result: WebAnswer): StepResult<string> {
  if (result.status !== 200) return statusFailure(result, 'csrf');
  const parsed = parseJson(result.text, CsrfAnswer);
  if (!parsed.ok) return malformed(result, 'csrf', parsed.problem);
  return { ok: true, value: parsed.value.csrfToken, ms: result.ms };
}

/** POST /api/auth/signup: 200 `{ok:true}` created the user and its tenant. */
export function judgeSignup(result: WebAnswer): StepResult<true> {
  if (result.status === 409) return statusFailure(result, 'signup', 'signup_conflict');
  if (isOriginRefusal(result.status, errorText(result.text)))
    return statusFailure(result, 'signup', 'origin_refused');
  if (result.status !== 200) return statusFailure(result, 'signup');
  const parsed = parseJson(result.text, SignupOk);
  if (!parsed.ok) return malformed(result, 'signup', parsed.problem);
  return { ok: true, value: true, ms: result.ms };
}

export interface LoginEvidence {
  /** Cookies the callback set that are not NextAuth's CSRF pair: the session. */
  sessionCookies: CookieChange[];
}

/**
 * POST /api/auth/callback/credentials, form-encoded with `json=true` (only the body field selects
 * JSON answers). A 200 proves nothing by itself: a CSRF refusal is a 200 too. Success needs a
 * session cookie set by this answer (a cookie that is not one of `csrfCookieNames`, the cookies
 * the csrf answers set); judgeSession() then has to find the tenant.
 */
export function judgeCallback(
  result: WebAnswer,
  csrfCookieNames: ReadonlySet<string>,
): StepResult<LoginEvidence> {
  if (result.status === 401) return statusFailure(result, 'login', 'wrong_credentials');

  let next: string | undefined;
  if (result.status === 200) {
    const parsed = parseJson(result.text, CallbackAnswer);
    if (!parsed.ok) return malformed(result, 'login', parsed.problem);
    next = parsed.value.url;
  } else if (result.status >= 300 && result.status < 400) {
    next = result.headers.get('location') ?? undefined;
  } else if (isOriginRefusal(result.status, errorText(result.text))) {
    return statusFailure(result, 'login', 'origin_refused');
  } else {
    return statusFailure(result, 'login');
  }

  if (next !== undefined && /[?&]csrf=true\b/.test(next))
    return {
      ok: false,
      cause: 'csrf_refused',
      status: result.status,
      detail: 'login: CSRF check refused',
      ms: result.ms,
    };
  if (next !== undefined && /[?&]error=/.test(next))
    return {
      ok: false,
      cause: 'wrong_credentials',
      status: result.status,
      detail: 'login: credentials refused',
      ms: result.ms,
    };

  const sessionCookies = result.cookies.filter((c) => !c.cleared && !csrfCookieNames.has(c.name));
  if (sessionCookies.length === 0)
    return {
      ok: false,
      cause: 'no_session_cookie',
      status: result.status,
      detail: `login: ${result.status} without a session cookie`,
      ms: result.ms,
    };
  return { ok: true, value: { sessionCookies }, ms: result.ms };
}

export interface SessionFacts {
  userId: string;
  tenantId: string;
  email: string | undefined;
}

/**
 * GET /api/auth/session answered: `secureCookiesTravel` says whether the client could send a
 * `Secure` session cookie back at all (https or loopback), which tells a production build served
 * over plain http (session_rejected) from a session the web app does not know.
 */
export function judgeSession(
  result: WebAnswer,
  evidence: LoginEvidence,
  secureCookiesTravel: boolean,
): StepResult<SessionFacts> {
  if (result.status !== 200) return statusFailure(result, 'session');
  const parsed = parseJson(result.text, SessionAnswer);
  if (!parsed.ok) return malformed(result, 'session', parsed.problem);
  const user = parsed.value.user;
  if (!user) {
    const secureOnly = evidence.sessionCookies.every((c) => c.secure);
    if (secureOnly && !secureCookiesTravel)
      return {
        ok: false,
        cause: 'session_rejected',
        status: 200,
        detail:
          'session: the session cookie is Secure but the web app is served over plain http, so it never travels back',
        ms: result.ms,
      };
    return {
      ok: false,
      cause: 'no_session_cookie',
      status: 200,
      detail: 'session: no user for the session cookie',
      ms: result.ms,
    };
  }
  if (!user.tenantId)
    return {
      ok: false,
      cause: 'no_tenant',
      status: 200,
      detail: 'session: user without tenantId',
      ms: result.ms,
    };
  return {
    ok: true,
    value: { userId: user.id, tenantId: user.tenantId, email: user.email ?? undefined },
    ms: result.ms,
  };
}
