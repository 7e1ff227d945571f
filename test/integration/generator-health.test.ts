import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { applyLimitSettings, type EnsureCondition, limitsOf } from '../../config/limits';
import { GENERATOR_METRICS } from '../../plugins/artillery-plugin-agentteams/src/health';
import { GENERATOR_SATURATED_NOTE } from '../../scripts/lib/report/thresholds';
import { RUN_JS, runCli } from '../fixtures/run-cli';
import {
  type ArtilleryRunResult,
  counter,
  explain,
  runArtillery,
  summary,
  verdict,
} from '../helpers/artillery';
import { ROOT, scenarioPath } from '../helpers/paths';
import { type SimulatorHandle, startSimulator } from '../helpers/simulator';
import { forgetStartedTarget, registerStartedTarget } from '../helpers/started-targets';

/**
 * Load-generator self-monitoring, owned by the suite's plugin (artillery-plugin-agentteams): every
 * worker samples its event-loop lag, process CPU, loop utilization and the machine's CPU every
 * 250 ms from the first user to the end of the run, on every path. Two checks mark a run invalid
 * when the generator itself was saturated. A test-only scenario busy-loops its own worker to make
 * each check fail.
 */

const FIXTURE = resolve(ROOT, 'test', 'fixtures', 'resilience', 'generator-busy.yml');
const PROBE = resolve(ROOT, 'test', 'fixtures', 'resilience', 'agentteams-probe.yml');
const LAG_CHECK = 'generator.event_loop_lag_ms.count < 20 or generator.event_loop_lag_ms.p99';
const CPU_CHECK = 'generator.cpu_pct.count < 20 or generator.cpu_pct.p95';
/** Long enough for 20+ samples at 250 ms, so the percentile (not the few-samples rule) decides. */
const JUDGED_MS = '6500';
/** A loop blocked 400 ms of every 1.1 s gets about 3 timer ticks a second instead of 4. */
const JUDGED_BLOCKED_MS = '9000';

const FIXTURE_CONDITIONS = (
  parse(readFileSync(FIXTURE, 'utf8')) as { config: { ensure: { conditions: EnsureCondition[] } } }
).config.ensure.conditions;

function runBusy(env: Record<string, string>, overrides?: unknown): Promise<ArtilleryRunResult> {
  return runArtillery({
    scenario: FIXTURE,
    timeoutMs: 90_000,
    env: {
      GENERATOR_LAG_P99_MS: undefined,
      GENERATOR_CPU_P95_PCT: undefined,
      LOADTEST_RUNNER: undefined,
      ...env,
    },
    ...(overrides === undefined ? {} : { overrides }),
  });
}

function assertVerdict(result: ArtilleryRunResult, check: string, ok: boolean): void {
  const found = verdict(result, check);
  assert.ok(found, `no verdict for ${check}\n${explain(result)}`);
  assert.equal(found.ok, ok, `${check} should ${ok ? 'pass' : 'fail'}\n${explain(result)}`);
}

function samples(result: ArtilleryRunResult): number {
  return counter(result, GENERATOR_METRICS.samples);
}

