import type { ArtilleryPeriod, ArtilleryReport } from '../artillery-run';
import { percentileLimit } from './limits';
import { periodStartMs, type Verdict } from './load';

/** One chart over time: x in unix seconds (uPlot's convention), one y series per label. */
export interface ChartSpec {
  title: string;
  unit: string;
  labels: string[];
  x: number[];
  ys: (number | null)[][];
  /** Horizontal lines: the limits the run's checks compared against. */
  limits: { label: string; value: number }[];
}

type Pick = (p: ArtilleryPeriod, index: number) => number | null;

function chart(
  title: string,
  unit: string,
  periods: ArtilleryPeriod[],
  series: [string, Pick][],
  limits: ChartSpec['limits'] = [],
): ChartSpec | undefined {
  const x = periods.map((p) => Math.round((periodStartMs(p) ?? 0) / 1000));
  const kept = series
    .map(([label, pick]) => [label, periods.map(pick)] as const)
    .filter(([, ys]) => ys.some((y) => y !== null));
  if (kept.length === 0 || x.length === 0) return undefined;
  return { title, unit, labels: kept.map(([l]) => l), x, ys: kept.map(([, ys]) => ys), limits };
}

const sumCounters = (p: ArtilleryPeriod, pattern: RegExp): number | null => {
  const values = Object.entries(p.counters).filter(([n]) => pattern.test(n));
  return values.length === 0 ? null : values.reduce((s, [, v]) => s + v, 0);
};

const summaryValue =
  (name: string, aggregation: string): Pick =>
  (p) => {
    const s = p.summaries[name] as Record<string, number> | undefined;
    return s ? (s[aggregation] ?? null) : null;
  };

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Seconds each period covers: the gap to the next period, Artillery's 10 s when unknown. */
function periodSeconds(periods: ArtilleryPeriod[]): number[] {
  return periods.map((p, i) => {
    const next = periods[i + 1];
    const gap = next ? ((periodStartMs(next) ?? 0) - (periodStartMs(p) ?? 0)) / 1000 : 0;
    return gap > 0 && gap <= 60 ? gap : 10;
  });
}

/**
 * Failure causes over time: `<area>.failures.<cause>` by cause, Artillery's `errors.<code>` and
 * HTTP 4xx/5xx; a cause that never happened is left out.
 */
function errorsByCause(periods: ArtilleryPeriod[]): ChartSpec | undefined {
  const labels = new Map<string, RegExp>();
  for (const p of periods)
    for (const [name, value] of Object.entries(p.counters)) {
      if (value <= 0) continue;
      const failure = /^([a-z_]+)\.failures\.([a-z0-9_]+)$/.exec(name);
      if (failure) labels.set(`${failure[1]} ${failure[2]}`, new RegExp(`^${escapeRegExp(name)}$`));
      else if (/^errors\./.test(name))
        labels.set(name.slice('errors.'.length), new RegExp(`^${escapeRegExp(name)}$`));
      else if (/^http\.codes\.[45]\d\d$/.test(name))
        labels.set(`HTTP ${name.slice(-3)}`, new RegExp(`^${escapeRegExp(name)}$`));
    }
  const series = [...labels.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([label, pattern]): [string, Pick] => [label, (p) => sumCounters(p, pattern) ?? 0]);
  return chart('Errors by cause', 'count per period', periods, series);
}

/** The charts the report draws for one scenario; a chart without any data is left out. */
export function scenarioCharts(
  report: ArtilleryReport | undefined,
  verdicts: readonly Verdict[] = [],
): ChartSpec[] {
  const periods = [...(report?.intermediate ?? [])]
    .filter((p) => periodStartMs(p) !== undefined)
    .sort((a, b) => periodStartMs(a)! - periodStartMs(b)!);
  if (periods.length === 0) return [];
  const seconds = periodSeconds(periods);
  let active = 0;
  const activeUsers = periods.map((p) => {
    active +=
      (p.counters['vusers.created'] ?? 0) -
      (p.counters['vusers.completed'] ?? 0) -
      (p.counters['vusers.failed'] ?? 0);
    return Math.max(0, active);
  });
  const perSecond =
    (pattern: RegExp): Pick =>
    (p, i) => {
      const n = sumCounters(p, pattern);
      return n === null ? null : Math.round((n / seconds[i]!) * 100) / 100;
    };

  // Latency over time for every percentile the checks judge, with the limit the run used.
  const limitsBySummary = new Map<string, ChartSpec['limits']>();
  for (const { check } of verdicts) {
    const limit = percentileLimit(check);
    if (!limit || !['<', '<='].includes(limit.op)) continue;
    const list = limitsBySummary.get(limit.summary) ?? [];
    list.push({ label: `limit ${limit.aggregation} ${limit.op} ${limit.value}`, value: limit.value });
    limitsBySummary.set(limit.summary, list);
  }
  if (!limitsBySummary.has('http.response_time') && periods.some((p) => p.summaries['http.response_time']))
    limitsBySummary.set('http.response_time', []);
  const latency = [...limitsBySummary.entries()]
    .filter(([name]) => !name.startsWith('generator.'))
    .slice(0, 6)
    .map(([name, limits]) =>
      chart(
        `Latency: ${name}`,
        'ms',
        periods,
        (['p50', 'p95', 'p99'] as const).map((agg): [string, Pick] => [agg, summaryValue(name, agg)]),
        limits,
      ),
    );

  const endpoints = new Set<string>();
  for (const p of periods)
    for (const n of Object.keys(p.summaries))
      if (n.startsWith('plugins.metrics-by-endpoint.response_time.'))
        endpoints.add(n.slice('plugins.metrics-by-endpoint.response_time.'.length));

  const charts: (ChartSpec | undefined)[] = [
    chart('Request rate', 'req/s', periods, [
      ['all requests (http.request_rate)', (p) => p.rates?.['http.request_rate'] ?? null],
      // Requests the processors send or count themselves (WebSocket, streaming, the browser).
      ['attempts (<area>.attempts)', perSecond(/^[a-z_]+\.attempts$/)],
    ]),
    ...latency,
    chart(
      'Response time per request name (p95)',
      'ms',
      periods,
      [...endpoints]
        .sort()
        .map((name): [string, Pick] => [
          name,
          summaryValue(`plugins.metrics-by-endpoint.response_time.${name}`, 'p95'),
        ]),
    ),
    errorsByCause(periods),
    chart('Virtual users', 'users', periods, [
      ['created', (p) => p.counters['vusers.created'] ?? null],
      ['completed', (p) => p.counters['vusers.completed'] ?? null],
      ['active (estimated)', (_p, i) => activeUsers[i] ?? null],
    ]),
    chart('Tokens', 'tokens', periods, [['tokens', (p) => sumCounters(p, /token/i)]]),
    chart('Load generator', '%', periods, [
      ['generator CPU p95', summaryValue('generator.cpu_pct', 'p95')],
      ['machine CPU p95', summaryValue('generator.machine_cpu_pct', 'p95')],
    ]),
  ];
  return charts.filter((c): c is ChartSpec => c !== undefined);
}
