import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { EnsureFile, RunManifest } from '../scripts/lib/manifest';
import { describeFigures, PeriodParser, partialReport } from '../scripts/lib/progress';
import { type FixtureServer, startFixtureServer } from './fixtures/fixture-server';
import { FIXTURES, fixtureScenario, RUN_JS, runCli } from './fixtures/run-cli';
import { startSimulator } from './helpers/simulator';

/** The runner end to end: real Artillery against a loopback target, the exit code is the gate. */

const TENANT = '3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b';
const SERVICE_KEY = 'fixture-service-key-9f8e7d6c';

let server: FixtureServer;
let work: string;

before(async () => {
  assert.ok(existsSync(RUN_JS), 'build first: npx tsup');
  server = await startFixtureServer();
  work = mkdtempSync(join(tmpdir(), 'runner-test-'));
});

after(async () => {
  await server.close();
  rmSync(work, { recursive: true, force: true });
});

function targetFile(name: string, values: Record<string, string>): string {
  const file = join(work, `${name}.env`);
  writeFileSync(
    file,
    Object.entries(values)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n'),
  );
  return file;
}

const fixtureTarget = (name: string) =>
  targetFile(name, {
    WEB_BASE_URL: server.url,
    API_BASE_URL: server.url,
    TENANT_IDS: TENANT,
    SERVICE_API_KEY: SERVICE_KEY,
  });

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

