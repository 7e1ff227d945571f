import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { parse } from 'yaml';
import { ROOT } from '../paths';
import {
  type Comparison,
  lastAlternative,
  limitComparison,
  percentileLimit,
  ratioComparison,
} from './limits';

/**
 * The Grafana dashboards as the suite ships them, derived where they must agree with something
 * else: the threshold lines and the per-scenario verdict panels come from the scenarios'
 * `config.ensure.conditions` (the limits' only source), and every dashboard gets the same
 * datasource input, run filter and per-run series. `npm run report -- --dashboards` rewrites
 * observability/grafana/dashboards/; `--check-dashboards` fails when they differ (the slow
 * dashboards test runs it), so a limit changed in a YAML cannot leave a stale line on a panel.
 */

type Json = Record<string, unknown>;

export interface ScenarioChecks {
  /** The YAML's base name: the `scenario` tag publish-metrics writes. */
  name: string;
  /** The area whose attempts/success/failures the checks read, else `config.plugins.agentteams.area`. */
  area: string | undefined;
  /** The flow has YAML HTTP steps, so Artillery's http.* exist. */
  httpSteps: boolean;
  /** The area's field counting what it attempts (`attempts`; `sessions_started` for terminal). */
  attemptsField: string;
  checks: string[];
}

/** Where a metric of Artillery's report lands in InfluxDB through telegraf.conf's templates. */
export interface InfluxField {
  measurement: string;
  field: string;
  tags: Record<string, string>;
}

/** Grafana's own `${...}` syntax: a dashboard variable, and the import input that fills it. */
const GRAFANA_VAR = (name: string) => ['$', `{${name}}`].join('');
export const DATASOURCE = { type: 'influxdb', uid: GRAFANA_VAR('datasource') } as const;
export const GENERATED_FILE = 'scenarios.json';
const RUN_FILTER = `"run_id" =~ /^$run_id$/`;
const HTTP_METHODS = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options'];

export function influxField(metric: string): InfluxField | undefined {
  let m = /^plugins\.metrics-by-endpoint\.response_time\.(.+)\.([a-z0-9]+)$/.exec(metric);
  if (m)
    return { measurement: 'metrics-by-endpoint', field: `response_time_${m[2]}`, tags: { endpoint: m[1]! } };
  m = /^browser\.step\.([^.]+)\.([a-z0-9]+)$/.exec(metric);
  if (m) return { measurement: 'browser', field: `step_${m[2]}`, tags: { step: m[1]! } };
  m = /^([a-z_]+)\.failures\.([a-z0-9_]+)$/.exec(metric);
  if (m) return { measurement: 'failures', field: 'value', tags: { area: m[1]!, cause: m[2]! } };
  m = /^http\.codes\.(\d+)$/.exec(metric);
  if (m) return { measurement: 'http', field: 'codes', tags: { code: m[1]! } };
  m = /^errors\.(.+)$/.exec(metric);
  if (m) return { measurement: 'errors', field: 'value', tags: { cause: m[1]! } };
  if (metric.startsWith('plugins.') || metric.startsWith('vusers.created_by_name')) return undefined;
  const [measurement, ...rest] = metric.split('.');
  if (!measurement || rest.length === 0) return undefined;
  return { measurement, field: rest.join('_'), tags: {} };
}

function hasHttpSteps(steps: unknown): boolean {
  if (!Array.isArray(steps)) return false;
  return steps.some(
    (step) =>
      step !== null &&
      typeof step === 'object' &&
      (HTTP_METHODS.some((m) => m in step) || hasHttpSteps((step as { loop?: unknown }).loop)),
  );
}

