import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { accountTag, testAccountEmail } from '../../config/test-accounts';
import { cookieChanges, isLoopbackHost } from '../../processors/lib/web/transport';

/**
 * Creates tenants on a real platform the way users do (the platform has no seeding API): csrf,
 * sign up, csrf, log in through NextAuth's credentials callback, read the tenant from the session
 * (docs/CONTRACT.md). Accounts are tagged with the run id in their e-mail address so that they can
 * be found and cleaned up afterwards. Passwords are random and never leave this module.
 */

const SignupAnswer = z.object({ ok: z.literal(true) });
const CsrfAnswer = z.object({ csrfToken: z.string().min(1) });
const CallbackAnswer = z.object({ url: z.string() });
const SessionAnswer = z.object({ user: z.object({ tenantId: z.string().min(1) }) });

export interface SeedOptions {
  webBaseUrl: string;
  runId: string;
  count: number;
  /** Signups at a time: bcrypt makes each one cost ~0.5 s of the platform's CPU. */
  concurrency?: number;
}

export interface SeededTenant {
  tenantId: string;
  email: string;
}

export class SeedError extends Error {}

async function readJson<T>(response: Response, schema: z.ZodType<T>, step: string): Promise<T> {
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new SeedError(`${step}: answered ${response.status} with a non-JSON body`);
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new SeedError(`${step}: answered ${response.status} with an unexpected body`);
  return parsed.data;
}

/**
 * The cookies of one user of one web app, as a browser keeps them for these requests: every
 * request goes to the same origin under `/`, so a name-to-value map is the whole jar. No name is
 * assumed (`next-auth.*` over http, `__Host-`/`__Secure-` in production builds). `Secure` cookies
 * travel over https and, as browsers treat loopback as a secure context, to a loopback host.
 */
export class WebCookies {
  private readonly values = new Map<string, { value: string; secure: boolean }>();
  private readonly secureTravels: boolean;

  constructor(webBaseUrl: string) {
    const url = new URL(webBaseUrl);
    this.secureTravels = url.protocol === 'https:' || isLoopbackHost(url.hostname);
  }

  /** Applies an answer's Set-Cookie headers: set, replace, or delete (Max-Age<=0, past Expires). */
  store(setCookies: readonly string[]): void {
    const changes = cookieChanges(setCookies);
    for (const header of setCookies) {
      const pair = header.split(';', 1)[0] ?? '';
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const change = changes.find((c) => c.name === name);
      if (!change) continue;
      if (change.cleared) this.values.delete(name);
      else this.values.set(name, { value: pair.slice(eq + 1).trim(), secure: change.secure });
    }
  }

  /** The `Cookie` header for the next request ('' when there is none to send). */
  header(): string {
    return [...this.values]
      .filter(([, c]) => !c.secure || this.secureTravels)
      .map(([name, c]) => `${name}=${c.value}`)
      .join('; ');
  }
}

async function request(cookies: WebCookies, url: string, init: RequestInit): Promise<Response> {
  const headers = new Headers(init.headers);
  const cookie = cookies.header();
  if (cookie) headers.set('cookie', cookie);
  // A redirect is an answer to judge (a refused login), never a page to fetch.
  const response = await fetch(url, { ...init, headers, redirect: 'manual' });
  cookies.store(response.headers.getSetCookie());
  return response;
}

/** One signed-up, logged-in web user: its tenant and the cookies that carry its session. */
export interface WebUser extends SeededTenant {
  /** The web app's origin, sent as `Origin` where the app checks it. */
  origin: string;
  /** A secret: never print it; pass it to child processes in their environment only. */
  cookies: WebCookies;
}

/**
 * csrf → signup (JSON, Origin) → csrf → credentials callback (form, json=true) → session, with
 * plain fetch. A login counts only with a session naming a tenant; anything else is a SeedError
 * naming the step and the status (never a credential or a token).
 */
export async function signUpAndLogInUser(webBaseUrl: string, email: string): Promise<WebUser> {
  const base = webBaseUrl.replace(/\/+$/, '');
  const origin = new URL(base).origin;
  const password = randomBytes(18).toString('base64url');
  const cookies = new WebCookies(base);
  const csrf = async (step: string) =>
    (await readJson(await request(cookies, `${base}/api/auth/csrf`, { method: 'GET' }), CsrfAnswer, step))
      .csrfToken;

  // A browser reaches the signup form through a page that fetched the CSRF pair: do the same.
  await csrf('csrf before signup');
  const signup = await request(cookies, `${base}/api/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin },
    body: JSON.stringify({ email, password }),
  });
  if (signup.status !== 200) throw new SeedError(`signup: answered ${signup.status}`);
  await readJson(signup, SignupAnswer, 'signup');

  const csrfToken = await csrf('csrf before login');
  const login = await request(cookies, `${base}/api/auth/callback/credentials`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
    body: new URLSearchParams({
      csrfToken,
      email,
      password,
      callbackUrl: `${origin}/dashboard`,
      json: 'true',
    }).toString(),
  });
  const answer = await readJson(login, CallbackAnswer, 'login');
  if (login.status !== 200 || answer.url.includes('csrf=true') || answer.url.includes('error='))
    throw new SeedError(`login: answered ${login.status} without a session`);

  const session = await readJson(
    await request(cookies, `${base}/api/auth/session`, { method: 'GET' }),
    SessionAnswer,
    'session',
  );
  return { tenantId: session.user.tenantId, email, origin, cookies };
}

async function seedOneTenant(webBaseUrl: string, email: string): Promise<SeededTenant> {
  const user = await signUpAndLogInUser(webBaseUrl, email);
  return { tenantId: user.tenantId, email: user.email };
}

export async function seedTenantsBySignup(options: SeedOptions): Promise<SeededTenant[]> {
  const tag = accountTag(options.runId);
  const emails = Array.from({ length: options.count }, (_, i) =>
    testAccountEmail(tag, i + 1, randomBytes(3).toString('hex')),
  );
  const seeded: SeededTenant[] = [];
  let next = 0;
  const worker = async () => {
    while (next < emails.length) {
      const email = emails[next++]!;
      seeded.push(await seedOneTenant(options.webBaseUrl, email));
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 4, emails.length) }, worker));
  return seeded;
}
