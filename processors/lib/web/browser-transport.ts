import type { APIRequestContext } from 'playwright-core';
import type { FailureCause } from '../metrics';
import type { TestCredentials } from './accounts';
import { causeOfStatus, isLoginRedirect, isOriginRefusal } from './causes';
import {
  CallbackAnswer,
  ChatAnswer,
  CsrfAnswer,
  errorText,
  parseJson,
  SessionAnswer,
  SignupOk,
} from './schemas';

/**
 * Signup and login of the browser journey, through the browser context's own request API
 * (`page.request`): its cookies are the context's cookies, so the pages opened afterwards are
 * logged in exactly as after a real login (the real login page has no credentials form). The
 * proofs are the contract's: a login counts only when /api/auth/session then names a user with a
 * tenant. Nothing here emits metrics; the journey names and counts.
 */

export type BrowserOutcome = { ok: true } | { ok: false; cause: FailureCause; detail: string };

interface Answer {
  status: number;
  text: string;
  location: string | undefined;
}

type Exchange = { ok: true; answer: Answer } | { ok: false; cause: FailureCause; detail: string };

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

function failure(cause: FailureCause, detail: string): { ok: false; cause: FailureCause; detail: string } {
  return { ok: false, cause, detail };
}

function statusFailure(answer: Answer, what: string, cause = causeOfStatus(answer.status, answer.text)) {
  const error = errorText(answer.text);
  return failure(cause, `${what}: ${answer.status}${error ? ` ${JSON.stringify(error)}` : ''}`);
}

export class BrowserAuth {
  private readonly baseUrl: string;
  readonly origin: string;
  /** Chromium sends Secure cookies over https and to loopback only. */
  private readonly secureCookiesTravel: boolean;

  constructor(
    private readonly request: APIRequestContext,
    baseUrl: string,
    private readonly timeoutMs: number,
  ) {
    const url = new URL(baseUrl);
    this.baseUrl = url.origin + url.pathname.replace(/\/+$/, '');
    this.origin = url.origin;
    this.secureCookiesTravel = url.protocol === 'https:' || LOOPBACK.test(url.hostname);
  }

