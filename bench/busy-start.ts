import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../scripts/lib/paths';
import { startChild } from './lib/child';

/**
 * `npm start` on a busy machine: the smoke run against the bundled simulator exists to prove the
 * pipeline and the gates, so a busy machine must not fail a platform threshold. Runs the smoke
 * profile RUNS times (default 10) while two CPU-bound processes (a busy loop each) compete for the
 * cores, and records every run's exit code, the checks that failed, and the machine CPU the
 * generator saw. Writes bench/results/busy-start.json.
 *
 *   node dist/bench/busy-start.js [runs]
 */

interface RunOutcome {
  run: number;
  exitCode: number | null;
  wallSeconds: number;
  failedChecks: string[];
  /** The highest p95 of the whole machine's CPU any scenario of the run saw (percent of all cores). */
  machineCpuP95: number | undefined;
}

const BUSY_LOOP = 'for (;;) {}';

function startBusyProcesses(count: number): number[] {
  const pids: number[] = [];
  for (let i = 0; i < count; i++) {
    const child = spawn(process.execPath, ['-e', BUSY_LOOP], { stdio: 'ignore' });
    if (child.pid !== undefined) pids.push(child.pid);
  }
  return pids;
}

function stopByPid(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** The failed checks and the machine's CPU of every scenario of a finished run, from its results folder. */
function runFigures(outDir: string): { failed: string[]; machineCpuP95: number | undefined } {
  const failed: string[] = [];
  let machineCpuP95: number | undefined;
  for (const name of readdirSync(outDir, { withFileTypes: true })) {
    if (!name.isDirectory()) continue;
    const checks = readJson<{ verdicts?: Array<{ ok: boolean; strict?: boolean; check: string }> }>(
      join(outDir, name.name, 'ensure.json'),
    );
    for (const verdict of checks?.verdicts ?? [])
      if (!verdict.ok && verdict.strict !== false) failed.push(`${name.name}: ${verdict.check}`);
    const output = readJson<{ aggregate?: { summaries?: Record<string, { p95: number }> } }>(
      join(outDir, name.name, 'output.json'),
    );
    const p95 = output?.aggregate?.summaries?.['generator.machine_cpu_pct']?.p95;
    if (p95 !== undefined) machineCpuP95 = Math.max(machineCpuP95 ?? 0, p95);
  }
  return { failed, machineCpuP95 };
}

async function main(): Promise<number> {
  const runs = Number(process.argv[2] ?? 10);
  if (!Number.isInteger(runs) || runs < 1 || runs > 50) {
    process.stderr.write('usage: busy-start [runs 1-50]\n');
    return 2;
  }
  const work = mkdtempSync(join(tmpdir(), 'busy-start-'));
  const busy = startBusyProcesses(2);
  const outcomes: RunOutcome[] = [];
  try {
    for (let run = 1; run <= runs; run++) {
      const outDir = join(work, `run-${run}`);
      const child = startChild(
        process.execPath,
        [join(ROOT, 'dist/scripts/run.js'), '--profile', 'smoke', '--out', outDir, '--no-report'],
        {
          timeoutMs: 10 * 60_000,
        },
      );
      const done = await child.done;
      const figures = runFigures(outDir);
      outcomes.push({
        run,
        exitCode: done.exitCode,
        wallSeconds: Math.round(done.wallSeconds),
        failedChecks: figures.failed,
        machineCpuP95: figures.machineCpuP95,
      });
      const machine =
        figures.machineCpuP95 === undefined ? '' : `, machine CPU p95 ${figures.machineCpuP95.toFixed(0)} %`;
      process.stdout.write(
        `run ${run}/${runs}: exit ${done.exitCode} in ${Math.round(done.wallSeconds)} s${machine}${figures.failed.length ? `; failed: ${figures.failed.join('; ')}` : ''}\n`,
      );
    }
  } finally {
    stopByPid(busy);
    rmSync(work, { recursive: true, force: true });
  }
  const passed = outcomes.filter((o) => o.exitCode === 0).length;
  const summary = { measuredAt: new Date().toISOString(), busyProcesses: 2, runs, passed, outcomes };
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results', 'busy-start.json'), `${JSON.stringify(summary, null, 2)}\n`);
  process.stdout.write(
    `npm start on a busy machine (2 CPU-bound processes beside it): ${passed}/${runs} passed\n`,
  );
  return passed === runs ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 2;
  },
);
