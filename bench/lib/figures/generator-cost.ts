import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ArtilleryReport } from '../../../scripts/lib/artillery-run';
import { startChild } from '../child';
import { round2 } from '../percentiles';
import type { BenchPlan } from '../plan';
import { artilleryLabel, ProcessTreeSampler, type ProcSeries, summarize } from '../proc-sampler';
import type { GeneratorCostFigure, GeneratorProcess } from '../results';

/**
 * Figure 2: every HTTP/WebSocket scenario at once at the target load (the runner's `load`
 * profile, in parallel, durations shortened), and what each Artillery process costs while its
 * load runs: CPU of all its threads and resident memory, read from /proc.
 */

/**
 * The scenarios of the target load. The terminal has no users in the load profile (the runner
 * skips it); the browser journey's cost is Chromium's, not the generator's.
 */
export const COST_SCENARIOS = ['llm-proxy', 'chat-sessions', 'container-provisioning', 'signup-tenant-chat'];

function loadWindow(outDir: string, scenario: string): { from: number; to: number } | undefined {
  const file = join(outDir, scenario, 'output.json');
  if (!existsSync(file)) return undefined;
  const report = JSON.parse(readFileSync(file, 'utf8')) as ArtilleryReport;
  const a = report.aggregate;
  const from = a.firstMetricAt ?? a.firstCounterAt;
  const to = a.lastMetricAt ?? a.lastCounterAt;
  return from !== undefined && to !== undefined ? { from, to } : undefined;
}

export async function measureGeneratorCost(
  plan: BenchPlan,
  log: (line: string) => void,
): Promise<GeneratorCostFigure> {
  const seconds = plan.costSeconds;
  const out = mkdtempSync(join(tmpdir(), 'bench-cost-'));
  const durations = {
    LLM_DURATION: `${seconds}s`,
    CHAT_DURATION: `${seconds}s`,
    CONTAINER_DURATION: `${seconds}s`,
    WS_DURATION: `${seconds}s`,
  };
  const args = [
    'dist/scripts/run.js',
    '--profile',
    'load',
    '--parallel',
    '--scenario',
    COST_SCENARIOS.join(','),
    '--no-report',
  ];
  const command = `${Object.entries(durations)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')} node ${args.join(' ')}`;
  log(`generator cost: ${COST_SCENARIOS.length} scenarios in parallel at the load profile, ${seconds} s`);
  try {
    const run = startChild(process.execPath, [...args, '--out', out], {
      env: durations,
      timeoutMs: seconds * 1000 + 180_000,
    });
    const sampler = new ProcessTreeSampler(run.pid, (cmdline) => artilleryLabel(cmdline)).start();
    let result: Awaited<typeof run.done>;
    let series: ProcSeries[] = [];
    try {
      result = await run.done;
    } finally {
      series = sampler.stop();
    }
    if (series.length === 0)
      throw new Error(
        `no Artillery process seen (runner exit ${result.exitCode}):\n${result.output.slice(-2000)}`,
      );
    const missing = COST_SCENARIOS.filter((name) => !series.some((s) => s.label === name));
    if (missing.length > 0)
      throw new Error(
        `the runner ran no Artillery process for ${missing.join(', ')} (exit ${result.exitCode}):\n${result.output.slice(-2000)}`,
      );
    const windows = series.map((s) => loadWindow(out, s.label));
    const processes: GeneratorProcess[] = series.map((s, i) => {
      const window = windows[i];
      const usage = summarize(s, window?.from, window?.to);
      return {
        scenario: s.label,
        cpuPct: round2(usage.cpuPct),
        cpuSeconds: round2(usage.cpuSeconds),
        rssMeanMb: round2(usage.rssMeanMb),
        rssPeakMb: round2(usage.rssPeakMb),
        threadsMax: usage.threadsMax,
      };
    });
    processes.sort((a, b) => a.scenario.localeCompare(b.scenario));
    // The total over the window in which any of them sent load: each process's own window differs
    // (a one-shot signup flow is over in seconds), so their percentages do not add up.
    const known = windows.filter((w) => w !== undefined);
    const from = Math.min(...known.map((w) => w.from));
    const to = Math.max(...known.map((w) => w.to));
    const totalCpuSeconds = series.reduce((sum, s) => sum + summarize(s, from, to).cpuSeconds, 0);
    const totalCpuPct = to > from ? (totalCpuSeconds / ((to - from) / 1000)) * 100 : 0;
    const cores = cpus().length;
    return {
      command,
      durationSeconds: seconds,
      exitCode: result.exitCode,
      processes,
      totalCpuPct: round2(totalCpuPct),
      totalRssPeakMb: round2(processes.reduce((sum, p) => sum + p.rssPeakMb, 0)),
      shareOfMachinePct: round2(totalCpuPct / cores),
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
