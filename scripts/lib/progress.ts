/**
 * Live key figures from Artillery's periodic console report (every 10 s: "Metrics for period to:"
 * followed by `name: ..... value` counters/rates and `name:` + indented `p95: ..... value` summaries).
 */
export interface PeriodFigures {
  counters: Record<string, number>;
  rates: Record<string, number>;
  summaries: Record<string, Record<string, number>>;
  /** When the period's report was printed (ms since epoch): it covers about the 10 s before. */
  printedAt: number;
}

const VALUE_LINE = /^(\S+):\s*\.*\s*(-?[\d.]+)(\/sec)?\s*$/;
const SUMMARY_HEAD = /^(\S+):\s*$/;
const SUMMARY_LINE = /^\s+(min|max|mean|median|p50|p75|p90|p95|p99|p999):\s*\.*\s*(-?[\d.]+)\s*$/;

export class PeriodParser {
  private current: PeriodFigures | undefined;
  private summaryName: string | undefined;
  private finished = false;
  /** The last complete-or-current period seen. */
  latest: PeriodFigures | undefined;
  /** Every period printed so far (partial results when Artillery dies before writing its JSON). */
  readonly all: PeriodFigures[] = [];
  periods = 0;
  /** Artillery's arrival phase, e.g. `llm-users running` (short runs print no period before the end). */
  phase: string | undefined;

  feed(line: string): void {
    const phase = /^Phase (started|completed): (.+?) \(index/.exec(line);
    if (phase) {
      this.phase = `phase "${phase[2]}" ${phase[1] === 'started' ? 'arriving' : 'arrived'}`;
      return;
    }
    if (line.startsWith('Summary report @')) {
      this.finished = true;
      return;
    }
    if (this.finished) return;
    if (line.startsWith('Metrics for period to:')) {
      this.current = { counters: {}, rates: {}, summaries: {}, printedAt: Date.now() };
      this.latest = this.current;
      this.all.push(this.current);
      this.summaryName = undefined;
      this.periods += 1;
      return;
    }
    if (!this.current) return;
    const summaryLine = SUMMARY_LINE.exec(line);
    if (summaryLine && this.summaryName) {
      this.current.summaries[this.summaryName]![summaryLine[1]!] = Number(summaryLine[2]);
      return;
    }
    const value = VALUE_LINE.exec(line);
    if (value) {
      if (value[3]) this.current.rates[value[1]!] = Number(value[2]);
      else this.current.counters[value[1]!] = Number(value[2]);
      this.summaryName = undefined;
      return;
    }
    const head = SUMMARY_HEAD.exec(line);
    if (head) {
      this.summaryName = head[1]!;
      this.current.summaries[head[1]!] = {};
    }
  }
}

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));

/** One short line of the figures people watch: rate, p95, failures, users. */
export function describeFigures(figures: PeriodFigures | undefined, phase?: string): string {
  const parts: string[] = phase ? [phase] : [];
  if (!figures) return [...parts, 'no 10 s period reported yet'].join(' | ');
  const c = figures.counters;
  const rate = figures.rates['http.request_rate'];
  if (rate !== undefined) parts.push(`${fmt(rate)} req/s`);
  // Scenarios that send from processor code report their own `<area>.latency_ms` instead of http.*.
  const measured = Object.keys(figures.summaries);
  const latency = ['http.response_time', ...measured.filter((n) => /latency_ms$/.test(n))].find(
    (n) => figures.summaries[n]?.p95 !== undefined,
  );
  if (latency) parts.push(`${latency} p95 ${fmt(figures.summaries[latency]!.p95!)} ms`);
  const failures = Object.entries(c)
    .filter(([name]) => name.startsWith('errors.') || /\.failures$/.test(name) || name === 'vusers.failed')
    .reduce((sum, [, v]) => sum + v, 0);
  parts.push(`failures ${fmt(failures)}`);
  if (c['vusers.created'] !== undefined) parts.push(`+${fmt(c['vusers.created'])} vusers`);
  const custom = measured.find(
    (name) => /(rtt|ttft|startup|overhead)/.test(name) && figures.summaries[name]?.p95 !== undefined,
  );
  if (custom) parts.push(`${custom} p95 ${fmt(figures.summaries[custom]!.p95!)} ms`);
  return parts.join(' | ');
}

const PERIOD_MS = 10_000;

/**
 * Artillery writes its --output JSON only when it finishes normally; after Ctrl-C or a crash the
 * periods it printed are all there is. They become a report marked partial: counters add up,
 * percentiles of the whole run are approximated by the worst period (conservative).
 */
export function partialReport(periods: readonly PeriodFigures[]): PartialReport | undefined {
  if (periods.length === 0) return undefined;
  const counters: Record<string, number> = {};
  const summaries: Record<string, Record<string, number>> = {};
  for (const period of periods) {
    for (const [name, value] of Object.entries(period.counters))
      counters[name] = (counters[name] ?? 0) + value;
    for (const [name, summary] of Object.entries(period.summaries)) {
      summaries[name] ??= {};
      const into = summaries[name]!;
      for (const [aggregation, value] of Object.entries(summary))
        into[aggregation] =
          aggregation === 'min'
            ? Math.min(into[aggregation] ?? value, value)
            : Math.max(into[aggregation] ?? value, value);
    }
  }
  const last = periods[periods.length - 1]!;
  return {
    partial: true,
    aggregate: { counters, rates: last.rates, summaries },
    intermediate: periods.map((p) => ({
      counters: p.counters,
      rates: p.rates,
      summaries: p.summaries,
      period: p.printedAt - PERIOD_MS,
    })),
  };
}

export interface PartialReport {
  partial: true;
  aggregate: {
    counters: Record<string, number>;
    rates: Record<string, number>;
    summaries: Record<string, Record<string, number>>;
  };
  intermediate: {
    counters: Record<string, number>;
    rates: Record<string, number>;
    summaries: Record<string, Record<string, number>>;
    period: number;
  }[];
}