export function readScenarioChecks(scenariosDir: string): ScenarioChecks[] {
  return readdirSync(scenariosDir)
    .filter((f) => f.endsWith('.yml'))
    .sort()
    .map((file) => {
      const script = parse(readFileSync(join(scenariosDir, file), 'utf8')) as {
        config?: {
          plugins?: { agentteams?: { area?: string } };
          ensure?: { conditions?: { expression?: string }[]; thresholds?: Record<string, number>[] };
        };
        scenarios?: { flow?: unknown }[];
      };
      const ensure = script.config?.ensure ?? {};
      const checks = [
        ...(ensure.thresholds ?? []).flatMap((t) => Object.entries(t).map(([m, v]) => `${m} < ${v}`)),
        ...(ensure.conditions ?? [])
          .map((c) => c.expression)
          .filter((e): e is string => typeof e === 'string'),
      ];
      const areas = checks
        .flatMap((c) => c.match(/[a-z_]+(?=\.(attempts|success|failures)\b)/g) ?? [])
        .filter((a) => a !== 'generator');
      // The counters the checks judge name the area whose attempts and failures the row shows.
      const area = areas[0] ?? script.config?.plugins?.agentteams?.area;
      // `<area>.x / <area>.<attempts> * 100 > N`: the success ratio names what the area counts.
      const denominator = checks
        .map((c) => /\/\s*([a-z_]+)\.([a-z_.]+)\s*\*\s*100/.exec(lastAlternative(c)))
        .find((m) => m !== null && m[1] === area);
      return {
        name: basename(file, '.yml'),
        attemptsField: denominator ? denominator[2]!.replace(/\./g, '_') : 'attempts',
        area,
        httpSteps: (script.scenarios ?? []).some((s) => hasHttpSteps(s.flow)),
        checks,
      };
    });
}

const where = (scenario: string | undefined, tags: Record<string, string>) =>
  [
    ...(scenario ? [`"scenario" = '${scenario}'`] : []),
    ...Object.entries(tags).map(([k, v]) => `"${k}" = '${v}'`),
    RUN_FILTER,
    '$timeFilter',
  ].join(' AND ');

function target(query: string, alias: string, refId = 'A'): Json {
  return { refId, datasource: DATASOURCE, rawQuery: true, resultFormat: 'time_series', query, alias };
}

/** Grafana's threshold steps for `value op limit` passing: green where it passes, red where not. */
function steps(comparison: Pick<Comparison, 'op' | 'value'>): Json[] {
  const below = comparison.op === '<' || comparison.op === '<=';
  if (comparison.op === '==' || comparison.op === '!=')
    return [
      { color: 'green', value: null },
      { color: 'red', value: comparison.value + 1 },
    ];
  return below
    ? [
        { color: 'green', value: null },
        { color: 'red', value: comparison.value },
      ]
    : [
        { color: 'red', value: null },
        { color: 'green', value: comparison.value },
      ];
}

function stat(
  title: string,
  description: string,
  query: string,
  unit: string,
  thresholds: Json[] | undefined,
): Json {
  return {
    type: 'stat',
    title,
    description,
    datasource: DATASOURCE,
    fieldConfig: {
      defaults: {
        unit,
        color: { mode: thresholds ? 'thresholds' : 'fixed', fixedColor: 'blue' },
        thresholds: { mode: 'absolute', steps: thresholds ?? [{ color: 'blue', value: null }] },
      },
      overrides: [],
    },
    options: {
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      colorMode: 'background',
      graphMode: 'none',
      textMode: 'value_and_name',
      justifyMode: 'auto',
      orientation: 'auto',
    },
    targets: [target(query, '$tag_run_id')],
  };
}

