import type { ArtilleryReport, ArtillerySummary } from '../artillery-run';
import { GATE_LIMIT } from './thresholds';

/** The figures a reader looks for first, grouped; every group may be empty for a scenario. */
export interface KeyFigures {
  /** Latency per named request (metrics-by-endpoint) and overall. */
  requests: SummaryRow[];
  tokens: ValueRow[];
  /** How LLM proxy overhead was measured (Server-Timing or inference budget) and its values. */
  overhead: (SummaryRow | ValueRow)[];
  websocket: (SummaryRow | ValueRow)[];
  startup: SummaryRow[];
  /** 429s and the Retry-After waits they cost: the platform's rate limit, not its latency. */
  rateLimiting: (SummaryRow | ValueRow)[];
  /** The gate's limits (`<area>.limit.*`, emitted by processors from the settings): not measurements. */
  limits: ValueRow[];
  /** Every other custom histogram. */
  otherHistograms: SummaryRow[];
  failures: ValueRow[];
  vusers: ValueRow[];
}

export interface SummaryRow {
  kind: 'summary';
  name: string;
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface ValueRow {
  kind: 'value';
  name: string;
  value: number;
}

const summaryRow = (name: string, s: Partial<ArtillerySummary>): SummaryRow => ({
  kind: 'summary',
  name,
  count: s.count ?? 0,
  p50: s.p50 ?? s.median ?? 0,
  p95: s.p95 ?? 0,
  p99: s.p99 ?? 0,
  max: s.max ?? 0,
});

export const REQUEST_LATENCY =
  /^(http\.response_time|plugins\.metrics-by-endpoint\.response_time\.)|(^|[._])latency_ms($|\.)/;
const TOKENS = /token/i;
const RATE_LIMIT_COUNTER = /^[a-z_]+\.rate_limited$/;
const RETRY_AFTER = /retry_after/;
const OVERHEAD = /overhead|server_timing|inference_budget/;
const WEBSOCKET = /^(terminal|websocket|ws)\.|rtt|disconnect/;
const STARTUP = /startup|cold_start|ready|provision/;
const FAILURE = /(^errors\.|\.failures(\.|$)|^vusers\.failed$|^http\.codes\.[45]\d\d$)/;

export function keyFigures(report: ArtilleryReport | undefined): KeyFigures {
  const figures: KeyFigures = {
    requests: [],
    tokens: [],
    overhead: [],
    websocket: [],
    startup: [],
    rateLimiting: [],
    limits: [],
    otherHistograms: [],
    failures: [],
    vusers: [],
  };
  if (!report) return figures;
  const { counters, summaries } = report.aggregate;
  for (const [name, s] of Object.entries(summaries).sort(([a], [b]) => a.localeCompare(b))) {
    // Gate limits travel as constant histograms (`<area>.limit.*`): every sample is the limit.
    if (GATE_LIMIT.test(name)) {
      figures.limits.push({ kind: 'value', name, value: s.max });
      continue;
    }
    const row = summaryRow(name, s);
    if (RETRY_AFTER.test(name)) figures.rateLimiting.push(row);
    else if (REQUEST_LATENCY.test(name)) figures.requests.push(row);
    else if (OVERHEAD.test(name)) figures.overhead.push(row);
    else if (TOKENS.test(name))
      figures.tokens.push({ kind: 'value', name: `${name} (mean)`, value: row.count ? s.mean : 0 });
    else if (WEBSOCKET.test(name)) figures.websocket.push(row);
    else if (STARTUP.test(name)) figures.startup.push(row);
    else if (!/^(vusers|http|plugins|browser)\./.test(name)) figures.otherHistograms.push(row);
  }
  for (const [name, value] of Object.entries(counters).sort(([a], [b]) => a.localeCompare(b))) {
    const row: ValueRow = { kind: 'value', name, value };
    if (RATE_LIMIT_COUNTER.test(name) || name === 'http.codes.429') figures.rateLimiting.push(row);
    if (FAILURE.test(name)) figures.failures.push(row);
    else if (TOKENS.test(name)) figures.tokens.push(row);
    else if (OVERHEAD.test(name)) figures.overhead.push(row);
    else if (/^(terminal|websocket)\./.test(name) && /(disconnect|drop|close|reconnect|open)/.test(name))
      figures.websocket.push(row);
    else if (/^vusers\.(created|completed|failed|skipped)$/.test(name)) figures.vusers.push(row);
  }
  return figures;
}
