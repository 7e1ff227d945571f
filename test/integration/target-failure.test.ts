import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ArtilleryReport } from '../../scripts/lib/artillery-run';
import type { EnsureFile, RunManifest } from '../../scripts/lib/manifest';
import { RUN_JS, runCli } from '../fixtures/run-cli';
import { counter, explain, runArtillery } from '../helpers/artillery';
import { scenarioPath } from '../helpers/paths';
import { type SimulatorHandle, startSimulator } from '../helpers/simulator';

/**
 * The target dying mid-run, and Ctrl-C mid-run. A load test that loses its target must still
 * finish, write what it measured, and fail the gate naming why (connection errors); one that is
 * interrupted must still leave partial results and a report behind.
 */

const SUCCESS_CHECK = 'llm.success / llm.attempts';
/** Users of the runs whose target is killed. */
const USERS = 3;

let work: string;
before(() => {
  assert.ok(existsSync(RUN_JS), 'build first: npx tsup');
  work = mkdtempSync(join(tmpdir(), 'target-failure-'));
});
after(() => rmSync(work, { recursive: true, force: true }));

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

/** Resolves once the simulator has answered `count` completions: the run is really under way. */
async function trafficFlowing(sim: SimulatorHandle, count = 20, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const stats = await sim.control.stats();
    if ((stats.routes['api.completions']?.count ?? 0) >= count) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('no traffic reached the simulator');
}

function targetFile(name: string, sim: SimulatorHandle, extra: Record<string, string> = {}): string {
  const file = join(work, `${name}.env`);
  const values = {
    WEB_BASE_URL: sim.webUrl,
    API_BASE_URL: sim.apiUrl,
    SERVICE_API_KEY: sim.serviceApiKey,
    TENANT_IDS: sim.tenantIds.join(','),
    ...extra,
  };
  writeFileSync(
    file,
    `${Object.entries(values)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n')}\n`,
  );
  return file;
}

describe('the target dies mid-run', () => {
  it('runArtillery: the run finishes, results are written, the gate fails on connection errors', async (t) => {
    const sim = await startSimulator({ seedTenants: 2 });
    const outputPath = join(work, 'direct.json');
    try {
      const running = runArtillery({
        scenario: scenarioPath('llm-proxy'),
        environment: 'smoke',
        outputPath,
        timeoutMs: 120_000,
        // Plain Artillery takes the user count from the phases: three users, as a user would write it.
        overrides: { config: { phases: [{ name: 'llm-users', arrivalCount: USERS, duration: 1 }] } },
        env: {
          API_BASE_URL: sim.apiUrl,
          SERVICE_API_KEY: sim.serviceApiKey,
          TENANT_IDS: sim.tenantIds.join(','),
          API_BEARER_TOKEN: undefined,
          LLM_VUS: undefined,
          LLM_DURATION: '8s',
          LLM_THINK_TIME: '50ms',
          LLM_REQUEST_TIMEOUT: '2s',
        },
      });
      await trafficFlowing(sim);
      // Killed outright, as a crashed or OOM-killed platform process would be.
      process.kill(sim.pid, 'SIGKILL');
      const result = await running;

      assert.equal(result.timedOut, false, explain(result));
      assert.equal(result.signal, null, explain(result));
      assert.equal(result.exitCode, 1, `the gate must fail\n${explain(result)}`);
      assert.ok(existsSync(outputPath) && result.report, 'the --output JSON was written');
      assert.ok(counter(result, 'llm.success') >= 20, 'what was measured before the target died is kept');
      assert.ok(
        counter(result, 'llm.failures.connection_error') > 0,
        `the cause is counted: ${JSON.stringify(result.report?.aggregate.counters)}`,
      );
      // Artillery ends a user at its first transport error: every user ended that way, each error
      // is Artillery's own errors.<code> and the suite's cause, and no attempt went uncounted.
      const counters = result.report?.aggregate.counters ?? {};
      const transportErrors = Object.entries(counters)
        .filter(([name]) => name.startsWith('errors.'))
        .reduce((sum, [, n]) => sum + n, 0);
      assert.equal(counter(result, 'vusers.created'), USERS);
      assert.equal(counter(result, 'vusers.failed'), USERS, 'no user outlived the target');
      assert.equal(transportErrors, USERS, `one transport error per user: ${JSON.stringify(counters)}`);
      assert.equal(
        counter(result, 'llm.failures.connection_error') + counter(result, 'llm.failures.timeout'),
        transportErrors,
        'each transport error is counted by cause',
      );
      assert.equal(
        counter(result, 'llm.attempts'),
        counter(result, 'llm.success') + counter(result, 'llm.failures'),
        'attempts = successes + failures (transport errors included)',
      );
      t.diagnostic(
        `llm.attempts ${counter(result, 'llm.attempts')} = success ${counter(result, 'llm.success')} + failures ${counter(result, 'llm.failures')}; ` +
          `errors.* ${transportErrors} (one per user ended), vusers.failed ${counter(result, 'vusers.failed')}`,
      );
      const failed = result.ensure.filter((v) => !v.ok).map((v) => v.check);
      assert.ok(
        failed.some((c) => c.startsWith(SUCCESS_CHECK)),
        `the success-rate check fails: ${failed.join('; ')}`,
      );
    } finally {
      await sim.stop();
    }
  });

  it('runner (--target env file): exit 1, outputs, manifest and a report naming connection errors', async () => {
    const sim = await startSimulator({ seedTenants: 2 });
    const out = join(work, 'runner-killed');
    try {
      const file = targetFile('killed', sim, {
        LLM_VUS: String(USERS),
        LLM_DURATION: '8s',
        LLM_REQUEST_TIMEOUT: '2s',
      });
      const running = runCli(RUN_JS, ['--target', file, '--scenario', 'llm-proxy', '--out', out], {
        timeoutMs: 150_000,
      });
      await trafficFlowing(sim);
      process.kill(sim.pid, 'SIGKILL');
      const result = await running;
      const transcript = `${result.stdout}\n${result.stderr}`;

      assert.equal(result.code, 1, transcript);
      const manifest = readJson<RunManifest>(join(out, 'manifest.json'));
      const record = manifest.scenarios.find((s) => s.name === 'llm-proxy');
      assert.equal(record?.outcome, 'threshold-failed', JSON.stringify(record));
      assert.match(record?.reason ?? '', /llm\.success/);
      assert.ok(manifest.endedAt, 'the manifest is complete');
      assert.equal(record?.vus, USERS, 'LLM_VUS of the target file, applied by the runner');
      const output = readJson<ArtilleryReport>(join(out, 'llm-proxy', 'output.json'));
      const counters = output.aggregate.counters;
      assert.equal(counters['vusers.created'], USERS, 'exactly LLM_VUS users ran');
      assert.ok((counters['llm.failures.connection_error'] ?? 0) > 0);
      assert.equal(
        counters['llm.attempts'],
        (counters['llm.success'] ?? 0) + (counters['llm.failures'] ?? 0),
        'attempts = successes + failures (transport errors included)',
      );
      const ensure = readJson<EnsureFile>(join(out, 'llm-proxy', 'ensure.json'));
      assert.ok(ensure.verdicts.some((v) => !v.ok && v.check.startsWith(SUCCESS_CHECK)));
      const report = readFileSync(join(out, 'report.md'), 'utf8');
      assert.match(report, /llm\.failures\.connection_error/, 'the report shows the cause');
      assert.ok(existsSync(join(out, 'junit.xml')) && existsSync(join(out, 'report.html')));
    } finally {
      await sim.stop();
    }
  });
});

