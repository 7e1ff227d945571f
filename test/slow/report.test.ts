import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import type { ArtilleryReport } from '../../scripts/lib/artillery-run';
import type { EnsureFile, RunManifest, ScenarioRecord } from '../../scripts/lib/manifest';
import { keyFigures } from '../../scripts/lib/report/figures';
import { scenarioMarkdown } from '../../scripts/lib/report/markdown';
import { thresholdRows, verdictLabel } from '../../scripts/lib/report/thresholds';
import { defaultSmokeScenarios, SIMULATOR_TENANT_CREDITS_CENTS } from '../../scripts/lib/scenarios';
import { type FixtureServer, startFixtureServer } from '../fixtures/fixture-server';
import { fixtureScenario, REPORT_JS, RUN_JS, runCli } from '../fixtures/run-cli';

/** Reports rendered from real run outputs: markdown, self-contained HTML with charts, JUnit, baseline. */

let work: string;
let server: FixtureServer;
let allRun: string;
let allRunResult: Awaited<ReturnType<typeof runCli>>;

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

before(async () => {
  assert.ok(existsSync(RUN_JS) && existsSync(REPORT_JS), 'build first: npx tsup');
  work = mkdtempSync(join(tmpdir(), 'report-test-'));
  server = await startFixtureServer();
  // One real smoke run of every default scenario against the simulator (the runner writes the report).
  allRun = join(work, 'all');
  allRunResult = await runCli(RUN_JS, ['--parallel', '--out', allRun], { timeoutMs: 240_000 });
});

after(async () => {
  await server.close();
  rmSync(work, { recursive: true, force: true });
});

