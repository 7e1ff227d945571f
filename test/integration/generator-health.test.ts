import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { GENERATOR_SATURATED_NOTE } from '../../scripts/lib/report/thresholds';
import { RUN_JS, runCli } from '../fixtures/run-cli';
import { type ArtilleryRunResult, explain, runArtillery, summary, verdict } from '../helpers/artillery';
import { ROOT, scenarioPath } from '../helpers/paths';
import { type SimulatorHandle, startSimulator } from '../helpers/simulator';

/**
 * Load-generator self-monitoring (processors/lib/generator-health.ts): event-loop lag and CPU of
 * the generator are recorded as metrics, and two checks mark a run invalid when the generator
 * itself was saturated. A test-only scenario busy-loops its own worker to make each check fail.
 */

const FIXTURE = resolve(ROOT, 'test', 'fixtures', 'resilience', 'generator-busy.yml');
const LAG_CHECK = 'generator.event_loop_lag_ms.p99';
const CPU_CHECK = 'generator.cpu_pct.p95';

function runBusy(env: Record<string, string>): Promise<ArtilleryRunResult> {
  return runArtillery({
    scenario: FIXTURE,
    environment: 'smoke',
    timeoutMs: 90_000,
    env: { GENERATOR_LAG_P99_MS: undefined, GENERATOR_CPU_P95_PCT: undefined, ...env },
  });
}

function assertVerdict(result: ArtilleryRunResult, check: string, ok: boolean): void {
  const found = verdict(result, check);
  assert.ok(found, `no verdict for ${check}\n${explain(result)}`);
  assert.equal(found.ok, ok, `${check} should ${ok ? 'pass' : 'fail'}\n${explain(result)}`);
}

describe('generator self-monitoring', () => {
  it('an idle generator passes both checks, with samples in the output', async () => {
    const result = await runBusy({
      FIXTURE_BUSY_MS: '0',
      FIXTURE_IDLE_MS: '50',
      FIXTURE_DURATION_MS: '3000',
    });
    assert.equal(result.exitCode, 0, explain(result));
    assertVerdict(result, LAG_CHECK, true);
    assertVerdict(result, CPU_CHECK, true);
    assert.ok((summary(result, 'generator.event_loop_lag_ms')?.count ?? 0) >= 2);
    assert.ok((summary(result, 'generator.cpu_pct')?.max ?? 100) < 90);
  });

  it('a run shorter than one sampling interval still records both metrics', async () => {
    const result = await runBusy({ FIXTURE_BUSY_MS: '0', FIXTURE_IDLE_MS: '20', FIXTURE_DURATION_MS: '300' });
    assert.equal(result.exitCode, 0, explain(result));
    assert.ok((summary(result, 'generator.event_loop_lag_ms')?.count ?? 0) >= 1, explain(result));
    assert.ok((summary(result, 'generator.cpu_pct')?.count ?? 0) >= 1);
  });

  it('a blocked event loop fails the lag check by name (CPU stays under its limit)', async () => {
    // 400 ms blocked out of every 1.1 s: the loop lags ~400 ms, the core is ~36 % busy.
    const result = await runBusy({
      FIXTURE_BUSY_MS: '400',
      FIXTURE_IDLE_MS: '700',
      FIXTURE_DURATION_MS: '4500',
    });
    assert.equal(result.exitCode, 1, explain(result));
    assertVerdict(result, LAG_CHECK, false);
    assertVerdict(result, CPU_CHECK, true);
    assert.ok((summary(result, 'generator.event_loop_lag_ms')?.max ?? 0) >= 300);
  });

  it('a pegged core fails the CPU check by name (the loop itself stays responsive)', async () => {
    // 20 ms slices of work back to back: little lag, one core fully busy.
    const result = await runBusy({
      FIXTURE_BUSY_MS: '20',
      FIXTURE_IDLE_MS: '0',
      FIXTURE_DURATION_MS: '4500',
    });
    assert.equal(result.exitCode, 1, explain(result));
    assertVerdict(result, CPU_CHECK, false);
    assertVerdict(result, LAG_CHECK, true);
  });

  it('GENERATOR_LAG_P99_MS / GENERATOR_CPU_P95_PCT move the limits', async () => {
    const result = await runBusy({
      FIXTURE_BUSY_MS: '400',
      FIXTURE_IDLE_MS: '700',
      FIXTURE_DURATION_MS: '3500',
      GENERATOR_LAG_P99_MS: '2000',
      GENERATOR_CPU_P95_PCT: '1',
    });
    assertVerdict(result, LAG_CHECK, true);
    assertVerdict(result, CPU_CHECK, false);
  });
});

describe('generator checks in the runner and the real scenarios', () => {
  let work: string;
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'generator-health-'));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('the report classes a failed generator check as "generator saturated"', async () => {
    assert.ok(existsSync(RUN_JS), 'build first: npx tsup');
    const target = join(work, 'nowhere.env');
    // Loopback addresses nothing listens on: the fixture sends no request.
    writeFileSync(
      target,
      'WEB_BASE_URL=http://127.0.0.1:9\nAPI_BASE_URL=http://127.0.0.1:9\n' +
        'TENANT_IDS=3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b\nSERVICE_API_KEY=generator-test-key\n',
    );
    const out = join(work, 'saturated');
    const result = await runCli(RUN_JS, ['--target', target, '--scenario', FIXTURE, '--out', out], {
      env: { FIXTURE_BUSY_MS: '400', FIXTURE_IDLE_MS: '700', FIXTURE_DURATION_MS: '3500' },
    });
    assert.equal(result.code, 1, result.stdout + result.stderr);
    const report = readFileSync(join(out, 'report.md'), 'utf8');
    const row = report.split('\n').find((line) => line.startsWith('|') && line.includes(LAG_CHECK));
    assert.ok(row, `no row for the lag check in report.md:\n${report}`);
    assert.match(row, /generator saturated/);
    assert.ok(report.includes(GENERATOR_SATURATED_NOTE), 'the report says the run is invalid');
  });

  it('every scenario carries both generator checks and its processor reports the samples', () => {
    for (const name of [
      'llm-proxy',
      'signup-tenant-chat',
      'signup-browser',
      'chat-sessions',
      'terminal-ws',
      'container-provisioning',
    ]) {
      const script = parse(readFileSync(scenarioPath(name), 'utf8')) as {
        config: { processor: string; ensure?: { conditions?: Array<{ expression: string }> } };
      };
      const expressions = (script.config.ensure?.conditions ?? []).map((c) => c.expression);
      assert.ok(
        expressions.some((e) => e.includes(`${LAG_CHECK} < ({{ $env.GENERATOR_LAG_P99_MS }} or 250)`)),
        `${name}: no lag check in ${JSON.stringify(expressions)}`,
      );
      assert.ok(
        expressions.some((e) => e.includes(`${CPU_CHECK} < ({{ $env.GENERATOR_CPU_P95_PCT }} or 90)`)),
        `${name}: no CPU check`,
      );
      const source = readFileSync(
        resolve(ROOT, 'processors', `${script.config.processor.split('/').pop()!.replace(/\.js$/, '.ts')}`),
        'utf8',
      );
      assert.match(
        source,
        /reportGeneratorHealth\(/,
        `${name}: its processor never reports generator health`,
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
          LLM_VUS: '3',
          LLM_DURATION: '3s',
          GENERATOR_LAG_P99_MS: undefined,
          GENERATOR_CPU_P95_PCT: undefined,
        },
      });
      assertVerdict(result, LAG_CHECK, true);
      assertVerdict(result, CPU_CHECK, true);
    } finally {
      await sim?.stop();
    }
  });
});
