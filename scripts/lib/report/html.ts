import { readFileSync } from 'node:fs';
import { UPLOT_CSS, UPLOT_JS } from '../paths';
import { type BaselineComparison, DELTA_HEADERS, deltaCells, formatNumber } from './baseline';
import { scenarioCharts } from './charts';
import { type KeyFigures, keyFigures, type SummaryRow, type ValueRow } from './figures';
import type { LoadedRun, LoadedScenario } from './load';
import {
  HTTP_HEAD,
  httpCells,
  OUTCOME_LABEL,
  SUMMARY_HEAD,
  summaryCells,
  THRESHOLD_HEAD,
  thresholdCells,
  ZERO_FAILURES_TITLE,
} from './markdown';
import { scenarioNotes } from './notes';
import { thresholdRows } from './thresholds';
import { runVerdict, scenarioSaturationNotes } from './verdicts';

const esc = (text: string | number) =>
  String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const num = formatNumber;

function table(head: string[], rows: (string | number)[][], rowClass?: (i: number) => string): string {
  if (rows.length === 0) return '';
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r, i) => `<tr class="${rowClass?.(i) ?? ''}">${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

const summaries = (rows: SummaryRow[]) =>
  table(
    ['metric', 'count', 'p50', 'p95', 'p99', 'max'],
    rows.map((r) => [r.name, r.count, num(r.p50), num(r.p95), num(r.p99), num(r.max)]),
  );
const values = (rows: ValueRow[]) =>
  table(
    ['metric', 'value'],
    rows.map((r) => [r.name, num(r.value)]),
  );
const mixed = (rows: (SummaryRow | ValueRow)[]) =>
  summaries(rows.filter((r): r is SummaryRow => r.kind === 'summary')) +
  values(rows.filter((r): r is ValueRow => r.kind === 'value'));

function figuresHtml(f: KeyFigures): string {
  return (
    [
      [
        "Artillery's HTTP metrics (every request, then per request name; ms)",
        table(HTTP_HEAD, f.http.map(httpCells)),
      ],
      ["The suite's latency per request (ms)", summaries(f.requests)],
      ['Tokens', values(f.tokens)],
      ['LLM proxy overhead', mixed(f.overhead)],
      ['WebSocket (RTT ms, disconnects)', mixed(f.websocket)],
      ['Startup / provisioning (ms)', summaries(f.startup)],
      ['Rate limiting (429s and Retry-After waits: not latency)', mixed(f.rateLimiting)],
      [
        'Load generator (event-loop lag ms, CPU % of one core, machine CPU % of all cores)',
        summaries(f.generator),
      ],
      ['Other measurements', summaries(f.otherHistograms)],
      [
        'Failures by cause',
        values(f.failures) +
          (f.zeroFailures.length > 0
            ? `<p class="zero">${esc(ZERO_FAILURES_TITLE)}: ${f.zeroFailures.map((n) => `<code>${esc(n)}</code>`).join(', ')}.</p>`
            : ''),
      ],
      ['Virtual users', values(f.vusers)],
    ] as const
  )
    .filter(([, body]) => body.length > 0)
    .map(([title, body]) => `<h4>${esc(title)}</h4>${body}`)
    .join('');
}

function scenarioHtml(scenario: LoadedScenario, index: number): string {
  const { record } = scenario;
  const rows = thresholdRows(scenario.verdicts, scenario.report);
  const charts = scenarioCharts(scenario.report, scenario.verdicts);
  return `<section class="scenario ${record.outcome}" data-scenario="${esc(record.name)}">
<h2>${esc(record.name)} <span class="badge">${esc(OUTCOME_LABEL[record.outcome] ?? record.outcome)}</span></h2>
<p>Script <code>${esc(record.script)}</code>, area ${esc(record.area)}, exit code ${esc(record.exitCode ?? '-')}${
    record.reason ? `: ${esc(record.reason)}` : ''
  }</p>
${
  record.partialResults
    ? '<p class="fail">Partial results: Artillery stopped before writing its report; figures are rebuilt from its periodic output (percentiles are the worst period\'s).</p>'
    : ''
}
${scenarioSaturationNotes(rows, scenario.report)
  .map((note) => `<p class="fail">${esc(note)}</p>`)
  .join('\n')}
${scenarioNotes(scenario.report, record.area)
  .map((note) => `<p class="${note.important ? 'fail' : ''}">${esc(note.text)}</p>`)
  .join('\n')}
<h3>Thresholds</h3>
${
  rows.length > 0
    ? table(
        THRESHOLD_HEAD,
        rows.map(thresholdCells),
        (i) => ({ pass: 'ok', fail: 'fail', inconclusive: 'inconclusive' })[rows[i]!.status],
      )
    : record.outcome === 'skipped'
      ? `<p>Skipped: ${esc(record.reason ?? 'not run')}.</p>`
      : '<p>No threshold verdicts were recorded.</p>'
}
<h3>Over time</h3>
<div class="charts">${charts
    .map((_, c) => `<div class="chart" id="chart-${index}-${c}"></div>`)
    .join('')}</div>${charts.length === 0 ? '<p>No intermediate periods recorded.</p>' : ''}
<script type="application/json" class="chart-data" data-index="${index}">${JSON.stringify(charts).replace(
    /</g,
    '\\u003c',
  )}</script>
