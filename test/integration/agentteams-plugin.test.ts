import assert from 'node:assert/strict';
import {
  appendFileSync,
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  sourceDigests,
  writeSourceRecord,
} from '../../plugins/artillery-plugin-agentteams/src/source-record';
import { type FixtureServer, startFixtureServer } from '../fixtures/fixture-server';
import { type ArtilleryRunResult, explain, runArtillery } from '../helpers/artillery';
import { DIST, ROOT } from '../helpers/paths';

/**
 * The suite's Artillery plugin (plugins/artillery-plugin-agentteams) under plain `artillery run`:
 * in the main thread, before any worker starts, it refuses a run that cannot be right (exit 2, one
 * line per problem, no request sent); it writes the ensure verdicts to $LOADTEST_CHECKS_FILE.
 * A small fixture scenario (five users, one GET each) runs against a loopback server the test
 * starts, which counts what reaches it.
 */

const PROBE = resolve(ROOT, 'test', 'fixtures', 'resilience', 'agentteams-probe.yml');
const TENANT = '3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b';
const SECRET = 'plugin-test-service-key';
const CREDENTIALS = { TENANT_IDS: TENANT, SERVICE_API_KEY: SECRET };
/** What the developer's shell might hold must not decide these runs. */
const CLEAN = {
  LOADTEST_RUNNER: undefined,
  LLM_VUS: undefined,
  LOADTEST_ALLOW_REMOTE: undefined,
  LOADTEST_ALLOWED_HOSTS: undefined,
  GENERATOR_LAG_P99_MS: undefined,
  GENERATOR_CPU_P95_PCT: undefined,
};

function refusal(result: ArtilleryRunResult): string[] {
  const lines = result.stderr.split('\n');
  const start = lines.indexOf('agentteams: not sending any request:');
  return start < 0
    ? []
    : lines
        .slice(start + 1)
        .filter((l) => l.startsWith('  '))
        .map((l) => l.trim());
}

describe('artillery-plugin-agentteams', () => {
  let server: FixtureServer;
  before(async () => {
    server = await startFixtureServer();
  });
  after(() => server.close());

  it('a missing target stops the run with exit 2 naming it, before any request', async () => {
    const before = server.requests();
    const result = await runArtillery({
      scenario: PROBE,
      timeoutMs: 60_000,
      env: { ...CLEAN, ...CREDENTIALS, API_BASE_URL: undefined },
    });
    assert.equal(result.exitCode, 2, explain(result));
    assert.deepEqual(refusal(result), [
      'target: none given: pass -t http://127.0.0.1:PORT or set API_BASE_URL',
    ]);
    assert.equal(server.requests(), before, 'no request reached the server');
  });

  it('missing required settings are named one per line', async () => {
    const result = await runArtillery({
      scenario: PROBE,
      timeoutMs: 60_000,
      env: { ...CLEAN, API_BASE_URL: server.url },
    });
    assert.equal(result.exitCode, 2, explain(result));
    assert.deepEqual(
      refusal(result).map((l) => l.split(':')[0]),
      ['TENANT_IDS', 'SERVICE_API_KEY or API_BEARER_TOKEN'],
    );
  });

  it('a remote target (-t or a *_BASE_URL setting) is refused with exit 2', async () => {
    const before = server.requests();
    // The test guard lets `.invalid` through (it never resolves): the plugin itself must refuse it.
    const viaT = await runArtillery({
      scenario: PROBE,
      timeoutMs: 60_000,
      env: { ...CLEAN, ...CREDENTIALS, API_BASE_URL: undefined, WEB_BASE_URL: undefined },
      extraArgs: ['-t', 'http://api.agentteams.invalid'],
    });
    assert.equal(viaT.exitCode, 2, explain(viaT));
    assert.match(refusal(viaT).join('\n'), /^target: host "api\.agentteams\.invalid" is not loopback/m);

    const viaSetting = await runArtillery({
      scenario: PROBE,
      timeoutMs: 60_000,
      env: {
        ...CLEAN,
        ...CREDENTIALS,
        API_BASE_URL: server.url,
        WEB_BASE_URL: 'http://web.agentteams.invalid',
      },
      extraArgs: ['-t', server.url],
    });
    assert.equal(viaSetting.exitCode, 2, explain(viaSetting));
    assert.match(
      refusal(viaSetting).join('\n'),
      /^WEB_BASE_URL: host "web\.agentteams\.invalid" is not loopback/m,
    );
    assert.equal(server.requests(), before, 'no request reached the server');
  });

  it('LLM_VUS under plain Artillery is refused by name (and shows the --overrides to use)', async () => {
    const before = server.requests();
    const bad = await runArtillery({
      scenario: PROBE,
      timeoutMs: 60_000,
      env: { ...CLEAN, ...CREDENTIALS, API_BASE_URL: server.url, LLM_VUS: 'abc' },
    });
    assert.equal(bad.exitCode, 2, explain(bad));
    const lines = refusal(bad);
    assert.equal(lines.length, 1, explain(bad));
    assert.match(lines[0]!, /^LLM_VUS: .*"abc" is not a whole number of users/);
    assert.doesNotMatch(bad.stderr + bad.stdout, /AssertionError|NaN/);

    const good = await runArtillery({
      scenario: PROBE,
      timeoutMs: 60_000,
      env: { ...CLEAN, ...CREDENTIALS, API_BASE_URL: server.url, LLM_VUS: '3' },
    });
    assert.equal(good.exitCode, 2, explain(good));
    const overrides = /--overrides '(.+)'$/.exec(refusal(good)[0] ?? '')?.[1];
    assert.ok(overrides, explain(good));
    assert.deepEqual(JSON.parse(overrides), {
      config: { phases: [{ name: 'five users', arrivalCount: 3, duration: 1 }] },
    });
    assert.equal(server.requests(), before, 'no request reached the server');
  });

  it('writes the ensure verdicts to $LOADTEST_CHECKS_FILE and prints the target, never a secret', async () => {
    const before = server.requests();
    const result = await runArtillery({
      scenario: PROBE,
      timeoutMs: 60_000,
      env: { ...CLEAN, ...CREDENTIALS, API_BASE_URL: server.url },
    });
    assert.equal(result.exitCode, 0, explain(result));
    assert.equal(server.requests() - before, 5);
    assert.match(result.stdout, new RegExp(`^agentteams: agentteams-probe target ${server.url}$`, 'm'));
    assert.ok(!(result.stdout + result.stderr).includes(SECRET), 'the service key is never printed');
    // result.ensure is read from the checks file the plugin wrote (scripts/lib/artillery-run.ts).
    assert.deepEqual(
      [...result.ensure].sort((a, b) => a.check.localeCompare(b.check)),
      [
        { check: 'generator.cpu_pct.count < 20 or generator.cpu_pct.p95 < 90', ok: true, strict: true },
        {
          check: 'generator.event_loop_lag_ms.count < 20 or generator.event_loop_lag_ms.p99 < 250',
          ok: true,
          strict: true,
        },
        { check: 'http.requests == 0', ok: false, strict: false },
      ],
    );
  });
});