/** Stat panels for one scenario: a verdict per derivable check, request rate, error rate. */
function scenarioStats(s: ScenarioChecks): Json[] {
  const panels: Json[] = [];
  for (const check of s.checks) {
    const limit = percentileLimit(check);
    const comparison = limitComparison(check);
    const ratio = comparison ? undefined : ratioComparison(lastAlternative(check));
    if (limit) {
      const f = influxField(limit.metric);
      if (!f || f.measurement === 'generator') continue;
      panels.push(
        stat(
          `${limit.metric} ${limit.op} ${limit.value}`,
          `Check \`${check}\`: the worst period's ${limit.aggregation} of the run; red when over the limit.`,
          `SELECT max("${f.field}") FROM "${f.measurement}" WHERE ${where(s.name, f.tags)} GROUP BY "run_id"`,
          'ms',
          steps(limit),
        ),
      );
    } else if (comparison) {
      const f = influxField(comparison.metric);
      if (!f || /\.(p\d+|max|min|mean|median|count)$/.test(comparison.metric)) continue;
      panels.push(
        stat(
          `${comparison.metric} ${comparison.op} ${comparison.value}`,
          `Check \`${check}\`: the run's total; red when the check fails.`,
          `SELECT sum("${f.field}") FROM "${f.measurement}" WHERE ${where(s.name, f.tags)} GROUP BY "run_id"`,
          'none',
          steps(comparison),
        ),
      );
    } else if (ratio) {
      // `a / b * 100 > 95` over counters of one measurement: InfluxQL computes it over the run.
      const names = ratio.left.match(/[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)+/g) ?? [];
      const fields = names.map(influxField);
      const measurement = fields[0]?.measurement;
      if (
        !measurement ||
        fields.some((f) => !f || f.measurement !== measurement || Object.keys(f.tags).length > 0)
      )
        continue;
      let expression = ratio.left;
      names.forEach((n, i) => {
        expression = expression.replace(n, `sum("${fields[i]!.field}")`);
      });
      panels.push(
        stat(
          `${ratio.left} ${ratio.op} ${ratio.value}`,
          `Check \`${check}\` over the whole run; red when the check fails.`,
          `SELECT ${expression} FROM "${measurement}" WHERE ${where(s.name, {})} GROUP BY "run_id"`,
          'none',
          steps(ratio),
        ),
      );
    }
  }
  panels.push(
    s.httpSteps
      ? stat(
          'Request rate',
          "Artillery's http.request_rate, mean over the run.",
          `SELECT mean("request_rate") FROM "http" WHERE ${where(s.name, {})} GROUP BY "run_id"`,
          'reqps',
          undefined,
        )
      : stat(
          'Request rate',
          `${s.area}.${s.attemptsField} per second (the scenario sends from processor code), mean over the run.`,
          `SELECT mean("per_s") FROM (SELECT sum("${s.attemptsField}") / 10 AS "per_s" FROM "${s.area}" WHERE ${where(
            s.name,
            {},
          )} GROUP BY time(10s), "run_id" fill(none)) GROUP BY "run_id"`,
          'reqps',
          undefined,
        ),
  );
  panels.push(
    stat(
      'Error rate',
      `${s.area}.failures per ${s.area}.${s.attemptsField} over the run, every cause counted.`,
      `SELECT sum("failures") / sum("${s.attemptsField}") * 100 FROM "${s.area}" WHERE ${where(s.name, {})} GROUP BY "run_id"`,
      'percent',
      undefined,
    ),
  );
  return panels;
}

/** A latency panel per percentile check, its limit drawn as a red line. */
function scenarioLatency(s: ScenarioChecks): Json[] {
  const panels: Json[] = [];
  for (const check of s.checks) {
    const limit = percentileLimit(check);
    const f = limit ? influxField(limit.metric) : undefined;
    if (!limit || !f || f.measurement === 'generator' || !['<', '<='].includes(limit.op)) continue;
    const base = f.field.replace(/_[a-z0-9]+$/, '');
    panels.push({
      type: 'timeseries',
      title: `${limit.summary} (limit ${limit.aggregation} ${limit.op} ${limit.value})`,
      description: `Check \`${check}\`. Worst period's percentiles; the red line is the limit.`,
      datasource: DATASOURCE,
      fieldConfig: latencyFieldConfig([{ op: limit.op, value: limit.value }]),
      options: timeseriesOptions(),
      targets: [
        target(
          `SELECT max("${base}_p50") AS "p50", max("${base}_p95") AS "p95", max("${base}_p99") AS "p99" FROM "${f.measurement}" WHERE ${where(
            s.name,
            f.tags,
          )} GROUP BY time($__interval), "run_id" fill(none)`,
          '$col $tag_run_id',
        ),
      ],
    });
  }
  return panels;
}

