import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { z } from 'zod';
import type { LatencySettings, RouteFamily, RouteFault } from '../src/control-types';
import { createContext, defaultOptions } from '../src/core/context';
import { buildWebApp } from '../src/web/app';
import { SessionTokenCodec } from '../src/web/session-token';
import { type SimulatorHandle, startSimulator } from './helpers/simulator';

// ---------------------------------------------------------------------------------------------
// A tiny HTTP client with an explicit cookie jar: the tests assert on Set-Cookie headers exactly,
// and, unlike a browser, it sends Secure cookies over plain http (so the secure-mode tests show the
// server itself refusing them).
// ---------------------------------------------------------------------------------------------

interface SetCookie {
  name: string;
  value: string;
  attributes: Record<string, string | true>;
}

function parseSetCookie(header: string): SetCookie {
  const [pair = '', ...parts] = header.split(';');
  const separator = pair.indexOf('=');
  const attributes: Record<string, string | true> = {};
  for (const part of parts) {
    const [key = '', ...rest] = part.trim().split('=');
    attributes[key.toLowerCase()] = rest.length ? rest.join('=') : true;
  }
  return { name: pair.slice(0, separator).trim(), value: pair.slice(separator + 1), attributes };
}

interface WebResponse {
  status: number;
  headers: Headers;
  text: string;
  setCookies: SetCookie[];
  ms: number;
  json(): unknown;
}

interface RequestOptions {
  method?: string;
  /** `undefined`: the client's own origin; `null`: no Origin header; a string: that header. */
  origin?: string | null;
  json?: unknown;
  form?: Record<string, string>;
  body?: string;
  headers?: Record<string, string>;
}

class WebClient {
  readonly cookies = new Map<string, string>();

  constructor(readonly base: string) {}

  cookie(name: string): string | undefined {
    return this.cookies.get(name);
  }

  async request(path: string, options: RequestOptions = {}): Promise<WebResponse> {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    const method =
      options.method ?? (options.json !== undefined || options.form || options.body ? 'POST' : 'GET');
    if (method !== 'GET' && options.origin !== null) headers.origin = options.origin ?? this.base;
    if (method === 'GET' && typeof options.origin === 'string') headers.origin = options.origin;
    let body: string | undefined = options.body;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] ??= 'application/json';
    } else if (options.form) {
      body = new URLSearchParams(options.form).toString();
      headers['content-type'] ??= 'application/x-www-form-urlencoded';
    }
    if (this.cookies.size) {
      headers.cookie = [...this.cookies.entries()].map(([name, value]) => `${name}=${value}`).join('; ');
    }
    const started = performance.now();
    const response = await fetch(`${this.base}${path}`, { method, headers, body, redirect: 'manual' });
    const text = await response.text();
    const ms = performance.now() - started;
    const setCookies = response.headers.getSetCookie().map(parseSetCookie);
    for (const cookie of setCookies) {
      if (cookie.attributes['max-age'] === '0' || cookie.value === '') this.cookies.delete(cookie.name);
      else this.cookies.set(cookie.name, cookie.value);
    }
    return {
      status: response.status,
      headers: response.headers,
      text,
      setCookies,
      ms,
      json: () => JSON.parse(text),
    };
  }

  async csrfToken(): Promise<string> {
    const response = await this.request('/api/auth/csrf');
    return z.object({ csrfToken: z.string() }).parse(response.json()).csrfToken;
  }

  async signup(email: string, password: string): Promise<WebResponse> {
    return this.request('/api/auth/signup', { json: { email, password } });
  }

  async login(
    email: string,
    password: string,
    extra: Record<string, string> = { json: 'true', callbackUrl: '/dashboard' },
  ): Promise<WebResponse> {
    const csrfToken = await this.csrfToken();
    return this.request('/api/auth/callback/credentials', { form: { csrfToken, email, password, ...extra } });
  }
}

const uniqueEmail = () => `user-${randomUUID()}@example.com`;
const PASSWORD = 'correct-horse-9';
const HEX64 = /^[0-9a-f]{64}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const sessionSchema = z.object({
  user: z.object({
    name: z.null(),
    email: z.string(),
    image: z.null(),
    id: z.string(),
    tenantId: z.string(),
    isAdmin: z.boolean(),
    onboardingCompleted: z.boolean(),
  }),
  expires: z.string(),
});

async function newUser(
  sim: SimulatorHandle,
  email = uniqueEmail(),
): Promise<{ client: WebClient; email: string }> {
  const client = new WebClient(sim.webUrl);
  const signup = await client.signup(email, PASSWORD);
  assert.equal(signup.status, 200, signup.text);
  const login = await client.login(email, PASSWORD);
  assert.equal(login.status, 200, login.text);
  return { client, email };
}

async function onboardedUser(sim: SimulatorHandle) {
  const user = await newUser(sim);
  const done = await user.client.request('/api/onboarding', { json: { completed: true } });
  assert.equal(done.status, 200, done.text);
  return user;
}

