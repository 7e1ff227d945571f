import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from './lib/paths';
import { staleDashboards, writeDashboards } from './lib/report/grafana';
import { writeReport } from './lib/report/index';
import { RunFolderError } from './lib/report/load';

const DASHBOARDS_DIR = resolve(ROOT, 'observability', 'grafana', 'dashboards');
const SCENARIOS_DIR = resolve(ROOT, 'scenarios');

/**
 * `npm run report -- results/<run-id> [--baseline results/<other>] [--tolerance 0.2]`: report.md,
 * report.html and junit.xml into the run folder. Exit 1 when the baseline comparison finds
 * regressions beyond the tolerance, 2 for a bad command line or a folder that is not a run.
 * `npm run report -- --dashboards` rewrites the Grafana dashboards from the scenarios' limits;
 * `--check-dashboards` exits 1 when they are out of date.
 */
function main(): number {
  const options = {
    baseline: { type: 'string' },
    tolerance: { type: 'string' },
    dashboards: { type: 'boolean' },
    'check-dashboards': { type: 'boolean' },
  } as const;
  let parsed: ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args: process.argv.slice(2), allowPositionals: true, strict: true, options });
  } catch (error) {
    process.stderr.write(
      `${(error as Error).message}\nusage: report <run folder> [--baseline <run folder>] [--tolerance 0.2] | --dashboards | --check-dashboards\n`,
    );
    return 2;
  }
  if (parsed.values.dashboards) {
    for (const file of writeDashboards(DASHBOARDS_DIR, SCENARIOS_DIR)) process.stdout.write(`${file}\n`);
    return 0;
  }
  if (parsed.values['check-dashboards']) {
    const stale = staleDashboards(DASHBOARDS_DIR, SCENARIOS_DIR);
    for (const file of stale)
      process.stderr.write(
        `${file}: out of date with the scenarios' limits (npm run report -- --dashboards)\n`,
      );
    return stale.length === 0 ? 0 : 1;
  }
  const [runDir, ...rest] = parsed.positionals;
  if (!runDir || rest.length > 0) {
    process.stderr.write(
      'usage: report <run folder> [--baseline <run folder>] [--tolerance 0.2] | --dashboards | --check-dashboards\n',
    );
    return 2;
  }
  const tolerance = parsed.values.tolerance === undefined ? 0.2 : Number(parsed.values.tolerance);
  if (!Number.isFinite(tolerance) || tolerance < 0 || tolerance > 10) {
    process.stderr.write('--tolerance: must be a fraction such as 0.2 (20%)\n');
    return 2;
  }
  try {
    const result = writeReport(runDir, {
      ...(parsed.values.baseline ? { baselineDir: parsed.values.baseline } : {}),
      tolerance,
    });
    process.stdout.write(`${result.summary}\n${result.files.join('\n')}\n`);
    if (result.comparison) {
      for (const r of result.comparison.regressions)
        process.stdout.write(
          `REGRESSION ${r.scenario} ${r.metric}: ${r.baseline ?? '-'} → ${r.current ?? '-'} (${r.change})\n`,
        );
      if (result.comparison.regressions.length > 0) return 1;
    }
    return 0;
  } catch (error) {
    if (error instanceof RunFolderError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

process.exitCode = main();