function latencyFieldConfig(limits: Pick<Comparison, 'op' | 'value'>[]): Json {
  const values = [...new Set(limits.map((l) => l.value))].sort((a, b) => a - b);
  return {
    defaults: {
      unit: 'ms',
      custom: {
        drawStyle: 'line',
        fillOpacity: 10,
        spanNulls: true,
        showPoints: 'auto',
        thresholdsStyle: { mode: values.length > 0 ? 'dashed' : 'off' },
      },
      thresholds: {
        mode: 'absolute',
        steps: [{ color: 'transparent', value: null }, ...values.map((value) => ({ color: 'red', value }))],
      },
    },
    overrides: [],
  };
}

function timeseriesOptions(): Json {
  return {
    legend: { displayMode: 'table', placement: 'bottom', calcs: ['max', 'mean'] },
    tooltip: { mode: 'multi', sort: 'desc' },
  };
}

function layout(panels: Json[]): Json[] {
  let y = 0;
  let x = 0;
  let rowHeight = 0;
  let id = 1;
  let previous: string | undefined;
  return panels.map((panel) => {
    const type = panel.type as string;
    const before = previous;
    previous = type === 'row' ? undefined : type;
    const [w, h] = type === 'row' ? [24, 1] : type === 'stat' ? [4, 5] : [12, 8];
    if (type === 'row' || x + w > 24 || (before !== undefined && before !== type)) {
      y += rowHeight;
      x = 0;
      rowHeight = 0;
    }
    const placed = { id: id++, ...panel, gridPos: { x, y, w, h } };
    x += w;
    rowHeight = Math.max(rowHeight, h);
    if (type === 'row') {
      y += h;
      x = 0;
      rowHeight = 0;
    }
    return placed;
  });
}

/** Run comparison: the same figures side by side for every selected run (pick two). */
function comparisonPanels(): Json[] {
  const table = (title: string, description: string, query: string): Json => ({
    type: 'table',
    title,
    description,
    datasource: DATASOURCE,
    fieldConfig: { defaults: { decimals: 1 }, overrides: [] },
    options: { showHeader: true, cellHeight: 'sm' },
    transformations: [{ id: 'reduce', options: { reducers: ['max'], labelsToFields: true } }],
    targets: [{ ...target(query, ''), resultFormat: 'table' }],
  });
  return [
    { type: 'row', title: 'Compare runs (select two or more runs above)', collapsed: false, panels: [] },
    table(
      'Latency per scenario and run (worst period)',
      'http.response_time p95/p99 per scenario, one row per selected run: compare a run with its baseline.',
      `SELECT max("response_time_p95") AS "p95 ms", max("response_time_p99") AS "p99 ms", sum("requests") AS "requests" FROM "http" WHERE ${RUN_FILTER} AND $timeFilter GROUP BY "scenario", "run_id"`,
    ),
    table(
      'Failures per scenario and run',
      'Failures by area and cause, one row per selected run.',
      `SELECT sum("value") AS "failures" FROM "failures" WHERE ${RUN_FILTER} AND $timeFilter GROUP BY "area", "cause", "run_id"`,
    ),
  ];
}

