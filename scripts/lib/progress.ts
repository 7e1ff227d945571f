/**
 * Live key figures from Artillery's periodic console report (every 10 s: "Metrics for period to:"
 * followed by `name: ..... value` counters/rates and `name:` + indented `p95: ..... value` summaries).
 */
export interface PeriodFigures {
  counters: Record<string, number>;
  summaries: Record<string, Record<string, number>>;
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
      this.current = { counters: {}, summaries: {} };
      this.latest = this.current;
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
      this.current.counters[value[1]!] = Number(value[2]);
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
  if (c['http.request_rate'] !== undefined) parts.push(`${fmt(c['http.request_rate'])} req/s`);
  const p95 = figures.summaries['http.response_time']?.p95;
  if (p95 !== undefined) parts.push(`p95 ${fmt(p95)} ms`);
  const failures = Object.entries(c)
    .filter(([name]) => name.startsWith('errors.') || /\.failures$/.test(name) || name === 'vusers.failed')
    .reduce((sum, [, v]) => sum + v, 0);
  parts.push(`failures ${fmt(failures)}`);
  if (c['vusers.created'] !== undefined) parts.push(`+${fmt(c['vusers.created'])} vusers`);
  const custom = Object.entries(figures.summaries).find(([name]) => /(rtt|ttft|startup|overhead)/.test(name));
  if (custom?.[1].p95 !== undefined) parts.push(`${custom[0]} p95 ${fmt(custom[1].p95)} ms`);
  return parts.join(' | ');
}