function setCookieNamed(response: WebResponse, name: string): SetCookie | undefined {
  return response.setCookies.find((cookie) => cookie.name === name);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

// ---------------------------------------------------------------------------------------------

describe('simulator web app (dev cookies, fast profile)', () => {
  let sim: SimulatorHandle;
  before(async () => {
    sim = await startSimulator();
  });
  after(async () => {
    await sim?.stop();
  });

  describe('GET /api/auth/csrf', () => {
    it('mints a 64-hex token with the token|hash cookie and the url-encoded callback cookie', async () => {
      const client = new WebClient(sim.webUrl);
      const first = await client.request('/api/auth/csrf');
      assert.equal(first.status, 200);
      const { csrfToken } = z.object({ csrfToken: z.string() }).parse(first.json());
      assert.match(csrfToken, HEX64);
      const csrf = setCookieNamed(first, 'next-auth.csrf-token');
      assert.ok(csrf, 'csrf cookie set');
      assert.match(csrf.value, new RegExp(`^${csrfToken}%7C[0-9a-f]{64}$`));
      assert.deepEqual(csrf.attributes, { path: '/', httponly: true, samesite: 'Lax' });
      const callback = setCookieNamed(first, 'next-auth.callback-url');
      assert.equal(callback?.value, encodeURIComponent(sim.env.NEXTAUTH_URL!));
      assert.deepEqual(callback?.attributes, { path: '/', httponly: true, samesite: 'Lax' });

      const again = await client.request('/api/auth/csrf');
      assert.equal(again.status, 200);
      assert.deepEqual(again.json(), { csrfToken });
      assert.equal(again.headers.get('set-cookie'), null, 'no Set-Cookie when asked again with the cookie');
    });

    it('ignores a forged csrf cookie and mints a new token', async () => {
      const client = new WebClient(sim.webUrl);
      client.cookies.set('next-auth.csrf-token', `${'a'.repeat(64)}%7C${'b'.repeat(64)}`);
      const response = await client.request('/api/auth/csrf');
      const { csrfToken } = z.object({ csrfToken: z.string() }).parse(response.json());
      assert.notEqual(csrfToken, 'a'.repeat(64));
      assert.ok(setCookieNamed(response, 'next-auth.csrf-token'));
    });
  });

  describe('POST /api/auth/signup', () => {
    it('creates user and tenant (active, 1000 cents, no container yet)', async () => {
      const { client } = await newUser(sim);
      const session = sessionSchema.parse((await client.request('/api/auth/session')).json());
      const tenant = await sim.control.tenant(session.user.tenantId);
      assert.equal(tenant.status, 'active');
      assert.equal(tenant.creditsCents, 1000);
      assert.equal(tenant.email, session.user.email);
    });

    it('answers 200 {"ok":true}, trims and lowercases the email and ignores extra fields', async () => {
      const client = new WebClient(sim.webUrl);
      const email = uniqueEmail();
      const response = await client.request('/api/auth/signup', {
        json: { email: `  ${email.toUpperCase()} `, password: PASSWORD, name: 'ignored', plan: 'pro' },
      });
      assert.equal(response.status, 200);
      assert.deepEqual(response.json(), { ok: true });
      assert.equal((await client.login(email, PASSWORD)).status, 200);
      assert.equal(sessionSchema.parse((await client.request('/api/auth/session')).json()).user.email, email);
    });

    it('refuses a form-encoded body with 400 Invalid JSON body', async () => {
      const client = new WebClient(sim.webUrl);
      const response = await client.request('/api/auth/signup', {
        form: { email: uniqueEmail(), password: PASSWORD },
      });
      assert.equal(response.status, 400);
      assert.deepEqual(response.json(), { error: 'Invalid JSON body' });
    });

    it('gives Zod 4 issues for a short or long password and a bad email', async () => {
      const client = new WebClient(sim.webUrl);
      const short = await client.signup(uniqueEmail(), 'seven77');
      assert.equal(short.status, 400);
      const body = z
        .object({
          error: z.literal('Invalid request body'),
          issues: z.array(z.record(z.string(), z.unknown())),
        })
        .parse(short.json());
      assert.equal(body.issues.length, 1);
      const { message, ...issue } = body.issues[0]!;
      assert.deepEqual(issue, {
        origin: 'string',
        code: 'too_small',
        minimum: 8,
        inclusive: true,
        path: ['password'],
      });
      assert.equal(typeof message, 'string');

      const long = await client.signup(uniqueEmail(), 'x'.repeat(73));
      assert.equal(long.status, 400);
      assert.match(long.text, /"code":"too_big","maximum":72/);
      assert.equal((await client.signup(uniqueEmail(), 'x'.repeat(72))).status, 200);
      const badEmail = await client.signup('not-an-email', PASSWORD);
      assert.equal(badEmail.status, 400);
      assert.match(badEmail.text, /"path":\["email"\]/);
    });

    it('checks Origin first: missing, null and foreign are 403; both loopback names pass', async () => {
      const client = new WebClient(sim.webUrl);
      const port = new URL(sim.webUrl).port;
      const missing = await client.request('/api/auth/signup', {
        json: { email: uniqueEmail() },
        origin: null,
      });
      assert.equal(missing.status, 403);
      assert.deepEqual(missing.json(), { error: 'Missing Origin header' });
      const nullOrigin = await client.request('/api/auth/signup', { json: {}, origin: 'null' });
      assert.deepEqual([nullOrigin.status, nullOrigin.json()], [403, { error: 'Missing Origin header' }]);
      const foreign = await client.request('/api/auth/signup', { json: {}, origin: 'https://evil.example' });
      assert.deepEqual([foreign.status, foreign.json()], [403, { error: 'Invalid Origin' }]);
      for (const origin of [`http://localhost:${port}`, `http://127.0.0.1:${port}`]) {
        const ok = await client.request('/api/auth/signup', {
          json: { email: uniqueEmail(), password: PASSWORD },
          origin,
        });
        assert.equal(ok.status, 200, `${origin}: ${ok.text}`);
      }
    });

    it('answers 409 for a taken email', async () => {
      const { email } = await newUser(sim);
      const again = await new WebClient(sim.webUrl).signup(email.toUpperCase(), 'other-password');
      assert.equal(again.status, 409);
      assert.deepEqual(again.json(), { error: 'An account with that email already exists' });
    });
  });

  describe('POST /api/auth/callback/credentials', () => {
    it('success: 200 {url} on the callbackUrl and an encrypted session cookie for 8 hours', async () => {
      const email = uniqueEmail();
      const client = new WebClient(sim.webUrl);
      await client.signup(email, PASSWORD);
      const response = await client.login(email, PASSWORD);
      assert.equal(response.status, 200);
      assert.deepEqual(response.json(), { url: `${sim.env.NEXTAUTH_URL}/dashboard` });
      const session = setCookieNamed(response, 'next-auth.session-token');
      assert.ok(session, 'session cookie set');
      assert.match(session.value, /^eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0\.\./, 'JWE dir + A256GCM');
      assert.equal(session.attributes.httponly, true);
      assert.equal(session.attributes.samesite, 'Lax');
      assert.equal(session.attributes.path, '/');
      const expires = Date.parse(String(session.attributes.expires));
      assert.ok(
        Math.abs(expires - (Date.now() + 8 * 3600_000)) < 60_000,
        `Expires +8 h, got ${session.attributes.expires}`,
      );
    });

    it('wrong password, unknown email and a short password: 401 CredentialsSignin, no session', async () => {
      const { email } = await newUser(sim);
      const expected = {
        url: `${sim.env.NEXTAUTH_URL}/api/auth/error?error=CredentialsSignin&provider=credentials`,
      };
      for (const [who, password] of [
        [email, 'wrong-password'],
        [uniqueEmail(), PASSWORD],
        [email, 'short'],
      ] as const) {
        const client = new WebClient(sim.webUrl);
        const response = await client.login(who, password);
        assert.equal(response.status, 401, `${who}/${password.length}`);
        assert.deepEqual(response.json(), expected);
        assert.equal(setCookieNamed(response, 'next-auth.session-token'), undefined);
      }
    });

    it('bad or missing CSRF: 200 {url: .../signin?csrf=true} and no session cookie', async () => {
      const { email } = await newUser(sim);
      const expected = { url: `${sim.env.NEXTAUTH_URL}/api/auth/signin?csrf=true` };
      const wrongToken = new WebClient(sim.webUrl);
      await wrongToken.csrfToken();
      const form = { csrfToken: 'f'.repeat(64), email, password: PASSWORD, json: 'true' };
      const bad = await wrongToken.request('/api/auth/callback/credentials', { form });
      assert.deepEqual([bad.status, bad.json()], [200, expected]);
      assert.equal(setCookieNamed(bad, 'next-auth.session-token'), undefined);

      const noCookie = new WebClient(sim.webUrl);
      const token = await new WebClient(sim.webUrl).csrfToken();
      const missing = await noCookie.request('/api/auth/callback/credentials', {
        form: { ...form, csrfToken: token },
      });
      assert.deepEqual([missing.status, missing.json()], [200, expected]);
      assert.equal(setCookieNamed(missing, 'next-auth.session-token'), undefined);
    });

    it('only a body field json="true" selects JSON; otherwise the same outcomes are 302 redirects', async () => {
      const { email } = await newUser(sim);
      const site = sim.env.NEXTAUTH_URL!;
      const viaQuery = new WebClient(sim.webUrl);
      const csrfToken = await viaQuery.csrfToken();
      const queried = await viaQuery.request('/api/auth/callback/credentials?json=true', {
        form: { csrfToken, email, password: PASSWORD, callbackUrl: '/dashboard' },
      });
      assert.equal(queried.status, 302);
      assert.equal(queried.headers.get('location'), `${site}/dashboard`);
      assert.ok(setCookieNamed(queried, 'next-auth.session-token'), 'redirect carries the session cookie');

      const boolean = new WebClient(sim.webUrl);
      const token = await boolean.csrfToken();
      const jsonBody = await boolean.request('/api/auth/callback/credentials', {
        json: { csrfToken: token, email, password: PASSWORD, json: true },
      });
      assert.equal(jsonBody.status, 302, 'a JSON boolean is not the string "true"');

      const wrong = await new WebClient(sim.webUrl).login(email, 'wrong-password', {});
      assert.equal(wrong.status, 302);
      assert.equal(
        wrong.headers.get('location'),
        `${site}/api/auth/error?error=CredentialsSignin&provider=credentials`,
      );
      const csrf = await new WebClient(sim.webUrl).request('/api/auth/callback/credentials', {
        form: { csrfToken: 'x', email, password: PASSWORD },
      });
      assert.equal(csrf.status, 302);
      assert.equal(csrf.headers.get('location'), `${site}/api/auth/signin?csrf=true`);
    });

    it('a foreign or missing callbackUrl gives the site root', async () => {
      const { email } = await newUser(sim);
      const site = sim.env.NEXTAUTH_URL!;
      const foreign = await new WebClient(sim.webUrl).login(email, PASSWORD, {
        json: 'true',
        callbackUrl: 'https://evil.example/steal',
      });
      assert.deepEqual(foreign.json(), { url: site });
      const missing = await new WebClient(sim.webUrl).login(email, PASSWORD, { json: 'true' });
      assert.deepEqual(missing.json(), { url: site });
    });
  });

  describe('GET /api/auth/session', () => {
    it('without a cookie: 200 {} and the csrf/callback cookies', async () => {
      const client = new WebClient(sim.webUrl);
      const response = await client.request('/api/auth/session');
      assert.deepEqual([response.status, response.json()], [200, {}]);
      assert.ok(setCookieNamed(response, 'next-auth.csrf-token'));
      assert.ok(setCookieNamed(response, 'next-auth.callback-url'));
    });

    it('with a garbage cookie: 200 {} and the cookie cleared with Max-Age=0', async () => {
      const client = new WebClient(sim.webUrl);
      client.cookies.set('next-auth.session-token', 'not-a-jwe');
      const response = await client.request('/api/auth/session');
      assert.deepEqual([response.status, response.json()], [200, {}]);
      const cleared = setCookieNamed(response, 'next-auth.session-token');
      assert.equal(cleared?.value, '');
      assert.equal(cleared?.attributes['max-age'], '0');
    });

    it('with a session: the user with tenantId, expires +8 h, and the cookie re-issued each call', async () => {
      const { client, email } = await newUser(sim);
      const before = client.cookie('next-auth.session-token');
      const response = await client.request('/api/auth/session');
      assert.equal(response.status, 200);
      const session = sessionSchema.parse(response.json());
      assert.deepEqual(Object.keys(session.user), [
        'name',
        'email',
        'image',
        'id',
        'tenantId',
        'isAdmin',
        'onboardingCompleted',
      ]);
      assert.equal(session.user.email, email);
      assert.match(session.user.id, UUID);
      assert.match(session.user.tenantId, UUID);
      assert.equal(session.user.isAdmin, false);
      assert.equal(session.user.onboardingCompleted, false);
      assert.ok(Math.abs(Date.parse(session.expires) - (Date.now() + 8 * 3600_000)) < 60_000);
      const reissued = setCookieNamed(response, 'next-auth.session-token');
      assert.ok(reissued && reissued.value !== before, 'session cookie re-issued');
      assert.equal(
        Date.parse(String(reissued.attributes.expires)),
        Math.floor(Date.parse(session.expires) / 1000) * 1000,
      );
      const again = sessionSchema.parse((await client.request('/api/auth/session')).json());
      assert.equal(again.user.id, session.user.id, 'the re-issued cookie is a valid session');
    });
  });

  describe('NextAuth side routes', () => {
    it('providers, sign-in page redirect, inline sign-in errors and sign-out', async () => {
      const site = sim.env.NEXTAUTH_URL!;
      const client = new WebClient(sim.webUrl);
      const providers = await client.request('/api/auth/providers');
      assert.equal(providers.status, 200);
      assert.deepEqual(Object.keys(z.record(z.string(), z.unknown()).parse(providers.json())).sort(), [
        'credentials',
        'google',
      ]);
      const signin = await client.request('/api/auth/signin?csrf=true');
      assert.equal(signin.status, 302);
      assert.equal(signin.headers.get('location'), `${site}/login?callbackUrl=${encodeURIComponent(site)}`);
      const error = await client.request('/api/auth/error?error=CredentialsSignin');
      assert.equal(error.status, 302);
      assert.equal(error.headers.get('location'), `${site}/api/auth/signin?error=CredentialsSignin`);

      const { client: user } = await newUser(sim);
      const refused = await user.request('/api/auth/signout', { form: { csrfToken: 'nope', json: 'true' } });
      assert.deepEqual(refused.json(), { url: `${site}/api/auth/signout?csrf=true` });
      assert.ok(user.cookie('next-auth.session-token'), 'a refused sign-out keeps the session');
      const csrfToken = await user.csrfToken();
      const out = await user.request('/api/auth/signout', { form: { csrfToken, json: 'true' } });
      assert.equal(out.status, 200);
      assert.equal(setCookieNamed(out, 'next-auth.session-token')?.attributes['max-age'], '0');
      assert.deepEqual((await user.request('/api/auth/session')).json(), {});
    });
  });

  describe('POST /api/chat', () => {
    it('without a session: 307 to the absolute login URL, as a text body', async () => {
      const client = new WebClient(sim.webUrl);
      const response = await client.request('/api/chat', { json: { message: 'hi' } });
      const location = `${sim.webUrl}/login?callbackUrl=%2Fapi%2Fchat`;
      assert.equal(response.status, 307);
      assert.equal(response.headers.get('location'), location);
      assert.match(String(response.headers.get('content-type')), /^text\/plain/);
      assert.equal(response.text, location);
    });

    it('with a session: 200 {conversationId, message: {role: assistant, content}} from the API', async () => {
      const { client } = await onboardedUser(sim);
      const first = await client.request('/api/chat', { json: { message: 'hello there' } });
      assert.equal(first.status, 200, first.text);
      const answer = z
        .object({
          conversationId: z.string(),
          message: z.object({ role: z.literal('assistant'), content: z.string() }),
        })
        .strict()
        .parse(first.json());
      assert.match(answer.conversationId, UUID);
      assert.ok(answer.message.content.length > 0);
      const second = await client.request('/api/chat', {
        json: {
          message: 'and again',
          conversationId: answer.conversationId,
          model: 'openai/gpt-4.1-mini',
          stream: true,
        },
      });
      assert.equal(second.status, 200, second.text);
      assert.equal(
        z.object({ conversationId: z.string() }).parse(second.json()).conversationId,
        answer.conversationId,
      );
    });

    it('checks Origin after the session: missing and foreign are 403', async () => {
      const { client } = await onboardedUser(sim);
      const missing = await client.request('/api/chat', { json: { message: 'hi' }, origin: null });
      assert.deepEqual([missing.status, missing.json()], [403, { error: 'Missing Origin header' }]);
      const foreign = await client.request('/api/chat', {
        json: { message: 'hi' },
        origin: 'http://evil.example',
      });
      assert.deepEqual([foreign.status, foreign.json()], [403, { error: 'Invalid Origin' }]);
      // The Origin check comes before the body check.
      const both = await client.request('/api/chat', { body: 'not json', origin: null });
      assert.equal(both.status, 403);
    });

    it('bad bodies: 400 Invalid JSON body or Zod issues', async () => {
      const { client } = await onboardedUser(sim);
      const notJson = await client.request('/api/chat', {
        body: 'message=hi',
        headers: { 'content-type': 'text/plain' },
      });
      assert.deepEqual([notJson.status, notJson.json()], [400, { error: 'Invalid JSON body' }]);
      for (const body of [
        { message: '' },
        { message: 'x'.repeat(4001) },
        { message: 'hi', conversationId: 'not-a-uuid' },
        { message: 'hi', enabledTools: Array.from({ length: 21 }, (_, i) => `tool${i}`) },
        { message: 'hi', stream: 'yes' },
      ]) {
        const response = await client.request('/api/chat', { json: body });
        assert.equal(response.status, 400, JSON.stringify(body).slice(0, 80));
        const parsed = z
          .object({
            error: z.literal('Invalid request body'),
            issues: z.array(z.object({ code: z.string(), path: z.array(z.unknown()) })).min(1),
          })
          .parse(response.json());
        assert.ok(parsed.issues.length >= 1);
      }
    });

    it('GET is 405', async () => {
      const { client } = await onboardedUser(sim);
      const response = await client.request('/api/chat');
      assert.equal(response.status, 405);
    });

    it('API failing (credits exhausted, inbound errors): 500 Failed to generate assistant response', async () => {
      const { client } = await onboardedUser(sim);
      await sim.control.setFaults({ credits: { exhausted: true } });
      try {
        const response = await client.request('/api/chat', { json: { message: 'hi' } });
        assert.deepEqual(
          [response.status, response.json()],
          [500, { error: 'Failed to generate assistant response' }],
        );
      } finally {
        await sim.control.clearFaults();
      }
      await sim.control.setFaults({ routes: { inbound: { errorRate: 1 } } });
      try {
        const response = await client.request('/api/chat', { json: { message: 'hi' } });
        assert.equal(response.status, 500);
      } finally {
        await sim.control.clearFaults();
      }
      assert.equal((await client.request('/api/chat', { json: { message: 'hi' } })).status, 200);
    });
  });

  describe('POST /api/onboarding and the pages', () => {
    it('sets onboarding_complete=1 and marks the user', async () => {
      const { client } = await newUser(sim);
      const missing = await client.request('/api/onboarding', { json: { completed: true }, origin: null });
      assert.equal(missing.status, 403);
      const bad = await client.request('/api/onboarding', { json: { completed: 'yes' } });
      assert.equal(bad.status, 400);
      const response = await client.request('/api/onboarding', { json: { completed: true } });
      assert.equal(response.status, 200);
      const cookie = setCookieNamed(response, 'onboarding_complete');
      assert.equal(cookie?.value, '1');
      assert.equal(cookie?.attributes.path, '/');
      assert.equal(cookie?.attributes.httponly, undefined, 'readable by page scripts');
      const session = sessionSchema.parse((await client.request('/api/auth/session')).json());
      assert.equal(session.user.onboardingCompleted, true);
      const anonymous = await new WebClient(sim.webUrl).request('/api/onboarding', {
        json: { completed: true },
      });
      assert.equal(anonymous.status, 307);
    });

    it('/signup redirects to /login; /login offers only "Continue with Google"', async () => {
      const client = new WebClient(sim.webUrl);
      const signup = await client.request('/signup');
      assert.equal(signup.status, 307);
      assert.equal(signup.headers.get('location'), `${sim.webUrl}/login`);
      const login = await client.request('/login');
      assert.equal(login.status, 200);
      assert.match(login.text, /Continue with Google/);
      assert.doesNotMatch(login.text, /<form|type="password"|name="email"/i);
    });

    it('protected pages without a session: 307 to login with the callbackUrl', async () => {
      const client = new WebClient(sim.webUrl);
      for (const path of ['/dashboard/chat', '/dashboard', '/onboarding', '/chat']) {
        const response = await client.request(path);
        assert.equal(response.status, 307, path);
        assert.equal(
          response.headers.get('location'),
          `${sim.webUrl}/login?callbackUrl=${encodeURIComponent(path)}`,
        );
      }
    });

    it('a logged-in user who has not finished onboarding is sent to /onboarding from every page', async () => {
      const { client } = await newUser(sim);
      for (const path of ['/', '/login', '/dashboard', '/dashboard/chat']) {
        const response = await client.request(path);
        assert.equal(response.status, 307, path);
        assert.equal(response.headers.get('location'), `${sim.webUrl}/onboarding`, path);
      }
      assert.equal((await client.request('/onboarding')).status, 200);
    });

    it('onboarded: /dashboard -> /dashboard/chat, whose HTML has the agent choice but no textarea; /chat is 404', async () => {
      const { client } = await onboardedUser(sim);
      const dashboard = await client.request('/dashboard');
      assert.equal(dashboard.status, 307);
      assert.equal(dashboard.headers.get('location'), `${sim.webUrl}/dashboard/chat`);
      const chat = await client.request('/dashboard/chat');
      assert.equal(chat.status, 200);
      assert.match(String(chat.headers.get('content-type')), /^text\/html/);
      assert.match(chat.text, /Choose an AI Agent to get started/);
      assert.match(chat.text, /General Chat/);
      assert.doesNotMatch(chat.text, /<textarea/, 'the textarea is rendered client-side');
      assert.match(chat.text, /Send a message\.\.\./, 'the client script renders it');
      assert.equal((await client.request('/chat')).status, 404);
    });
  });

  describe('fault injection per route family, switched at run time', () => {
    it('auth: errors give the signup contract error, then clear', async () => {
      const client = new WebClient(sim.webUrl);
      await sim.control.setFaults({ routes: { auth: { errorRate: 1 } } });
      try {
        const failed = await client.signup(uniqueEmail(), PASSWORD);
        assert.deepEqual([failed.status, failed.json()], [500, { error: 'Signup failed' }]);
        assert.equal((await client.request('/api/auth/csrf')).status, 500);
      } finally {
        await sim.control.clearFaults();
      }
      assert.equal((await client.signup(uniqueEmail(), PASSWORD)).status, 200);
      const stats = await sim.control.stats();
      assert.ok((stats.faults.auth?.errors ?? 0) >= 2);
    });

    it('auth: connection resets and added delay', async () => {
      const client = new WebClient(sim.webUrl);
      await sim.control.setFaults({ routes: { auth: { resetRate: 1 } } });
      try {
        await assert.rejects(client.request('/api/auth/csrf'));
      } finally {
        await sim.control.clearFaults();
      }
      await sim.control.setFaults({ routes: { auth: { delayMs: 300 } } });
      try {
        const slow = await client.request('/api/auth/csrf');
        assert.equal(slow.status, 200);
        assert.ok(slow.ms >= 280, `delayed ${slow.ms} ms`);
      } finally {
        await sim.control.clearFaults();
      }
    });

    it('auth.csrfRefuse: a valid CSRF token is refused until switched off', async () => {
      const { email } = await newUser(sim);
      await sim.control.patchFaults({ auth: { csrfRefuse: true } });
      try {
        const refused = await new WebClient(sim.webUrl).login(email, PASSWORD);
        assert.deepEqual(refused.json(), { url: `${sim.env.NEXTAUTH_URL}/api/auth/signin?csrf=true` });
        assert.equal(setCookieNamed(refused, 'next-auth.session-token'), undefined);
      } finally {
        await sim.control.clearFaults();
      }
      assert.equal((await new WebClient(sim.webUrl).login(email, PASSWORD)).status, 200);
    });

    it('auth.extraCpuMs: logins of a known email take the extra modelled CPU', async () => {
      const { email } = await newUser(sim);
      await sim.control.patchFaults({ auth: { extraCpuMs: 400 } });
      try {
        const slow = await new WebClient(sim.webUrl).login(email, PASSWORD);
        assert.equal(slow.status, 200);
        assert.ok(slow.ms >= 380, `login took ${slow.ms} ms`);
        const unknown = await new WebClient(sim.webUrl).login(uniqueEmail(), PASSWORD);
        assert.ok(unknown.ms < slow.ms / 2, 'unknown email skips the CPU work');
      } finally {
        await sim.control.clearFaults();
      }
    });

    it('chat: errors, malformed bodies and resets, then healthy again', async () => {
      const { client } = await onboardedUser(sim);
      await sim.control.setFaults({ routes: { chat: { errorRate: 1 } } });
      try {
        const failed = await client.request('/api/chat', { json: { message: 'hi' } });
        assert.deepEqual(
          [failed.status, failed.json()],
          [500, { error: 'Failed to generate assistant response' }],
        );
      } finally {
        await sim.control.clearFaults();
      }
      await sim.control.setFaults({
        routes: { chat: { malformedRate: 1, malformedKind: 'truncated-json' } },
      });
      try {
        const broken = await client.request('/api/chat', { json: { message: 'hi' } });
        assert.equal(broken.status, 200);
        assert.throws(() => broken.json());
      } finally {
        await sim.control.clearFaults();
      }
      await sim.control.setFaults({ routes: { chat: { resetRate: 1 } } });
      try {
        await assert.rejects(client.request('/api/chat', { json: { message: 'hi' } }));
      } finally {
        await sim.control.clearFaults();
      }
      assert.equal((await client.request('/api/chat', { json: { message: 'hi' } })).status, 200);
    });

    it('onboarding and pages: errors and slow bodies', async () => {
      const { client } = await onboardedUser(sim);
      await sim.control.setFaults({
        routes: { onboarding: { errorRate: 1, errorStatus: 503 }, pages: { errorRate: 1 } },
      });
      try {
        assert.equal((await client.request('/api/onboarding', { json: { completed: true } })).status, 503);
        const page = await client.request('/dashboard/chat');
        assert.equal(page.status, 500);
        assert.match(page.text, /Internal Server Error/);
      } finally {
        await sim.control.clearFaults();
      }
      await sim.control.setFaults({ routes: { pages: { slowBodyMs: 400 } } });
      try {
        const slow = await client.request('/dashboard/chat');
        assert.equal(slow.status, 200);
        assert.ok(slow.ms >= 300, `body trickled over ${slow.ms} ms`);
        assert.match(slow.text, /Choose an AI Agent to get started/);
      } finally {
        await sim.control.clearFaults();
      }
      assert.equal((await client.request('/dashboard/chat')).status, 200);
    });

    it('every web family x every route fault kind, each switched on and off at run time', async () => {
      const chatUser = await onboardedUser(sim);
      const onboardingUser = await onboardedUser(sim);
      const pagesUser = await onboardedUser(sim);
      const families: [RouteFamily, () => Promise<WebResponse>][] = [
        ['auth', () => new WebClient(sim.webUrl).request('/api/auth/csrf')],
        ['chat', () => chatUser.client.request('/api/chat', { json: { message: 'hi' } })],
        ['onboarding', () => onboardingUser.client.request('/api/onboarding', { json: { completed: true } })],
        ['pages', () => pagesUser.client.request('/dashboard/chat')],
      ];
      const kinds: [string, RouteFault, (response: WebResponse) => void][] = [
        ['error', { errorRate: 1, errorStatus: 503 }, (r) => assert.equal(r.status, 503)],
        [
          'malformed html',
          { malformedRate: 1, malformedKind: 'html' },
          (r) => {
            assert.equal(r.status, 502);
            assert.match(String(r.headers.get('content-type')), /^text\/html/);
          },
        ],
        ['malformed empty', { malformedRate: 1, malformedKind: 'empty' }, (r) => assert.equal(r.text, '')],
        [
          'delay',
          { delayMs: 250 },
          (r) => assert.ok(r.status === 200 && r.ms >= 240, `${r.status} in ${r.ms} ms`),
        ],
        [
          'slow body',
          { slowBodyMs: 300 },
          (r) => assert.ok(r.status === 200 && r.ms >= 250, `${r.status} in ${r.ms} ms`),
        ],
      ];
      for (const [family, call] of families) {
        assert.equal((await call()).status, 200, `${family} healthy`);
        for (const [kind, fault, check] of kinds) {
          await sim.control.setFaults({ routes: { [family]: fault } });
          try {
            check(await call());
          } catch (error) {
            assert.fail(`${family} / ${kind}: ${error instanceof Error ? error.message : String(error)}`);
          } finally {
            await sim.control.clearFaults();
          }
          assert.equal((await call()).status, 200, `${family} healthy again after ${kind}`);
        }
        await sim.control.setFaults({ routes: { [family]: { resetRate: 1 } } });
        try {
          await assert.rejects(call(), `${family} reset`);
        } finally {
          await sim.control.clearFaults();
        }
        assert.equal((await call()).status, 200, `${family} healthy again after reset`);
      }
      const counted = (await sim.control.stats()).faults;
      for (const [family] of families) {
        const c = counted[family];
        assert.ok(
          c && c.errors >= 1 && c.malformed >= 2 && c.resets >= 1 && c.delayed >= 1,
          `${family} counted`,
        );
      }
    });

    it('records ground truth under the web route names', async () => {
      const stats = await sim.control.stats();
      for (const route of [
        'web.csrf',
        'web.signup',
        'web.callback',
        'web.session',
        'web.chat',
        'web.onboarding',
        'web.pages',
      ]) {
        assert.ok((stats.routes[route]?.count ?? 0) > 0, `${route} recorded`);
      }
      assert.ok((stats.routes['web.chat']?.status['307'] ?? 0) > 0);
      assert.ok(stats.accounts.signups > 0 && stats.accounts.logins > 0 && stats.accounts.loginFailures > 0);
      assert.ok(stats.chat.messages > 0);
    });
  });

  describe('auth timing paths (modelled CPU)', () => {
    let original: LatencySettings;
    before(async () => {
      original = await sim.control.getLatency();
    });
    after(async () => {
      await sim.control.patchLatency({ models: original.models, timeScale: original.timeScale });
    });

    it('logins and signups queue for the modelled cores; unknown email and CSRF failure do not', async () => {
      const { email } = await newUser(sim);
      const jobMs = 300;
      await sim.control.patchLatency({
        models: { ...original.models, authCpu: { kind: 'fixed', ms: jobMs }, authCores: 1 },
      });
      // CSRF tokens first, so that the three logins reach the CPU queue together.
      const clients = Array.from({ length: 3 }, () => new WebClient(sim.webUrl));
      const tokens = await Promise.all(clients.map((client) => client.csrfToken()));
      const logins = await Promise.all(
        clients.map((client, i) =>
          client.request('/api/auth/callback/credentials', {
            form: { csrfToken: tokens[i]!, email, password: 'wrong-password', json: 'true' },
          }),
        ),
      );
      const times = logins.map((response) => response.ms).sort((a, b) => a - b);
      assert.ok(logins.every((response) => response.status === 401));
      assert.ok(times[0]! >= jobMs - 10, `first login ${times[0]} ms`);
      assert.ok(
        times[2]! >= 3 * jobMs - 150,
        `3 logins on 1 core: the last waited for the others (${times[2]} ms)`,
      );

      const duplicate = await new WebClient(sim.webUrl).signup(email, PASSWORD);
      assert.equal(duplicate.status, 409);
      assert.ok(duplicate.ms >= jobMs - 10, `a 409 costs a hash (${duplicate.ms} ms)`);

      const unknown = await new WebClient(sim.webUrl).login(uniqueEmail(), PASSWORD);
      assert.equal(unknown.status, 401);
      // Compared with a known email's login measured the same way, on whatever the machine carries.
      const known = await new WebClient(sim.webUrl).login(email, 'wrong-password');
      assert.equal(known.status, 401);
      assert.ok(
        unknown.ms < known.ms / 2,
        `unknown email skips the CPU queue (${unknown.ms} vs ${known.ms} ms)`,
      );
      const csrfFailure = await new WebClient(sim.webUrl).request('/api/auth/callback/credentials', {
        form: { csrfToken: 'nope', email, password: PASSWORD, json: 'true' },
      });
      assert.equal(csrfFailure.status, 200);
      assert.ok(
        csrfFailure.ms < known.ms / 2,
        `a CSRF failure skips the CPU queue (${csrfFailure.ms} vs ${known.ms} ms)`,
      );
    });
  });
});

describe('simulator web app (realistic profile)', () => {
  let sim: SimulatorHandle;
  before(async () => {
    sim = await startSimulator({ profile: 'realistic' });
  });
  after(async () => {
    await sim?.stop();
  });

  it('known email costs bcrypt time, unknown email and CSRF failure are fast', async () => {
    const email = uniqueEmail();
    const signup = await new WebClient(sim.webUrl).signup(email, PASSWORD);
    assert.equal(signup.status, 200);
    // bcrypt(12): ~425 ms median on the real app (2 vCPUs), up to ~600 ms.
    assert.ok(signup.ms >= 250, `signup ${signup.ms} ms`);
    const known: number[] = [];
    const unknown: number[] = [];
    const csrf: number[] = [];
    for (let i = 0; i < 3; i++) {
      const wrong = await new WebClient(sim.webUrl).login(email, 'wrong-password');
      assert.equal(wrong.status, 401);
      known.push(wrong.ms);
      unknown.push((await new WebClient(sim.webUrl).login(uniqueEmail(), PASSWORD)).ms);
      const refused = await new WebClient(sim.webUrl).request('/api/auth/callback/credentials', {
        form: { csrfToken: 'nope', email, password: PASSWORD, json: 'true' },
      });
      assert.equal(refused.status, 200);
      csrf.push(refused.ms);
    }
    assert.ok(median(known) >= 250, `known email median ${median(known)} ms`);
    assert.ok(median(unknown) < median(known) / 2, `unknown ${median(unknown)} vs known ${median(known)}`);
    assert.ok(median(csrf) < median(known) / 2, `csrf failure ${median(csrf)} vs known ${median(known)}`);
    const stats = await sim.control.stats();
    assert.ok((stats.routes['web.callback']?.latencyMs.max ?? 0) >= 250);
  });
});

describe('simulator web app (secure cookie names)', () => {
  let sim: SimulatorHandle;
  before(async () => {
    sim = await startSimulator({ args: ['--cookie-mode', 'secure'] });
  });
  after(async () => {
    await sim?.stop();
  });

  it('uses __Host-/__Secure- names, all Secure', async () => {
    const email = uniqueEmail();
    const client = new WebClient(sim.webUrl);
    const csrf = await client.request('/api/auth/csrf');
    for (const name of ['__Host-next-auth.csrf-token', '__Secure-next-auth.callback-url']) {
      const cookie = setCookieNamed(csrf, name);
      assert.ok(cookie, name);
      assert.equal(cookie.attributes.secure, true, `${name} Secure`);
      assert.equal(cookie.attributes.path, '/');
    }
    assert.equal(setCookieNamed(csrf, 'next-auth.csrf-token'), undefined);
    await client.signup(email, PASSWORD);
    const login = await client.login(email, PASSWORD);
    assert.equal(login.status, 200);
    const session = setCookieNamed(login, '__Secure-next-auth.session-token');
    assert.equal(session?.attributes.secure, true);
    const read = await client.request('/api/auth/session');
    assert.equal(sessionSchema.parse(read.json()).user.email, email);
  });

  it('over plain http every protected route answers 307 to login even with a valid session', async () => {
    const email = uniqueEmail();
    const client = new WebClient(sim.webUrl);
    await client.signup(email, PASSWORD);
    assert.equal((await client.login(email, PASSWORD)).status, 200);
    assert.ok(client.cookie('__Secure-next-auth.session-token'));
    for (const [path, options] of [
      ['/api/chat', { json: { message: 'hi' } }],
      ['/api/onboarding', { json: { completed: true } }],
      ['/dashboard/chat', {}],
    ] as const) {
      const response = await client.request(path, options);
      assert.equal(response.status, 307, path);
      assert.equal(
        response.headers.get('location'),
        `${sim.webUrl}/login?callbackUrl=${encodeURIComponent(path)}`,
      );
    }
  });
});

describe('simulator web app (NEXTAUTH_URL names localhost, asked as 127.0.0.1)', () => {
  let sim: SimulatorHandle;
  before(async () => {
    sim = await startSimulator({ args: ['--nextauth-host', 'localhost'] });
  });
  after(async () => {
    await sim?.stop();
  });

  it('prints NEXTAUTH_URL on localhost with the web port, beside the 127.0.0.1 address it serves', () => {
    const web = new URL(sim.webUrl);
    assert.equal(web.hostname, '127.0.0.1');
    assert.equal(sim.nextauthUrl, `http://localhost:${web.port}`);
  });

  it('every redirect names the NEXTAUTH_URL host, not the Host header', async () => {
    const site = sim.nextauthUrl;
    const anonymous = new WebClient(sim.webUrl);
    const chat = await anonymous.request('/api/chat', { json: { message: 'hi' } });
    assert.equal(chat.status, 307);
    assert.equal(chat.headers.get('location'), `${site}/login?callbackUrl=%2Fapi%2Fchat`);
    assert.equal(chat.text, `${site}/login?callbackUrl=%2Fapi%2Fchat`);
    const page = await anonymous.request('/dashboard/chat');
    assert.equal(page.headers.get('location'), `${site}/login?callbackUrl=%2Fdashboard%2Fchat`);
    assert.equal((await anonymous.request('/signup')).headers.get('location'), `${site}/login`);

    const { client } = await newUser(sim);
    const onboarding = await client.request('/dashboard');
    assert.equal(onboarding.headers.get('location'), `${site}/onboarding`);
    assert.equal((await client.request('/api/onboarding', { json: { completed: true } })).status, 200);
    assert.equal((await client.request('/dashboard')).headers.get('location'), `${site}/dashboard/chat`);
  });

  it('callback URLs and the callback cookie name NEXTAUTH_URL too; both loopback Origins pass', async () => {
    const site = sim.nextauthUrl;
    const email = uniqueEmail();
    const client = new WebClient(sim.webUrl);
    const csrf = await client.request('/api/auth/csrf');
    assert.equal(setCookieNamed(csrf, 'next-auth.callback-url')?.value, encodeURIComponent(site));
    assert.equal(
      (await client.request('/api/auth/signup', { json: { email, password: PASSWORD }, origin: site }))
        .status,
      200,
    );
    const login = await client.login(email, PASSWORD);
    assert.deepEqual(login.json(), { url: `${site}/dashboard` });
    const redirected = await client.login(email, PASSWORD, { callbackUrl: '/dashboard' });
    assert.equal(redirected.status, 302);
    assert.equal(redirected.headers.get('location'), `${site}/dashboard`);
  });
});

describe('simulator web app (default NEXTAUTH_URL, asked as localhost)', () => {
  let sim: SimulatorHandle;
  before(async () => {
    sim = await startSimulator();
  });
  after(async () => {
    await sim?.stop();
  });

  it('redirects name the printed NEXTAUTH_URL (127.0.0.1), not the localhost the client dialled', async () => {
    assert.equal(sim.nextauthUrl, sim.webUrl);
    const asLocalhost = new URL(sim.webUrl);
    asLocalhost.hostname = 'localhost';
    const response = await new WebClient(asLocalhost.origin).request('/api/chat', {
      json: { message: 'hi' },
    });
    assert.equal(response.status, 307);
    assert.equal(response.headers.get('location'), `${sim.nextauthUrl}/login?callbackUrl=%2Fapi%2Fchat`);
  });
});

describe('simulator web app (rate limit)', () => {
  let sim: SimulatorHandle;
  before(async () => {
    sim = await startSimulator({ args: ['--rate-limit', '3', '--rate-limit-window', '2s'] });
  });
  after(async () => {
    await sim?.stop();
  });

  it('limits /api/* per user in a fixed window, auth routes never; 429 alone carries the headers', async () => {
    const { client } = await newUser(sim);
    for (let i = 0; i < 5; i++) assert.equal((await client.request('/api/auth/session')).status, 200);
    const first = await client.request('/api/onboarding', { json: { completed: true } });
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('x-ratelimit-limit'), null, 'no rate-limit headers below the limit');
    assert.equal((await client.request('/api/chat', { json: { message: 'one' } })).status, 200);
    assert.equal((await client.request('/api/chat', { json: { message: 'two' } })).status, 200);
    const limited = await client.request('/api/chat', { json: { message: 'three' } });
    assert.equal(limited.status, 429);
    assert.deepEqual(limited.json(), { error: 'Too many requests' });
    assert.equal(limited.headers.get('x-ratelimit-limit'), '3');
    assert.equal(limited.headers.get('x-ratelimit-remaining'), '0');
    const retryAfter = Number(limited.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 2, `Retry-After ${retryAfter}`);
    // The limiter comes before the Origin check, and other users have their own window.
    assert.equal((await client.request('/api/chat', { json: { message: 'x' }, origin: null })).status, 429);
    const other = await newUser(sim);
    assert.equal((await other.client.request('/api/onboarding', { json: { completed: true } })).status, 200);
    // Unauthenticated requests are redirected before the limiter.
    assert.equal(
      (await new WebClient(sim.webUrl).request('/api/chat', { json: { message: 'x' } })).status,
      307,
    );
    assert.equal((await client.request('/api/auth/session')).status, 200, 'auth routes are never limited');
    // The next window opens within Retry-After: poll for it instead of sleeping a guessed time.
    const limitedAt = Date.now();
    let later = await client.request('/api/chat', { json: { message: 'later' } });
    while (later.status === 429 && Date.now() - limitedAt < retryAfter * 1000 + 10_000) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      later = await client.request('/api/chat', { json: { message: 'later' } });
    }
    assert.equal(later.status, 200);
    assert.ok((await sim.control.stats()).chat.rateLimited >= 2);
  });
});

