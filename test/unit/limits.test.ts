import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import {
  applyLimitSettings,
  type EnsureCondition,
  LIMIT_SETTINGS,
  LIMITS,
  limitSettingsOf,
  limitsOf,
} from '../../config/limits';
import { settingNamesFor } from '../../config/settings/index';
import { AREAS } from '../../plugins/artillery-plugin-agentteams/src/requirements';
import { scenarioPath } from '../helpers/paths';

/** The gate-limit registry (config/limits.ts): which number of which condition a setting replaces. */

const LLM: EnsureCondition[] = [
  { expression: 'llm.success / llm.attempts * 100 > 95' },
  { expression: 'llm.success == 0 or llm.proxy_overhead_ms.count < 20 or llm.proxy_overhead_ms.p99 < 500' },
  { expression: 'llm.success == 0 or llm.latency_ms.count < 20 or llm.latency_ms.p99 < 30000' },
  {
    expression: 'generator.event_loop_lag_ms.count < 20 or generator.event_loop_lag_ms.p99 < 250',
    strict: true,
  },
  { expression: 'generator.cpu_pct.count < 20 or generator.cpu_pct.p95 < 90' },
];

const SCENARIO_NAMES = [
  'llm-proxy',
  'signup-tenant-chat',
  'signup-browser',
  'chat-sessions',
  'terminal-ws',
  'container-provisioning',
];

describe('applyLimitSettings', () => {
  test('replaces exactly the number after the fragment, nothing else', () => {
    const out = applyLimitSettings(LLM, 'llm-proxy', {
      LLM_OVERHEAD_P99_MS: '300',
      GENERATOR_CPU_P95_PCT: '75.5',
    });
    assert.deepEqual(out.problems, []);
    assert.deepEqual(out.applied, { LLM_OVERHEAD_P99_MS: 300, GENERATOR_CPU_P95_PCT: 75.5 });
    assert.deepEqual(
      out.conditions.map((c) => c.expression),
      [
        LLM[0]!.expression,
        // The few-samples guard's 20 stays; only the limit moves.
        'llm.success == 0 or llm.proxy_overhead_ms.count < 20 or llm.proxy_overhead_ms.p99 < 300',
        LLM[2]!.expression,
        LLM[3]!.expression,
        'generator.cpu_pct.count < 20 or generator.cpu_pct.p95 < 75.5',
      ],
    );
    assert.equal(out.conditions[3]!.strict, true, 'other fields of a condition are kept');
    assert.equal(LLM[1]!.expression.endsWith('< 500'), true, 'the input is not modified');
  });

  test('a success ratio is a limit too', () => {
    const out = applyLimitSettings(LLM, 'llm-proxy', { LLM_SUCCESS_RATE_MIN_PCT: '99' });
    assert.equal(out.conditions[0]!.expression, 'llm.success / llm.attempts * 100 > 99');
  });

  test("unset and empty settings leave the YAML number; other scenarios' settings do nothing", () => {
    const out = applyLimitSettings(LLM, 'llm-proxy', { LLM_LATENCY_P99_MS: '', SIGNUP_P99_MS: '1' });
    assert.deepEqual(out.conditions, LLM);
    assert.deepEqual(out.applied, {});
    assert.deepEqual(out.problems, []);
  });

  test('a non-numeric value is a problem naming the setting, and changes nothing', () => {
    const out = applyLimitSettings(LLM, 'llm-proxy', {
      LLM_LATENCY_P99_MS: 'fast',
      GENERATOR_LAG_P99_MS: '-1',
    });
    assert.equal(out.problems.length, 2);
    assert.match(out.problems[0]!, /^GENERATOR_LAG_P99_MS: /);
    assert.match(out.problems[1]!, /^LLM_LATENCY_P99_MS: .*"fast"/);
    assert.deepEqual(out.conditions, LLM);
  });

  test('a fragment never matches inside a longer metric name', () => {
    const conditions = [{ expression: 'xllm.latency_ms.p99 < 5 and llm.latency_ms.p99x < 6' }];
    const out = applyLimitSettings(conditions, 'llm-proxy', { LLM_LATENCY_P99_MS: '7' });
    assert.deepEqual(out.conditions, conditions);
  });

  test('a fragment in two conditions is refused rather than guessed', () => {
    const conditions = [{ expression: 'llm.latency_ms.p99 < 5' }, { expression: 'llm.latency_ms.p99 < 6' }];
    const out = applyLimitSettings(conditions, 'llm-proxy', { LLM_LATENCY_P99_MS: '7' });
    assert.match(out.problems[0]!, /^LLM_LATENCY_P99_MS: more than one/);
  });
});

describe('limitsOf', () => {
  test('reads the limits in force, by setting', () => {
    const limits = limitsOf(applyLimitSettings(LLM, 'llm-proxy', { LLM_LATENCY_P99_MS: '2000' }).conditions);
    assert.deepEqual(Object.fromEntries(limits.map((l) => [l.setting, l.value])), {
      GENERATOR_LAG_P99_MS: 250,
      GENERATOR_CPU_P95_PCT: 90,
      LLM_SUCCESS_RATE_MIN_PCT: 95,
      LLM_OVERHEAD_P99_MS: 500,
      LLM_LATENCY_P99_MS: 2000,
    });
  });

  test('the generator limits apply to every scenario, fixtures included', () => {
    assert.deepEqual(limitSettingsOf('some-fixture'), ['GENERATOR_LAG_P99_MS', 'GENERATOR_CPU_P95_PCT']);
  });
});

describe('the registry and the scenario YAMLs', () => {
  for (const scenario of SCENARIO_NAMES) {
    test(`${scenario}: every limit setting of the scenario matches exactly one condition`, () => {
      const script = parse(readFileSync(scenarioPath(scenario), 'utf8')) as {
        config: { ensure?: { conditions?: EnsureCondition[] } };
      };
      const conditions = script.config.ensure?.conditions ?? [];
      for (const setting of limitSettingsOf(scenario)) {
        const found = limitsOf(conditions).filter((l) => l.setting === setting);
        assert.equal(
          found.length,
          1,
          `${scenario}: ${setting} ("${LIMITS[setting].fragment} <number>") matches ${found.length} conditions`,
        );
        // Replacing it changes that one condition and no other.
        const out = applyLimitSettings(conditions, scenario, { [setting]: '12345' });
        assert.deepEqual(out.problems, []);
        const changed = out.conditions.filter((c, i) => c.expression !== conditions[i]!.expression);
        assert.equal(changed.length, 1, `${scenario}: ${setting}`);
      }
      assert.ok(
        !conditions.some((c) => c.expression.includes('{{')),
        `${scenario}: limits are literal numbers, not $env templates`,
      );
    });
  }
});

test('every limit setting is a setting of the suite (checked, documented, optional)', () => {
  const known = new Set(settingNamesFor(AREAS));
  assert.deepEqual(
    LIMIT_SETTINGS.filter((name) => !known.has(name)),
    [],
    'limit settings missing from config/settings/*.ts',
  );
});
