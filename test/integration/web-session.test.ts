import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { judgeCallback, judgeCsrf, judgeSession, judgeSignup } from '../../processors/lib/web/auth';
import { classifyChatAnswer } from '../../processors/lib/web/chat';
import { cookieChanges, type WebAnswer } from '../../processors/lib/web/transport';
import { signUpAndLogInUser, WebCookies } from '../../scripts/lib/signup-seeder';
import { type SimulatorHandle, startSimulator } from '../helpers/simulator';

/**
 * The judgements of every signup/login/chat answer (processors/lib/web/auth.ts, chat.ts), used by
 * the scenarios' afterResponse hooks, on raw answers; and the plain-fetch login of the runner's
 * tenant seeding and the benchmarks (scripts/lib/signup-seeder.ts) against the simulator, with
 * both cookie namings.
 */

const RUN_ID = `websession${Date.now().toString(36)}`;
let serial = 0;
const email = () => `loadtest+${RUN_ID}-${++serial}@example.test`;

describe('plain-fetch login against the simulator', () => {
  let dev: SimulatorHandle;
  let secure: SimulatorHandle;
  before(async () => {
    [dev, secure] = await Promise.all([
      startSimulator({ profile: 'fast' }),
      startSimulator({ profile: 'fast', args: ['--cookie-mode', 'secure'] }),
    ]);
  });
  after(async () => {
    await Promise.all([dev?.stop(), secure?.stop()]);
  });

  it('signs up, logs in and finds the tenant; the session cookie opens /api/chat', async () => {
    const user = await signUpAndLogInUser(dev.webUrl, email());
    assert.equal((await dev.control.tenant(user.tenantId)).email, user.email);
    assert.match(user.cookies.header(), /(^|; )next-auth\.session-token=/);
    const chat = await fetch(`${dev.webUrl}/api/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: user.origin, cookie: user.cookies.header() },
      body: JSON.stringify({ message: 'hello' }),
      redirect: 'manual',
    });
    assert.equal(chat.status, 200, await chat.text());
  });

  it('keeps the __Secure-/__Host- cookies of a production build for a loopback web app', async () => {
    const user = await signUpAndLogInUser(secure.webUrl, email());
    assert.match(user.cookies.header(), /(^|; )__Secure-next-auth\.session-token=/);
  });

  it('names the step that failed, never the password', async () => {
    await dev.control.patchFaults({ auth: { csrfRefuse: true } });
    try {
      await assert.rejects(signUpAndLogInUser(dev.webUrl, email()), /login: answered 200 without a session/);
    } finally {
      await dev.control.clearFaults();
    }
    const taken = email();
    await signUpAndLogInUser(dev.webUrl, taken);
    await assert.rejects(signUpAndLogInUser(dev.webUrl, taken), /signup: answered 409/);
  });
});

describe('web cookies of the plain-fetch login', () => {
  it('sets, replaces and deletes by name; Secure cookies only where they travel', () => {
    const past = new Date(Date.now() - 60_000).toUTCString();
    const remote = new WebCookies('http://agentteams.example.test');
    remote.store(['a=1; Path=/', '__Secure-s=x; Path=/; Secure; HttpOnly', 'b=2']);
    assert.equal(remote.header(), 'a=1; b=2');
    remote.store(['a=3; Path=/', `b=; Expires=${past}`]);
    assert.equal(remote.header(), 'a=3');
    remote.store(['a=; Max-Age=0']);
    assert.equal(remote.header(), '');
    const loopback = new WebCookies('http://127.0.0.1:3000');
    loopback.store(['__Secure-s=x; Path=/; Secure']);
    assert.equal(loopback.header(), '__Secure-s=x');
    const https = new WebCookies('https://agentteams.example.test');
    https.store(['__Host-c=y%7Cz; Path=/; Secure']);
    assert.equal(https.header(), '__Host-c=y%7Cz');
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
