import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { inflateSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import type { ArtilleryReport } from '../../scripts/lib/artillery-run';
import { scenarioCharts } from '../../scripts/lib/report/charts';
import { writeReport } from '../../scripts/lib/report/index';
import { guardedPercentile, percentileLimit } from '../../scripts/lib/report/limits';
import type { Verdict } from '../../scripts/lib/report/load';
import { thresholdRows, verdictLabel } from '../../scripts/lib/report/thresholds';
import {
  fixtureRun,
  llmProxyScenario,
  reportOf,
  signupScenario,
  writeRun,
} from '../fixtures/metrics/report-run';

/**
 * report.md, report.html and junit.xml from fixture run folders (known figures, no scenario run):
 * verdicts from the checks file, the few-samples rule, causes, Artillery's HTTP metrics, and the
 * HTML drawn in headless Chromium and screenshotted.
 */

const ROOT = resolve(__dirname, '..', '..');
let work: string;
let runDir: string;

const v = (check: string, ok: boolean, strict = true): Verdict => ({ check, ok, strict });
const section = (markdown: string, name: string) => markdown.split(`### ${name}: `)[1]!.split('\n### ')[0]!;

before(() => {
  work = mkdtempSync(join(tmpdir(), 'report-test-'));
  runDir = join(work, 'run');
  fixtureRun(runDir);
  writeReport(runDir, { stepSummaryPath: undefined });
});

after(() => {
  if (process.env.KEEP_REPORT_TEST) process.stdout.write(`kept ${work}\n`);
  else rmSync(work, { recursive: true, force: true });
});

describe('limits read from the expressions', () => {
  test('the few-samples form, a guarded limit and a plain one', () => {
    assert.deepEqual(guardedPercentile('llm.latency_ms.count < 20 or llm.latency_ms.p99 < 2000'), {
      metric: 'llm.latency_ms.p99',
      op: '<',
      value: 2000,
      summary: 'llm.latency_ms',
      aggregation: 'p99',
      minSamples: 20,
    });
    assert.equal(guardedPercentile('llm.success == 0 or llm.latency_ms.p99 < 2000'), undefined);
    assert.equal(percentileLimit('llm.success == 0 or llm.latency_ms.p99 < 2000')?.value, 2000);
    assert.equal(
      percentileLimit('plugins.metrics-by-endpoint.response_time.llm_completion.p95 <= 300')?.summary,
      'plugins.metrics-by-endpoint.response_time.llm_completion',
    );
  });
});

describe('verdicts, the few-samples rule and causes', () => {
  const summary = (count: number, p99: number, max = p99) => ({
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
  const GUARDED = 'signup.latency_ms.count < 20 or signup.latency_ms.p99 < 200';

  test('fewer than 20 samples: INCONCLUSIVE with n and max; from 20 on the percentile decides', () => {
    const [few] = thresholdRows(
      [v(GUARDED, true)],
      report({}, { 'signup.latency_ms': summary(8, 210, 260) }),
    );
    assert.equal(few!.status, 'inconclusive');
    assert.equal(verdictLabel(few!), 'INCONCLUSIVE (n=8 < 20, max 260)');
    assert.equal(few!.limit, '< 200');
    assert.equal(few!.cause, undefined);
    const [many] = thresholdRows([v(GUARDED, false)], report({}, { 'signup.latency_ms': summary(20, 210) }));
    assert.deepEqual([many!.status, verdictLabel(many!), many!.cause], ['fail', 'FAILED', 'latency']);
    const [fine] = thresholdRows([v(GUARDED, true)], report({}, { 'signup.latency_ms': summary(50, 150) }));
    assert.equal(verdictLabel(fine!), 'PASS');
  });

  test('limits are shown by value; a ratio is shown with its computed value', () => {
    const rows = thresholdRows(
      [v('llm.success / llm.attempts * 100 > 95', false), v('llm.failures.credits_exhausted == 0', true)],
      report({ 'llm.success': 90, 'llm.attempts': 100, 'llm.failures.credits_exhausted': 0 }, {}),
    );
    assert.deepEqual(
      rows.map((r) => [r.limit, r.measured]),
      [
        ['> 95', 'llm.success / llm.attempts * 100 = 90 (llm.success = 90, llm.attempts = 100)'],
        ['== 0', 'llm.failures.credits_exhausted = 0'],
      ],
    );
    for (const row of rows) assert.doesNotMatch(`${row.limit} ${row.measured}`, /undefined/);
  });

  test('generator saturated only from enough timer samples; a saturated machine is named as such', () => {
    const lag = 'generator.event_loop_lag_ms.count < 20 or generator.event_loop_lag_ms.p99 < 250';
    const latency = 'http.response_time.count < 20 or http.response_time.p99 < 500';
    // Two start-up samples at 400 ms: not evidence of anything.
    const startUp = thresholdRows(
      [v(lag, true), v(latency, false)],
      report({}, { 'generator.event_loop_lag_ms': summary(2, 400), 'http.response_time': summary(200, 900) }),
    );
    assert.deepEqual(
      startUp.map((r) => [r.status, r.cause]),
      [
        ['inconclusive', undefined],
        ['fail', 'latency'],
      ],
    );
    const saturated = thresholdRows(
      [v(lag, false), v(latency, false)],
      report(
        {},
        { 'generator.event_loop_lag_ms': summary(120, 400), 'http.response_time': summary(200, 900) },
      ),
    );
    assert.deepEqual(
      saturated.map((r) => r.cause),
      ['generator saturated', 'generator saturated'],
    );
    const busyMachine = thresholdRows(
      [v(lag, true), v(latency, false)],
      report(
        {},
        {
          'generator.event_loop_lag_ms': summary(120, 20),
          'generator.machine_cpu_pct': summary(120, 99),
          'http.response_time': summary(200, 900),
        },
      ),
    );
    assert.equal(busyMachine[1]!.cause, 'machine saturated');
    const quietMachine = thresholdRows(
      [v(latency, false)],
      report({}, { 'generator.machine_cpu_pct': summary(120, 40), 'http.response_time': summary(200, 900) }),
    );
    assert.equal(quietMachine[0]!.cause, 'latency');
  });

  test('a latency never measured is "no measurement" with the last step reached, not a latency failure', () => {
    const check = 'browser.step.first_answer.count < 20 or browser.step.first_answer.p95 < 10000';
    const [row] = thresholdRows(
      [v(check, false)],
      report(
        { 'browser_journey.reached.open_chat': 2, 'browser_journey.reached.pick_agent': 1 },
        { 'browser.step.open_chat': summary(2, 1500) },
      ),
    );
    assert.equal(row!.cause, 'no measurement');
    assert.equal(row!.causeDetail, 'last step reached: pick_agent, by 1 user(s)');
    assert.equal(row!.measured, 'browser.step.first_answer.p95 = absent');
  });

  test('errors, credits and rate limits', () => {
    const rows = thresholdRows(
      [v('llm.failures == 0', false), v('chat.failures == 0', false), v('vusers.failed == 0', true)],
      report({ 'llm.failures': 3, 'llm.failures.credits_exhausted': 3, 'vusers.failed': 0 }, {}),
    );
    assert.deepEqual(
      rows.map((r) => r.cause),
      ['credits', 'credits', undefined],
    );
    const limited = thresholdRows(
      [v('chat.failures == 0', false)],
      report({ 'chat.failures': 2, 'chat.failures.rate_limited': 2 }, {}),
    );
    assert.equal(limited[0]!.cause, 'rate limit');
  });
});

describe('report.md and junit.xml of a fixture run', () => {
  test('the verdict words, INCONCLUSIVE with n and max, causes, and no undefined anywhere', () => {
    const markdown = readFileSync(join(runDir, 'report.md'), 'utf8');
    assert.match(markdown, /^# Load test fixture-run: FAILED \(thresholds\)\n/);
    assert.match(markdown, /Checks: 8 PASS, 5 FAILED, 3 INCONCLUSIVE/);
    assert.match(markdown, /\| llm-proxy \| PASS \| 6 \| 0 \| 0 \| 60 s \|/);
    const signup = section(markdown, 'signup-tenant-chat');
    assert.match(signup, /^FAILED \(thresholds\)/);
    assert.match(
      signup,
      /\| signup\.latency_ms\.p99 \| < 200 \| signup\.latency_ms\.p99 = \d+ \| FAILED \| machine saturated \|/,
    );
    assert.match(
      signup,
      /\| first_chat\.latency_ms\.p99 \| < 3000 \| first_chat\.latency_ms\.p99 = 4100 \(n=5, max 4100\) \| INCONCLUSIVE \(n=5 < 20, max 4100\) \| - \|/,
    );
    assert.match(
      signup,
      /\*\*Latency not judged on the platform: the machine running the generator was saturated/,
    );
    assert.match(
      signup,
      /\| http\.response_time\.p95 \| < 150 \| [^|]+ \| FAILED \(not strict: does not fail the run\) \|/,
    );
    const browser = section(markdown, 'signup-browser');
    assert.match(
      browser,
      /\| browser\.step\.first_answer\.p95 \| < 10000 \| browser\.step\.first_answer\.p95 = absent \| FAILED \| no measurement \(stuck at pick_agent \(2 user\(s\)\); page errors: csp_violation 3\) \|/,
    );
    // Passed only because the journey never got there: nothing was judged.
    assert.match(
      browser,
      /\| INCONCLUSIVE \(n=0 < 20\) \| stuck at pick_agent \(2 user\(s\)\); page errors: csp_violation 3 \|/,
    );
    assert.doesNotMatch(markdown, /undefined|\.limit\./);
  });

  test("Artillery's HTTP metrics beside the suite's; zero failure counters on one line", () => {
    const markdown = readFileSync(join(runDir, 'report.md'), 'utf8');
    const signup = section(markdown, 'signup-tenant-chat');
    assert.match(signup, /#### Artillery's HTTP metrics \(every request, then per request name; ms\)/);
    assert.match(signup, /\| all requests \(http\.\*\) \| 180 \| 200: 156, 503: 18 \| ETIMEDOUT: 3 \|/);
    assert.match(signup, /\| auth_signup \| 57 \| 200: 36, 503: 18 \| ETIMEDOUT: 3 \|/);
    assert.match(
      signup,
      /#### The suite's latency per request \(ms\)\n\n[^#]*\| signup\.latency_ms \| 36 \|/,
    );
    assert.match(
      signup,
      /Failure counters that stayed at zero: `onboarding\.failures`, `signup\.failures\.csrf_refused`, `signup\.failures\.session_rejected`\./,
    );
    assert.doesNotMatch(signup, /\| signup\.failures\.csrf_refused \| 0 \|/);
    const llm = section(markdown, 'llm-proxy');
    assert.match(llm, /\| llm_completion \| 220 \| 200: 220 \| - \|/);
    assert.doesNotMatch(llm, /#### Failures by cause\n\n\|/, 'no table when every failure counter is zero');
  });

  test('junit.xml: failures for strict failed checks, skipped (with n and max) for inconclusive ones', () => {
    const xml = readFileSync(join(runDir, 'junit.xml'), 'utf8');
    assert.match(xml, /<testsuites name="loadtest fixture-run" tests="16" failures="4" skipped="3">/);
    assert.match(
      xml,
      /name="first_chat\.latency_ms\.count &lt; 20 or first_chat\.latency_ms\.p99 &lt; 3000">\n\s*<skipped message="INCONCLUSIVE: first_chat\.latency_ms has 5 sample\(s\), fewer than 20; max 4100; the percentile is not judged"\/>/,
    );
    assert.match(
      xml,
      /<failure message="FAILED \(machine saturated\): signup\.latency_ms\.p99 = \d+, limit &lt; 200"/,
    );
    assert.match(xml, /name="http\.response_time\.p95 &lt; 150 \(not strict\)"><\/testcase>/);
    assert.doesNotMatch(xml, /undefined/);
  });

  test('the report command: baseline comparison flags a latency regression (exit 1), not an equal run', () => {
    const baseline = join(work, 'baseline');
    const slower = join(work, 'slower');
    writeRun(baseline, 'baseline', [llmProxyScenario(300)]);
    writeRun(slower, 'slower', [llmProxyScenario(600)]);
    const report = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', resolve(ROOT, 'scripts', 'report.ts'), ...args], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, GITHUB_STEP_SUMMARY: '' },
      });
    const same = report(baseline, '--baseline', baseline);
    assert.equal(same.status, 0, same.stdout + same.stderr);
    const worse = report(slower, '--baseline', baseline, '--tolerance', '0.25');
    assert.equal(worse.status, 1, worse.stdout + worse.stderr);
    assert.match(worse.stdout, /REGRESSION llm-proxy llm\.latency_ms\.p95: \d+ → \d+/);
    const bad = report(work);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /no manifest\.json/);
  });

  test('appends the markdown to $GITHUB_STEP_SUMMARY', () => {
    const dir = join(work, 'summary');
    mkdirSync(dir);
    writeRun(dir, 'summary', [llmProxyScenario()]);
    const summaryPath = join(work, 'step-summary.md');
    writeFileSync(summaryPath, 'earlier step\n');
    writeReport(dir, { stepSummaryPath: summaryPath });
    assert.ok(readFileSync(summaryPath, 'utf8').startsWith('earlier step\n# Load test summary: PASS\n'));
  });
});

describe('charts over time', () => {
  test('request rate, latency with the limit the run used, errors by cause', () => {
    const scenario = signupScenario();
    const charts = scenarioCharts(
      reportOf(scenario.periods),
      scenario.checks.map((c) => v(c.check, c.ok, c.strict)),
    );
    const byTitle = new Map(charts.map((c) => [c.title, c]));
    const rate = byTitle.get('Request rate')!;
    assert.deepEqual(rate.ys[0], [3, 3, 3, 3, 3, 3]);
    const latency = byTitle.get('Latency: signup.latency_ms')!;
    assert.deepEqual(latency.labels, ['p50', 'p95', 'p99']);
    assert.deepEqual(latency.limits, [{ label: 'limit p99 < 200', value: 200 }]);
    const errors = byTitle.get('Errors by cause')!;
    assert.deepEqual(errors.labels, ['ETIMEDOUT', 'HTTP 503', 'signup timeout', 'signup upstream_5xx']);
    assert.ok(
      !errors.labels.some((l) => l.includes('csrf_refused')),
      'a cause that never happened is left out',
    );
    assert.ok(byTitle.has('Response time per request name (p95)'));
  });
});

/** Colours of a PNG's pixels, decoded with zlib (8-bit RGB/RGBA, no interlace: Chromium's). */
function pngColourCount(path: string): { width: number; height: number; colours: number } {
  const png = readFileSync(path);
  assert.equal(png.subarray(1, 4).toString(), 'PNG');
  let offset = 8;
  let width = 0;
  let height = 0;
  let channels = 4;
  const data: Buffer[] = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.subarray(offset + 4, offset + 8).toString();
    const body = png.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      channels = body[9] === 6 ? 4 : 3;
    } else if (type === 'IDAT') data.push(body);
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(data));
  const stride = width * channels;
  const previous = Buffer.alloc(stride);
  const row = Buffer.alloc(stride);
  const colours = new Set<number>();
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    for (let x = 0; x < stride; x++) {
      const byte = raw[y * (stride + 1) + 1 + x]!;
      const a = x >= channels ? row[x - channels]! : 0;
      const b = previous[x]!;
      const c = x >= channels ? previous[x - channels]! : 0;
      const p = a + b - c;
      const paeth =
        Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c)
          ? a
          : Math.abs(p - b) <= Math.abs(p - c)
            ? b
            : c;
      row[x] = (byte + [0, a, b, (a + b) >> 1, paeth][filter]!) & 0xff;
    }
    for (let x = 0; x < width; x += 3)
      colours.add((row[x * channels]! << 16) | (row[x * channels + 1]! << 8) | row[x * channels + 2]!);
    row.copy(previous);
  }
  return { width, height, colours: colours.size };
}

