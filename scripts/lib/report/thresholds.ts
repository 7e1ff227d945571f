import type { ArtilleryReport, EnsureVerdict } from '../artillery-run';
import { flatValues } from './load';

export const CAUSE_CLASSES = ['latency', 'errors', 'credits', 'rate limit', 'generator saturated'] as const;
export type CauseClass = (typeof CAUSE_CLASSES)[number];

export interface ThresholdRow {
  check: string;
  ok: boolean;
  optional: boolean;
  /** Metric names the check reads. */
  metrics: string[];
  /** `< 200` for a simple comparison; the whole expression otherwise. */
  limit: string;
  /** The metrics the check measures, without the gate limits it compares them against. */
  measuredMetrics: string[];
  /** `name = value` for each measured metric (value `absent` when the run never emitted it). */
  measured: string;
  cause: CauseClass;
  /** A percentile read from fewer than FEW_SAMPLES samples: at that size it is about the max. */
  fewSamples: { metric: string; aggregation: string; count: number; max: number | undefined } | undefined;
}

/** Below this many samples a high percentile of Artillery's aggregate is essentially the max. */
export const FEW_SAMPLES = 100;

/** Gate limits travel as constant histograms named `<area>.limit.<what>` (processors/lib/metrics.ts). */
export const GATE_LIMIT = /\.limit\./;

const PERCENTILE = /^(.+)\.(p\d+)$/;

/** The verdict cell: pass / FAIL / fail (optional), plus a warning when it rests on few samples. */
export function verdictLabel(row: ThresholdRow): string {
  const verdict = row.ok ? 'pass' : row.optional ? 'fail (optional)' : 'FAIL';
  if (!row.fewSamples) return verdict;
  const { count, aggregation, max } = row.fewSamples;
  // The pN of n samples is the max once n * (1 - N/100) < 1 (always so for p99 under 100 samples),
  // but Artillery's aggregate percentile can come out below the max: the max is the honest figure.
  const quantile = Number(aggregation.slice(1).padEnd(3, '0')) / 1000;
  const atMax = count * (1 - quantile) < 1;
  const maxText = max === undefined ? '' : ` ${fmt(max)}`;
  return `${verdict} (few samples: n=${count}${atMax ? `, ${aggregation} ≈ max${maxText}` : ''})`;
}

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
const SIMPLE = /^\s*([A-Za-z_$][A-Za-z0-9_$.\-/]*|'[^']+')\s*(<=|>=|==|!=|<|>)\s*(-?[\d.]+)\s*$/;

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

/** The class of cause a check belongs to, from what it measures. */
export function classifyMetric(metric: string): CauseClass {
  if (/^generator\./.test(metric)) return 'generator saturated';
  if (/credit|\.402$|payment/.test(metric)) return 'credits';
  if (/rate_limit|\.429$/.test(metric)) return 'rate limit';
  if (
    /response_time|_ms(\.|$)|latency|rtt|ttft|session_length|startup|cold_start|\.p\d+$|\.(median|mean|max)$/.test(
      metric,
    )
  )
    return 'latency';
  return 'errors';
}

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(2));