describe('stale build', () => {
  // A copy of the built plugin and its record beside a copy of the sources: editing the copy is
  // what editing processors/*.ts without rebuilding is, without touching the real tree.
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'agentteams-stale-'));
    mkdirSync(join(root, 'dist', 'plugins'), { recursive: true });
    mkdirSync(join(root, 'dist', 'processors'), { recursive: true });
    copyFileSync(join(DIST, 'plugins', 'agentteams.js'), join(root, 'dist', 'plugins', 'agentteams.js'));
    for (const dir of ['processors', 'config', 'scripts/lib', 'plugins/artillery-plugin-agentteams/src'])
      cpSync(join(ROOT, dir), join(root, dir), { recursive: true });
    mkdirSync(join(root, 'node_modules', 'artillery-plugin-agentteams'), { recursive: true });
    writeFileSync(
      join(root, 'node_modules', 'artillery-plugin-agentteams', 'package.json'),
      JSON.stringify({ name: 'artillery-plugin-agentteams', main: '../../dist/plugins/agentteams.js' }),
    );
    // The record a build of exactly these sources writes (the real metafile names the inputs).
    writeSourceRecord(root, sourceDigests(root), join(DIST, 'metafile-cjs.json'));
    const probe = readFileSync(PROBE, 'utf8')
      .replace('  phases:', '  processor: "./dist/processors/llm-proxy.js"\n  phases:')
      .replace(
        '    agentteams:\n      area: llm',
        // Artillery loads a plugin from `<scope><name>`: this copy instead of the installed one.
        `    agentteams:\n      area: llm\n      scope: "${join(root, 'node_modules', 'artillery-plugin-')}"`,
      );
    writeFileSync(join(root, 'stale-probe.yml'), probe);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  function runCopy(): Promise<ArtilleryRunResult> {
    return runArtillery({
      scenario: join(root, 'stale-probe.yml'),
      timeoutMs: 60_000,
      // No TENANT_IDS: every run stops before load; what matters is whether staleness is named.
      env: {
        ...CLEAN,
        SERVICE_API_KEY: SECRET,
        API_BASE_URL: undefined,
        NODE_PATH: join(ROOT, 'node_modules'),
      },
    });
  }

  it('a build of the current sources is not called stale', async () => {
    const result = await runCopy();
    assert.equal(result.exitCode, 2, explain(result));
    const lines = refusal(result);
    assert.ok(
      lines.some((l) => l.startsWith('TENANT_IDS')),
      explain(result),
    );
    assert.ok(!lines.some((l) => l.includes('stale') || l.includes('.sources.json')), explain(result));
  });

  it('a processor edited after the build is refused, naming the file', async () => {
    appendFileSync(join(root, 'processors', 'llm-proxy.ts'), '\n// edited after the build\n');
    appendFileSync(join(root, 'config', 'limits.ts'), '\n// edited after the build\n');
    const result = await runCopy();
    assert.equal(result.exitCode, 2, explain(result));
    const lines = refusal(result);
    assert.ok(
      lines.includes(
        'dist/processors is stale: processors/llm-proxy.ts changed after the last build; run npm run build',
      ),
      explain(result),
    );
    assert.ok(
      lines.includes(
        'dist/plugins/agentteams.js is stale: config/limits.ts changed after the last build; run npm run build',
      ),
      explain(result),
    );
  });
});
