import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { EnsureFile, RunManifest } from '../../scripts/lib/manifest';
import { describeFigures, PeriodParser, partialReport } from '../../scripts/lib/progress';
import { simulatorDefaults } from '../../scripts/lib/run-plan';
import { SCENARIOS, SIMULATOR_TENANT_CREDITS_CENTS } from '../../scripts/lib/scenarios';
import { type FixtureServer, startFixtureServer } from '../fixtures/fixture-server';
import { FIXTURES, fixtureScenario, RUN_JS, runCli } from '../fixtures/run-cli';
import { startSimulator } from '../helpers/simulator';

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

const baseValues = () => ({
  WEB_BASE_URL: server.url,
  API_BASE_URL: server.url,
  TENANT_IDS: TENANT,
  SERVICE_API_KEY: SERVICE_KEY,
});
const fixtureTarget = (name: string) => targetFile(name, baseValues());

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

/** fixture-http's latency gate, written with the few-samples guard like every percentile gate. */
const LATENCY_CHECK = 'http.response_time.count < 20 or http.response_time.p95 < 300';

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

    // The verdicts are the ensure plugin's checks, as the suite's plugin wrote them.
    const ensure = readJson<EnsureFile>(join(out, 'fixture-http', 'ensure.json'));
    assert.deepEqual(ensure.verdicts, [
      { check: LATENCY_CHECK, ok: true, strict: true },
      { check: 'vusers.failed == 0 and fixture.failures == 0', ok: true, strict: true },
    ]);
    const consoleLog = readFileSync(join(out, 'fixture-http', 'console.log'), 'utf8');
    assert.ok(
      consoleLog.includes(`agentteams: fixture-http target ${server.url}`),
      'the target in use is printed',
    );

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
    // Six samples: the latency gate is inconclusive, the other passes.
    assert.match(result.stdout, /\| fixture-http \| PASS \| 1 \| 0 \| 1 \| /, 'summary table');
    assert.match(result.stdout, /\[fixture-http\] started/, 'progress lines');
  });

  test('a slow target with 6 samples is inconclusive (passes); with 21 samples the percentile fails it: exit 1, classed', async () => {
    server.setDelayMs(400);
    try {
      // Two users x three requests: fewer than 20 samples judge nothing, whatever their latency.
      const few = join(work, 'few');
      const inconclusive = await runCli(RUN_JS, [
        '--target',
        fixtureTarget('few'),
        '--scenario',
        fixtureScenario('fixture-http'),
        '--out',
        few,
      ]);
      assert.equal(inconclusive.code, 0, inconclusive.stdout + inconclusive.stderr);
      const fewReport = readFileSync(join(few, 'report.md'), 'utf8');
      assert.match(
        fewReport,
        /\| http\.response_time\.p95 \| < 300 \| http\.response_time\.p95 = [\d.]+ \(n=6, max [\d.]+\) \| INCONCLUSIVE \(n=6 < 20, max [\d.]+\) \|/,
        fewReport,
      );
      assert.match(
        readFileSync(join(few, 'junit.xml'), 'utf8'),
        /<skipped message="INCONCLUSIVE: http\.response_time has 6 sample\(s\)/,
      );

      // Seven users x three requests: 21 samples, and the percentile decides.
      const out = join(work, 'fail');
      const before = server.requests();
      const result = await runCli(RUN_JS, [
        '--target',
        targetFile('fail', { ...baseValues(), FIXTURE_VUS: '7' }),
        '--scenario',
        fixtureScenario('fixture-http'),
        '--out',
        out,
      ]);
      assert.equal(result.code, 1, result.stdout + result.stderr);
      assert.equal(server.requests() - before, 21);
      const ensure = readJson<EnsureFile>(join(out, 'fixture-http', 'ensure.json'));
      assert.deepEqual(
        ensure.verdicts.find((v) => v.check === LATENCY_CHECK),
        { ok: false, check: LATENCY_CHECK, strict: true },
      );
      const manifest = readJson<RunManifest>(join(out, 'manifest.json'));
      assert.equal(manifest.exitCode, 1);
      assert.equal(manifest.scenarios[0]!.outcome, 'threshold-failed');
      const report = readFileSync(join(out, 'report.md'), 'utf8');
      assert.match(
        report,
        /\| http\.response_time\.p95 \| < 300 \| http\.response_time\.p95 = [\d.]+ \| FAILED \| latency \|/,
        report,
      );
    } finally {
      server.setDelayMs(0);
    }
  });

  test("the scenario's users setting (FIXTURE_VUS=5) replaces the YAML's arrivalCount through --overrides", async () => {
    const out = join(work, 'vus');
    const before = server.requests();
    const file = targetFile('vus', { ...baseValues(), FIXTURE_VUS: '5' });
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
    assert.equal(readJson<RunManifest>(join(out, 'manifest.json')).scenarios[0]!.vus, 5);
  });

  test('the shell names the target (API_BASE_URL, no --target): load goes there, not to a simulator', async () => {
    const out = join(work, 'shell');
    const before = server.requests();
    const result = await runCli(RUN_JS, ['--scenario', fixtureScenario('fixture-http'), '--out', out], {
      env: { API_BASE_URL: server.url, TENANT_IDS: TENANT, SERVICE_API_KEY: SERVICE_KEY },
    });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.doesNotMatch(result.stdout, /simulator up/);
    assert.equal(server.requests() - before, 6, "two users x three requests reached the shell's target");
    const manifest = readJson<RunManifest>(join(out, 'manifest.json'));
    assert.deepEqual(manifest.target, { kind: 'environment', file: 'shell API_BASE_URL' });
    assert.equal(manifest.settings.API_BASE_URL, server.url);
    const consoleLog = readFileSync(join(out, 'fixture-http', 'console.log'), 'utf8');
    assert.ok(consoleLog.includes(`agentteams: fixture-http target ${server.url}`), consoleLog);
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
      env: { LLM_MAX_TOKENS: 'many', LLM_VUS: 'abc' },
    });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /LLM_MAX_TOKENS/);
    assert.match(
      result.stderr,
      /LLM_VUS: .*"abc"/,
      'a user count that is no number is named, not an Artillery crash',
    );
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
    assert.deepEqual(
      ensure.verdicts.find((v) => v.check.startsWith('llm.success / llm.attempts')),
      { check: 'llm.success / llm.attempts * 100 > 95', ok: false, strict: true },
      `the success-rate check failed: ${JSON.stringify(ensure.verdicts)}`,
    );
    // Every answer was a 502 (the proxy's upstream failing): each attempt a failure of that cause.
    const { counters } = readJson<{ aggregate: { counters: Record<string, number> } }>(
      join(out, 'llm-proxy', 'output.json'),
    ).aggregate;
    assert.ok((counters['llm.attempts'] ?? 0) > 0);
    assert.equal(counters['llm.success'] ?? 0, 0);
    assert.equal(counters['llm.failures.upstream_error'], counters['llm.attempts']);
    assert.equal(counters['llm.failures'], counters['llm.attempts']);
    assert.equal(counters['http.codes.502'], counters['llm.attempts'], "Artillery's own count agrees");
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

