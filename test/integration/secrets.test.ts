import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import type { RunManifest } from '../../scripts/lib/manifest';
import { type CliResult, RUN_JS, runCli } from '../fixtures/run-cli';
import { type SimulatorHandle, startSimulator } from '../helpers/simulator';

/**
 * Secrets never reach results, reports, logs or metric names. Every scenario runs through the
 * runner (smoke profile) against a simulator started with known, distinctive secrets; then every
 * file the run wrote, and the runner's own stdout/stderr, are scanned for them.
 *
 * Passwords are generated inside the processors and never leave them, so their values cannot be
 * known here without a test-only hook in the product (which must not exist). Instead: every string
 * in the outputs shaped like a generated password (24 base64url characters, see
 * processors/lib/web/accounts.ts) is tried as the password of every account the run created,
 * through the platform's own login. A leaked password logs in; nothing that does not can be one.
 * The same proof covers the accounts' session tokens: nothing JWT/JWE-shaped may appear at all.
 */

const SCENARIOS = [
  'llm-proxy',
  'signup-tenant-chat',
  'signup-browser',
  'chat-sessions',
  'terminal-ws',
  'container-provisioning',
];
const RUN_ID = `secrets-${randomBytes(3).toString('hex')}`;
/** A generated password: 18 random bytes in base64url, as a whole token. */
const PASSWORD_SHAPED = /(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{24}(?![A-Za-z0-9_-])/g;
const JWT_SHAPED = /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*\.?/g;

const distinctive = (label: string) => `${label}-${randomBytes(12).toString('hex')}`;

async function jwt(secret: string, claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(new TextEncoder().encode(secret));
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

function setCookies(response: Response): string {
  return response.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .join('; ');
}

/** The platform's own login (csrf, credentials callback, session): true when the password works. */
async function logsIn(webUrl: string, email: string, password: string): Promise<boolean> {
  const csrf = await fetch(`${webUrl}/api/auth/csrf`);
  const { csrfToken } = (await csrf.json()) as { csrfToken: string };
  const callback = await fetch(`${webUrl}/api/auth/callback/credentials`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: setCookies(csrf) },
    body: new URLSearchParams({ csrfToken, email, password, callbackUrl: webUrl, json: 'true' }).toString(),
    redirect: 'manual',
  });
  await callback.text();
  return callback.status === 200 && /session-token=/.test(setCookies(callback));
}