describe('generator self-monitoring', () => {
  it('an idle generator passes both checks, with every sample series in the output', async () => {
    const result = await runBusy({
      FIXTURE_BUSY_MS: '0',
      FIXTURE_IDLE_MS: '50',
      FIXTURE_DURATION_MS: JUDGED_MS,
    });
    assert.equal(result.exitCode, 0, explain(result));
    assertVerdict(result, LAG_CHECK, true);
    assertVerdict(result, CPU_CHECK, true);
    // 6.5 s of user plus the runner's end-of-run poll, at 4 samples a second.
    assert.ok(samples(result) >= 20, `samples: ${samples(result)}\n${explain(result)}`);
    for (const name of [
      GENERATOR_METRICS.eventLoopLag,
      GENERATOR_METRICS.cpuPercent,
      GENERATOR_METRICS.processCpuPercent,
      GENERATOR_METRICS.loopUtilizationPercent,
      GENERATOR_METRICS.machineCpuPercent,
    ])
      assert.equal(summary(result, name)?.count, samples(result), `${name}: one value per sample`);
    assert.ok((summary(result, GENERATOR_METRICS.cpuPercent)?.p95 ?? 100) < 90);
    const machine = summary(result, GENERATOR_METRICS.machineCpuPercent)!;
    assert.ok(
      machine.min >= 0 && machine.max <= 100,
      `machine CPU is a share of all cores: ${JSON.stringify(machine)}`,
    );
  });

  it('a blocked event loop fails the lag check by name', async () => {
    // 400 ms blocked out of every 1.1 s: the loop lags ~400 ms several times a second.
    const result = await runBusy({
      FIXTURE_BUSY_MS: '400',
      FIXTURE_IDLE_MS: '700',
      FIXTURE_DURATION_MS: JUDGED_BLOCKED_MS,
    });
    assert.equal(result.exitCode, 1, explain(result));
    assertVerdict(result, LAG_CHECK, false);
    assert.ok(samples(result) >= 20, explain(result));
    assert.ok((summary(result, GENERATOR_METRICS.eventLoopLag)?.max ?? 0) >= 300);
  });

  it('a pegged core fails the CPU check by name (the loop itself stays responsive)', async () => {
    // 20 ms slices of work back to back: little lag, one core fully busy.
    const result = await runBusy({
      FIXTURE_BUSY_MS: '20',
      FIXTURE_IDLE_MS: '0',
      FIXTURE_DURATION_MS: JUDGED_MS,
    });
    assert.equal(result.exitCode, 1, explain(result));
    assertVerdict(result, CPU_CHECK, false);
    assertVerdict(result, LAG_CHECK, true);
  });

  it('the limit settings move the limits through --overrides, as the runner passes them', async () => {
    const applied = applyLimitSettings(FIXTURE_CONDITIONS, 'generator-busy', {
      GENERATOR_LAG_P99_MS: '2000',
      GENERATOR_CPU_P95_PCT: '1',
    });
    assert.deepEqual(applied.problems, []);
    const result = await runBusy(
      { FIXTURE_BUSY_MS: '400', FIXTURE_IDLE_MS: '700', FIXTURE_DURATION_MS: JUDGED_BLOCKED_MS },
      { config: { ensure: { conditions: applied.conditions } } },
    );
    assert.equal(result.exitCode, 1, explain(result));
    assertVerdict(result, LAG_CHECK, true);
    assertVerdict(result, CPU_CHECK, false);
    assert.ok(
      result.ensure.some((v) => v.check.endsWith('p99 < 2000')),
      explain(result),
    );
  });

  it('samples exist when every user fails', async () => {
    // Every connection is reset: each user fails on its first request (errors.ECONNRESET).
    let connections = 0;
    const server: Server = createServer((socket) => {
      connections += 1;
      socket.resetAndDestroy();
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    registerStartedTarget(url);
    try {
      const result = await runArtillery({
        scenario: PROBE,
        timeoutMs: 60_000,
        env: {
          API_BASE_URL: url,
          TENANT_IDS: '3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b',
          SERVICE_API_KEY: 'generator-test-key',
          LOADTEST_RUNNER: undefined,
        },
      });
      assert.equal(counter(result, 'vusers.failed'), 5, explain(result));
      assert.equal(counter(result, 'vusers.completed'), 0, explain(result));
      assert.ok(connections >= 5, `connections: ${connections}`);
      // The five users fail within a second; the worker lives on until the run ends and is sampled.
      assert.ok(samples(result) >= 4, `samples: ${samples(result)}\n${explain(result)}`);
      assert.equal(summary(result, GENERATOR_METRICS.cpuPercent)?.count, samples(result));
      // Fewer than 20 samples: inconclusive, which fails nothing.
      assertVerdict(result, LAG_CHECK, true);
      assertVerdict(result, CPU_CHECK, true);
    } finally {
      forgetStartedTarget(url);
      server.close();
    }
  });
});

describe('generator checks in the runner and the real scenarios', () => {
  let work: string;
  let sink: Server | undefined;
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'generator-health-'));
  });
  after(() => {
    rmSync(work, { recursive: true, force: true });
    sink?.close();
  });

  it('the report classes a failed generator check as "generator saturated"', async () => {
    assert.ok(existsSync(RUN_JS), 'build first: npx tsup');
    // A loopback server the test owns stands in as the target; the fixture sends it nothing.
    sink = createServer((socket) => socket.destroy());
    await new Promise<void>((done) => sink!.listen(0, '127.0.0.1', done));
    const url = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
    registerStartedTarget(url);
    const target = join(work, 'loopback.env');
    writeFileSync(
      target,
      `WEB_BASE_URL=${url}\nAPI_BASE_URL=${url}\n` +
        'TENANT_IDS=3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b\nSERVICE_API_KEY=generator-test-key\n',
    );
    const out = join(work, 'saturated');
    const result = await runCli(RUN_JS, ['--target', target, '--scenario', FIXTURE, '--out', out], {
      env: { FIXTURE_BUSY_MS: '400', FIXTURE_IDLE_MS: '700', FIXTURE_DURATION_MS: JUDGED_BLOCKED_MS },
    });
    forgetStartedTarget(url);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    const report = readFileSync(join(out, 'report.md'), 'utf8');
    const row = report
      .split('\n')
      .find((line) => line.startsWith('|') && line.includes('generator.event_loop_lag_ms'));
    assert.ok(row, `no row for the lag check in report.md:\n${report}`);
    assert.match(row, /generator saturated/);
    assert.ok(report.includes(GENERATOR_SATURATED_NOTE), 'the report says the run is invalid');
  });

  it('every scenario declares the plugin and carries both generator checks; no processor samples by itself', () => {
    for (const name of [
      'llm-proxy',
      'signup-tenant-chat',
      'signup-browser',
      'chat-sessions',
      'terminal-ws',
      'container-provisioning',
    ]) {
      const script = parse(readFileSync(scenarioPath(name), 'utf8')) as {
        config: {
          processor: string;
          plugins?: Record<string, unknown>;
          ensure?: { conditions?: EnsureCondition[] };
        };
      };
      assert.ok(script.config.plugins?.agentteams, `${name}: no agentteams plugin`);
      const limits = limitsOf(script.config.ensure?.conditions ?? []).map((l) => l.setting);
      assert.ok(limits.includes('GENERATOR_LAG_P99_MS'), `${name}: no lag check`);
      assert.ok(limits.includes('GENERATOR_CPU_P95_PCT'), `${name}: no CPU check`);
      const source = readFileSync(
        resolve(ROOT, 'processors', `${script.config.processor.split('/').pop()!.replace(/\.js$/, '.ts')}`),
        'utf8',
      );
      assert.doesNotMatch(
        source,
        /reportGeneratorHealth|generator-health/,
        `${name}: the plugin samples, not the processor`,
      );
    }
  });

  it('a real scenario against the simulator passes its generator checks', async () => {
    let sim: SimulatorHandle | undefined;
    try {
      sim = await startSimulator({ seedTenants: 2 });
      const result = await runArtillery({
        scenario: scenarioPath('llm-proxy'),
        environment: 'smoke',
        timeoutMs: 90_000,
        env: {
          API_BASE_URL: sim.apiUrl,
          SERVICE_API_KEY: sim.serviceApiKey,
          TENANT_IDS: sim.tenantIds.join(','),
          LLM_DURATION: '3s',
          LOADTEST_RUNNER: undefined,
          GENERATOR_LAG_P99_MS: undefined,
          GENERATOR_CPU_P95_PCT: undefined,
        },
      });
      assertVerdict(result, LAG_CHECK, true);
      assertVerdict(result, CPU_CHECK, true);
      assert.ok(samples(result) >= 12, explain(result));
    } finally {
      await sim?.stop();
    }
  });
});