describe('report from a real run of every scenario', () => {
  test('the run completed and wrote every scenario’s outputs', () => {
    assert.ok(allRunResult.code === 0 || allRunResult.code === 1, allRunResult.stdout + allRunResult.stderr);
    const manifest = readJson<RunManifest>(join(allRun, 'manifest.json'));
    assert.deepEqual(
      manifest.scenarios.map((s) => s.name),
      defaultSmokeScenarios().map((s) => s.name),
    );
    for (const s of manifest.scenarios) assert.ok(existsSync(join(allRun, s.dir, 'output.json')), s.name);
  });

  test('report.md: a threshold table per scenario with every verdict, key figures and the manifest', () => {
    const markdown = readFileSync(join(allRun, 'report.md'), 'utf8');
    const manifest = readJson<RunManifest>(join(allRun, 'manifest.json'));
    for (const s of manifest.scenarios) {
      const section = markdown.split(`### ${s.name}: `)[1]?.split('\n### ')[0];
      assert.ok(section, `section for ${s.name}`);
      const ensure = readJson<EnsureFile>(join(allRun, s.dir, 'ensure.json'));
      assert.ok(ensure.verdicts.length > 0, `${s.name} has verdicts`);
      assert.match(section, /\| metric \| limit \| measured \| result \| cause class \|/);
      const rows = section
        .split('\n')
        .filter((l) => /\| (pass|FAIL|fail \(optional\))( \(few samples: [^|]+\))? \| /.test(l));
      assert.equal(rows.length, ensure.verdicts.length, `${s.name}: one row per verdict`);
    }
    assert.match(markdown, /#### Latency per request \(ms\)/);
    assert.match(markdown, /#### WebSocket \(RTT ms, disconnects\)/);
    assert.match(markdown, /terminal\.rtt_ms/);
    assert.match(markdown, /#### Tokens/);
    assert.match(markdown, /#### Startup \/ provisioning \(ms\)/);
    // Gate limits are listed as the thresholds' limits, never as measurements.
    const container = markdown.split('### container-provisioning: ')[1]!.split('\n### ')[0]!;
    assert.match(
      container,
      /#### Threshold limits \(from the settings; the checks compare against them\)\n\n\| metric \| value \|\n\| --- \| --- \|\n\| container\.limit\.startup_p95_ms \| 30000 \|/,
    );
    assert.match(
      container,
      /\| container\.startup_ms\.p95 \| < 30000 \(container\.limit\.startup_p95_ms\) \| container\.startup_ms\.p95 = /,
    );
    for (const other of markdown.split('#### Other measurements').slice(1))
      assert.doesNotMatch(other.split('####')[0]!, /\.limit\./, 'no gate limit among the measurements');
    // Chat states its rate limiting either way.
    const chat = markdown.split('### chat-sessions: ')[1]!.split('\n### ')[0]!;
    assert.match(
      chat,
      /chat: (not rate limited \(chat\.rate_limited = 0\)|rate limited, not a latency failure)/,
    );
    assert.match(
      markdown,
      new RegExp(
        `\\| tenants for [^|]*llm-proxy[^|]* \\| \\d+ via simulator control API, ${SIMULATOR_TENANT_CREDITS_CENTS} cents each`,
      ),
    );
    assert.match(markdown, /## Run manifest/);
    assert.match(markdown, /\| git revision \| [0-9a-f]{40}/);
    assert.match(markdown, /\| SERVICE_API_KEY \| \(set, redacted\) \|/);
  });

  test('junit.xml: one test case per threshold, failures counted', () => {
    const xml = readFileSync(join(allRun, 'junit.xml'), 'utf8');
    const manifest = readJson<RunManifest>(join(allRun, 'manifest.json'));
    let verdicts = 0;
    let failed = 0;
    for (const s of manifest.scenarios) {
      const ensure = readJson<EnsureFile>(join(allRun, s.dir, 'ensure.json'));
      verdicts += ensure.verdicts.length;
      failed += ensure.verdicts.filter((v) => !v.ok && !v.check.endsWith('(optional)')).length;
      assert.match(xml, new RegExp(`<testsuite name="${s.name}" tests="${ensure.verdicts.length}"`));
    }
    assert.equal((xml.match(/<testcase /g) ?? []).length, verdicts);
    assert.equal((xml.match(/<failure /g) ?? []).length, failed);
    assert.match(
      xml,
      new RegExp(`<testsuites name="loadtest all" tests="${verdicts}" failures="${failed}">`),
    );
  });

  test('report.html opens offline in headless Chromium and its charts are drawn', async () => {
    const html = join(allRun, 'report.html');
    assert.doesNotMatch(
      readFileSync(html, 'utf8'),
      /<script[^>]+src=|<link[^>]+href=/,
      'nothing loaded from outside',
    );
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
      const external: string[] = [];
      await page.route('**/*', (route) => {
        const url = route.request().url();
        if (url.startsWith('file:')) return route.continue();
        external.push(url);
        return route.abort();
      });
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(`file://${html}`);
      await page.waitForSelector('.chart canvas');
      assert.deepEqual(errors, [], 'no script errors');
      assert.deepEqual(external, [], 'no network requests');

      const charts = await page.$$eval('.chart', (nodes) =>
        nodes.map((node) => {
          const canvas = node.querySelector('canvas');
          if (!canvas) return { id: node.id, width: 0, height: 0, drawn: 0, title: '' };
          const context = canvas.getContext('2d')!;
          const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
          // Series are drawn in saturated colours; grid, axes and text are grey or black.
          let drawn = 0;
          for (let i = 0; i < pixels.length; i += 4) {
            const [r, g, b, a] = [pixels[i]!, pixels[i + 1]!, pixels[i + 2]!, pixels[i + 3]!];
            if (a > 0 && Math.max(r, g, b) - Math.min(r, g, b) > 60) drawn += 1;
          }
          return {
            id: node.id,
            width: canvas.width,
            height: canvas.height,
            drawn,
            title: node.querySelector('.u-title')?.textContent ?? '',
          };
        }),
      );
      const manifest = readJson<RunManifest>(join(allRun, 'manifest.json'));
      assert.ok(
        charts.length >= manifest.scenarios.length,
        `at least one chart per scenario: ${charts.length}`,
      );
      for (const chart of charts) {
        assert.ok(chart.width > 0 && chart.height > 0, `${chart.id} has a size`);
        assert.ok(
          chart.drawn > 10,
          `${chart.id} (${chart.title}) has drawn series: ${chart.drawn} coloured pixels`,
        );
      }
      const titles = charts.map((c) => c.title);
      for (const expected of [
        'Virtual users',
        'Errors and failures',
        'WebSocket round trip',
        'Latency: llm.latency_ms',
        'Tokens',
      ])
        assert.ok(
          titles.some((t) => t.startsWith(expected)),
          `a "${expected}" chart among ${titles.join('; ')}`,
        );
      const sections = await page.$$eval('section.scenario', (nodes) =>
        nodes.map((n) => n.getAttribute('data-scenario')),
      );
      assert.deepEqual(
        sections,
        manifest.scenarios.map((s) => s.name),
      );

      const screenshot = join(allRun, 'report-screenshot.png');
      await page.locator('.chart').first().screenshot({ path: screenshot });
      assert.ok(statSync(screenshot).size > 3000, 'the chart screenshot is not blank');
    } finally {
      await browser.close();
    }
  });
});

describe('report command', () => {
  const fixtureRun = async (name: string, delayMs: number) => {
    server.setDelayMs(delayMs);
    const file = join(work, `${name}.env`);
    writeFileSync(
      file,
      `WEB_BASE_URL=${server.url}\nAPI_BASE_URL=${server.url}\nTENANT_IDS=3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b\nSERVICE_API_KEY=k-12345678\n`,
    );
    const out = join(work, name);
    const result = await runCli(RUN_JS, [
      '--target',
      file,
      '--scenario',
      fixtureScenario('fixture-http'),
      '--out',
      out,
      '--no-report',
    ]);
    server.setDelayMs(0);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    return out;
  };

  test('--baseline flags an injected latency regression (exit 1) and not an unchanged run', async () => {
    const baseline = await fixtureRun('baseline', 0);
    const slower = await fixtureRun('slower', 120);

    const same = await runCli(REPORT_JS, [baseline, '--baseline', baseline]);
    assert.equal(same.code, 0, same.stdout + same.stderr);
    assert.match(readFileSync(join(baseline, 'report.md'), 'utf8'), /No regressions beyond the tolerance/);

    const result = await runCli(REPORT_JS, [slower, '--baseline', baseline, '--tolerance', '0.25']);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /REGRESSION fixture-http http\.response_time\.p95: [\d.]+ → 1[2-9]\d/);
    const markdown = readFileSync(join(slower, 'report.md'), 'utf8');
    assert.match(markdown, /## Compared with baseline \(tolerance 25%\)/);
    assert.match(
      markdown,
      /\| fixture-http \| http\.response_time\.p95 \| [\d.]+ \| [\d.]+ \| \+\d+% \| REGRESSION \|/,
    );
    assert.doesNotMatch(markdown, /failure rate[^\n]*REGRESSION/, 'no failures were injected');
  });

  test('appends the markdown to $GITHUB_STEP_SUMMARY; refuses a folder that is not a run', async () => {
    const run = await fixtureRun('summary', 0);
    const summary = join(work, 'step-summary.md');
    writeFileSync(summary, 'earlier step\n');
    const result = await runCli(REPORT_JS, [run], { env: { GITHUB_STEP_SUMMARY: summary } });
    assert.equal(result.code, 0, result.stderr);
    const text = readFileSync(summary, 'utf8');
    assert.ok(text.startsWith('earlier step\n# Load test summary: PASSED'), text.slice(0, 200));
    const bad = await runCli(REPORT_JS, [work]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /no manifest\.json/);
  });
});

describe('cause classes', () => {
  const report = (counters: Record<string, number>): ArtilleryReport => ({
    aggregate: {
      counters,
      summaries: {
        'http.response_time': {
          min: 1,
          max: 900,
          count: 200,
          mean: 300,
          p50: 200,
          median: 200,
          p75: 400,
          p90: 800,
          p95: 850,
          p99: 900,
          p999: 900,
        },
      },
    },
    intermediate: [],
  });

  test('latency, errors, credits, rate limit, generator saturated', () => {
    const rows = thresholdRows(
      [
        { ok: false, check: 'http.response_time.p99 < 500' },
        { ok: false, check: 'llm.failures == 0' },
        { ok: false, check: 'llm.failures.credits_exhausted == 0' },
        { ok: true, check: 'vusers.failed == 0' },
      ],
      report({ 'llm.failures': 3, 'llm.failures.credits_exhausted': 3, 'vusers.failed': 0 }),
    );
    assert.deepEqual(
      rows.map((r) => [r.check, r.cause, r.measured]),
      [
        ['http.response_time.p99 < 500', 'latency', 'http.response_time.p99 = 900'],
        ['llm.failures == 0', 'credits', 'llm.failures = 3'],
        ['llm.failures.credits_exhausted == 0', 'credits', 'llm.failures.credits_exhausted = 3'],
        ['vusers.failed == 0', 'errors', 'vusers.failed = 0'],
      ],
    );
    const limited = thresholdRows(
      [{ ok: false, check: 'chat.failures == 0' }],
      report({ 'chat.failures': 2, 'chat.failures.rate_limited': 2 }),
    );
    assert.equal(limited[0]!.cause, 'rate limit');
    const notLimited = thresholdRows(
      [{ ok: false, check: 'chat.success > 0.95 * (chat.attempts - chat.rate_limited)' }],
      report({ 'chat.success': 0, 'chat.attempts': 5, 'chat.rate_limited': 0 }),
    );
    assert.equal(notLimited[0]!.cause, 'errors', 'a rate-limit counter at zero does not explain a failure');
    const saturated = thresholdRows(
      [
        { ok: false, check: 'generator.event_loop_lag_ms.p99 < 100' },
        { ok: false, check: 'http.response_time.p99 < 500' },
      ],
      report({}),
    );
    assert.deepEqual(
      saturated.map((r) => r.cause),
      ['generator saturated', 'generator saturated'],
    );
    const record: ScenarioRecord = {
      name: 'llm-proxy',
      script: 'scenarios/llm-proxy.yml',
      area: 'llm',
      dir: 'llm-proxy',
      startedAt: null,
      endedAt: null,
      expectedMs: 0,
      durationMs: 1000,
      exitCode: 1,
      signal: null,
      timedOut: false,
      outcome: 'threshold-failed',
      reason: null,
      checksPassed: 0,
      checksFailed: 2,
      partialResults: false,
      dataTag: 'x-1',
    };
    const markdown = scenarioMarkdown({
      record,
      report: report({}),
      verdicts: [
        { ok: false, check: 'generator.event_loop_lag_ms.p99 < 100' },
        { ok: false, check: 'http.response_time.p99 < 500' },
      ],
    });
    assert.match(markdown, /\*\*Run invalid for latency: the load generator itself was saturated/);
    assert.doesNotMatch(scenarioMarkdown({ record, report: report({}), verdicts: [] }), /Run invalid/);
    const optional = thresholdRows(
      [{ ok: false, check: 'http.response_time.p95 < 10 (optional)' }],
      report({}),
    );
    assert.deepEqual(
      [optional[0]!.optional, optional[0]!.check, optional[0]!.limit],
      [true, 'http.response_time.p95 < 10', '< 10'],
    );
  });
});

describe('limits, few samples, rate limiting and credit exhaustion', () => {
  const summary = (count: number, p99: number, max: number) => ({
    min: 1,
    max,
    count,
    mean: p99 / 2,
    p50: p99 / 2,
    median: p99 / 2,
    p75: p99,
    p90: p99,
    p95: p99,
    p99,
    p999: max,
  });
  const report = (
    counters: Record<string, number>,
    summaries: Record<string, ReturnType<typeof summary>>,
  ): ArtilleryReport => ({ aggregate: { counters, summaries }, intermediate: [] });
  const record: ScenarioRecord = {
    name: 'chat-sessions',
    script: 'scenarios/chat-sessions.yml',
    area: 'chat',
    dir: 'chat-sessions',
    startedAt: null,
    endedAt: null,
    expectedMs: 0,
    durationMs: 1000,
    exitCode: 0,
    signal: null,
    timedOut: false,
    outcome: 'pass',
    reason: null,
    checksPassed: 1,
    checksFailed: 0,
    partialResults: false,
    dataTag: 'x-1',
  };

  test('a limit metric is shown as the limit; a percentile of few samples says p99 ≈ max', () => {
    const check = { ok: true, check: 'llm.latency_ms.p99 < llm.limit.latency_p99_ms.max' };
    const limits = { 'llm.limit.latency_p99_ms': summary(12, 30000, 30000) };
    const [few] = thresholdRows([check], report({}, { 'llm.latency_ms': summary(12, 40, 55), ...limits }));
    assert.equal(few!.limit, '< 30000 (llm.limit.latency_p99_ms)');
    assert.deepEqual(few!.measuredMetrics, ['llm.latency_ms.p99']);
    assert.equal(few!.measured, 'llm.latency_ms.p99 = 40 (n=12, max 55)');
    assert.equal(verdictLabel(few!), 'pass (few samples: n=12, p99 ≈ max 55)');
    const [many] = thresholdRows([check], report({}, { 'llm.latency_ms': summary(500, 40, 55), ...limits }));
    assert.equal(verdictLabel(many!), 'pass');
    assert.equal(many!.measured, 'llm.latency_ms.p99 = 40');
    const [p95] = thresholdRows(
      [{ ok: false, check: 'chat.latency_ms.short.p95 < 100' }],
      report({}, { 'chat.latency_ms.short': summary(60, 140, 150) }),
    );
    assert.equal(verdictLabel(p95!), 'FAIL (few samples: n=60)', 'a p95 of 60 samples is not the max');

    const figures = keyFigures(report({}, { 'llm.latency_ms': summary(12, 40, 55), ...limits }));
    assert.deepEqual(figures.limits, [{ kind: 'value', name: 'llm.limit.latency_p99_ms', value: 30000 }]);
    assert.ok(!figures.otherHistograms.some((r) => r.name.includes('.limit.')));
  });

  test('chat states rate limiting as such, and credit exhaustion is named', () => {
    const limited = scenarioMarkdown({
      record,
      report: report(
        { 'chat.attempts': 20, 'chat.success': 14, 'chat.rate_limited': 6 },
        { 'chat.retry_after_ms': summary(6, 1000, 1000) },
      ),
      verdicts: [],
    });
    assert.match(
      limited,
      /\*\*chat: rate limited, not a latency failure: 6 requests answered 429 \(chat\.rate_limited\); the users waited Retry-After before sending again \(chat\.retry_after_ms p95 1000 ms, max 1000 ms\)/,
    );
    assert.match(
      limited,
      /#### Rate limiting \(429s and Retry-After waits: not latency\)[\s\S]*\| chat\.retry_after_ms \| 6 \|/,
    );
    const calm = scenarioMarkdown({ record, report: report({ 'chat.attempts': 5 }, {}), verdicts: [] });
    assert.match(calm, /chat: not rate limited \(chat\.rate_limited = 0\)\./);

    const dry = scenarioMarkdown({
      record: { ...record, name: 'llm-proxy', area: 'llm', outcome: 'threshold-failed' },
      report: report({ 'llm.failures': 40, 'llm.failures.credits_exhausted': 40, 'http.codes.402': 40 }, {}),
      verdicts: [{ ok: false, check: 'llm.success > 0.95 * llm.attempts' }],
    });
    assert.match(dry, /\*\*Credit exhaustion: 40 requests refused because the tenant ran out of credits/);
    assert.match(dry, /\| FAIL \| credits \|/);
    assert.doesNotMatch(dry, /rate limited/);
  });
});
