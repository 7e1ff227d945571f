import type { ArtilleryReport } from '../artillery-run';
import type { LoadedRun } from './load';
import { thresholdRows } from './thresholds';

export interface Delta {
  scenario: string;
  metric: string;
  baseline: number | null;
  current: number | null;
  /** Human-readable change, e.g. `+35%` or `pass → FAIL`. */
  change: string;
  regression: boolean;
}

export interface BaselineComparison {
  baselineRunId: string;
  tolerance: number;
  deltas: Delta[];
  regressions: Delta[];
}

/** One formatting of report numbers for the markdown and HTML renderings. */
export const formatNumber = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));

export const DELTA_HEADERS = ['scenario', 'metric', 'baseline', 'now', 'change', 'regression'];

/** The delta table's cells, shared by report.md and report.html. */
export function deltaCells(delta: Delta): string[] {
  return [
    delta.scenario,
    delta.metric,
    delta.baseline === null ? '-' : formatNumber(delta.baseline),
    delta.current === null ? '-' : formatNumber(delta.current),
    delta.change,
    delta.regression ? 'REGRESSION' : '',
  ];
}

const LATENCY = /response_time|_ms$|rtt|ttft|latency|startup|cold_start|session_length/;
const FAILURE = /(^errors\.|\.failures$|^vusers\.failed$)/;
/** Below these absolute changes a relative jump is noise (1 ms → 2 ms is +100%). */
const MIN_LATENCY_DELTA_MS = 5;
const MIN_FAILURE_RATE_DELTA = 0.005;

function failureRate(report: ArtilleryReport): number {
  const c = report.aggregate.counters;
  const failures = Object.entries(c)
    .filter(([name]) => FAILURE.test(name))
    .reduce((sum, [, v]) => sum + v, 0);
  const attempts = c['http.requests'] ?? c['vusers.created'] ?? 0;
  return attempts > 0 ? failures / attempts : 0;
}

const pct = (from: number, to: number) =>
  from === 0
    ? to === 0
      ? '0%'
      : 'new'
    : `${to >= from ? '+' : ''}${Math.round(((to - from) / from) * 100)}%`;

export function compareRuns(current: LoadedRun, baseline: LoadedRun, tolerance: number): BaselineComparison {
  const deltas: Delta[] = [];
  for (const scenario of current.scenarios) {
    const before = baseline.scenarios.find((s) => s.record.name === scenario.record.name);
    if (!before?.report || !scenario.report) continue;
    const name = scenario.record.name;

    for (const [metric, now] of Object.entries(scenario.report.aggregate.summaries)) {
      if (!LATENCY.test(metric)) continue;
      const then = before.report.aggregate.summaries[metric];
      if (!then) continue;
      for (const aggregation of ['p95', 'p99'] as const) {
        const a = then[aggregation];
        const b = now[aggregation];
        if (typeof a !== 'number' || typeof b !== 'number') continue;
        deltas.push({
          scenario: name,
          metric: `${metric}.${aggregation}`,
          baseline: a,
          current: b,
          change: pct(a, b),
          regression: b - a > MIN_LATENCY_DELTA_MS && b > a * (1 + tolerance),
        });
      }
    }

    const rateBefore = failureRate(before.report);
    const rateNow = failureRate(scenario.report);
    deltas.push({
      scenario: name,
      metric: 'failure rate (failures / requests)',
      baseline: rateBefore,
      current: rateNow,
      change: pct(rateBefore, rateNow),
      regression: rateNow - rateBefore > MIN_FAILURE_RATE_DELTA && rateNow > rateBefore * (1 + tolerance),
    });

    const checksBefore = thresholdRows(before.verdicts, before.report);
    for (const row of thresholdRows(scenario.verdicts, scenario.report)) {
      const old = checksBefore.find((r) => r.check === row.check);
      if (!old || old.status === row.status) continue;
      const word = { pass: 'PASS', fail: 'FAILED', inconclusive: 'INCONCLUSIVE' } as const;
      deltas.push({
        scenario: name,
        metric: `threshold ${row.check}`,
        baseline: null,
        current: null,
        change: `${word[old.status]} → ${word[row.status]}`,
        regression: row.status === 'fail' && row.strict && old.status !== 'fail',
      });
    }
  }
  return {
    baselineRunId: baseline.manifest.runId,
    tolerance,
    deltas,
    regressions: deltas.filter((d) => d.regression),
  };
}