describe('secrets never reach results, logs, reports or metric names', () => {
  let sim: SimulatorHandle;
  let work: string;
  let out: string;
  let run: CliResult;
  const secrets: Record<string, string> = {};

  before(async () => {
    assert.ok(existsSync(RUN_JS), 'build first: npx tsup');
    work = mkdtempSync(join(tmpdir(), 'secrets-'));
    out = join(work, RUN_ID);
    secrets.SERVICE_API_KEY = distinctive('svckey');
    secrets.API_JWT_SECRET = distinctive('jwtsecret');
    secrets.SIM_ADMIN_TOKEN = distinctive('simadmin');
    secrets.NEXTAUTH_SECRET = distinctive('nextauth');
    sim = await startSimulator({
      args: [
        '--service-api-key',
        secrets.SERVICE_API_KEY,
        '--jwt-secret',
        secrets.API_JWT_SECRET,
        '--admin-token',
        secrets.SIM_ADMIN_TOKEN,
        '--nextauth-secret',
        secrets.NEXTAUTH_SECRET,
      ],
    });
    const { tenantIds } = await sim.control.seedTenants(5, RUN_ID);
    secrets.ADMIN_JWT = await jwt(secrets.API_JWT_SECRET, { sub: 'loadtest-admin', isAdmin: true });
    secrets.API_BEARER_TOKEN = await jwt(secrets.API_JWT_SECRET, { sub: 'loadtest-user' });
    const target = join(work, 'target.env');
    const values: Record<string, string> = {
      WEB_BASE_URL: sim.webUrl,
      API_BASE_URL: sim.apiUrl,
      NEXTAUTH_URL: sim.webUrl,
      TENANT_IDS: tenantIds.join(','),
      SERVICE_API_KEY: secrets.SERVICE_API_KEY,
      API_JWT_SECRET: secrets.API_JWT_SECRET,
      ADMIN_JWT: secrets.ADMIN_JWT,
      API_BEARER_TOKEN: secrets.API_BEARER_TOKEN,
      SIM_CONTROL_URL: sim.controlUrl,
      SIM_ADMIN_TOKEN: secrets.SIM_ADMIN_TOKEN,
      LOADTEST_RUN_ID: RUN_ID,
      LLM_VUS: '2',
      LLM_DURATION: '2s',
      CHAT_DURATION: '3s',
      SIGNUP_VUS: '3',
      WS_DURATION: '2s',
      WS_COMMAND_INTERVAL: '300ms',
      CONTAINER_DURATION: '2s',
      CONTAINER_POLL_INTERVAL: '100ms',
    };
    writeFileSync(
      target,
      `${Object.entries(values)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n')}\n`,
    );
    run = await runCli(RUN_JS, ['--target', target, '--scenario', SCENARIOS.join(','), '--out', out], {
      timeoutMs: 400_000,
    });
  });

  after(async () => {
    await sim?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('ran every scenario and wrote its results', (t) => {
    const transcript = `${run.stdout}\n${run.stderr}`;
    assert.ok(run.code === 0 || run.code === 1, `the run completed (exit ${run.code})\n${transcript}`);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as RunManifest;
    for (const name of SCENARIOS) {
      const record = manifest.scenarios.find((s) => s.name === name);
      assert.ok(
        record && record.outcome !== 'not-started',
        `${name}: ${JSON.stringify(record)}\n${transcript}`,
      );
      assert.ok(existsSync(join(out, name, 'output.json')), `${name}/output.json`);
      t.diagnostic(`${name}: ${record.outcome}${record.reason ? ` (${record.reason})` : ''}`);
    }
    for (const file of ['report.md', 'report.html', 'junit.xml'])
      assert.ok(existsSync(join(out, file)), `${file} written`);
  });

  it('no known secret, JWT or session token in any output file or in the runner output', () => {
    const texts: Array<[string, string]> = filesUnder(out).map((path) => [
      relative(out, path),
      readFileSync(path, 'latin1'),
    ]);
    texts.push(['runner stdout', run.stdout], ['runner stderr', run.stderr]);
    assert.ok(texts.length >= 3 * SCENARIOS.length, `files: ${texts.map(([n]) => n).join(', ')}`);
    const leaks: string[] = [];
    for (const [name, text] of texts) {
      for (const [secretName, value] of Object.entries(secrets))
        if (text.includes(value)) leaks.push(`${secretName} in ${name}`);
      for (const match of text.match(JWT_SHAPED) ?? [])
        leaks.push(`JWT-shaped ${match.slice(0, 16)}... in ${name}`);
    }
    assert.deepEqual(leaks, []);
    // The scan reads what the run wrote: the run id (not a secret) is there.
    assert.ok(texts.filter(([, text]) => text.includes(RUN_ID)).length >= 2, 'the scan sees the run outputs');
  });

  it('metric names carry no secret and no password-shaped token', () => {
    const names = new Set<string>();
    for (const name of SCENARIOS) {
      const output = JSON.parse(readFileSync(join(out, name, 'output.json'), 'utf8')) as {
        aggregate: { counters: Record<string, number>; summaries: Record<string, unknown> };
      };
      for (const key of [
        ...Object.keys(output.aggregate.counters),
        ...Object.keys(output.aggregate.summaries),
      ])
        names.add(key);
    }
    assert.ok(names.size > 50, `metric names: ${names.size}`);
    const suspicious = [...names].filter(
      (n) =>
        Object.values(secrets).some((s) => n.includes(s)) ||
        // A generated password is 24 random base64url characters: it has an upper-case letter or a
        // digit but with odds of about 1 in 400 million. A 24-character metric word has neither.
        (n.match(PASSWORD_SHAPED) ?? []).some((token) => /[A-Z0-9]/.test(token)),
    );
    assert.deepEqual(suspicious, []);
  });

  it('no generated password appears: no password-shaped string in the outputs logs in to any account of the run', async (t) => {
    const { tenants } = await sim.control.tenants();
    const accounts = tenants.map((t) => t.email).filter((e): e is string => e !== null);
    assert.ok(accounts.length >= 5, `the run created accounts: ${accounts.length}`);
    const candidates = new Set<string>();
    for (const path of filesUnder(out))
      for (const match of readFileSync(path, 'latin1').match(PASSWORD_SHAPED) ?? []) candidates.add(match);
    for (const text of [run.stdout, run.stderr])
      for (const match of text.match(PASSWORD_SHAPED) ?? []) candidates.add(match);
    // Real login attempts: bounded so a flood of look-alikes cannot stall the suite.
    assert.ok(candidates.size <= 200, `too many password-shaped strings to try: ${candidates.size}`);
    t.diagnostic(`${candidates.size} password-shaped strings tried against ${accounts.length} accounts`);
    const working: string[] = [];
    for (const email of accounts)
      for (const candidate of candidates)
        if (await logsIn(sim.webUrl, email, candidate)) working.push(`${email}: ${candidate.slice(0, 4)}...`);
    assert.deepEqual(working, [], 'a password of the run is in its outputs');
    // The check can succeed: a known password does log in through the same path.
    const email = `loadtest+${RUN_ID}-probe@example.test`;
    const password = randomBytes(18).toString('base64url');
    const signup = await fetch(`${sim.webUrl}/api/auth/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: sim.webUrl },
      body: JSON.stringify({ email, password }),
    });
    assert.equal(signup.status, 200);
    assert.equal(await logsIn(sim.webUrl, email, password), true, 'the login probe works');
  });

  it('every account and tenant the run created is tagged with the run id', async () => {
    const { tenants } = await sim.control.tenants();
    const withAccounts = tenants.filter((t) => t.email !== null);
    const prefix = `loadtest+${RUN_ID.toLowerCase()}-`;
    const untagged = withAccounts.filter(
      (t) => !t.email!.startsWith(prefix) || !t.email!.endsWith('@example.test'),
    );
    assert.deepEqual(
      untagged.map((t) => t.email),
      [],
      'accounts without loadtest+<run>-<n>@example.test',
    );
    // signup-tenant-chat (3), chat-sessions (its users), signup-browser (1): each one account.
    assert.ok(withAccounts.length >= 5, `accounts created: ${withAccounts.length}`);
  });
});
