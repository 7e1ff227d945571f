import type { ArtilleryReport, ArtillerySummary } from '../artillery-run';

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
  /** Artillery's standard HTTP metrics: all requests (`http.*`), then each named request. */
  http: EndpointRow[];
  /** The load generator's own health (event-loop lag, process and machine CPU). */
  generator: SummaryRow[];
  /** Every other custom histogram. */
  otherHistograms: SummaryRow[];
  /** Failure counters above zero. */
  failures: ValueRow[];
  /** Failure counters that stayed at zero (listed on one line). */
  zeroFailures: string[];
  vusers: ValueRow[];
}

/** One request name's figures (metrics-by-endpoint), or every request (`http.*`). */
export interface EndpointRow {
  name: string;
  requests: number;
  /** `200: 40, 503: 2` */
  codes: string;
  /** Transport errors (ETIMEDOUT, ECONNRESET ...) with their counts. */
  errors: string;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
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

export const REQUEST_LATENCY = /(^|[._])latency_ms($|\.)|^browser\.step\./;
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
    http: [],
    generator: [],
    otherHistograms: [],
    failures: [],
    zeroFailures: [],
    vusers: [],
  };
  if (!report) return figures;
  const { counters, summaries } = report.aggregate;
  for (const [name, s] of Object.entries(summaries).sort(([a], [b]) => a.localeCompare(b))) {
    if (/^(http\.response_time|plugins\.metrics-by-endpoint\.)/.test(name)) continue;
    const row = summaryRow(name, s);
    if (name.startsWith('generator.')) figures.generator.push(row);
    else if (RETRY_AFTER.test(name)) figures.rateLimiting.push(row);
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
    if (FAILURE.test(name)) {
      if (value === 0) figures.zeroFailures.push(name);
      else figures.failures.push(row);
    } else if (TOKENS.test(name)) figures.tokens.push(row);
    else if (OVERHEAD.test(name)) figures.overhead.push(row);
    else if (/^(terminal|websocket)\./.test(name) && /(disconnect|drop|close|reconnect|open)/.test(name))
      figures.websocket.push(row);
    else if (/^vusers\.(created|completed|failed|skipped)$/.test(name)) figures.vusers.push(row);
  }
  figures.http = httpRows(report);
  return figures;
}

const codesOf = (counters: Record<string, number>, prefix: string) =>
  Object.entries(counters)
    .filter(([n]) => n.startsWith(prefix))
    .map(([n, v]) => [n.slice(prefix.length), v] as const)
    .sort(([a], [b]) => a.localeCompare(b));

const listed = (entries: readonly (readonly [string, number])[]) =>
  entries.map(([k, v]) => `${k}: ${v}`).join(', ');

/** Artillery's own view of the requests: every request, then one row per `name:`. */
export function httpRows(report: ArtilleryReport): EndpointRow[] {
  const { counters, summaries } = report.aggregate;
  const rows: EndpointRow[] = [];
  const stats = (s: Partial<ArtillerySummary> | undefined) => ({
    p50: s?.p50 ?? s?.median ?? null,
    p95: s?.p95 ?? null,
    p99: s?.p99 ?? null,
    max: s?.max ?? null,
  });
  if (counters['http.requests'] !== undefined || summaries['http.response_time']) {
    rows.push({
      name: 'all requests (http.*)',
      requests: counters['http.requests'] ?? 0,
      codes: listed(codesOf(counters, 'http.codes.')),
      errors: listed(codesOf(counters, 'errors.')),
      ...stats(summaries['http.response_time']),
    });
  }
  const prefix = 'plugins.metrics-by-endpoint.';
  const names = new Set<string>();
  for (const n of Object.keys(summaries))
    if (n.startsWith(`${prefix}response_time.`)) names.add(n.slice(`${prefix}response_time.`.length));
  for (const n of Object.keys(counters)) {
    const m = /^plugins\.metrics-by-endpoint\.(.+)\.(codes|errors)\.[^.]+$/.exec(n);
    if (m) names.add(m[1]!);
  }
  for (const name of [...names].sort()) {
    const codes = codesOf(counters, `${prefix}${name}.codes.`);
    const errors = codesOf(counters, `${prefix}${name}.errors.`);
    rows.push({
      name,
      requests: [...codes, ...errors].reduce((sum, [, v]) => sum + v, 0),
      codes: listed(codes),
      errors: listed(errors),
      ...stats(summaries[`${prefix}response_time.${name}`]),
    });
  }
  return rows;
}
