import type { ArtilleryPeriod, ArtilleryReport } from '../artillery-run';
import { periodStartMs } from './load';

/** One chart over time: x in unix seconds (uPlot's convention), one y series per label. */
export interface ChartSpec {
  title: string;
  unit: string;
  labels: string[];
  x: number[];
  ys: (number | null)[][];
}

type Pick = (p: ArtilleryPeriod) => number | null;

function chart(
  title: string,
  unit: string,
  periods: ArtilleryPeriod[],
  series: [string, Pick][],
): ChartSpec | undefined {
  const x = periods.map((p) => Math.round((periodStartMs(p) ?? 0) / 1000));
  const kept = series
    .map(([label, pick]) => [label, periods.map(pick)] as const)
    .filter(([, ys]) => ys.some((y) => y !== null));
  if (kept.length === 0 || x.length === 0) return undefined;
  return { title, unit, labels: kept.map(([l]) => l), x, ys: kept.map(([, ys]) => ys) };
}

const sumCounters = (p: ArtilleryPeriod, pattern: RegExp): number | null => {
  const values = Object.entries(p.counters).filter(([n]) => pattern.test(n));
  return values.length === 0 ? null : values.reduce((s, [, v]) => s + v, 0);
};

const summaryValue =
  (name: string, aggregation: 'p50' | 'p95' | 'p99' | 'max'): Pick =>
  (p) => {
    const s = p.summaries[name];
    return s ? (s[aggregation] ?? null) : null;
  };

function firstSummaryMatching(periods: ArtilleryPeriod[], pattern: RegExp): string[] {
  const names = new Set<string>();
  for (const p of periods) for (const n of Object.keys(p.summaries)) if (pattern.test(n)) names.add(n);
  return [...names].sort();
}

function percentiles(title: string, periods: ArtilleryPeriod[], pattern: RegExp): ChartSpec | undefined {
  const names = firstSummaryMatching(periods, pattern).slice(0, 3);
  return chart(
    title,
    'ms',
    periods,
    names.flatMap((name) =>
      (['p50', 'p95', 'p99'] as const).map((agg): [string, Pick] => [
        names.length > 1 ? `${name} ${agg}` : agg,
        summaryValue(name, agg),
      ]),
    ),
  );
}

/** The charts the report draws for one scenario; a chart without any data is left out. */
export function scenarioCharts(report: ArtilleryReport | undefined): ChartSpec[] {
  const periods = [...(report?.intermediate ?? [])]
    .filter((p) => periodStartMs(p) !== undefined)
    .sort((a, b) => periodStartMs(a)! - periodStartMs(b)!);
  if (periods.length === 0) return [];
  let active = 0;
  const activeUsers = periods.map((p) => {
    active +=
      (p.counters['vusers.created'] ?? 0) -
      (p.counters['vusers.completed'] ?? 0) -
      (p.counters['vusers.failed'] ?? 0);
    return Math.max(0, active);
  });
  const charts: (ChartSpec | undefined)[] = [
    chart('Response time (all requests)', 'ms', periods, [
      ['p50', summaryValue('http.response_time', 'p50')],
      ['p95', summaryValue('http.response_time', 'p95')],
      ['p99', summaryValue('http.response_time', 'p99')],
    ]),
    // Scenarios that send from processor code have no http.* metrics: their own latency histograms.
    ...firstSummaryMatching(periods, /(^|[._])latency_ms$|overhead_ms$|ttft_ms$/)
      .slice(0, 4)
      .map((name) =>
        percentiles(
          `Latency: ${name}`,
          periods,
          new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`),
        ),
      ),
    chart('Request rate', 'req/s', periods, [
      ['http.request_rate', (p) => p.rates?.['http.request_rate'] ?? null],
    ]),
    chart('Errors and failures', 'count', periods, [
      ['errors.*', (p) => sumCounters(p, /^errors\./)],
      ['<area>.failures', (p) => sumCounters(p, /^[a-z]+\.failures$/)],
      ['vusers.failed', (p) => p.counters['vusers.failed'] ?? null],
      ['http 5xx', (p) => sumCounters(p, /^http\.codes\.5\d\d$/)],
    ]),
    chart('Virtual users', 'users', periods, [
      ['created', (p) => p.counters['vusers.created'] ?? null],
      ['completed', (p) => p.counters['vusers.completed'] ?? null],
      ['active (estimated)', (p) => activeUsers[periods.indexOf(p)] ?? null],
    ]),
    chart('Tokens', 'tokens', periods, [['tokens', (p) => sumCounters(p, /token/i)]]),
    percentiles('WebSocket round trip', periods, /rtt/),
    percentiles('Startup / provisioning', periods, /startup|cold_start|ready|provision/),
  ];
  return charts.filter((c): c is ChartSpec => c !== undefined);
}
