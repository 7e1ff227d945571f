import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { VUEvents } from 'artillery';
import {
  judgeCallback,
  judgeCsrf,
  judgeSession,
  judgeSignup,
  readSession,
} from '../../processors/lib/web/auth';
import { classifyChatAnswer } from '../../processors/lib/web/chat';
import {
  cookieChanges,
  type WebAnswer,
  type WebRequest,
  type WebResult,
  type WebTransport,
} from '../../processors/lib/web/transport';
import {
  logIn,
  newTestCredentials,
  registerAccount,
  sendChatMessage,
  signUpAndLogIn,
  WEB_SESSION_METRICS,
  WebClient,
} from '../../processors/lib/web-session';
import { type SimulatorHandle, startSimulator } from '../helpers/simulator';

/**
 * The judgements of every signup/login/chat answer (processors/lib/web/auth.ts, chat.ts), used by
 * the scenarios' afterResponse hooks, on raw answers; and the Node-driven session (WebClient,
 * signUpAndLogIn: the benchmarks' login) against the simulator, where the cases a scenario cannot
 * provoke (a second signup of one address, a wrong password) are real.
 */

/** Collects what a processor would emit to Artillery. */
class Recorder implements VUEvents {
  readonly counters = new Map<string, number>();
  readonly histograms = new Map<string, number[]>();
  emit(type: string, name: string, value?: number): void {
    if (type === 'counter') this.counters.set(name, (this.counters.get(name) ?? 0) + (value ?? 0));
    if (type === 'histogram')
      this.histograms.set(name, [...(this.histograms.get(name) ?? []), value ?? Number.NaN]);
  }
  counter(name: string): number {
    return this.counters.get(name) ?? 0;
  }
}

const RUN_ID = `websession${Date.now().toString(36)}`;

