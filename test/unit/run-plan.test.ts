import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadShapeOf } from '../../config/load-shape';
import { expectedDurationMs, planRun } from '../../scripts/lib/run-plan';
import { scenarioOverrides } from '../../scripts/lib/scenario-overrides';
import { fixtureScenario } from '../fixtures/run-cli';
import { ROOT } from '../helpers/paths';

const STEPPED = `
config:
  phases: &load_phases
    - arrivalCount: 100
      duration: 1
  variables: &load_variables
    loopDuration: "10m"
  environments:
    smoke:
      phases:
        - arrivalCount: 10
          duration: 1
      variables:
        loopDuration: "8s"
    load:
      phases: *load_phases
      variables: *load_variables
    stress:
      phases:
        - arrivalCount: 100
          duration: 1
        - pause: 299
        - arrivalCount: 100
          duration: 1
        - pause: 299
        - arrivalCount: 100
          duration: 1
      variables:
        loopDuration: "15m"
  ensure:
    conditions:
      - expression: "llm.success / llm.attempts * 100 > 95"
      - expression: "llm.proxy_overhead_ms.count < 20 or llm.proxy_overhead_ms.p99 < 500"
`;

describe('load shapes come from the scenario YAML', () => {
  test('environments, the top level (anchors) and stress steps', () => {
    assert.deepEqual(loadShapeOf(STEPPED, 'smoke'), {
      ok: true,
      shape: { usersPerStep: 10, steps: 1, loopDurationMs: 8_000, phasesMs: 1_000 },
    });
    assert.deepEqual(loadShapeOf(STEPPED, 'load'), loadShapeOf(STEPPED, undefined));
    const stress = loadShapeOf(STEPPED, 'stress');
    assert.ok(stress.ok);
    assert.deepEqual(stress.shape, {
      usersPerStep: 100,
      steps: 3,
      loopDurationMs: 900_000,
      phasesMs: 601_000,
    });
    // The loop time decides; an override of it replaces the YAML's.
    assert.equal(expectedDurationMs(stress.shape), 906_000);
    assert.equal(expectedDurationMs(stress.shape, 60_000), 607_000);
  });

  test('a shape that cannot be read is a problem, not a guess', () => {
    assert.equal(loadShapeOf('config: {}', 'smoke').ok, false);
    const templated = loadShapeOf(
      'config:\n  phases:\n    - arrivalCount: "{{ $env.X }}"\n      duration: 1\n',
      undefined,
    );
    assert.equal(templated.ok, false);
    const badLoop = loadShapeOf(
      'config:\n  phases: [{arrivalCount: 1, duration: 1}]\n  variables: {loopDuration: soon}\n',
      undefined,
    );
    assert.equal(badLoop.ok, false);
  });
});

