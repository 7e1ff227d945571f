import { relative } from 'node:path';
import { type ArtilleryReport, runArtillery } from '../../scripts/lib/artillery-run';
import { ROOT } from '../../scripts/lib/paths';
import type { LatencySummary, RouteFamily, SimStats } from '../../simulator/src/control-types';
import {
  artilleryLabel,
  machineBusyPct,
  ProcessTreeSampler,
  type ProcSeries,
  sampleProcess,
  summarize,
  type UsageSummary,
} from './proc-sampler';
import type { BenchTarget } from './target';

/**
 * One Artillery run against the bench target, measured three ways at once: Artillery's own
 * histogram of the requests (client side), the simulator's server time for the same requests
 * (stats reset just before), and the CPU and memory of both processes while the load ran.
 */

export interface ArtilleryLoad {
  /** Path of the scenario, relative to the repository root. */
  scenario: string;
  /** Variables on top of the target's (loop time, mix): the settings the processors read. */
  env: Record<string, string>;
  /** Artillery's `--environment` (the YAML's load profile to start from), when not the top level. */
  environment?: string;
  /** `--overrides`: users per step are changed there, the one way the YAML's numbers change. */
  overrides?: unknown;
  /** Artillery histogram of the client-side time of the measured requests, e.g. `llm.latency_ms`. */
  clientMetric: string;
  /** The simulator's route of the same requests, e.g. `api.completions`. */
  serverRoute: string;
  /** Its family, whose in-flight maximum shows the concurrency the server saw. */
  serverFamily: RouteFamily;
  timeoutMs: number;
}

export interface ArtilleryMeasurement {
  command: string;
  exitCode: number | null;
  client: LatencySummary;
  server: LatencySummary;
  /** Requests per second over Artillery's metric window (first to last metric). */
  requestsPerSecond: number;
  windowSeconds: number;
  serverInFlightMax: number;
  generator: UsageSummary;
  /** Busy share of the whole machine (all cores, every process, others' included), %. */
  machineCpuPct: number;
  simulator: UsageSummary;
  stats: SimStats;
}

function describeEnv(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

/** A placeholder user count, shown as a bare `<users>` in a command. */
export const USERS_PLACEHOLDER = '<users>';

/**
 * `--overrides` of a looping scenario's phases: one step of `users` arriving within a second
 * (constant concurrency to the deadline, as the YAML's own steps).
 */
export function usersOverrides(users: number | typeof USERS_PLACEHOLDER, who: string) {
  return { config: { phases: [{ name: `${users} ${who}`, arrivalCount: users, duration: 1 }] } };
}

export function artilleryCommand(
  load: Pick<ArtilleryLoad, 'scenario' | 'env' | 'environment' | 'overrides'>,
): string {
  const environment = load.environment ? ` -e ${load.environment}` : '';
  const overrides =
    load.overrides === undefined
      ? ''
      : ` --overrides '${JSON.stringify(load.overrides).replaceAll(`"${USERS_PLACEHOLDER}"`, USERS_PLACEHOLDER)}'`;
  return `${describeEnv(load.env)} npx artillery run${environment}${overrides} ${load.scenario}`.trim();
}

function windowOf(report: ArtilleryReport): { from: number; to: number } {
  const a = report.aggregate;
  return { from: a.firstMetricAt ?? a.firstCounterAt ?? 0, to: a.lastMetricAt ?? a.lastCounterAt ?? 0 };
}

export async function measureArtillery(
  target: BenchTarget,
  load: ArtilleryLoad,
): Promise<ArtilleryMeasurement> {
  await target.control.resetStats();
  const scenarioPath = `${ROOT}/${load.scenario}`;
  const generatorSampler = new ProcessTreeSampler(process.pid, (cmdline) => artilleryLabel(cmdline)).start();
  const simSampler = sampleProcess(target.sim.pid, 'simulator').start();
  let result: Awaited<ReturnType<typeof runArtillery>>;
  let generatorSeries: ProcSeries[] = [];
  let simSeries: ProcSeries[] = [];
  try {
    result = await runArtillery({
      scenario: scenarioPath,
      env: { ...target.artilleryEnv, ...load.env, LOADTEST_RUN_ID: 'bench' },
      ...(load.environment ? { environment: load.environment } : {}),
      overrides: load.overrides,
      timeoutMs: load.timeoutMs,
    });
  } finally {
    generatorSeries = generatorSampler.stop();
    simSeries = simSampler.stop();
  }
  const stats = await target.control.stats();
  const report = result.report;
  const client = report?.aggregate.summaries[load.clientMetric];
  if (!report || !client) {
    const tail = `${result.stderr}\n${result.stdout}`.trim().split('\n').slice(-15).join('\n');
    throw new Error(
      `Artillery (${relative(ROOT, scenarioPath)}, exit ${result.exitCode}) reported no ${load.clientMetric}:\n${tail}`,
    );
  }
  const route = stats.routes[load.serverRoute];
  if (!route) throw new Error(`the simulator saw no ${load.serverRoute} request`);
  const { from, to } = windowOf(report);
  if (generatorSeries.length === 0 || simSeries.length === 0)
    throw new Error('could not sample the Artillery or simulator process in /proc');
  const windowSeconds = Math.max(0.001, (to - from) / 1000);
  return {
    command: artilleryCommand(load),
    exitCode: result.exitCode,
    client: {
      count: client.count,
      mean: client.mean,
      p50: client.p50,
      p95: client.p95,
      p99: client.p99,
      max: client.max,
    },
    server: route.latencyMs,
    requestsPerSecond: client.count / windowSeconds,
    windowSeconds,
    serverInFlightMax: stats.inFlight[load.serverFamily].max,
    generator: summarize(generatorSeries[0]!, from, to),
    simulator: summarize(simSeries[0]!, from, to),
    machineCpuPct: machineBusyPct(generatorSampler.machine, from, to),
    stats,
  };
}