  private async send(
    what: string,
    method: 'GET' | 'POST',
    path: string,
    body: { json?: unknown; form?: Record<string, string>; origin?: boolean } = {},
  ): Promise<Exchange> {
    const headers: Record<string, string> = { accept: 'application/json, text/plain, */*' };
    if (body.origin) headers.origin = this.origin;
    try {
      const response = await this.request.fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        ...(body.json !== undefined ? { data: body.json } : {}),
        ...(body.form ? { form: body.form } : {}),
        maxRedirects: 0,
        failOnStatusCode: false,
        timeout: this.timeoutMs,
      });
      return {
        ok: true,
        answer: {
          status: response.status(),
          text: await response.text(),
          location: response.headers().location,
        },
      };
    } catch (error) {
      const message = error instanceof Error ? (error.message.split('\n')[0] ?? error.name) : String(error);
      return failure(/timeout/i.test(message) ? 'timeout' : 'connection_error', `${what}: ${message}`);
    }
  }

  private async csrfToken(
    what: string,
  ): Promise<{ ok: true; token: string } | (BrowserOutcome & { ok: false })> {
    const csrf = await this.send(`${what} csrf`, 'GET', '/api/auth/csrf');
    if (!csrf.ok) return csrf;
    if (csrf.answer.status !== 200) return statusFailure(csrf.answer, `${what} csrf`);
    const parsed = parseJson(csrf.answer.text, CsrfAnswer);
    if (!parsed.ok) return failure('malformed_body', `${what} csrf: ${parsed.problem}`);
    return { ok: true, token: parsed.value.csrfToken };
  }

  /** csrf (as the page a browser signs up from), then POST /api/auth/signup with the web app's Origin. */
  async signUp(credentials: TestCredentials): Promise<BrowserOutcome> {
    const csrf = await this.csrfToken('signup');
    if (!csrf.ok) return csrf;
    const signup = await this.send('signup', 'POST', '/api/auth/signup', {
      json: { email: credentials.email, password: credentials.password },
      origin: true,
    });
    if (!signup.ok) return signup;
    const answer = signup.answer;
    if (answer.status === 409) return statusFailure(answer, 'signup', 'signup_conflict');
    if (isOriginRefusal(answer.status, errorText(answer.text)))
      return statusFailure(answer, 'signup', 'origin_refused');
    if (answer.status !== 200) return statusFailure(answer, 'signup');
    const parsed = parseJson(answer.text, SignupOk);
    return parsed.ok ? { ok: true } : failure('malformed_body', `signup: ${parsed.problem}`);
  }

  /** csrf → credentials callback (json=true) → /api/auth/session naming a user with a tenant. */
  async logIn(credentials: TestCredentials, callbackPath: string): Promise<BrowserOutcome> {
    const csrf = await this.csrfToken('login');
    if (!csrf.ok) return csrf;
    const callback = await this.send('login', 'POST', '/api/auth/callback/credentials', {
      form: {
        csrfToken: csrf.token,
        email: credentials.email,
        password: credentials.password,
        callbackUrl: `${this.origin}${callbackPath}`,
        json: 'true',
      },
    });
    if (!callback.ok) return callback;
    const answer = callback.answer;
    if (answer.status === 401) return statusFailure(answer, 'login', 'wrong_credentials');
    let next: string | undefined;
    if (answer.status === 200) {
      const parsed = parseJson(answer.text, CallbackAnswer);
      if (!parsed.ok) return failure('malformed_body', `login: ${parsed.problem}`);
      next = parsed.value.url;
    } else if (answer.status >= 300 && answer.status < 400) next = answer.location;
    else if (isOriginRefusal(answer.status, errorText(answer.text)))
      return statusFailure(answer, 'login', 'origin_refused');
    else return statusFailure(answer, 'login');
    // A CSRF refusal is a 200 too: only where it sends the user tells.
    if (next !== undefined && /[?&]csrf=true\b/.test(next))
      return failure('csrf_refused', 'login: CSRF check refused');
    if (next !== undefined && /[?&]error=/.test(next))
      return failure('wrong_credentials', 'login: credentials refused');

    const session = await this.send('session', 'GET', '/api/auth/session');
    if (!session.ok) return session;
    if (session.answer.status !== 200) return statusFailure(session.answer, 'session');
    const parsed = parseJson(session.answer.text, SessionAnswer);
    if (!parsed.ok) return failure('malformed_body', `session: ${parsed.problem}`);
    const user = parsed.value.user;
    if (!user)
      return this.secureCookiesTravel
        ? failure('no_session_cookie', 'session: no user for the session cookie after login')
        : failure(
            'session_rejected',
            'session: the browser does not send Secure session cookies to a web app served over plain http',
          );
    if (!user.tenantId) return failure('no_tenant', 'session: user without tenantId');
    return { ok: true };
  }

  /** POST /api/onboarding: a new user is sent to /onboarding from every page until this is done. */
  async completeOnboarding(): Promise<BrowserOutcome> {
    const done = await this.send('onboarding', 'POST', '/api/onboarding', {
      json: { completed: true },
      origin: true,
    });
    if (!done.ok) return done;
    return done.answer.status === 200 ? { ok: true } : statusFailure(done.answer, 'onboarding');
  }
}

export type ChatVerdict = { ok: true; content: string } | { ok: false; cause: FailureCause; detail: string };

/** The verdict on the page's own POST /api/chat answer: an assistant message, or a cause. */
export function chatVerdict(status: number, text: string, location: string | undefined): ChatVerdict {
  if (status === 200) {
    const parsed = parseJson(text, ChatAnswer);
    return parsed.ok
      ? { ok: true, content: parsed.value.message.content }
      : failure('malformed_body', `chat: ${parsed.problem}`);
  }
  const answer: Answer = { status, text, location };
  const error = errorText(text);
  if (isLoginRedirect(status, location ?? null)) return statusFailure(answer, 'chat', 'session_rejected');
  if (status === 429) return statusFailure(answer, 'chat', 'rate_limited');
  if (isOriginRefusal(status, error)) return statusFailure(answer, 'chat', 'origin_refused');
  // The contract's 401 on /api/chat is a session the web app knows but without a tenant.
  if (status === 401) return statusFailure(answer, 'chat', 'no_tenant');
  if ((status === 500 || status === 502) && error !== undefined)
    return statusFailure(answer, 'chat', 'chat_failed');
  return statusFailure(answer, 'chat');
}