describe('runner-only settings reach Artillery as --overrides', () => {
  test('users per step and limits replace the YAML numbers; bad values are named', () => {
    const result = scenarioOverrides({
      scriptText: STEPPED,
      scenario: 'llm-proxy',
      profile: 'stress',
      env: { LLM_VUS: '7', LLM_OVERHEAD_P99_MS: '300' },
      vusSetting: 'LLM_VUS',
    });
    assert.deepEqual(result.problems, []);
    const config = (result.overrides as { config: Record<string, unknown> }).config as {
      phases: Array<{ arrivalCount?: number; pause?: number }>;
      ensure: { conditions: Array<{ expression: string }> };
    };
    assert.deepEqual(
      config.phases.map((p) => p.arrivalCount ?? p.pause),
      [7, 299, 7, 299, 7],
    );
    assert.equal(
      config.ensure.conditions[1]!.expression,
      'llm.proxy_overhead_ms.count < 20 or llm.proxy_overhead_ms.p99 < 300',
    );
    assert.deepEqual(result.limits, { LLM_OVERHEAD_P99_MS: 300 });

    const untouched = scenarioOverrides({
      scriptText: STEPPED,
      scenario: 'llm-proxy',
      profile: 'smoke',
      env: {},
    });
    assert.equal(untouched.overrides, undefined);

    // Publishing on: the shared publish-metrics block joins the overrides, as distributed runs get it.
    const published = scenarioOverrides({
      scriptText: STEPPED,
      scenario: 'llm-proxy',
      profile: 'smoke',
      env: {},
      publishMetricsConfig: readFileSync(join(ROOT, 'config', 'publish-metrics.yml'), 'utf8'),
    });
    const plugins = (published.overrides as { config: { plugins: Record<string, Array<{ type: string }>> } })
      .config.plugins;
    assert.equal(plugins['publish-metrics']?.[0]?.type, '{{ $env.PUBLISH_METRICS_TYPE }}');

    const bad = scenarioOverrides({
      scriptText: STEPPED,
      scenario: 'llm-proxy',
      profile: 'smoke',
      env: { LLM_VUS: 'abc', LLM_OVERHEAD_P99_MS: 'fast' },
      vusSetting: 'LLM_VUS',
    });
    assert.equal(bad.problems.length, 2);
    assert.match(bad.problems.join('\n'), /LLM_VUS: must be a whole number/);
    assert.match(bad.problems.join('\n'), /LLM_OVERHEAD_P99_MS/);
  });
});

describe('the runner sends load only where the user pointed it', () => {
  const work = mkdtempSync(join(tmpdir(), 'run-plan-'));
  after(() => rmSync(work, { recursive: true, force: true }));
  const fixture = fixtureScenario('fixture-http');
  const TENANT = '11111111-2222-4333-8444-555555555555';

  test('nothing set: the bundled simulator', () => {
    const plan = planRun(['--scenario', fixture, '--out', join(work, 'a')], {});
    assert.ok(plan.ok, JSON.stringify(plan));
    assert.equal(plan.plan.target.kind, 'simulator');
  });

  test('a URL in the shell without --target is the target, never a silent simulator run', () => {
    const remote = planRun(['--scenario', fixture, '--out', join(work, 'b')], {
      API_BASE_URL: 'http://api.agentteams.invalid',
      TENANT_IDS: TENANT,
      SERVICE_API_KEY: 'k-123456',
    });
    assert.equal(remote.ok, false);
    if (!remote.ok)
      assert.match(
        remote.problems.join('\n'),
        /API_BASE_URL: host "api\.agentteams\.invalid" is not loopback/,
      );

    const local = planRun(['--scenario', fixture, '--out', join(work, 'c')], {
      API_BASE_URL: 'http://127.0.0.1:9',
      TENANT_IDS: TENANT,
      SERVICE_API_KEY: 'k-123456',
    });
    assert.ok(local.ok, JSON.stringify(local));
    assert.deepEqual(local.plan.target, { kind: 'environment', names: ['API_BASE_URL'] });
    assert.equal(local.plan.env.API_BASE_URL, 'http://127.0.0.1:9');
  });

  test('--target simulator wins over the shell, and faults refuse a shell target', () => {
    const plan = planRun(['--target', 'simulator', '--scenario', fixture, '--out', join(work, 'd')], {
      API_BASE_URL: 'http://127.0.0.1:9',
    });
    assert.ok(plan.ok, JSON.stringify(plan));
    assert.equal(plan.plan.target.kind, 'simulator');
    assert.equal(plan.plan.env.API_BASE_URL, undefined);
    const faults = planRun(['--scenario', fixture, '--sim-faults', '{}', '--out', join(work, 'e')], {
      API_BASE_URL: 'http://127.0.0.1:9',
      TENANT_IDS: TENANT,
      SERVICE_API_KEY: 'k-123456',
    });
    assert.equal(faults.ok, false);
    if (!faults.ok)
      assert.match(
        faults.problems.join('\n'),
        /--sim-faults: only applies to the simulator, but API_BASE_URL/,
      );
  });
});