describe('report.html in headless Chromium', () => {
  test('opens offline, draws every chart with the limit line, and reads as the markdown does', async () => {
    const html = join(runDir, 'report.html');
    const text = readFileSync(html, 'utf8');
    assert.doesNotMatch(text, /<script[^>]+src=|<link[^>]+href=/, 'nothing loaded from outside');
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-dev-shm-usage',
      ],
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

      assert.equal(
        await page.locator('h1').textContent(),
        'Load test fixture-run: FAILED (thresholds)',
        'the same verdict words as report.md',
      );
      const results = await page.$$eval('section[data-scenario="signup-tenant-chat"] tr', (rows) =>
        rows.map((r) => [r.className, r.querySelectorAll('td')[3]?.textContent ?? '']),
      );
      assert.ok(results.some(([c, t]) => c === 'inconclusive' && t === 'INCONCLUSIVE (n=5 < 20, max 4100)'));
      assert.ok(results.some(([c, t]) => c === 'fail' && t === 'FAILED'));
      assert.ok(results.some(([c, t]) => c === 'ok' && t === 'PASS'));
      assert.match(
        (await page.locator('section[data-scenario="llm-proxy"] p.zero').textContent()) ?? '',
        /^Failure counters that stayed at zero: llm\.failures, /,
      );

      const charts = await page.$$eval('.chart', (nodes) =>
        nodes.map((node) => {
          const canvas = node.querySelector('canvas')!;
          const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
          let drawn = 0;
          let limitRed = 0;
          for (let i = 0; i < pixels.length; i += 4) {
            const [r, g, b, a] = [pixels[i]!, pixels[i + 1]!, pixels[i + 2]!, pixels[i + 3]!];
            if (a > 0 && Math.max(r, g, b) - Math.min(r, g, b) > 60) drawn += 1;
            if (a > 0 && r > 150 && g < 40 && b < 40) limitRed += 1;
          }
          return { title: node.querySelector('.u-title')?.textContent ?? '', drawn, limitRed };
        }),
      );
      for (const chart of charts)
        assert.ok(chart.drawn > 10, `${chart.title}: ${chart.drawn} coloured pixels`);
      const titles = charts.map((c) => c.title);
      for (const expected of [
        'Request rate (req/s)',
        'Latency: signup.latency_ms (ms)',
        'Latency: llm.latency_ms (ms)',
        'Errors by cause (count per period)',
        'Response time per request name (p95) (ms)',
      ])
        assert.ok(titles.includes(expected), `"${expected}" among ${titles.join('; ')}`);
      const signupLatency = charts.find((c) => c.title === 'Latency: signup.latency_ms (ms)')!;
      assert.ok(signupLatency.limitRed > 50, `the limit is drawn (${signupLatency.limitRed} red pixels)`);

      const shots = join(work, 'screenshots');
      mkdirSync(shots, { recursive: true });
      const top = join(shots, 'top.png');
      await page.screenshot({ path: top });
      const screenshot = join(shots, 'signup-tenant-chat.png');
      await page.locator('section[data-scenario="signup-tenant-chat"]').screenshot({ path: screenshot });
      for (const path of [screenshot, top]) {
        assert.ok(statSync(path).size > 20_000, `${path} has content`);
        const { width, height, colours } = pngColourCount(path);
        assert.ok(width > 500 && height > 300, `${path}: ${width}x${height}`);
        assert.ok(colours > 50, `${path} is not blank: ${colours} colours`);
      }
      if (process.env.REPORT_SCREENSHOT_DIR)
        for (const name of ['signup-tenant-chat.png', 'top.png'])
          writeFileSync(join(process.env.REPORT_SCREENSHOT_DIR, name), readFileSync(join(shots, name)));
    } finally {
      await browser.close();
    }
  });
});
