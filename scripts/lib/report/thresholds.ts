import type { ArtilleryReport } from '../artillery-run';
import {
  evaluateArithmetic,
  guardedPercentile,
  lastAlternative,
  limitComparison,
  MIN_SAMPLES,
  percentileLimit,
  ratioComparison,
} from './limits';
import { flatValues, type Verdict } from './load';

export const CAUSE_CLASSES = [
  'latency',
  'errors',
  'credits',
  'rate limit',
  'generator saturated',
  'machine saturated',
  'no measurement',
] as const;
export type CauseClass = (typeof CAUSE_CLASSES)[number];

/** What a check says about the run: PASS, FAILED, or INCONCLUSIVE (too few samples to judge). */
export type CheckStatus = 'pass' | 'fail' | 'inconclusive';

export interface ThresholdRow {
  check: string;
  ok: boolean;
  /** A failed strict check fails the run; a failed non-strict one is reported only. */
  strict: boolean;
  status: CheckStatus;
  /** Metric names the check reads. */
  metrics: string[];
  /** `< 200`: the limit by its value, as the expression states it. */
  limit: string;
  /** The metrics the check measures (the few-samples guard's `.count` left out). */
  measuredMetrics: string[];
  /** `name = value` per measured metric (`absent` when the run never emitted it). */
  measured: string;
  /** Why a failed check failed; undefined for a pass or an inconclusive check. */
  cause: CauseClass | undefined;
  /** Said beside the cause: the step a journey reached when its measurement never happened. */
  causeDetail: string | undefined;
  /** The guarded percentile had fewer than its minimum of samples: n and max of what there was. */
  fewSamples: { metric: string; count: number; minSamples: number; max: number | undefined } | undefined;
}

/**
 * Whole-machine CPU (percent of all cores) at or above which the machine counts as saturated when
 * the scenario states no check of its own on it.
 */
export const MACHINE_SATURATED_PCT = 90;
export const MACHINE_CPU_METRIC = 'generator.machine_cpu_pct';

const KEYWORDS = new Set([
  'and',
  'or',
  'not',
  'in',
  'true',
  'false',
  'if',
  'then',
  'else',
  'abs',
  'min',
  'max',
  'undefined',
  'null',
]);
const IDENTIFIER = /'([^']+)'|([A-Za-z_$][A-Za-z0-9_$.\-/]*)/g;

/** Metric names an ensure expression reads (quoted identifiers included). */
export function metricsOf(expression: string): string[] {
  const names: string[] = [];
  for (const match of expression.matchAll(IDENTIFIER)) {
    const name = match[1] ?? match[2]!;
    if (KEYWORDS.has(name) || /^\d/.test(name)) continue;
    if (!names.includes(name)) names.push(name);
  }
  return names;
}

const isGenerator = (m: string) => m.startsWith('generator.') && !m.startsWith(MACHINE_CPU_METRIC);
const isMachine = (m: string) => m.startsWith(MACHINE_CPU_METRIC);

/** The class of cause a metric belongs to, from its name. */
export function classifyMetric(metric: string): CauseClass {
  if (isMachine(metric)) return 'machine saturated';
  if (isGenerator(metric)) return 'generator saturated';
  if (/credit|\.402$|payment/.test(metric)) return 'credits';
  if (/rate_limit|\.429$/.test(metric)) return 'rate limit';
  if (
    /response_time|_ms(\.|$)|latency|rtt|ttft|session_length|startup|cold_start|^browser\.(step|page)\.|\.p\d+$|\.(median|mean|max)$/.test(
      metric,
    )
  )
    return 'latency';
  return 'errors';
}

export const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(2));

/** The verdict word a reader sees, the same in report.md, report.html and the console summary. */
export function verdictLabel(row: ThresholdRow): string {
  if (row.status === 'inconclusive') {
    const few = row.fewSamples!;
    return `INCONCLUSIVE (n=${few.count} < ${few.minSamples}${few.max === undefined ? '' : `, max ${fmt(few.max)}`})`;
  }
  if (row.status === 'pass') return 'PASS';
  return row.strict ? 'FAILED' : 'FAILED (not strict: does not fail the run)';
}

/** One-line statement of an inconclusive check (JUnit's skipped message, the HTML tooltip). */
export function inconclusiveMessage(row: ThresholdRow): string {
  const few = row.fewSamples!;
  return `INCONCLUSIVE: ${few.metric.replace(/\.[^.]+$/, '')} has ${few.count} sample(s), fewer than ${few.minSamples}${
    few.max === undefined ? '' : `; max ${fmt(few.max)}`
  }; the percentile is not judged${row.causeDetail ? ` (${row.causeDetail})` : ''}`;
}

