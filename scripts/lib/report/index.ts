import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BaselineComparison, compareRuns } from './baseline';
import { runHtml } from './html';
import { runJunit } from './junit';
import { loadRun } from './load';
import { runMarkdown, summaryTable } from './markdown';

export interface ReportOptions {
  baselineDir?: string;
  /** Relative change beyond which a worse figure is a regression (0.2 = 20%). */
  tolerance?: number;
  /** Where to append the markdown (GitHub's job summary); defaults to $GITHUB_STEP_SUMMARY. */
  stepSummaryPath?: string | undefined;
}

export interface ReportResult {
  files: string[];
  comparison: BaselineComparison | undefined;
  summary: string;
}

/** Writes report.md, report.html and junit.xml into the run folder. */
export function writeReport(runDir: string, options: ReportOptions = {}): ReportResult {
  const run = loadRun(runDir);
  const comparison = options.baselineDir
    ? compareRuns(run, loadRun(options.baselineDir), options.tolerance ?? 0.2)
    : undefined;
  const markdown = runMarkdown(run, comparison);
  const files = [join(runDir, 'report.md'), join(runDir, 'report.html'), join(runDir, 'junit.xml')];
  writeFileSync(files[0]!, markdown);
  writeFileSync(files[1]!, runHtml(run, comparison, markdown));
  writeFileSync(files[2]!, runJunit(run));
  const stepSummary =
    'stepSummaryPath' in options ? options.stepSummaryPath : process.env.GITHUB_STEP_SUMMARY;
  if (stepSummary) appendFileSync(stepSummary, `${markdown}\n`);
  return { files, comparison, summary: summaryTable(run) };
}