describe('runner against a fixture target (env file)', () => {
  test('all thresholds pass: exit 0, per-scenario outputs, manifest, report, secrets kept out', async () => {
    server.setDelayMs(0);
    const out = join(work, 'pass');
    const before = server.requests();
    const result = await runCli(RUN_JS, [
      '--target',
      fixtureTarget('pass'),
      '--scenario',
      fixtureScenario('fixture-http'),
      '--out',
      out,
    ]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.equal(server.requests() - before, 6, 'two users x three requests reached the target');
    for (const file of ['output.json', 'ensure.json', 'console.log'])
      assert.ok(existsSync(join(out, 'fixture-http', file)), file);
    for (const file of ['manifest.json', 'report.md', 'report.html', 'junit.xml'])
      assert.ok(existsSync(join(out, file)), file);

    const ensure = readJson<EnsureFile>(join(out, 'fixture-http', 'ensure.json'));
    assert.deepEqual(
      ensure.verdicts.map((v) => v.check).sort(),
      ['http.response_time.p95 < 300', 'vusers.failed == 0 and fixture.failures == 0'].sort(),
    );
    assert.ok(ensure.verdicts.every((v) => v.ok));

    const manifest = readJson<RunManifest>(join(out, 'manifest.json'));
    assert.equal(manifest.runId, 'pass');
    assert.equal(manifest.profile, 'smoke');
    assert.equal(manifest.exitCode, 0);
    assert.match(manifest.git.revision ?? '', /^[0-9a-f]{40}$/);
    assert.equal(manifest.versions.artillery, '2.0.34');
    assert.equal(manifest.versions.node, process.version);
    assert.equal(manifest.settings.SERVICE_API_KEY, '(set, redacted)');
    assert.deepEqual(manifest.settings.TENANT_IDS, [TENANT]);
    assert.ok(manifest.endedAt && manifest.endedAt >= manifest.startedAt);
    assert.equal(manifest.scenarios[0]!.outcome, 'pass');
    assert.equal(manifest.scenarios[0]!.checksPassed, 2);

    for (const file of ['manifest.json', 'fixture-http/console.log', 'report.md', 'report.html', 'junit.xml'])
      assert.ok(!readFileSync(join(out, file), 'utf8').includes(SERVICE_KEY), `${file} holds no secret`);
    assert.ok(!result.stdout.includes(SERVICE_KEY));
    assert.match(result.stdout, /\| fixture-http \| PASS \| 2 \| 0 \|/, 'summary table');
    assert.match(result.stdout, /\[fixture-http\] started/, 'progress lines');
  });

  test('a threshold fails: exit 1, the failed check captured and classed', async () => {
    server.setDelayMs(400);
    const out = join(work, 'fail');
    try {
      const result = await runCli(RUN_JS, [
        '--target',
        fixtureTarget('fail'),
        '--scenario',
        fixtureScenario('fixture-http'),
        '--out',
        out,
      ]);
      assert.equal(result.code, 1, result.stdout + result.stderr);
      const ensure = readJson<EnsureFile>(join(out, 'fixture-http', 'ensure.json'));
      assert.deepEqual(
        ensure.verdicts.find((v) => v.check === 'http.response_time.p95 < 300'),
        { ok: false, check: 'http.response_time.p95 < 300' },
      );
      const manifest = readJson<RunManifest>(join(out, 'manifest.json'));
      assert.equal(manifest.exitCode, 1);
      assert.equal(manifest.scenarios[0]!.outcome, 'threshold-failed');
      const report = readFileSync(join(out, 'report.md'), 'utf8');
      assert.match(
        report,
        /\| http\.response_time\.p95 \| < 300 \| http\.response_time\.p95 = [\d.]+ \| FAIL \| latency \|/,
      );
    } finally {
      server.setDelayMs(0);
    }
  });

  test("<AREA>_VUS replaces the profile's users where the YAML has a literal count (--overrides)", async () => {
    const out = join(work, 'vus');
    const before = server.requests();
    const file = targetFile('vus', {
      WEB_BASE_URL: server.url,
      API_BASE_URL: server.url,
      TENANT_IDS: TENANT,
      SERVICE_API_KEY: SERVICE_KEY,
      FIXTURE_VUS: '5',
    });
    const result = await runCli(RUN_JS, [
      '--target',
      file,
      '--scenario',
      fixtureScenario('fixture-http'),
      '--out',
      out,
    ]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.equal(server.requests() - before, 15, 'five users x three requests');
    const output = readJson<{ aggregate: { counters: Record<string, number> } }>(
      join(out, 'fixture-http', 'output.json'),
    );
    assert.equal(output.aggregate.counters['vusers.created'], 5);
  });

  test('Artillery cannot start the scenario: exit 2, the reason recorded', async () => {
    const out = join(work, 'broken');
    const result = await runCli(RUN_JS, [
      '--target',
      fixtureTarget('broken'),
      '--scenario',
      fixtureScenario('broken-artillery'),
      '--out',
      out,
    ]);
    assert.equal(result.code, 2, result.stdout + result.stderr);
    const manifest = readJson<RunManifest>(join(out, 'manifest.json'));
    assert.equal(manifest.scenarios[0]!.outcome, 'not-started');
    assert.match(manifest.scenarios[0]!.reason ?? '', /"scenarios" must be an array/);
  });

  test('Ctrl-C mid-run: partial results, manifest marked interrupted, report written', async () => {
    const out = join(work, 'interrupted');
    let signalled = false;
    const result = await runCli(
      RUN_JS,
      ['--target', fixtureTarget('interrupted'), '--scenario', fixtureScenario('fixture-long'), '--out', out],
      {
        onStdout: (text, pid) => {
          // Once a 10 s period has been reported (progress shows its request rate) there is something to keep.
          if (!signalled && text.includes('req/s')) {
            signalled = true;
            process.kill(pid, 'SIGINT');
          }
        },
        timeoutMs: 60_000,
      },
    );
    assert.ok(signalled, `progress showed a period's figures:\n${result.stdout}`);
    assert.equal(result.code, 2, result.stdout + result.stderr);
    const manifest = readJson<RunManifest>(join(out, 'manifest.json'));
    assert.equal(manifest.interrupted, true);
    assert.ok(manifest.endedAt);
    assert.ok(existsSync(join(out, 'fixture-long', 'console.log')));
    assert.equal(manifest.scenarios[0]!.partialResults, true);
    const partial = readJson<{ partial: boolean; aggregate: { counters: Record<string, number> } }>(
      join(out, 'fixture-long', 'output.json'),
    );
    assert.equal(partial.partial, true);
    assert.ok(
      (partial.aggregate.counters['http.requests'] ?? 0) > 0,
      'requests of the reported periods kept',
    );
    assert.match(readFileSync(join(out, 'report.md'), 'utf8'), /Partial results: Artillery stopped/);
    assert.ok(existsSync(join(out, 'report.md')));
    assert.ok(existsSync(join(out, 'junit.xml')));
  });
});

describe('runner against the bundled simulator', () => {
  test('bad configuration: exit 2 and no simulator started', async () => {
    const out = join(work, 'sim-bad');
    const result = await runCli(RUN_JS, ['--scenario', 'llm-proxy', '--out', out], {
      env: { LLM_MAX_TOKENS: 'many' },
    });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /LLM_MAX_TOKENS/);
    assert.doesNotMatch(result.stdout, /simulator up/);
    assert.ok(!existsSync(out));
  });

  test('two scenarios in parallel pass; tenants seeded; simulator stopped afterwards', async () => {
    const out = join(work, 'sim-pass');
    const result = await runCli(RUN_JS, ['--scenario', 'llm-proxy,terminal-ws', '--parallel', '--out', out]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const manifest = readJson<RunManifest>(join(out, 'manifest.json'));
    assert.equal(manifest.parallel, true);
    assert.ok(manifest.seededTenants >= 5);
    assert.deepEqual(
      manifest.scenarios.map((s) => [s.name, s.outcome]),
      [
        ['llm-proxy', 'pass'],
        ['terminal-ws', 'pass'],
      ],
    );
    // The two overlapped in time (a real multi-tenant load does).
    const [a, b] = manifest.scenarios;
    assert.ok(a!.startedAt! < b!.endedAt! && b!.startedAt! < a!.endedAt!);
    assert.equal(manifest.settings.SERVICE_API_KEY, '(set, redacted)');
    assert.equal(manifest.settings.API_JWT_SECRET, '(set, redacted)');
    const web = String(manifest.settings.WEB_BASE_URL);
    await assert.rejects(fetch(`${web}/api/auth/csrf`), 'the simulator is gone after the run');
  });

  test('a threshold fails through fault injection: exit 1 naming the failed check', async () => {
    const out = join(work, 'sim-fault');
    const result = await runCli(RUN_JS, [
      '--scenario',
      'llm-proxy',
      '--sim-faults',
      JSON.stringify({ routes: { llm: { errorRate: 1, errorStatus: 502 } } }),
      '--out',
      out,
    ]);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    const ensure = readJson<EnsureFile>(join(out, 'llm-proxy', 'ensure.json'));
    const failed = ensure.verdicts.filter((v) => !v.ok).map((v) => v.check);
    assert.ok(
      failed.some((c) => c.includes('llm.success')),
      `the success-rate check failed: ${JSON.stringify(ensure.verdicts)}`,
    );
    const manifest = readJson<RunManifest>(join(out, 'manifest.json'));
    assert.deepEqual(manifest.target, {
      kind: 'simulator',
      simulatorProfile: 'fast',
      faults: { routes: { llm: { errorRate: 1, errorStatus: 502 } } },
    });
  });

  test('--seed-tenants against a real-platform target creates tenants through signup, tagged with the run id', async () => {
    const sim = await startSimulator();
    try {
      const out = join(work, 'seeded-run');
      const file = targetFile('seeded', {
        WEB_BASE_URL: sim.webUrl,
        API_BASE_URL: sim.apiUrl,
        SERVICE_API_KEY: sim.serviceApiKey,
      });
      const result = await runCli(RUN_JS, [
        '--target',
        file,
        '--scenario',
        fixtureScenario('fixture-http'),
        '--seed-tenants',
        '2',
        '--out',
        out,
      ]);
      assert.equal(result.code, 0, result.stdout + result.stderr);
      const manifest = readJson<RunManifest>(join(out, 'manifest.json'));
      assert.equal(manifest.seededTenants, 2);
      assert.equal((manifest.settings.TENANT_IDS as string[]).length, 2);
      const { tenants } = await sim.control.tenants();
      const ours = tenants.filter((t) => t.email?.startsWith('loadtest+seeded-run-'));
      assert.equal(ours.length, 2);
      assert.deepEqual(ours.map((t) => t.id).sort(), [...(manifest.settings.TENANT_IDS as string[])].sort());
    } finally {
      await sim.stop();
    }
  });
});

describe("progress from Artillery's periodic output", () => {
  test('key figures of the latest period, and partial results from every period', () => {
    const parser = new PeriodParser();
    for (const line of readFileSync(join(FIXTURES, 'progress-sample.txt'), 'utf8').split('\n'))
      parser.feed(line);
    assert.equal(
      describeFigures(parser.latest, parser.phase),
      'phase "llm users" arriving | 12 req/s | llm.latency_ms p95 44.3 ms | failures 3 | +10 vusers',
    );
    const partial = partialReport(parser.all);
    assert.equal(partial?.partial, true);
    assert.equal(partial?.aggregate.counters['http.requests'], 40);
    assert.equal(partial?.aggregate.summaries['llm.latency_ms']?.p99, 70.1);
    assert.equal(partial?.intermediate.length, 1);
    assert.equal(describeFigures(undefined), 'no 10 s period reported yet');
  });
});