/**
 * Whether the run's own health checks show the generator or the machine saturated. A check that
 * was inconclusive (a handful of samples, e.g. Artillery's start-up burst) is not evidence.
 */
interface Saturation {
  generator: boolean;
  machine: boolean;
}

function saturation(
  rows: readonly Omit<ThresholdRow, 'cause' | 'causeDetail'>[],
  report: ArtilleryReport | undefined,
): Saturation {
  const generator = rows.some((r) => r.status === 'fail' && r.metrics.some(isGenerator));
  const machineChecks = rows.filter((r) => r.metrics.some(isMachine));
  let machine: boolean;
  if (machineChecks.length > 0) machine = machineChecks.some((r) => r.status === 'fail');
  else {
    const cpu = report?.aggregate.summaries[MACHINE_CPU_METRIC];
    machine = cpu !== undefined && cpu.count >= MIN_SAMPLES && cpu.p95 >= MACHINE_SATURATED_PCT;
  }
  return { generator, machine };
}

/**
 * Where a journey stopped: `<x>.stuck.<step>` counters, else the step reached last
 * (`<x>.reached.<step>`), else the steps measured; with the page errors counted on the way.
 */
function lastStepReached(report: ArtilleryReport | undefined, missing: string): string | undefined {
  if (!report) return undefined;
  const { counters, summaries } = report.aggregate;
  const stuck = Object.entries(counters)
    .map(([name, value]) => [/\.stuck\.(.+)$/.exec(name)?.[1], value] as const)
    .filter((e): e is readonly [string, number] => e[0] !== undefined && e[1] > 0);
  const pageErrors = Object.entries(counters)
    .map(([name, value]) => [/\.page_errors\.(.+)$/.exec(name)?.[1], value] as const)
    .filter((e): e is readonly [string, number] => e[0] !== undefined && e[1] > 0)
    .map(([kind, n]) => `${kind} ${n}`);
  const errorsText = pageErrors.length > 0 ? `; page errors: ${pageErrors.join(', ')}` : '';
  if (stuck.length > 0)
    return `stuck at ${stuck.map(([step, n]) => `${step} (${n} user(s))`).join(', ')}${errorsText}`;
  const reached = Object.entries(counters)
    .map(([name, value]) => [/\.(?:steps?_)?reached\.(.+)$/.exec(name)?.[1], name, value] as const)
    .filter((e): e is readonly [string, string, number] => e[0] !== undefined && e[2] > 0);
  if (reached.length > 0) {
    // Users pass the steps in order: the step reached latest in the run, then by the fewest users.
    const periods = report.intermediate ?? [];
    const lastPeriod = (name: string) => periods.findLastIndex((p) => (p.counters[name] ?? 0) > 0);
    const key = ([, name, value]: readonly [string, string, number]) => [lastPeriod(name), -value] as const;
    const best = reached.map(key).reduce((a, b) => (b[0] > a[0] || (b[0] === a[0] && b[1] > a[1]) ? b : a));
    const steps = reached.filter((e) => key(e)[0] === best[0] && key(e)[1] === best[1]);
    return `last step reached: ${steps.map(([s]) => s).join(' / ')}, by ${steps[0]![2]} user(s)${errorsText}`;
  }
  const family = /^(.*\.step)\.[^.]+$/.exec(missing.replace(/\.(p\d+|max|min|mean|median|count)$/, ''))?.[1];
  if (!family) return undefined;
  const measured = Object.keys(summaries)
    .filter((n) => n.startsWith(`${family}.`))
    .map((n) => n.slice(family.length + 1));
  return measured.length > 0 ? `steps measured: ${measured.join(', ')}` : 'no step was measured';
}

