import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { Influxd, type InfluxSeries, influxdAvailable } from '../fixtures/metrics/influxd';
import { OBSERVABILITY } from '../fixtures/metrics/plugins-block';
import { reporterDatagrams } from '../fixtures/metrics/reporter';
import { emittedMetrics, statsPayload } from '../fixtures/metrics/scenario-metrics';
import {
  type InfluxPoint,
  readTelegrafConf,
  StatsdInput,
  toLineProtocol,
} from '../fixtures/metrics/telegraf-statsd';

const DASHBOARDS_DIR = resolve(OBSERVABILITY, 'grafana', 'dashboards');
const DATASOURCES = resolve(OBSERVABILITY, 'grafana', 'provisioning', 'datasources', 'influxdb.yml');
const TELEGRAF_CONF = resolve(OBSERVABILITY, 'telegraf', 'telegraf.conf');
const RUN_ID = 'dash-test-run';
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
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; query: string; datasource?: { uid?: string } }> };
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

/** Grafana's InfluxQL macros and our variable, as Grafana would expand them for one run. */
function expand(query: string, runId: string): string {
  return query
    .replaceAll('$timeFilter', 'time >= now() - 15m')
    .replaceAll('$__interval', '10s')
    .replaceAll('$run_id', runId.replace(/[.-]/g, '\\$&'));
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
    // The real reporter's datagrams for every metric the scenarios emit, for two runs, through
    // Telegraf's statsd parsing and templates (read from telegraf.conf), into a real InfluxDB.
    const stats = statsPayload(emittedMetrics());
    const config = readTelegrafConf(TELEGRAF_CONF);
    points = [];
    for (const runId of [RUN_ID, OTHER_RUN_ID]) {
      const input = new StatsdInput(config);
      const datagrams = await reporterDatagrams(
        { scenario: 'llm-proxy', runId, profile: 'smoke', targetEnv: 'simulator' },
        stats,
      );
      assert.ok(datagrams.length > 100, `reporter sent ${datagrams.length} datagrams`);
      for (const datagram of datagrams) input.feed(datagram);
      assert.deepEqual(input.errors, [], 'telegraf would parse every line');
      points.push(...input.gather());
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

  test('the datasource the dashboards use is the provisioned one', () => {
    const provisioned = parse(readFileSync(DATASOURCES, 'utf8')) as {
      datasources: Array<{ uid: string; database: string }>;
    };
    const uid = provisioned.datasources[0]!.uid;
    assert.equal(
      provisioned.datasources[0]!.database,
      database,
      'datasource database = telegraf output database',
    );
    for (const { file, dashboard } of dashboards()) {
      for (const panel of allPanels(dashboard.panels))
        for (const target of panel.targets ?? [])
          assert.equal(target.datasource?.uid ?? panel.datasource?.uid, uid, `${file}: ${panel.title}`);
      assert.ok(
        dashboard.templating.list.some((v) => v.name === 'run_id'),
        `${file} has a run_id variable`,
      );
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
        }
      }
    }
    assert.ok(queries >= 25, `expected the four dashboards' queries, ran ${queries}`);
    assert.deepEqual(problems, []);
  });

  test('the check above fails for a field nothing writes', async () => {
    const query = `SELECT max("ttft_ms_p95") AS "ok", max("itl_ms_p95") AS "typo" FROM "llm" WHERE "run_id" =~ /^$run_id$/ AND $timeFilter GROUP BY time($__interval) fill(none)`;
    const verdict = everyColumnHasData(await influxd.query(expand(query, RUN_ID), database));
    assert.deepEqual(verdict, { ok: false, empty: ['typo'] });
  });
});