describe('Ctrl-C mid-run', () => {
  it('runner: SIGINT leaves partial results, a manifest marked interrupted and a report', async () => {
    const sim = await startSimulator({ seedTenants: 2 });
    const out = join(work, 'runner-interrupted');
    try {
      // Long enough that only the interrupt can end it.
      const file = targetFile('interrupted', sim, { LLM_VUS: '3', LLM_DURATION: '5m' });
      let runnerPid: number | undefined;
      let exited = false;
      const running = runCli(RUN_JS, ['--target', file, '--scenario', 'llm-proxy', '--out', out], {
        timeoutMs: 150_000,
        onStdout: (_text, pid) => {
          runnerPid = pid;
        },
      }).finally(() => {
        exited = true;
      });
      await trafficFlowing(sim);
      // Artillery reports per 10 s period (aligned to the clock) and loses an unfinished period on
      // SIGINT: after 14 s of traffic at least one whole period has been reported.
      await new Promise((r) => setTimeout(r, 14_000));
      assert.ok(runnerPid && !exited, 'the runner is still running');
      process.kill(runnerPid, 'SIGINT');
      const result = await running;
      const transcript = `${result.stdout}\n${result.stderr}`;

      assert.notEqual(result.code, 0, `an interrupted run never passes the gate\n${transcript}`);
      assert.equal(result.signal, null, `the runner exited on its own\n${transcript}`);
      const manifest = readJson<RunManifest>(join(out, 'manifest.json'));
      assert.equal(manifest.interrupted, true);
      assert.ok(manifest.endedAt);
      const outputPath = join(out, 'llm-proxy', 'output.json');
      const console = join(out, 'llm-proxy', 'console.log');
      assert.ok(
        existsSync(outputPath),
        `no partial output.json\n${transcript}\n${existsSync(console) ? readFileSync(console, 'utf8').slice(-3000) : ''}`,
      );
      const output = readJson<ArtilleryReport>(outputPath);
      assert.ok((output.aggregate.counters['llm.success'] ?? 0) > 0, 'partial results were written');
      assert.equal(manifest.scenarios[0]?.partialResults, true);
      assert.ok(existsSync(join(out, 'report.md')), `a report was written\n${transcript}`);
      assert.ok(existsSync(join(out, 'junit.xml')));
      // Nothing keeps loading the target after the runner is gone.
      const afterExit = (await sim.control.stats()).routes['api.completions']?.count ?? 0;
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal((await sim.control.stats()).routes['api.completions']?.count ?? 0, afterExit);
    } finally {
      await sim.stop();
    }
  });
});