function templating(): Json {
  return {
    list: [
      {
        name: 'datasource',
        label: 'Data source',
        type: 'datasource',
        query: 'influxdb',
        // Filled in by Grafana's import (the DS_INFLUXDB input); provisioned, the first InfluxDB.
        current: { selected: false, text: GRAFANA_VAR('DS_INFLUXDB'), value: GRAFANA_VAR('DS_INFLUXDB') },
        hide: 0,
        refresh: 1,
        regex: '',
        options: [],
        skipUrlSync: false,
      },
      {
        name: 'run_id',
        label: 'Runs (pick two to compare)',
        type: 'query',
        datasource: DATASOURCE,
        query: 'SHOW TAG VALUES FROM "vusers" WITH KEY = "run_id"',
        definition: 'SHOW TAG VALUES FROM "vusers" WITH KEY = "run_id"',
        refresh: 2,
        sort: 2,
        multi: true,
        includeAll: false,
        current: {},
        hide: 0,
        options: [],
        regex: '',
        skipUrlSync: false,
      },
    ],
  };
}

const INPUTS = [
  {
    name: 'DS_INFLUXDB',
    label: 'InfluxDB',
    description: 'The InfluxDB 1.x database Telegraf writes the load test metrics to (database "artillery").',
    type: 'datasource',
    pluginId: 'influxdb',
    pluginName: 'InfluxDB',
  },
];
const REQUIRES = [
  { type: 'grafana', id: 'grafana', name: 'Grafana', version: '10.0.0' },
  { type: 'datasource', id: 'influxdb', name: 'InfluxDB', version: '1.0.0' },
  { type: 'panel', id: 'timeseries', name: 'Time series', version: '' },
  { type: 'panel', id: 'stat', name: 'Stat', version: '' },
  { type: 'panel', id: 'table', name: 'Table', version: '' },
];

/** The generated dashboard: a row per scenario with its verdicts, rates and limits, then comparison. */
export function scenariosDashboard(scenarios: ScenarioChecks[]): Json {
  const panels: Json[] = [];
  for (const s of scenarios) {
    if (!s.area) continue;
    panels.push({ type: 'row', title: `${s.name} (area ${s.area})`, collapsed: false, panels: [] });
    panels.push(...scenarioStats(s), ...scenarioLatency(s));
  }
  panels.push(...comparisonPanels());
  return {
    uid: 'artillery-scenarios',
    title: 'AgentTeams load test: scenarios and verdicts',
    description:
      "Generated from the scenarios' ensure conditions (npm run report -- --dashboards): per scenario, a stat per check (red when it fails), request and error rate, latency with the limit drawn. Select two runs to compare them.",
    tags: ['artillery', 'agentteams', 'loadtest'],
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: '10s',
    time: { from: 'now-1h', to: 'now' },
    timezone: 'browser',
    annotations: { list: [] },
    links: [{ title: 'AgentTeams load test', type: 'dashboards', tags: ['agentteams'], asDropdown: true }],
    panels: layout(panels),
  };
}

/** Limits per InfluxDB field, from every percentile check of every scenario. */
function limitsByField(scenarios: ScenarioChecks[]): Map<string, Comparison[]> {
  const out = new Map<string, Comparison[]>();
  for (const s of scenarios)
    for (const check of s.checks) {
      const limit = percentileLimit(check);
      const f = limit ? influxField(limit.metric) : undefined;
      if (!limit || !f || !['<', '<='].includes(limit.op) || Object.keys(f.tags).length > 0) continue;
      const key = `${f.measurement}.${f.field}`;
      out.set(key, [...(out.get(key) ?? []), limit]);
    }
  return out;
}

/** Fields a panel's queries select from a named measurement (`"llm"` . `"latency_ms_p99"`). */
function fieldsOf(query: string): string[] {
  const from = /FROM "([^"]+)"/.exec(query)?.[1];
  if (!from) return [];
  return [...query.matchAll(/\(\s*"([^"]+)"\s*\)/g)].map((m) => `${from}.${m[1]}`);
}

