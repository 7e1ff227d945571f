import { randomBytes } from 'node:crypto';
import { CookieJar } from 'tough-cookie';
import { z } from 'zod';
import { accountTag, testAccountEmail } from '../../config/test-accounts';

/**
 * Creates tenants on a real platform the way users do (the platform has no seeding API): sign up,
 * log in through NextAuth's CSRF + credentials callback, read the tenant from the session.
 * Accounts are tagged with the run id in their e-mail address so that they can be found and
 * cleaned up afterwards. Passwords are random and never leave this module.
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

async function request(jar: CookieJar, url: string, init: RequestInit): Promise<Response> {
  const cookie = await jar.getCookieString(url);
  const headers = new Headers(init.headers);
  if (cookie) headers.set('cookie', cookie);
  const response = await fetch(url, { ...init, headers, redirect: 'manual' });
  for (const setCookie of response.headers.getSetCookie())
    await jar.setCookie(setCookie, url, { ignoreError: true });
  return response;
}

export async function seedOneTenant(webBaseUrl: string, email: string): Promise<SeededTenant> {
  const origin = new URL(webBaseUrl).origin;
  const password = randomBytes(18).toString('base64url');
  const jar = new CookieJar();
  const signup = await request(jar, `${webBaseUrl}/api/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin },
    body: JSON.stringify({ email, password }),
  });
  if (signup.status !== 200) throw new SeedError(`signup: answered ${signup.status}`);
  await readJson(signup, SignupAnswer, 'signup');

  const csrf = await readJson(
    await request(jar, `${webBaseUrl}/api/auth/csrf`, { method: 'GET' }),
    CsrfAnswer,
    'csrf',
  );
  const login = await request(jar, `${webBaseUrl}/api/auth/callback/credentials`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
    body: new URLSearchParams({
      csrfToken: csrf.csrfToken,
      email,
      password,
      callbackUrl: `${webBaseUrl}/dashboard`,
      json: 'true',
    }).toString(),
  });
  const answer = await readJson(login, CallbackAnswer, 'login');
  if (login.status !== 200 || answer.url.includes('csrf=true') || answer.url.includes('error='))
    throw new SeedError(`login: answered ${login.status} without a session`);

  const session = await readJson(
    await request(jar, `${webBaseUrl}/api/auth/session`, { method: 'GET' }),
    SessionAnswer,
    'session',
  );
  return { tenantId: session.user.tenantId, email };
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