<h3>Key figures</h3>
${scenario.report ? figuresHtml(keyFigures(scenario.report)) : '<p>No Artillery results were written.</p>'}
</section>`;
}

const DRAW = `
(function () {
  function xRange(xs) {
    var min = Math.min.apply(null, xs), max = Math.max.apply(null, xs);
    return min === max ? [min - 10, max + 10] : [min, max];
  }
  // No red among the series: red dashed lines are the limits.
  var palette = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];
  document.querySelectorAll('script.chart-data').forEach(function (node) {
    var index = node.getAttribute('data-index');
    JSON.parse(node.textContent).forEach(function (spec, c) {
      var target = document.getElementById('chart-' + index + '-' + c);
      var series = [{}].concat(spec.labels.map(function (label, i) {
        return { label: label, stroke: palette[i % palette.length], width: 2, spanGaps: true, points: { show: true, size: 5 } };
      })).concat(spec.limits.map(function (limit) {
        return { label: limit.label, stroke: '#b00000', width: 2, dash: [8, 5], points: { show: false } };
      }));
      var data = [spec.x].concat(spec.ys).concat(spec.limits.map(function (limit) {
        return spec.x.map(function () { return limit.value; });
      }));
      var opts = {
        title: spec.title + ' (' + spec.unit + ')', width: 560, height: 240, series: series, legend: { live: false },
        axes: [{}, { label: spec.unit, size: 70 }],
        // One 10 s period (a smoke run) would otherwise stretch the time axis over years.
        scales: { x: { time: true, auto: false, range: xRange(spec.x) } }
      };
      new uPlot(opts, data, target);
    });
  });
})();`;

export function runHtml(
  run: LoadedRun,
  comparison: BaselineComparison | undefined,
  markdownSummary: string,
): string {
  const m = run.manifest;
  const uplotJs = readFileSync(UPLOT_JS, 'utf8');
  const uplotCss = readFileSync(UPLOT_CSS, 'utf8');
  const verdict = runVerdict(run);
  const summary = table(SUMMARY_HEAD, run.scenarios.map(summaryCells), (i) => {
    const outcome = run.scenarios[i]!.record.outcome;
    return outcome === 'pass' ? 'ok' : outcome === 'skipped' ? '' : 'fail';
  });
  const baseline = comparison
    ? `<h2>Compared with ${esc(comparison.baselineRunId)} (tolerance ${Math.round(comparison.tolerance * 100)}%)</h2>
<p class="${comparison.regressions.length ? 'fail' : 'ok'}">${comparison.regressions.length} regression(s)</p>${table(
        DELTA_HEADERS,
        comparison.deltas.map(deltaCells),
        (i) => (comparison.deltas[i]!.regression ? 'fail' : ''),
      )}`
    : '';
  const settings = table(
    ['setting', 'value'],
    Object.entries(m.settings).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : String(v)]),
  );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Load test ${esc(m.runId)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${uplotCss}</style>
<style>
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1250px}
table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;font-size:13px}
th{background:#f3f3f3}tr.fail td{background:#fde8e8}tr.ok td{background:#eef8ee}tr.inconclusive td{background:#fff6d6}
h1.pass{color:#17692a}h1.failed{color:#b00}p.zero{color:#555;font-size:13px}
.badge{font-size:14px;padding:2px 8px;border-radius:4px;background:#ddd}
section.pass .badge{background:#bfe5bf}section.skipped .badge{background:#eee}section.threshold-failed .badge,section.error .badge,section.not-started .badge{background:#f5b5b5}
.charts{display:flex;flex-wrap:wrap;gap:12px}.chart{min-height:240px}
p.fail{color:#b00;font-weight:bold}
</style></head><body>
<h1 class="${m.exitCode === 0 ? 'pass' : 'failed'}">Load test ${esc(m.runId)}: ${esc(verdict.word)}</h1>
<p>Profile <b>${esc(m.profile)}</b>, target ${esc(m.target.kind === 'simulator' ? 'bundled simulator' : m.target.file)}, started ${esc(
    m.startedAt,
  )}, exit code ${esc(m.exitCode ?? '-')}. ${esc(verdict.sentence)}</p>
${summary}
${baseline}
${run.scenarios.map(scenarioHtml).join('\n')}
<h2>Run manifest</h2>
${table(
  ['run', ''],
  [
    ['git revision', `${m.git.revision ?? 'unknown'}${m.git.dirty ? ' (uncommitted changes)' : ''}`],
    ['node / artillery / suite', `${m.versions.node} / ${m.versions.artillery} / ${m.versions.suite}`],
    ['started / ended', `${m.startedAt} / ${m.endedAt ?? '-'}`],
    ['parallel', String(m.parallel)],
    ['seeded tenants', m.seededTenants],
    ...(m.seeding ?? []).map((batch) => [
      `tenants for ${batch.scenarios.join(', ')}`,
      `${batch.tenants} via ${batch.via}, ${
        batch.creditsCents === null
          ? 'credits as the platform gives a new tenant (1000 cents)'
          : `${batch.creditsCents} cents each`
      }`,
    ]),
    ['interrupted', String(m.interrupted)],
  ],
)}
<h3>Settings (secrets removed)</h3>
${settings}
<details><summary>Markdown summary</summary><pre>${esc(markdownSummary)}</pre></details>
<script>${uplotJs.replace(/<\/script/gi, '<\\/script')}</script>
<script>${DRAW}</script>
</body></html>
`;
}