describe('web chat against a misbehaving API (in process)', () => {
  let fakeApi: Server;
  let inboundAnswer: unknown = {};
  let startStatus = 405;
  const received: { path: string; key: string | undefined; body: string }[] = [];

  before(async () => {
    fakeApi = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      request.on('end', () => {
        received.push({ path: request.url ?? '', key: request.headers['x-service-api-key'] as string, body });
        if (request.url === '/api/channels/inbound') {
          response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(inboundAnswer));
        } else if (request.url?.endsWith('/start')) {
          response.writeHead(startStatus, { 'content-type': 'application/json' }).end('{}');
        } else if (request.url?.endsWith('/resume')) {
          response
            .writeHead(500, { 'content-type': 'application/json' })
            .end('{"error":"failed to resume tenant"}');
        } else {
          response.writeHead(405, { allow: 'GET, HEAD' }).end();
        }
      });
    });
    await new Promise<void>((resolve) => fakeApi.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    await new Promise((resolve) => fakeApi.close(resolve));
  });

  async function harness(apiUrl: string) {
    // No rate limit here: the property test below sends hundreds of requests as one user.
    const ctx = createContext(defaultOptions({ rateLimit: 1_000_000 }));
    ctx.urls.web = 'http://127.0.0.1:3000';
    ctx.urls.nextauth = ctx.urls.web;
    ctx.urls.api = apiUrl;
    const app = buildWebApp(ctx);
    await app.ready();
    const { user } = ctx.state.createUserWithTenant(uniqueEmail(), 'unused');
    user.onboardingCompleted = true;
    const codec = new SessionTokenCodec(ctx.secrets.nextauthSecret);
    const claims = {
      name: null,
      email: user.email,
      picture: null,
      sub: user.id,
      userId: user.id,
      isAdmin: false,
    };
    const withTenant = await codec.encode({ ...claims, tenantId: user.tenantId });
    const withoutTenant = await codec.encode({ ...claims, tenantId: '' });
    const chat = (token: string) =>
      app.inject({
        method: 'POST',
        url: '/api/chat',
        headers: {
          host: '127.0.0.1:3000',
          origin: 'http://127.0.0.1:3000',
          'content-type': 'application/json',
          cookie: `next-auth.session-token=${token}`,
        },
        payload: JSON.stringify({ message: 'hi', conversationId: randomUUID() }),
      });
    const signup = (email: string) =>
      app.inject({
        method: 'POST',
        url: '/api/auth/signup',
        headers: {
          host: '127.0.0.1:3000',
          origin: 'http://127.0.0.1:3000',
          'content-type': 'application/json',
        },
        payload: JSON.stringify({ email, password: PASSWORD }),
      });
    return {
      ctx,
      app,
      withTenant,
      withoutTenant,
      chat,
      signup,
      tenantId: user.tenantId,
      serviceKey: ctx.secrets.serviceApiKey,
    };
  }

  const fakeApiUrl = () => `http://127.0.0.1:${(fakeApi.address() as AddressInfo).port}`;

  it('signup asks the API to start the container: /start, then /resume only on 404; failures only logged', async () => {
    const { app, ctx, signup, serviceKey } = await harness(fakeApiUrl());
    for (const [status, expected] of [
      [405, ['start']],
      [404, ['start', 'resume']],
      [200, ['start']],
    ] as const) {
      startStatus = status;
      received.length = 0;
      const email = uniqueEmail();
      const response = await signup(email);
      assert.deepEqual([response.statusCode, response.json()], [200, { ok: true }], `start ${status}`);
      const tenantId = ctx.state.findUserByEmail(email)?.tenantId;
      assert.deepEqual(
        received.map((r) => r.path),
        expected.map((step) => `/api/tenants/${tenantId}/${step}`),
        `start ${status}`,
      );
      assert.ok(received.every((r) => r.key === serviceKey));
    }
    await app.close();
    const unreachable = await harness('http://127.0.0.1:1');
    assert.equal(
      (await unreachable.signup(uniqueEmail())).statusCode,
      200,
      'an unreachable API does not fail signup',
    );
    await unreachable.app.close();
  });

  it('a session without a tenant is 401 Unauthorized', async () => {
    const { app, withoutTenant, chat } = await harness(fakeApiUrl());
    const response = await chat(withoutTenant);
    assert.deepEqual([response.statusCode, response.json()], [401, { error: 'Unauthorized' }]);
    await app.close();
  });

  it('calls /inbound/stream then /inbound with the service key; incomplete answers are 502', async () => {
    received.length = 0;
    inboundAnswer = { tenant_id: 'x', channel: 'web' };
    const { app, withTenant, chat, tenantId, serviceKey } = await harness(fakeApiUrl());
    const incomplete = await chat(withTenant);
    assert.deepEqual(
      [incomplete.statusCode, incomplete.json()],
      [502, { error: 'Channel router returned incomplete response' }],
    );
    assert.deepEqual(
      received.map((r) => r.path),
      ['/api/channels/inbound/stream', '/api/channels/inbound'],
    );
    assert.ok(received.every((r) => r.key === serviceKey));
    const sent = z
      .object({
        tenant_id: z.string(),
        content: z.string(),
        channel: z.string(),
        metadata: z.record(z.string(), z.string()),
      })
      .parse(JSON.parse(received[1]!.body));
    assert.equal(sent.tenant_id, tenantId);
    assert.equal(sent.channel, 'web');
    assert.match(sent.metadata.conversation_id ?? '', UUID);

    inboundAnswer = { content: '  answer  ' };
    const fallback = await chat(withTenant);
    assert.equal(fallback.statusCode, 200, 'the request conversationId fills a missing one');
    assert.equal(
      z.object({ message: z.object({ content: z.string() }) }).parse(fallback.json()).message.content,
      'answer',
    );
    await app.close();
  });

  it('arbitrary request bodies get contract answers, never a server error', async () => {
    inboundAnswer = { content: 'ok', conversation_id: randomUUID() };
    const { app, withTenant } = await harness(fakeApiUrl());
    const routes: [string, string | undefined, number[]][] = [
      ['/api/auth/signup', undefined, [200, 400, 409]],
      ['/api/auth/callback/credentials', undefined, [200, 302, 401]],
      ['/api/chat', withTenant, [200, 400]],
      ['/api/onboarding', withTenant, [200, 400]],
    ];
    const contentTypes = ['application/json', 'application/x-www-form-urlencoded', 'text/plain', undefined];
    const bodies = fc.oneof(
      fc.string(),
      fc.json(),
      fc
        .dictionary(
          fc.constantFrom('email', 'password', 'message', 'json', 'completed', 'conversationId'),
          fc.jsonValue(),
        )
        .map((value) => JSON.stringify(value)),
    );
    for (const [url, token, allowed] of routes) {
      await fc.assert(
        fc.asyncProperty(bodies, fc.constantFrom(...contentTypes), async (payload, contentType) => {
          const response = await app.inject({
            method: 'POST',
            url,
            headers: {
              host: '127.0.0.1:3000',
              origin: 'http://127.0.0.1:3000',
              ...(contentType ? { 'content-type': contentType } : {}),
              ...(token ? { cookie: `next-auth.session-token=${token}` } : {}),
            },
            payload,
          });
          assert.ok(
            allowed.includes(response.statusCode),
            `${url} ${contentType}: ${response.statusCode} ${response.body}`,
          );
        }),
        { numRuns: 150 },
      );
    }
    await app.close();
  });

  it('an unreachable API is 500 Failed to generate assistant response', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const { app, withTenant, chat } = await harness(`http://127.0.0.1:${port}`);
    const response = await chat(withTenant);
    assert.deepEqual(
      [response.statusCode, response.json()],
      [500, { error: 'Failed to generate assistant response' }],
    );
    await app.close();
  });
});
