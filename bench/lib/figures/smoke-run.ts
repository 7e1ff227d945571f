import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChild } from '../child';
import { round2 } from '../percentiles';
import type { BenchPlan } from '../plan';
import type { SmokeRunFigure } from '../results';

/**
 * Figure 5: wall time of `npm start` (build + the smoke profile of every scenario + the report),
 * from the command to its exit, as a person waits for it. Its exit code is recorded, not judged:
 * a threshold a scenario's owner is still tuning changes the verdict, not the time.
 */
export async function measureSmokeRun(plan: BenchPlan, log: (line: string) => void): Promise<SmokeRunFigure> {
  const out = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
  try {
    log(`smoke run: ${plan.smoke.command}`);
    const run = plan.quick
      ? startChild(process.execPath, [...plan.smoke.argv, '--out', out], {
          env: plan.smoke.env,
          timeoutMs: 180_000,
        })
      : startChild('npm', ['start', '--silent', '--', '--out', out], { timeoutMs: 600_000 });
    const result = await run.done;
    // 2 = configuration error or could not start: nothing ran, so the time says nothing.
    if (result.exitCode === 2 || result.exitCode === null)
      throw new Error(`${plan.smoke.command} exited ${result.exitCode}:\n${result.output.slice(-2000)}`);
    return {
      command: plan.smoke.command,
      wallSeconds: round2(result.wallSeconds),
      exitCode: result.exitCode,
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