export function thresholdRows(
  verdicts: readonly Verdict[],
  report: ArtilleryReport | undefined,
): ThresholdRow[] {
  const values = flatValues(report?.aggregate);
  const summaries = report?.aggregate.summaries ?? {};
  const counters = report?.aggregate.counters ?? {};
  const sumOf = (pattern: RegExp) =>
    Object.entries(counters)
      .filter(([name]) => pattern.test(name))
      .reduce((sum, [, v]) => sum + v, 0);
  const creditFailures = sumOf(/credits_exhausted$|^http\.codes\.402$/);
  const rateLimited = sumOf(/rate_limited$|^http\.codes\.429$/);

  const judged = verdicts.map((verdict) => {
    const check = verdict.check;
    const metrics = metricsOf(check);
    const guarded = guardedPercentile(check);
    const guardMetric = guarded ? `${guarded.summary}.count` : undefined;
    const measuredMetrics = metrics.filter((m) => m !== guardMetric);
    let fewSamples: ThresholdRow['fewSamples'];
    let status: CheckStatus = verdict.ok ? 'pass' : 'fail';
    const summary = guarded ? summaries[guarded.summary] : undefined;
    // A guard that let the check pass without one sample (`<step reached> < attempts or ...`)
    // judged nothing either: n = 0 is fewer than the minimum.
    if (guarded && (summary ? summary.count < guarded.minSamples : verdict.ok)) {
      fewSamples = {
        metric: guarded.metric,
        count: summary?.count ?? 0,
        minSamples: guarded.minSamples,
        max: summary?.max,
      };
      status = 'inconclusive';
    }
    const comparison = limitComparison(check);
    const ratio = comparison ? undefined : ratioComparison(lastAlternative(check));
    let limit: string;
    let measured: string;
    const show = (m: string) => {
      const value = values[m] === undefined ? 'absent' : fmt(values[m]!);
      const base = m.replace(/\.(p\d+|max|min|mean|median)$/, '');
      const s = base !== m ? summaries[base] : undefined;
      // A percentile of a small sample is about its max: say both.
      const few = s && s.count < MIN_SAMPLES ? ` (n=${s.count}, max ${fmt(s.max)})` : '';
      return `${m} = ${value}${few}`;
    };
    if (comparison) {
      limit = `${comparison.op} ${fmt(comparison.value)}`;
      measured = measuredMetrics.map(show).join(', ');
    } else if (ratio) {
      const left = evaluateArithmetic(ratio.left, values);
      limit = `${ratio.op} ${fmt(ratio.value)}`;
      measured = `${ratio.left} = ${left === undefined ? 'absent' : fmt(left)} (${measuredMetrics.map(show).join(', ')})`;
    } else {
      limit = check;
      measured = measuredMetrics.map(show).join(', ');
    }
    return {
      check,
      ok: verdict.ok,
      strict: verdict.strict,
      status,
      metrics,
      limit,
      measuredMetrics,
      measured,
      fewSamples,
    };
  });

  const saturated = saturation(judged, report);
  return judged.map((row): ThresholdRow => {
    if (row.status !== 'fail') {
      const unmeasured =
        row.fewSamples?.count === 0 ? lastStepReached(report, row.fewSamples.metric) : undefined;
      return { ...row, cause: undefined, causeDetail: unmeasured };
    }
    const classes = row.measuredMetrics.map(classifyMetric);
    const target = percentileLimit(row.check)?.metric;
    let cause: CauseClass;
    let causeDetail: string | undefined;
    if (classes.includes('machine saturated')) cause = 'machine saturated';
    else if (classes.includes('generator saturated')) cause = 'generator saturated';
    else if (classes.includes('latency')) {
      // A latency that was never measured is no latency verdict: the journey stopped before it.
      const absent = target !== undefined && values[target] === undefined;
      if (absent) {
        cause = 'no measurement';
        causeDetail = lastStepReached(report, target);
      } else if (saturated.generator) cause = 'generator saturated';
      else if (saturated.machine) cause = 'machine saturated';
      else cause = 'latency';
    }
    // An error check is explained by the platform refusing work, when the run shows it did;
    // a check that only reads credit or rate-limit counters is about them whatever the count.
    else if (creditFailures > 0 || (classes.length > 0 && classes.every((c) => c === 'credits')))
      cause = 'credits';
    else if (rateLimited > 0 || (classes.length > 0 && classes.every((c) => c === 'rate limit')))
      cause = 'rate limit';
    else {
      cause = 'errors';
      // A journey that failed says where it stopped (undefined where nothing counts steps).
      causeDetail = lastStepReached(report, '');
    }
    return { ...row, cause, causeDetail };
  });
}

/** True when the run's generator checks (with enough samples) failed: its latencies are its own. */
export function generatorSaturated(rows: readonly ThresholdRow[]): boolean {
  return rows.some((r) => r.status === 'fail' && r.strict && r.metrics.some(isGenerator));
}

/** True when a latency check failed while the whole machine was saturated. */
export function machineSaturated(rows: readonly ThresholdRow[]): boolean {
  return rows.some((r) => r.cause === 'machine saturated');
}

export const GENERATOR_SATURATED_NOTE =
  "Run invalid for latency: the load generator itself was saturated (CPU or event-loop lag over its limit), so the latencies measured are the generator's, not the platform's. Run fewer users per generator or spread the load.";

export const MACHINE_SATURATED_NOTE =
  'Latency not judged on the platform: the machine running the generator was saturated (whole-machine CPU at its limit, other processes included), so the latencies measured include waiting for a CPU. Run on a quieter machine or spread the load.';
