import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { loadArtilleryValidator } from '../../scripts/lib/validate/artillery-schema';
import { EmittableMetrics } from '../../scripts/lib/validate/metrics';
import { fixtureScenario, ROOT, runCli, VALIDATE_JS } from '../fixtures/run-cli';

/** `npm run validate` catches, offline, what would otherwise only show at the end of a long run. */

before(() => {
  assert.ok(existsSync(VALIDATE_JS), 'build first: npx tsup');
});

const validate = (...files: string[]) => runCli(VALIDATE_JS, files, { timeoutMs: 60_000 });

describe('npm run validate', () => {
  test('a correct scenario passes', async () => {
    const result = await validate(fixtureScenario('fixture-http'));
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /^ok {3}test\/fixtures\/scenarios\/fixture-http\.yml$/m);
  });

  test('a processor function name that the processor does not export', async () => {
    const result = await validate(fixtureScenario('validate-broken-function'));
    assert.equal(result.code, 1);
    assert.match(
      result.stdout,
      /scenarios\[0\]\.flow\[1\]\.function: processor function "recrodWork" is not exported by \.\.\/processors\/fixture\.js/,
    );
    assert.match(result.stdout, /flow\[0\]\.get\.beforeRequest: processor function "signRequestTypo"/);
    assert.doesNotMatch(result.stdout, /"startFixture"/, 'an exported function is not reported');
  });

  test('a payload file that does not exist', async () => {
    const result = await validate(fixtureScenario('validate-missing-payload'));
    assert.equal(result.code, 1);
    assert.match(result.stdout, /payload: file not found: \.\.\/payloads\/no-such-file\.csv/);
  });

  test('thresholds on metrics nobody emits, and only those', async () => {
    const result = await validate(fixtureScenario('validate-unknown-metric'));
    assert.equal(result.code, 1);
    assert.match(result.stdout, /ensure threshold: metric "fixture\.wrok_ms\.p99" is not emitted/);
    assert.match(result.stdout, /metric "ghost\.failures" is not emitted/);
    assert.doesNotMatch(result.stdout, /"fixture\.work_ms\.p95"/, 'declared in EMITTED_METRICS');
    assert.doesNotMatch(result.stdout, /"vusers\.failed"/, 'an Artillery metric');
  });

  test("Artillery's own script schema is applied, and ensure without its plugin is refused", async () => {
    assert.ok(await loadArtilleryValidator(), "Artillery's validate-script is found");
    const result = await validate(fixtureScenario('validate-artillery-shape'));
    assert.equal(result.code, 1);
    assert.match(result.stdout, /Artillery schema: .*must have 1 key/);
    assert.match(result.stdout, /config\.ensure: thresholds only run with `config\.plugins\.ensure: \{\}`/);
  });

  test('every scenario in scenarios/ passes', async () => {
    const files = readdirSync(join(ROOT, 'scenarios'))
      .filter((f) => f.endsWith('.yml'))
      .map((f) => join(ROOT, 'scenarios', f));
    assert.ok(files.length > 0);
    const result = await validate();
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, new RegExp(`${files.length}/${files.length} scenario\\(s\\) valid`));
  });
});

describe('metric names a scenario can emit', () => {
  const metrics = new EmittableMetrics(['llm.latency_ms', 'llm.failures.*', 'llm.codes.*']);

  test('declared names, globs and aggregation suffixes', () => {
    assert.ok(metrics.canEmit('llm.latency_ms.p99'));
    assert.ok(metrics.canEmit('llm.latency_ms'));
    assert.ok(metrics.canEmit('llm.failures.timeout'));
    assert.ok(metrics.canEmit('llm.codes.502'));
    assert.ok(!metrics.canEmit('llm.latency_ms.p42'));
    assert.ok(!metrics.canEmit('llm.latency'));
    assert.ok(!metrics.canEmit('llm.failures'), 'the glob needs a segment after the dot');
  });

  test("Artillery's built-in metrics", () => {
    for (const name of [
      'http.response_time.p95',
      'http.codes.200',
      'http.requests',
      'vusers.failed',
      'vusers.created_by_name.x',
      'errors.ETIMEDOUT',
      'plugins.metrics-by-endpoint.response_time./health (health).p99',
      'browser.page.LCP.signup_browser.p95',
    ])
      assert.ok(metrics.canEmit(name), name);
    assert.ok(!metrics.canEmit('http.response_tim.p95'));
    assert.ok(!metrics.canEmit('vusers.fail'));
  });
});
