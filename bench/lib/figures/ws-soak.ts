import { runArtillery } from '../../../scripts/lib/artillery-run';
import { ROOT } from '../../../scripts/lib/paths';
import { artilleryCommand, usersOverrides } from '../artillery-point';
import { round2 } from '../percentiles';
import type { BenchPlan } from '../plan';
import { artilleryLabel, ProcessTreeSampler, type ProcSample, type ProcSeries } from '../proc-sampler';
import type { WsSoakFigure } from '../results';
import type { BenchTarget } from '../target';

/**
 * Figure 6: the terminal scenario compressed in time (many sockets, a command every 100 ms instead
 * of every 15 s), and the generator's resident memory over it: a leak per command or per frame
 * shows as growth between the early and the late part of the run.
 */

/** The soak profile's terminal load: 50 sockets, a command per 15 s each. */
const SOAK_COMMANDS_PER_MINUTE = 50 * (60 / 15);

const mean = (samples: ProcSample[]) => samples.reduce((sum, s) => sum + s.rssMb, 0) / samples.length;

export async function measureWsSoak(
  target: BenchTarget,
  plan: BenchPlan,
  log: (line: string) => void,
): Promise<WsSoakFigure> {
  const scenario = 'scenarios/terminal-ws.yml';
  // The soak profile's sockets, held and typed into faster and more of them.
  const environment = 'soak';
  const env = {
    WS_DURATION: `${plan.soakSeconds}s`,
    WS_COMMAND_INTERVAL: `${plan.soakIntervalMs}ms`,
  };
  const overrides = usersOverrides(plan.soakSessions, 'terminal sessions');
  log(
    `ws soak: ${plan.soakSessions} terminal sessions, a command every ${plan.soakIntervalMs} ms, ${plan.soakSeconds} s`,
  );
  await target.control.resetStats();
  const sampler = new ProcessTreeSampler(process.pid, (cmdline) => artilleryLabel(cmdline)).start();
  let series: ProcSeries[] = [];
  let result: Awaited<ReturnType<typeof runArtillery>>;
  try {
    result = await runArtillery({
      scenario: `${ROOT}/${scenario}`,
      env: { ...target.artilleryEnv, ...env, LOADTEST_RUN_ID: 'bench' },
      environment,
      overrides,
      timeoutMs: plan.soakSeconds * 1000 + 90_000,
    });
  } finally {
    series = sampler.stop();
  }
  const stats = await target.control.stats();
  const aggregate = result.report?.aggregate;
  const from = aggregate?.firstMetricAt;
  const to = aggregate?.lastMetricAt;
  const samples = series[0]?.samples ?? [];
  if (from === undefined || to === undefined || samples.length < 4)
    throw new Error(
      `terminal soak produced no report (exit ${result.exitCode}): ${result.stderr.slice(-1500)}`,
    );
  // Early part after the sockets opened and the first frames flowed, against the end of the load.
  const span = to - from;
  const early = samples.filter((s) => s.at >= from + span * 0.2 && s.at <= from + span * 0.35);
  const late = samples.filter((s) => s.at >= from + span * 0.85 && s.at <= to);
  if (early.length === 0 || late.length === 0)
    throw new Error('too few memory samples inside the load window');
  const rssStartMb = mean(early);
  const rssEndMb = mean(late);
  const first = samples[0]!.at;
  return {
    command: artilleryCommand({ scenario, env, environment, overrides }),
    sessions: plan.soakSessions,
    commandIntervalMs: plan.soakIntervalMs,
    durationSeconds: plan.soakSeconds,
    commandsExecuted: stats.terminal.commandsExecuted,
    equivalentSoakMinutes: round2(stats.terminal.commandsExecuted / SOAK_COMMANDS_PER_MINUTE),
    rssStartMb: round2(rssStartMb),
    rssEndMb: round2(rssEndMb),
    rssPeakMb: round2(Math.max(...samples.map((s) => s.peakRssMb))),
    growthPct: round2(((rssEndMb - rssStartMb) / rssStartMb) * 100),
    unexpectedCloses: stats.terminal.drops,
    rssSeries: samples.map((s) => [round2((s.at - first) / 1000), round2(s.rssMb)]),
  };
}