function normaliseTarget(t: Json): Json {
  let query = String(t.query);
  let alias = typeof t.alias === 'string' ? t.alias : '$col';
  if (
    /GROUP BY time\(\$__interval\)/.test(query) &&
    !/"run_id"\s*(,|fill|$)/.test(query.split('GROUP BY')[1] ?? '')
  ) {
    query = query.replace('GROUP BY time($__interval)', 'GROUP BY time($__interval), "run_id"');
  }
  if (/"run_id"/.test(query.split('GROUP BY')[1] ?? '') && !alias.includes('$tag_run_id'))
    alias = `${alias} $tag_run_id`;
  return { ...t, datasource: DATASOURCE, query, alias };
}

/** A hand-written dashboard with the shared datasource, run filter, per-run series and limit lines. */
export function normaliseDashboard(dashboard: Json, limits: Map<string, Comparison[]> | undefined): Json {
  const panels = (dashboard.panels as Json[]).map((panel) => {
    if (panel.type === 'row') return panel;
    const targets = ((panel.targets as Json[] | undefined) ?? []).map(normaliseTarget);
    const next: Json = { ...panel, datasource: DATASOURCE, targets };
    if (limits && panel.type === 'timeseries') {
      const found = targets.flatMap((t) => fieldsOf(String(t.query))).flatMap((f) => limits.get(f) ?? []);
      const fieldConfig = (panel.fieldConfig as Json | undefined) ?? { defaults: {}, overrides: [] };
      const defaults = (fieldConfig.defaults as Json | undefined) ?? {};
      if (defaults.unit === 'ms') {
        const limitConfig = latencyFieldConfig(found).defaults as Json;
        next.fieldConfig = {
          ...fieldConfig,
          defaults: {
            ...defaults,
            custom: { ...((defaults.custom as Json | undefined) ?? {}), ...(limitConfig.custom as Json) },
            thresholds: limitConfig.thresholds,
          },
        };
      }
    }
    return next;
  });
  return { __inputs: INPUTS, __requires: REQUIRES, ...dashboard, templating: templating(), panels };
}

/** Every dashboard file's expected content. */
export function buildDashboards(dashboardsDir: string, scenariosDir: string): Map<string, string> {
  const scenarios = readScenarioChecks(scenariosDir);
  const limits = limitsByField(scenarios);
  const out = new Map<string, string>();
  for (const file of readdirSync(dashboardsDir)
    .filter((f) => f.endsWith('.json') && f !== GENERATED_FILE)
    .sort()) {
    const dashboard = JSON.parse(readFileSync(join(dashboardsDir, file), 'utf8')) as Json;
    out.set(file, `${JSON.stringify(normaliseDashboard(dashboard, limits), null, 2)}\n`);
  }
  // Its latency panels carry their own scenario's limit already.
  const generated = normaliseDashboard(scenariosDashboard(scenarios), undefined);
  out.set(GENERATED_FILE, `${JSON.stringify(generated, null, 2)}\n`);
  return out;
}

/** Files whose content differs from what the scenarios imply (empty: in sync); layout aside. */
export function staleDashboards(dashboardsDir: string, scenariosDir: string): string[] {
  const stale: string[] = [];
  for (const [file, text] of buildDashboards(dashboardsDir, scenariosDir)) {
    let current: unknown;
    try {
      current = JSON.parse(readFileSync(join(dashboardsDir, file), 'utf8'));
    } catch {
      current = undefined;
    }
    if (!isDeepStrictEqual(current, JSON.parse(text))) stale.push(file);
  }
  return stale;
}

/** Writes the dashboards, laid out by the project's formatter (biome) when it is installed. */
export function writeDashboards(dashboardsDir: string, scenariosDir: string): string[] {
  const written: string[] = [];
  for (const [file, text] of buildDashboards(dashboardsDir, scenariosDir)) {
    writeFileSync(join(dashboardsDir, file), text);
    written.push(join(dashboardsDir, file));
  }
  const biome = join(ROOT, 'node_modules', '.bin', 'biome');
  if (existsSync(biome)) spawnSync(biome, ['format', '--write', ...written], { stdio: 'ignore' });
  return written;
}
