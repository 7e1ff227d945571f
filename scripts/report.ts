import { parseArgs } from 'node:util';
import { writeReport } from './lib/report/index';
import { RunFolderError } from './lib/report/load';

/**
 * `npm run report -- results/<run-id> [--baseline results/<other>] [--tolerance 0.2]`: report.md,
 * report.html and junit.xml into the run folder. Exit 1 when the baseline comparison finds
 * regressions beyond the tolerance, 2 for a bad command line or a folder that is not a run.
 */
function main(): number {
  let parsed: ReturnType<
    typeof parseArgs<{
      options: { baseline: { type: 'string' }; tolerance: { type: 'string' } };
      allowPositionals: true;
      strict: true;
    }>
  >;
  try {
    parsed = parseArgs({
      args: process.argv.slice(2),
      allowPositionals: true,
      strict: true,
      options: { baseline: { type: 'string' }, tolerance: { type: 'string' } },
    });
  } catch (error) {
    process.stderr.write(
      `${(error as Error).message}\nusage: report <run folder> [--baseline <run folder>] [--tolerance 0.2]\n`,
    );
    return 2;
  }
  const [runDir, ...rest] = parsed.positionals;
  if (!runDir || rest.length > 0) {
    process.stderr.write('usage: report <run folder> [--baseline <run folder>] [--tolerance 0.2]\n');
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
