import type { RunManifest } from '../manifest';
import { type BaselineComparison, DELTA_HEADERS, deltaCells, formatNumber } from './baseline';
import { type EndpointRow, type KeyFigures, keyFigures, type SummaryRow, type ValueRow } from './figures';
import { guardedPercentile } from './limits';
import type { LoadedRun, LoadedScenario } from './load';
import { scenarioNotes } from './notes';
import { type ThresholdRow, thresholdRows, verdictLabel } from './thresholds';
import { causeText, runVerdict, scenarioCounts, scenarioSaturationNotes } from './verdicts';

const cell = (text: string | number) => String(text).replace(/\|/g, '\\|').replace(/\n/g, ' ');
const num = formatNumber;

function table(head: string[], rows: (string | number)[][]): string {
  if (rows.length === 0) return '';
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
    '',
    '',
  ].join('\n');
}

export const OUTCOME_LABEL: Record<string, string> = {
  pass: 'PASS',
  'threshold-failed': 'FAILED (thresholds)',
  error: 'FAILED (run error)',
  'not-started': 'NOT RUN',
  skipped: 'SKIPPED',
};

export const SUMMARY_HEAD = ['scenario', 'result', 'passed', 'failed', 'inconclusive', 'duration', 'note'];

/** The summary table's cells per scenario, shared by report.md and report.html. */
export function summaryCells(scenario: LoadedScenario): (string | number)[] {
  const { record } = scenario;
  const counts = scenarioCounts(scenario);
  return [
    record.name,
    OUTCOME_LABEL[record.outcome] ?? record.outcome,
    counts.passed,
    counts.failed,
    counts.inconclusive,
    record.durationMs === null ? '-' : `${Math.round(record.durationMs / 1000)} s`,
    // Failed thresholds are listed per scenario; a run that did not happen says why here.
    record.outcome === 'threshold-failed' || record.outcome === 'pass' ? '' : (record.reason ?? ''),
  ];
}

export function summaryTable(run: LoadedRun): string {
  return table(SUMMARY_HEAD, run.scenarios.map(summaryCells));
}

export const HTTP_HEAD = ['request', 'requests', 'codes', 'errors', 'p50', 'p95', 'p99', 'max'];
const opt = (n: number | null) => (n === null ? '-' : num(n));
export const httpCells = (r: EndpointRow) => [
  r.name,
  r.requests,
  r.codes || '-',
  r.errors || '-',
  opt(r.p50),
  opt(r.p95),
  opt(r.p99),
  opt(r.max),
];

export const ZERO_FAILURES_TITLE = 'Failure counters that stayed at zero';

function summaryRows(rows: SummaryRow[]): string {
  return table(
    ['metric', 'count', 'p50', 'p95', 'p99', 'max'],
    rows.map((r) => [r.name, r.count, num(r.p50), num(r.p95), num(r.p99), num(r.max)]),
  );
}

function valueRows(rows: ValueRow[]): string {
  return table(
    ['metric', 'value'],
    rows.map((r) => [r.name, num(r.value)]),
  );
}

function mixed(rows: (SummaryRow | ValueRow)[]): string {
  return (
    summaryRows(rows.filter((r): r is SummaryRow => r.kind === 'summary')) +
    valueRows(rows.filter((r): r is ValueRow => r.kind === 'value'))
  );
}

