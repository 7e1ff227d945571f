import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { influxField, readScenarioChecks, staleDashboards } from '../../scripts/lib/report/grafana';
import { percentileLimit } from '../../scripts/lib/report/limits';
import { Influxd, type InfluxSeries, influxdAvailable } from '../fixtures/metrics/influxd';
import { OBSERVABILITY } from '../fixtures/metrics/publish-metrics-config';
import { reporterDatagrams } from '../fixtures/metrics/reporter';
import { scenarioEmittedMetrics, statsPayload } from '../fixtures/metrics/scenario-metrics';
import {
  type InfluxPoint,
  readTelegrafConf,
  StatsdInput,
  toLineProtocol,
} from '../fixtures/metrics/telegraf-statsd';

const DASHBOARDS_DIR = resolve(OBSERVABILITY, 'grafana', 'dashboards');
const SCENARIOS_DIR = resolve(OBSERVABILITY, '..', 'scenarios');
const DATASOURCES = resolve(OBSERVABILITY, 'grafana', 'provisioning', 'datasources', 'influxdb.yml');
const TELEGRAF_CONF = resolve(OBSERVABILITY, 'telegraf', 'telegraf.conf');
const RUN_ID = 'dash-test-run';
/** Grafana's own `${...}` placeholders: the datasource variable and the import input. */
const DS_VARIABLE = ['$', '{datasource}'].join('');
const DS_INPUT = ['$', '{DS_INFLUXDB}'].join('');
const OTHER_RUN_ID = 'dash-other-run';

interface Target {
  refId: string;
  query: string;
  rawQuery?: boolean;
  datasource?: { uid?: string };
}
interface Panel {
  id: number;
  title: string;
  type: string;
  datasource?: { uid?: string };
  targets?: Target[];
  panels?: Panel[];
  fieldConfig?: {
    defaults?: {
      unit?: string;
      thresholds?: { steps: Array<{ color: string; value: number | null }> };
      custom?: { thresholdsStyle?: { mode: string } };
    };
  };
}
interface Variable {
  name: string;
  type: string;
  query: string;
  multi?: boolean;
  datasource?: { uid?: string };
  current?: { value?: string };
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Variable[] };
  __inputs?: Array<{ name: string; type: string; pluginId: string }>;
}