describe('web session against the simulator (dev cookies)', () => {
  let sim: SimulatorHandle;
  before(async () => {
    sim = await startSimulator({ profile: 'fast', args: ['--rate-limit', '3'] });
  });
  after(async () => {
    await sim?.stop();
  });

  it('signs up and logs in, proving the tenant through /api/auth/session', async () => {
    const events = new Recorder();
    const outcome = await signUpAndLogIn(events, { webBaseUrl: sim.webUrl, runId: RUN_ID });
    assert.ok(outcome.ok, JSON.stringify(outcome));
    const { session, credentials } = outcome;
    assert.match(session.email, new RegExp(`^loadtest\\+${RUN_ID}-[\\w.]+@example\\.test$`));
    const tenant = await sim.control.tenant(session.tenantId);
    assert.equal(tenant.email, session.email);
    assert.ok(session.sessionCookieNames.length > 0);
    assert.ok(
      session.sessionCookieNames.every((name) => !name.startsWith('__')),
      session.sessionCookieNames.join(),
    );
    assert.equal(events.counter('signup.success'), 1);
    assert.equal(events.counter('login.success'), 1);
    assert.equal(events.histograms.get(WEB_SESSION_METRICS.signupLatency)?.length, 1);
    assert.equal(events.histograms.get(WEB_SESSION_METRICS.loginLatency)?.length, 1);
    // The password exists only in memory: not enumerable, so not in any serialised outcome.
    assert.ok(credentials.password.length >= 8);
    assert.ok(!JSON.stringify(outcome).includes(credentials.password));
    assert.ok(!Object.keys(credentials).includes('password'));
  });

  it('counts a second signup of the same address as signup_conflict', async () => {
    const events = new Recorder();
    const credentials = newTestCredentials(RUN_ID);
    const first = await registerAccount(events, new WebClient(sim.webUrl, 10_000), credentials);
    assert.ok(first.ok);
    const second = await registerAccount(events, new WebClient(sim.webUrl, 10_000), credentials);
    assert.equal(second.ok, false);
    assert.equal(!second.ok && second.cause, 'signup_conflict');
    assert.equal(events.counter('signup.failures.signup_conflict'), 1);
    assert.equal(events.counter('signup.request_errors'), 1);
  });

  it('counts a wrong password as wrong_credentials, not as a login', async () => {
    const events = new Recorder();
    const credentials = newTestCredentials(RUN_ID);
    const client = new WebClient(sim.webUrl, 10_000);
    assert.ok((await registerAccount(events, client, credentials)).ok);
    const wrong = { email: credentials.email, password: `${credentials.password}x` };
    const outcome = await logIn(events, new WebClient(sim.webUrl, 10_000), wrong);
    assert.equal(outcome.ok, false);
    assert.equal(!outcome.ok && outcome.cause, 'wrong_credentials');
    assert.equal(events.counter('login.success'), 0);
  });

  it('keeps the conversation, then classifies the rate limit with its Retry-After', async () => {
    const events = new Recorder();
    const outcome = await signUpAndLogIn(events, { webBaseUrl: sim.webUrl, runId: RUN_ID });
    assert.ok(outcome.ok);
    const first = await sendChatMessage(outcome.session.client, { message: 'hello' });
    assert.ok(first.ok, JSON.stringify(first));
    assert.ok(first.content.length > 0);
    const second = await sendChatMessage(outcome.session.client, {
      message: 'and again',
      conversationId: first.conversationId,
    });
    assert.ok(second.ok, JSON.stringify(second));
    assert.equal(second.conversationId, first.conversationId);
    // --rate-limit 3: the fourth /api/* request of this user in the window is refused.
    const third = await sendChatMessage(outcome.session.client, { message: 'three' });
    assert.ok(third.ok, JSON.stringify(third));
    const fourth = await sendChatMessage(outcome.session.client, { message: 'four' });
    assert.equal(fourth.ok, false);
    assert.equal(!fourth.ok && fourth.cause, 'rate_limited');
    assert.ok(!fourth.ok && fourth.retryAfterMs !== undefined && fourth.retryAfterMs > 0);
  });

  it('counts a CSRF refusal as csrf_refused even though the callback answers 200', async () => {
    await sim.control.patchFaults({ auth: { csrfRefuse: true } });
    try {
      const events = new Recorder();
      const outcome = await signUpAndLogIn(events, { webBaseUrl: sim.webUrl, runId: RUN_ID });
      assert.equal(outcome.ok, false);
      assert.equal(!outcome.ok && outcome.step, 'login');
      assert.equal(!outcome.ok && outcome.cause, 'csrf_refused');
      assert.equal(!outcome.ok && outcome.status, 200);
      assert.equal(events.counter('login.failures.csrf_refused'), 1);
      assert.equal(events.counter('login.success'), 0);
    } finally {
      await sim.control.clearFaults();
    }
  });

  it('counts malformed auth answers by cause instead of throwing', async () => {
    await sim.control.patchFaults({
      routes: { auth: { malformedRate: 1, malformedKind: 'truncated-json' } },
    });
    try {
      const events = new Recorder();
      const outcome = await signUpAndLogIn(events, { webBaseUrl: sim.webUrl, runId: RUN_ID });
      assert.equal(outcome.ok, false);
      assert.equal(!outcome.ok && outcome.cause, 'malformed_body');
      assert.equal(events.counter('signup.failures.malformed_body'), 1);
      // A proxy's HTML error page in front of the app is the upstream failing, not a bad body.
      await sim.control.patchFaults({ routes: { auth: { malformedKind: 'html' } } });
      const proxied = await signUpAndLogIn(events, { webBaseUrl: sim.webUrl, runId: RUN_ID });
      assert.equal(!proxied.ok && proxied.cause, 'upstream_error');
    } finally {
      await sim.control.clearFaults();
    }
  });

  it('counts timeouts, dropped connections and failed chats by cause', async () => {
    const events = new Recorder();
    const outcome = await signUpAndLogIn(events, { webBaseUrl: sim.webUrl, runId: RUN_ID });
    assert.ok(outcome.ok);
    await sim.control.patchFaults({ routes: { auth: { delayMs: 1000 } } });
    try {
      const slow = await signUpAndLogIn(events, { webBaseUrl: sim.webUrl, runId: RUN_ID, timeoutMs: 200 });
      assert.equal(!slow.ok && slow.cause, 'timeout');
      assert.equal(events.counter('signup.failures.timeout'), 1);
    } finally {
      await sim.control.clearFaults();
    }
    await sim.control.patchFaults({ routes: { chat: { resetRate: 1 } } });
    try {
      const chat = await sendChatMessage(outcome.session.client, { message: 'hello' });
      assert.equal(!chat.ok && chat.cause, 'connection_error');
    } finally {
      await sim.control.clearFaults();
    }
    await sim.control.patchFaults({ routes: { chat: { errorRate: 1 } } });
    try {
      const chat = await sendChatMessage(outcome.session.client, { message: 'hello' });
      assert.equal(!chat.ok && chat.cause, 'chat_failed');
      assert.equal(!chat.ok && chat.status, 500);
    } finally {
      await sim.control.clearFaults();
    }
  });
});