const createdUsers = (out: string, dir: string) =>
  readJson<{ aggregate: { counters: Record<string, number> } }>(join(out, dir, 'output.json')).aggregate
    .counters['vusers.created'];

describe('runner: users per scenario, skips, tenants and credits (bundled simulator)', () => {
  test('<AREA>_VUS take effect; WS_VUS=0 and a missing Chromium skip their scenario without failing the run', async () => {
    const out = join(work, 'sim-vus');
    const result = await runCli(
      RUN_JS,
      ['--scenario', 'terminal-ws,llm-proxy,signup-tenant-chat,signup-browser', '--parallel', '--out', out],
      { env: { WS_VUS: '0', LLM_VUS: '2', SIGNUP_VUS: '2', CHROMIUM_PATH: join(work, 'no-chromium') } },
    );
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const manifest = readJson<RunManifest>(join(out, 'manifest.json'));
    const byName = Object.fromEntries(manifest.scenarios.map((s) => [s.name, s]));
    assert.equal(byName['terminal-ws']!.outcome, 'skipped');
    assert.match(byName['terminal-ws']!.reason ?? '', /WS_VUS=0/);
    assert.equal(byName['signup-browser']!.outcome, 'skipped');
    assert.match(byName['signup-browser']!.reason ?? '', /no Chromium at .*no-chromium/);
    assert.ok(
      !existsSync(join(out, 'terminal-ws', 'output.json')),
      'no Artillery run for a skipped scenario',
    );
    assert.equal(byName['llm-proxy']!.outcome, 'pass');
    assert.equal(byName['signup-tenant-chat']!.outcome, 'pass');
    assert.equal(createdUsers(out, 'llm-proxy'), 2, 'LLM_VUS=2 (the smoke profile has 10)');
    assert.equal(createdUsers(out, 'signup-tenant-chat'), 2, 'SIGNUP_VUS=2 (the smoke profile has 5)');
    assert.deepEqual(
      [byName['llm-proxy']!.vus, byName['signup-tenant-chat']!.vus],
      [2, 2],
      'the manifest records the users',
    );
    assert.match(result.stdout, /\[terminal-ws\] skipped: WS_VUS=0/);
    assert.match(
      result.stdout,
      /\| terminal-ws \| SKIPPED \| 0 \| 0 \| 0 \| - \| WS_VUS=0: 0 users, so nothing to run \|/,
    );
    assert.match(result.stdout, /\| signup-browser \| SKIPPED \| .*no Chromium at /);
    // The LLM tenants carry credits for the profile's request rate, and the manifest says so.
    assert.deepEqual(manifest.seeding, [
      {
        scenarios: ['llm-proxy'],
        tenants: 10,
        creditsCents: SIMULATOR_TENANT_CREDITS_CENTS,
        via: 'simulator control API',
      },
    ]);
    const report = readFileSync(join(out, 'report.md'), 'utf8');
    assert.match(report, /\| tenants for llm-proxy \| 10 via simulator control API, 10000000 cents each/);
    assert.match(report, /### terminal-ws: SKIPPED\n\n[^\n]*\n\nSkipped: WS_VUS=0/);
    const junit = readFileSync(join(out, 'junit.xml'), 'utf8');
    assert.match(
      junit,
      /<testsuite name="terminal-ws" tests="1" failures="0"[^>]*>\n[^\n]*\n\s*<skipped message="WS_VUS=0/,
    );
  });

  test('every scenario skipped: exit 2, nothing started', async () => {
    const out = join(work, 'sim-all-skipped');
    const result = await runCli(RUN_JS, ['--scenario', 'terminal-ws', '--out', out], {
      env: { WS_VUS: '0' },
    });
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.match(result.stdout, /nothing ran: every scenario was skipped/);
    assert.doesNotMatch(result.stdout, /simulator up/);
  });

  test('container-provisioning cycles tenants of its own, polls every 20ms on the simulator; CONTAINER_VUS and WS_VUS apply', async () => {
    const out = join(work, 'sim-container');
    const result = await runCli(
      RUN_JS,
      ['--scenario', 'terminal-ws,container-provisioning', '--parallel', '--out', out],
      { env: { WS_VUS: '1', CONTAINER_VUS: '1' } },
    );
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const manifest = readJson<RunManifest>(join(out, 'manifest.json'));
    const [terminal, container] = manifest.scenarios;
    assert.deepEqual(
      [terminal!.outcome, container!.outcome],
      ['pass', 'pass'],
      'the terminals held while containers were cycled',
    );
    assert.equal(createdUsers(out, 'terminal-ws'), 1, 'WS_VUS=1 (the smoke profile has 3)');
    assert.equal(createdUsers(out, 'container-provisioning'), 1, 'CONTAINER_VUS=1 (the smoke profile has 2)');
    assert.ok((terminal!.tenantIds ?? []).length >= 5 && (container!.tenantIds ?? []).length >= 5);
    assert.deepEqual(
      terminal!.tenantIds!.filter((id) => container!.tenantIds!.includes(id)),
      [],
      'no tenant shared between the container cycles and the terminals',
    );
    assert.deepEqual(manifest.settings.TENANT_IDS, terminal!.tenantIds, 'the shared pool is the run setting');
    assert.equal(manifest.settings.CONTAINER_POLL_INTERVAL, 20, 'simulator default: 20 ms');
    const console = readFileSync(join(out, 'container-provisioning', 'console.log'), 'utf8');
    assert.doesNotMatch(console, /more users than TENANT_IDS/);
  });

  test('a limit setting replaces the number in the check (--overrides): the check text and the verdict change', async () => {
    const out = join(work, 'sim-limit');
    // The success rate cannot exceed 100 %: with every cycle succeeding, the limit alone fails the run.
    const result = await runCli(RUN_JS, ['--scenario', 'container-provisioning', '--out', out], {
      env: { CONTAINER_VUS: '1', CONTAINER_SUCCESS_MIN: '100' },
    });
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(
      result.stdout,
      /\[container-provisioning\] limit CONTAINER_SUCCESS_MIN=100 \(runner setting\)/,
    );
    const ensure = readJson<EnsureFile>(join(out, 'container-provisioning', 'ensure.json'));
    const checks = ensure.verdicts.map((v) => v.check);
    assert.ok(
      !checks.some((c) => c.includes('* 100 > 90')),
      `the YAML's 90 is replaced: ${checks.join('; ')}`,
    );
    assert.deepEqual(
      ensure.verdicts.find((v) => v.check === 'container.success / container.attempts * 100 > 100'),
      { check: 'container.success / container.attempts * 100 > 100', ok: false, strict: true },
    );
    const output = readJson<{ aggregate: { counters: Record<string, number> } }>(
      join(out, 'container-provisioning', 'output.json'),
    );
    const { 'container.success': success = 0, 'container.attempts': attempts = 0 } =
      output.aggregate.counters;
    assert.ok(
      attempts > 0 && success === attempts,
      `every cycle succeeded (${success}/${attempts}): only the limit failed`,
    );
    const manifest = readJson<RunManifest>(join(out, 'manifest.json'));
    assert.equal(manifest.scenarios[0]!.outcome, 'threshold-failed');
    assert.match(
      manifest.scenarios[0]!.reason ?? '',
      /container\.success \/ container\.attempts \* 100 > 100/,
    );
    assert.match(
      readFileSync(join(out, 'report.md'), 'utf8'),
      /\| > 100 \|/,
      'the report shows the limit by its value',
    );
  });

  test("the simulator's defaults never override the user's settings", () => {
    const container = SCENARIOS.find((s) => s.name === 'container-provisioning')!;
    assert.deepEqual(simulatorDefaults([container], {}), { CONTAINER_POLL_INTERVAL: '20ms' });
    assert.deepEqual(simulatorDefaults([container], { CONTAINER_POLL_INTERVAL: '1s' }), {});
  });

  test('chat rate limited through the simulator: the run passes and the report says it is not latency', async () => {
    const out = join(work, 'sim-chat-429');
    const result = await runCli(
      RUN_JS,
      [
        '--scenario',
        'chat-sessions',
        '--sim-faults',
        JSON.stringify({ routes: { chat: { errorRate: 0.3, errorStatus: 429 } } }),
        '--out',
        out,
      ],
      // Each 429 costs its user a Retry-After of about a second: two users with short thinks send
      // enough messages (30 or more) that some of them are surely answered 429.
      { env: { CHAT_VUS: '2', CHAT_THINK_TIME: '100ms' } },
    );
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.equal(createdUsers(out, 'chat-sessions'), 2, 'CHAT_VUS=2 (the smoke profile has 5)');
    const output = readJson<{ aggregate: { counters: Record<string, number> } }>(
      join(out, 'chat-sessions', 'output.json'),
    );
    const limited = output.aggregate.counters['chat.rate_limited'] ?? 0;
    assert.ok(limited > 0, 'some chat requests were answered 429');
    const report = readFileSync(join(out, 'report.md'), 'utf8');
    assert.match(
      report,
      new RegExp(
        `\\*\\*chat: rate limited, not a latency failure: ${limited} requests answered 429 \\(chat\\.rate_limited\\); the users waited Retry-After before sending again \\(chat\\.retry_after_ms p95 `,
      ),
    );
    assert.match(report, /#### Rate limiting \(429s and Retry-After waits: not latency\)/);
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

  test("a scenario's own latency histogram is a live figure", () => {
    const parser = new PeriodParser();
    const lines = [
      'Metrics for period to: 12:00:10(+0000) (width: 9.1s)',
      'container.attempts: ........................ 4',
      'container.failures: ........................ 0',
      'container.startup_ms:',
      '  min: ......... 120.5',
      '  p95: ......... 210.3',
      'vusers.created: ............................ 2',
    ];
    for (const line of lines) parser.feed(line);
    assert.equal(
      describeFigures(parser.latest),
      'failures 0 | +2 vusers | container.startup_ms p95 210.3 ms',
    );
  });
});