export function thresholdRows(
  verdicts: EnsureVerdict[],
  report: ArtilleryReport | undefined,
): ThresholdRow[] {
  const values = flatValues(report?.aggregate);
  const counters = report?.aggregate.counters ?? {};
  const sumOf = (pattern: RegExp) =>
    Object.entries(counters)
      .filter(([name]) => pattern.test(name))
      .reduce((sum, [, v]) => sum + v, 0);
  const creditFailures = sumOf(/credits_exhausted$|^http\.codes\.402$/);
  const rateLimited = sumOf(/rate_limited$|^http\.codes\.429$/);
  const generatorFailed = verdicts.some(
    (v) => !v.ok && metricsOf(v.check).some((m) => m.startsWith('generator.')),
  );

  return verdicts.map((verdict) => {
    const optional = verdict.check.endsWith(' (optional)');
    const check = optional ? verdict.check.slice(0, -' (optional)'.length) : verdict.check;
    const metrics = metricsOf(check);
    const simple = SIMPLE.exec(check);
    const classes = metrics.map(classifyMetric);
    let cause: CauseClass;
    if (classes.includes('generator saturated')) cause = 'generator saturated';
    // Latencies measured by a saturated generator are the generator's, not the platform's.
    else if (classes.includes('latency')) cause = generatorFailed ? 'generator saturated' : 'latency';
    // An error check is explained by the platform refusing work, when the run shows it did;
    // a check that only reads credit or rate-limit counters is about them whatever the count.
    else if (
      (!verdict.ok && creditFailures > 0) ||
      (classes.length > 0 && classes.every((c) => c === 'credits'))
    )
      cause = 'credits';
    else if (
      (!verdict.ok && rateLimited > 0) ||
      (classes.length > 0 && classes.every((c) => c === 'rate limit'))
    )
      cause = 'rate limit';
    else cause = 'errors';
    const limitMetrics = metrics.filter((m) => GATE_LIMIT.test(m));
    const measuredMetrics = metrics.filter((m) => !GATE_LIMIT.test(m));
    const fewSamples = fewestSamples(measuredMetrics, report);
    return {
      check,
      ok: verdict.ok,
      optional,
      metrics,
      limit: simple ? `${simple[2]} ${simple[3]}` : resolvedLimit(check, limitMetrics, values),
      measuredMetrics,
      measured: measuredMetrics
        .map((m) => {
          const value = values[m] === undefined ? 'absent' : fmt(values[m]!);
          const few =
            fewSamples?.metric === m && fewSamples.max !== undefined
              ? ` (n=${fewSamples.count}, max ${fmt(fewSamples.max)})`
              : '';
          return `${m} = ${value}${few}`;
        })
        .join(', '),
      cause,
      fewSamples,
    };
  });
}

/**
 * The limit as a reader wants it: `< 5000 (browser_journey.limit.step_p95_ms)` for a comparison
 * with one gate limit, else the expression with each limit replaced by its value.
 */
function resolvedLimit(check: string, limitMetrics: string[], values: Record<string, number>): string {
  const escaped = limitMetrics.map((m) => m.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
  const against = new RegExp(`^\\s*\\S+\\s*(<=|>=|==|!=|<|>)\\s*(${escaped})\\s*$`);
  const match = limitMetrics.length === 1 ? against.exec(check) : null;
  const limitValue = (m: string) => (values[m] === undefined ? m : fmt(values[m]!));
  if (match)
    return `${match[1]} ${limitValue(match[2]!)} (${match[2]!.replace(/\.(max|min|mean|p\d+)$/, '')})`;
  let text = check;
  for (const m of limitMetrics) text = text.split(m).join(limitValue(m));
  return text;
}

/** The measured percentile with the fewest samples, when below FEW_SAMPLES. */
function fewestSamples(metrics: string[], report: ArtilleryReport | undefined): ThresholdRow['fewSamples'] {
  let fewest: ThresholdRow['fewSamples'];
  for (const metric of metrics) {
    const match = PERCENTILE.exec(metric);
    if (!match) continue;
    const count = report?.aggregate.summaries[match[1]!]?.count;
    if (count === undefined || count === 0 || count >= FEW_SAMPLES) continue;
    if (!fewest || count < fewest.count)
      fewest = { metric, aggregation: match[2]!, count, max: report?.aggregate.summaries[match[1]!]?.max };
  }
  return fewest;
}

/** True when a failed check shows the load generator itself was saturated (its latencies are its own). */
export function generatorSaturated(rows: readonly ThresholdRow[]): boolean {
  return rows.some((r) => !r.ok && !r.optional && r.metrics.some((m) => m.startsWith('generator.')));
}

export const GENERATOR_SATURATED_NOTE =
  "Run invalid for latency: the load generator itself was saturated (CPU or event-loop lag over its limit), so the latencies measured are the generator's, not the platform's. Run fewer users per generator or spread the load.";