describe('web session against a production-style build (Secure cookies over plain http)', () => {
  let sim: SimulatorHandle;
  before(async () => {
    sim = await startSimulator({ profile: 'fast', args: ['--cookie-mode', 'secure'] });
  });
  after(async () => {
    await sim?.stop();
  });

  it('logs in with the __Secure- cookie names and names the 307 on /api/chat session_rejected', async () => {
    const events = new Recorder();
    const outcome = await signUpAndLogIn(events, { webBaseUrl: sim.webUrl, runId: RUN_ID });
    assert.ok(outcome.ok, JSON.stringify(outcome));
    assert.ok(
      outcome.session.sessionCookieNames.every((name) => name.startsWith('__Secure-')),
      outcome.session.sessionCookieNames.join(),
    );
    const chat = await sendChatMessage(outcome.session.client, { message: 'hello' });
    assert.equal(chat.ok, false);
    assert.equal(!chat.ok && chat.cause, 'session_rejected');
    assert.equal(!chat.ok && chat.status, 307);
    assert.match(!chat.ok ? chat.detail : '', /plain http/);
  });
});

describe('chat answer classification', () => {
  const answer = (status: number, body: unknown, headers: Record<string, string> = {}): WebAnswer => ({
    kind: 'answer',
    status,
    headers: new Headers(headers),
    text: typeof body === 'string' ? body : JSON.stringify(body),
    ms: 5,
    cookies: [],
  });
  const causeOf = (a: WebAnswer) => {
    const verdict = classifyChatAnswer(a);
    return verdict.ok ? 'ok' : verdict.cause;
  };

  it('maps the contract outcomes of /api/chat to their causes', () => {
    const good = {
      conversationId: '1b4e28ba-2fa1-4d2b-883f-0016d3cca427',
      message: { role: 'assistant', content: 'hi' },
    };
    assert.equal(causeOf(answer(200, good)), 'ok');
    assert.equal(causeOf(answer(200, { ...good, conversationId: undefined })), 'malformed_body');
    assert.equal(
      causeOf(answer(200, { ...good, message: { role: 'assistant', content: '' } })),
      'malformed_body',
    );
    assert.equal(causeOf(answer(200, '<html>oops</html>')), 'malformed_body');
    assert.equal(
      causeOf(
        answer(307, 'http://x:3000/login?callbackUrl=%2Fapi%2Fchat', {
          location: 'http://x:3000/login?callbackUrl=%2Fapi%2Fchat',
        }),
      ),
      'session_rejected',
    );
    assert.equal(causeOf(answer(403, { error: 'Invalid Origin' })), 'origin_refused');
    assert.equal(causeOf(answer(403, { error: 'Missing Origin header' })), 'origin_refused');
    assert.equal(causeOf(answer(403, { error: 'Feature not available on your plan' })), 'forbidden');
    assert.equal(causeOf(answer(401, { error: 'Unauthorized' })), 'no_tenant');
    assert.equal(causeOf(answer(500, { error: 'Failed to generate assistant response' })), 'chat_failed');
    assert.equal(
      causeOf(answer(502, { error: 'Channel router returned incomplete response' })),
      'chat_failed',
    );
    assert.equal(causeOf(answer(400, { error: 'Invalid request body', issues: [] })), 'bad_request');
    const limited = classifyChatAnswer(answer(429, { error: 'Too many requests' }, { 'retry-after': '7' }));
    assert.deepEqual(limited.ok ? undefined : [limited.cause, limited.retryAfterMs], ['rate_limited', 7000]);
  });
});