function dashboards(): Array<{ file: string; dashboard: Dashboard }> {
  return readdirSync(DASHBOARDS_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((file) => ({
      file,
      dashboard: JSON.parse(readFileSync(resolve(DASHBOARDS_DIR, file), 'utf8')) as Dashboard,
    }));
}

function allPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

/**
 * Grafana's InfluxQL macros and the run variable as Grafana expands them: one run is its value
 * regex-escaped, several are `(a|b)` (a multi-value variable inside a regex).
 */
function expand(query: string, ...runIds: string[]): string {
  const escaped = runIds.map((r) => r.replace(/[.-]/g, '\\$&'));
  return query
    .replaceAll('$timeFilter', 'time >= now() - 15m')
    .replaceAll('$__interval', '10s')
    .replaceAll('$run_id', escaped.length === 1 ? escaped[0]! : `(${escaped.join('|')})`);
}

/** True when every selected column has at least one value somewhere in the answer. */
function everyColumnHasData(series: InfluxSeries[]): { ok: boolean; empty: string[] } {
  if (series.length === 0) return { ok: false, empty: ['(no series)'] };
  const columns = new Set(series.flatMap((s) => s.columns.filter((c) => c !== 'time')));
  const empty = [...columns].filter(
    (column) =>
      !series.some((s) => {
        const index = s.columns.indexOf(column);
        return index >= 0 && s.values.some((row) => row[index] !== null);
      }),
  );
  return { ok: empty.length === 0, empty };
}

describe('Grafana dashboards against InfluxDB fed through the telegraf templates', {
  skip: !influxdAvailable() && !process.env.CI ? 'influxd not installed' : false,
}, () => {
  let influxd: Influxd;
  let points: InfluxPoint[];
  const database = readTelegrafConf(TELEGRAF_CONF).database;

  before(async () => {
    // The real reporter's datagrams for every metric each scenario emits (tagged with that
    // scenario), for two runs, through Telegraf's statsd parsing and templates (read from
    // telegraf.conf), into a real InfluxDB.
    const config = readTelegrafConf(TELEGRAF_CONF);
    points = [];
    for (const [scenario, metrics] of await scenarioEmittedMetrics()) {
      const stats = statsPayload(metrics);
      for (const runId of [RUN_ID, OTHER_RUN_ID]) {
        const input = new StatsdInput(config);
        const datagrams = await reporterDatagrams(
          { scenario, runId, profile: 'smoke', targetEnv: 'simulator' },
          stats,
        );
        assert.ok(datagrams.length > 50, `${scenario}: reporter sent ${datagrams.length} datagrams`);
        for (const datagram of datagrams) input.feed(datagram);
        assert.deepEqual(input.errors, [], 'telegraf would parse every line');
        points.push(...input.gather());
      }
    }
    influxd = await Influxd.start();
    await influxd.query(`CREATE DATABASE "${database}"`);
    const now = BigInt(Date.now() - 60_000) * 1_000_000n;
    await influxd.write(database, toLineProtocol(points, now));
  });
  after(async () => {
    await influxd?.stop();
  });

  test('the templates give sensible measurements, fields and tags', () => {
    const find = (measurement: string, field: string) =>
      points.find((p) => p.measurement === measurement && field in p.fields && p.tags.run_id === RUN_ID);
    assert.ok(
      find('llm', 'tokens_prompt')?.fields.tokens_prompt?.integer,
      'llm.tokens.prompt -> llm tokens_prompt (int)',
    );
    assert.ok(find('llm', 'proxy_overhead_ms_p99'), 'llm.proxy_overhead_ms.p99 -> llm proxy_overhead_ms_p99');
    assert.ok(find('llm', 'ttft_ms_p95'));
    assert.ok(find('llm', 'inter_token_ms_p95'));
    assert.ok(find('terminal', 'rtt_ms_p99'));
    assert.ok(find('terminal', 'reconnects'));
    assert.ok(find('container', 'startup_ms_p95'));
    assert.ok(find('vusers', 'created'));
    const failure = points.find(
      (p) => p.measurement === 'failures' && p.tags.area === 'llm' && p.tags.cause === 'timeout',
    );
    assert.ok(
      failure && 'value' in failure.fields,
      'llm.failures.timeout -> failures{area=llm,cause=timeout}',
    );
    const tags = find('llm', 'tokens_prompt')!.tags;
    assert.deepEqual(
      { run_id: tags.run_id, scenario: tags.scenario, profile: tags.profile, target_env: tags.target_env },
      { run_id: RUN_ID, scenario: 'llm-proxy', profile: 'smoke', target_env: 'simulator' },
    );
    assert.ok(
      points.every((p) => !p.measurement.startsWith('artillery')),
      'no measurement falls through to the raw default template',
    );
  });

  test('the datasource is an import input and a variable, so the dashboards import into any Grafana', () => {
    const provisioned = parse(readFileSync(DATASOURCES, 'utf8')) as {
      datasources: Array<{ type: string; database: string; isDefault?: boolean }>;
    };
    assert.equal(provisioned.datasources[0]!.type, 'influxdb');
    assert.equal(provisioned.datasources[0]!.isDefault, true, 'the variable picks it when provisioned');
    assert.equal(
      provisioned.datasources[0]!.database,
      database,
      'datasource database = telegraf output database',
    );
    for (const { file, dashboard } of dashboards()) {
      assert.deepEqual(
        dashboard.__inputs?.map((i) => [i.name, i.type, i.pluginId]),
        [['DS_INFLUXDB', 'datasource', 'influxdb']],
        `${file}: __inputs`,
      );
      const variable = dashboard.templating.list.find((v) => v.name === 'datasource');
      assert.deepEqual(
        [variable?.type, variable?.query, variable?.current?.value],
        ['datasource', 'influxdb', DS_INPUT],
        `${file}: datasource variable filled by the import input`,
      );
      for (const panel of allPanels(dashboard.panels)) {
        if (panel.type === 'row') continue;
        for (const target of panel.targets ?? [])
          assert.equal(
            target.datasource?.uid ?? panel.datasource?.uid,
            DS_VARIABLE,
            `${file}: ${panel.title}`,
          );
      }
      const run = dashboard.templating.list.find((v) => v.name === 'run_id');
      assert.equal(run?.multi, true, `${file}: the run filter is multi-select`);
      assert.equal(run?.datasource?.uid, DS_VARIABLE);
      assert.doesNotMatch(
        JSON.stringify(dashboard),
        /artillery-influxdb/,
        `${file}: no fixed datasource uid`,
      );
    }
  });

  test("threshold lines and verdict panels agree with the scenarios' limits (generated, in sync)", () => {
    assert.deepEqual(
      staleDashboards(DASHBOARDS_DIR, SCENARIOS_DIR),
      [],
      'run: npm run report -- --dashboards',
    );
    const scenarios = readScenarioChecks(SCENARIOS_DIR);
    const generated = dashboards().find((d) => d.file === 'scenarios.json')!.dashboard;
    const titles = generated.panels.map((p) => p.title);
    let lines = 0;
    for (const s of scenarios) {
      assert.ok(
        titles.some((t) => t.startsWith(`${s.name} `)),
        `a row for ${s.name}`,
      );
      for (const check of s.checks) {
        const limit = percentileLimit(check);
        const field = limit ? influxField(limit.metric) : undefined;
        if (!limit || !field || field.measurement === 'generator') continue;
        const stat = generated.panels.find(
          (p) => p.type === 'stat' && p.title === `${limit.metric} ${limit.op} ${limit.value}`,
        );
        assert.ok(stat, `${s.name}: a verdict stat for ${check}`);
        assert.ok(
          stat.fieldConfig?.defaults?.thresholds?.steps.some(
            (step) => step.color === 'red' && step.value === limit.value,
          ),
          `${s.name}: the stat turns red at ${limit.value}`,
        );
        const line = generated.panels.find(
          (p) => p.type === 'timeseries' && p.title.startsWith(`${limit.summary} (limit `),
        );
        assert.ok(
          line?.fieldConfig?.defaults?.thresholds?.steps.some((step) => step.value === limit.value) &&
            line.fieldConfig.defaults.custom?.thresholdsStyle?.mode !== 'off',
          `${s.name}: the latency panel of ${limit.summary} draws its limit ${limit.value}`,
        );
        lines++;
      }
    }
    assert.ok(lines >= 5, `limit lines drawn: ${lines}`);
    // A limit changed in a YAML and not regenerated is caught.
    const changed = mkdtempSync(join(tmpdir(), 'dash-limits-'));
    try {
      cpSync(SCENARIOS_DIR, changed, { recursive: true });
      const llmYaml = join(changed, 'llm-proxy.yml');
      writeFileSync(
        llmYaml,
        readFileSync(llmYaml, 'utf8').replace(/(proxy_overhead_ms\.p99 < )(\d+)/, '$11$2'),
      );
      assert.ok(
        staleDashboards(DASHBOARDS_DIR, changed).includes('scenarios.json'),
        'a changed limit is stale',
      );
    } finally {
      rmSync(changed, { recursive: true, force: true });
    }
    // The hand-written dashboards draw the same limits on the panels of those fields.
    const llm = dashboards().find((d) => d.file === 'llm-proxy.json')!.dashboard;
    const overhead = llm.panels.find((p) => p.title === 'Proxy overhead')!;
    const overheadLimit = scenarios
      .find((s) => s.name === 'llm-proxy')!
      .checks.map(percentileLimit)
      .find((l) => l?.summary === 'llm.proxy_overhead_ms');
    if (overheadLimit)
      assert.ok(
        overhead.fieldConfig?.defaults?.thresholds?.steps.some((s) => s.value === overheadLimit.value),
        'proxy overhead panel draws its limit',
      );
  });

  test('influxField names what telegraf.conf makes of a check metric', () => {
    const config = readTelegrafConf(TELEGRAF_CONF);
    for (const metric of [
      'llm.latency_ms.p99',
      'chat.latency_ms.short.p95',
      'http.response_time.p95',
      'plugins.metrics-by-endpoint.response_time.llm_completion.p95',
      'browser.step.open_chat.p95',
      'browser.page.LCP.signup_browser.p95',
      'llm.failures.timeout',
      'security.isolation_breach',
    ]) {
      const input = new StatsdInput(config);
      input.feed(`artillery.${metric},run_id=r,scenario=s:1|g`);
      const [point] = input.gather();
      const expected = influxField(metric)!;
      assert.equal(point?.measurement, expected.measurement, metric);
      assert.ok(
        expected.field in point!.fields,
        `${metric}: field ${expected.field} in ${Object.keys(point!.fields)}`,
      );
      for (const [k, v] of Object.entries(expected.tags))
        assert.equal(point!.tags[k], v, `${metric}: tag ${k}`);
    }
  });

  test('the run id variable lists both runs', async () => {
    for (const { file, dashboard } of dashboards()) {
      const variable = dashboard.templating.list.find((v) => v.name === 'run_id')!;
      const series = await influxd.query(variable.query, database);
      const values = series.flatMap((s) => s.values.map((row) => row[1]));
      assert.deepEqual(values.sort(), [OTHER_RUN_ID, RUN_ID].sort(), file);
    }
  });

  test('every panel query returns data for the chosen run, in every selected column', async () => {
    const problems: string[] = [];
    let queries = 0;
    for (const { file, dashboard } of dashboards()) {
      for (const panel of allPanels(dashboard.panels)) {
        if (panel.type === 'row') continue;
        assert.ok(panel.targets && panel.targets.length > 0, `${file}: "${panel.title}" has a query`);
        for (const target of panel.targets) {
          assert.ok(target.rawQuery, `${file}: "${panel.title}" uses a raw InfluxQL query`);
          assert.match(target.query, /\$run_id/, `${file}: "${panel.title}" filters by run id`);
          queries++;
          const series = await influxd.query(expand(target.query, RUN_ID), database);
          const verdict = everyColumnHasData(series);
          if (!verdict.ok)
            problems.push(
              `${file}: "${panel.title}" ${target.refId}: no data in ${verdict.empty.join(', ')}`,
            );
          const other = await influxd.query(expand(target.query, 'no-such-run'), database);
          if (other.length > 0)
            problems.push(`${file}: "${panel.title}" ${target.refId}: ignores the run id`);
          // Two runs selected: a series (or a table row) per run, so the runs compare side by side.
          const both = await influxd.query(expand(target.query, RUN_ID, OTHER_RUN_ID), database);
          const runs = new Set(both.map((series) => series.tags?.run_id));
          if (!(runs.has(RUN_ID) && runs.has(OTHER_RUN_ID)))
            problems.push(
              `${file}: "${panel.title}" ${target.refId}: no series per run (${[...runs].join(', ')})`,
            );
        }
      }
    }
    assert.ok(queries >= 80, `expected every dashboard's queries, ran ${queries}`);
    process.stdout.write(`# panel queries checked against influxd: ${queries}\n`);
    assert.deepEqual(problems, []);
  });

  test('the check above fails for a field nothing writes', async () => {
    const query = `SELECT max("ttft_ms_p95") AS "ok", max("itl_ms_p95") AS "typo" FROM "llm" WHERE "run_id" =~ /^$run_id$/ AND $timeFilter GROUP BY time($__interval) fill(none)`;
    const verdict = everyColumnHasData(await influxd.query(expand(query, RUN_ID), database));
    assert.deepEqual(verdict, { ok: false, empty: ['typo'] });
  });
});