export function figuresMarkdown(figures: KeyFigures): string {
  const sections: [string, string][] = [
    [
      "Artillery's HTTP metrics (every request, then per request name; ms)",
      table(HTTP_HEAD, figures.http.map(httpCells)),
    ],
    ["The suite's latency per request (ms)", summaryRows(figures.requests)],
    ['Tokens', valueRows(figures.tokens)],
    ['LLM proxy overhead', mixed(figures.overhead)],
    ['WebSocket (RTT ms, disconnects)', mixed(figures.websocket)],
    ['Startup / provisioning (ms)', summaryRows(figures.startup)],
    ['Rate limiting (429s and Retry-After waits: not latency)', mixed(figures.rateLimiting)],
    [
      'Load generator (event-loop lag ms, CPU % of one core, machine CPU % of all cores)',
      summaryRows(figures.generator),
    ],
    ['Other measurements', summaryRows(figures.otherHistograms)],
    [
      'Failures by cause',
      valueRows(figures.failures) +
        (figures.zeroFailures.length > 0
          ? `${ZERO_FAILURES_TITLE}: ${figures.zeroFailures.map((n) => `\`${n}\``).join(', ')}.\n\n`
          : ''),
    ],
    ['Virtual users', valueRows(figures.vusers)],
  ];
  return sections
    .filter(([, body]) => body.length > 0)
    .map(([title, body]) => `#### ${title}\n\n${body}`)
    .join('\n');
}

export const THRESHOLD_HEAD = ['metric', 'limit', 'measured', 'result', 'cause'];

/** One threshold's cells, shared by report.md and report.html. */
export function thresholdCells(r: ThresholdRow): string[] {
  const judged = guardedPercentile(r.check)?.metric;
  return [
    judged ?? (r.measuredMetrics.join(', ') || r.check),
    r.limit,
    r.measured,
    verdictLabel(r),
    causeText(r),
  ];
}

export function scenarioMarkdown(scenario: LoadedScenario): string {
  const { record } = scenario;
  const rows = thresholdRows(scenario.verdicts, scenario.report);
  const parts = [
    `### ${record.name}: ${OUTCOME_LABEL[record.outcome] ?? record.outcome}`,
    '',
    `Script \`${record.script}\`, area ${record.area}, exit code ${record.exitCode ?? '-'}${
      record.reason ? `. ${record.reason}` : ''
    }`,
    '',
  ];
  for (const note of scenarioSaturationNotes(rows, scenario.report)) parts.push(`**${note}**\n`);
  for (const note of scenarioNotes(scenario.report, record.area))
    parts.push(note.important ? `**${note.text}**\n` : `${note.text}\n`);
  if (rows.length > 0) parts.push(table(THRESHOLD_HEAD, rows.map(thresholdCells)));
  else if (record.outcome === 'skipped') parts.push(`Skipped: ${record.reason ?? 'not run'}.\n`);
  else parts.push('No threshold verdicts were recorded.\n');
  if (record.partialResults)
    parts.push(
      "Partial results: Artillery stopped before writing its report; figures are rebuilt from its periodic output (percentiles are the worst period's).\n",
    );
  if (!scenario.report) {
    if (record.outcome !== 'skipped') parts.push('No Artillery results were written for this scenario.\n');
  } else parts.push(figuresMarkdown(keyFigures(scenario.report)));
  return parts.join('\n');
}

export function manifestMarkdown(manifest: RunManifest): string {
  const target =
    manifest.target.kind === 'simulator'
      ? `bundled simulator (${manifest.target.simulatorProfile}${manifest.target.faults ? ', faults injected' : ''})`
      : `env file ${manifest.target.file}`;
  const rows: [string, string][] = [
    ['run id', manifest.runId],
    ['profile', manifest.profile],
    ['target', target],
    ['parallel', String(manifest.parallel)],
    [
      'git revision',
      `${manifest.git.revision ?? 'unknown'}${manifest.git.dirty ? ' (uncommitted changes)' : ''}`,
    ],
    [
      'node / artillery / suite',
      `${manifest.versions.node} / ${manifest.versions.artillery} / ${manifest.versions.suite}`,
    ],
    ['started / ended', `${manifest.startedAt} / ${manifest.endedAt ?? '-'}`],
    ['seeded tenants', String(manifest.seededTenants)],
    ...(manifest.seeding ?? []).map((batch): [string, string] => [
      `tenants for ${batch.scenarios.join(', ')}`,
      `${batch.tenants} via ${batch.via}, ${
        batch.creditsCents === null
          ? "credits as the platform gives a new tenant (1000 cents): running dry is the platform's credit limit"
          : `${batch.creditsCents} cents each (enough for the profile, so credits do not decide the gate)`
      }`,
    ]),
    ['exit code', `${manifest.exitCode ?? '-'}${manifest.interrupted ? ' (interrupted)' : ''}`],
  ];
  const settings = Object.entries(manifest.settings).map(([k, v]) => [
    k,
    Array.isArray(v) ? v.join(',') : String(v),
  ]);
  return `${table(['run', ''], rows)}\n#### Settings (secrets removed)\n\n${table(['setting', 'value'], settings)}`;
}

export function baselineMarkdown(comparison: BaselineComparison): string {
  const head = `## Compared with ${comparison.baselineRunId} (tolerance ${Math.round(comparison.tolerance * 100)}%)\n\n`;
  const verdict =
    comparison.regressions.length === 0
      ? 'No regressions beyond the tolerance.\n\n'
      : `**${comparison.regressions.length} regression(s) beyond the tolerance.**\n\n`;
  return head + verdict + table(DELTA_HEADERS, comparison.deltas.map(deltaCells));
}

export function runMarkdown(run: LoadedRun, comparison: BaselineComparison | undefined): string {
  const m = run.manifest;
  const verdict = runVerdict(run);
  return [
    `# Load test ${m.runId}: ${verdict.word}`,
    '',
    `Profile **${m.profile}**, ${run.scenarios.length} scenario(s). ${verdict.sentence}`,
    '',
    summaryTable(run),
    ...(comparison ? [baselineMarkdown(comparison)] : []),
    '## Scenarios',
    '',
    ...run.scenarios.map(scenarioMarkdown),
    '## Run manifest',
    '',
    manifestMarkdown(m),
  ].join('\n');
}