describe('session proof over a transport that cannot carry Secure cookies', () => {
  /** A remote production build over plain http: the session cookie is Secure, so it never comes back. */
  class PlainHttpRemote implements WebTransport {
    readonly origin = 'http://agentteams.example.test';
    readonly secureCookiesTravel = false;
    async send(_request: WebRequest): Promise<WebResult> {
      return { kind: 'answer', status: 200, headers: new Headers(), text: '{}', ms: 3, cookies: [] };
    }
  }

  it('names an empty session after a Secure session cookie session_rejected, not a plain failure', async () => {
    const transport = new PlainHttpRemote();
    const secureLogin = {
      sessionCookies: [{ name: '__Secure-next-auth.session-token', secure: true, cleared: false }],
    };
    const rejected = await readSession(transport, secureLogin);
    assert.equal(!rejected.ok && rejected.cause, 'session_rejected');
    const plainLogin = {
      sessionCookies: [{ name: 'next-auth.session-token', secure: false, cleared: false }],
    };
    const unknown = await readSession(transport, plainLogin);
    assert.equal(!unknown.ok && unknown.cause, 'no_session_cookie');
  });
});

describe("auth answer judgements (the scenarios' afterResponse hooks)", () => {
  const answer = (
    status: number,
    body: unknown,
    options: { headers?: Record<string, string>; setCookies?: string[] } = {},
  ): WebAnswer => ({
    kind: 'answer',
    status,
    headers: new Headers(options.headers ?? {}),
    text: typeof body === 'string' ? body : JSON.stringify(body),
    ms: 4,
    cookies: cookieChanges(options.setCookies ?? []),
  });
  const causeOf = (result: { ok: true } | { ok: false; cause: string }) => (result.ok ? 'ok' : result.cause);
  const csrfCookies = new Set(['next-auth.csrf-token', 'next-auth.callback-url']);

  it('csrf and signup: the token, conflicts, Origin refusals, malformed bodies', () => {
    assert.equal(causeOf(judgeCsrf(answer(200, { csrfToken: 'a'.repeat(64) }))), 'ok');
    assert.equal(causeOf(judgeCsrf(answer(200, '<html>'))), 'malformed_body');
    assert.equal(causeOf(judgeCsrf(answer(200, '{"csrfTok'))), 'malformed_body');
    assert.equal(causeOf(judgeCsrf(answer(500, { error: 'boom' }))), 'server_error');
    assert.equal(causeOf(judgeSignup(answer(200, { ok: true }))), 'ok');
    assert.equal(
      causeOf(judgeSignup(answer(409, { error: 'An account with that email already exists' }))),
      'signup_conflict',
    );
    assert.equal(causeOf(judgeSignup(answer(403, { error: 'Invalid Origin' }))), 'origin_refused');
    assert.equal(causeOf(judgeSignup(answer(403, { error: 'Missing Origin header' }))), 'origin_refused');
    assert.equal(causeOf(judgeSignup(answer(200, ''))), 'malformed_body');
    assert.equal(causeOf(judgeSignup(answer(500, { error: 'Signup failed' }))), 'server_error');
  });

  it('credentials callback: only a session cookie set by this answer is a login', () => {
    const session = 'next-auth.session-token=eyJ; Path=/; HttpOnly; SameSite=Lax';
    const ok = judgeCallback(
      answer(200, { url: 'http://h/dashboard' }, { setCookies: [session] }),
      csrfCookies,
    );
    assert.equal(causeOf(ok), 'ok');
    assert.deepEqual(ok.ok && ok.value.sessionCookies.map((c) => c.name), ['next-auth.session-token']);
    // A CSRF refusal answers 200 too, with no session cookie.
    assert.equal(
      causeOf(judgeCallback(answer(200, { url: 'http://h/api/auth/signin?csrf=true' }), csrfCookies)),
      'csrf_refused',
    );
    assert.equal(
      causeOf(
        judgeCallback(
          answer(302, '', { headers: { location: 'http://h/api/auth/signin?csrf=true' } }),
          csrfCookies,
        ),
      ),
      'csrf_refused',
    );
    assert.equal(
      causeOf(
        judgeCallback(
          answer(401, { url: 'http://h/api/auth/error?error=CredentialsSignin&provider=credentials' }),
          csrfCookies,
        ),
      ),
      'wrong_credentials',
    );
    // The csrf pair re-sent, or a cleared cookie, is not a session.
    const onlyCsrf = answer(
      200,
      { url: 'http://h/dashboard' },
      {
        setCookies: ['next-auth.csrf-token=x; Path=/', 'next-auth.session-token=; Max-Age=0; Path=/'],
      },
    );
    assert.equal(causeOf(judgeCallback(onlyCsrf, csrfCookies)), 'no_session_cookie');
    assert.equal(causeOf(judgeCallback(answer(200, 'not json'), csrfCookies)), 'malformed_body');
  });

  it('session: a user with a tenant; Secure cookies that cannot travel are session_rejected', () => {
    const plain = { sessionCookies: [{ name: 'next-auth.session-token', secure: false, cleared: false }] };
    const secure = {
      sessionCookies: [{ name: '__Secure-next-auth.session-token', secure: true, cleared: false }],
    };
    const user = { user: { id: 'u1', email: 'a@example.test', tenantId: 't1' }, expires: 'x' };
    assert.equal(causeOf(judgeSession(answer(200, user), plain, false)), 'ok');
    assert.equal(causeOf(judgeSession(answer(200, { user: { id: 'u1' } }), plain, false)), 'no_tenant');
    assert.equal(causeOf(judgeSession(answer(200, {}), plain, false)), 'no_session_cookie');
    assert.equal(causeOf(judgeSession(answer(200, {}), secure, false)), 'session_rejected');
    assert.equal(causeOf(judgeSession(answer(200, {}), secure, true)), 'no_session_cookie');
    assert.equal(causeOf(judgeSession(answer(200, '<html>'), plain, true)), 'malformed_body');
  });

  it('reads Set-Cookie headers without assuming cookie names', () => {
    const past = new Date(Date.now() - 60_000).toUTCString();
    assert.deepEqual(
      cookieChanges([
        '__Host-next-auth.csrf-token=abc%7Cdef; Path=/; HttpOnly; Secure; SameSite=Lax',
        'next-auth.callback-url=http%3A%2F%2Fh; Path=/',
        `gone=; Expires=${past}; Path=/`,
        'cleared=x; Max-Age=0',
        `kept=x; Max-Age=60; Expires=${past}`,
        'no-equals-sign',
      ]),
      [
        { name: '__Host-next-auth.csrf-token', secure: true, cleared: false },
        { name: 'next-auth.callback-url', secure: false, cleared: false },
        { name: 'gone', secure: false, cleared: true },
        { name: 'cleared', secure: false, cleared: true },
        { name: 'kept', secure: false, cleared: false },
      ],
    );
  });
});
