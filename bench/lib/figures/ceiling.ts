import {
  type ArtilleryMeasurement,
  artilleryCommand,
  measureArtillery,
  USERS_PLACEHOLDER,
  usersOverrides,
} from '../artillery-point';
import { round2 } from '../percentiles';
import type { BenchPlan } from '../plan';
import type { CeilingFigure, CeilingLevel } from '../results';
import type { BenchTarget } from '../target';

/**
 * Figure 3: the LLM scenario stepped up in users (one Artillery run per level) until the
 * generator falls behind. Fidelity holds while Artillery's p99 stays within the tolerance of the
 * simulator's p99 for the same requests; the generator saturates when it sends clearly less than
 * users / (think + server time) per second, or its one worker thread uses a whole core.
 */

/** Below this share of the expected rate the generator is not keeping its users' pace. */
const FALLING_BEHIND_RATIO = 0.9;
/** % of one core: Artillery's single worker thread is the limit there. */
const CPU_BOUND_PCT = 90;

/**
 * The rate users at this pace would send over Artillery's metric window: each loops think + server
 * time; they arrive evenly over the first second (half a second missed on average) and all stop
 * at the same deadline.
 */
export function ceilingLevel(users: number, thinkMs: number, m: ArtilleryMeasurement): CeilingLevel {
  const cycleSeconds = (thinkMs + m.server.mean) / 1000;
  const expected = (users / cycleSeconds) * Math.max(0, 1 - 0.5 / m.windowSeconds);
  return {
    users,
    requestsPerSecond: round2(m.requestsPerSecond),
    expectedRequestsPerSecond: round2(expected),
    achievedRatio: round2(m.requestsPerSecond / expected),
    clientMs: { p50: m.client.p50, p99: m.client.p99 },
    serverMs: { p50: m.server.p50, p99: m.server.p99 },
    differenceMs: { p50: round2(m.client.p50 - m.server.p50), p99: round2(m.client.p99 - m.server.p99) },
    generatorCpuPct: round2(m.generator.cpuPct),
    simulatorCpuPct: round2(m.simulator.cpuPct),
    machineCpuPct: round2(m.machineCpuPct),
  };
}

function saturationOf(level: CeilingLevel): string | undefined {
  if (level.achievedRatio < FALLING_BEHIND_RATIO)
    return `sent ${Math.round(level.achievedRatio * 100)}% of the expected rate; CPU: generator ${Math.round(level.generatorCpuPct)}% of a core, simulator ${Math.round(level.simulatorCpuPct)}%, whole machine ${Math.round(level.machineCpuPct)}% busy`;
  if (level.generatorCpuPct >= CPU_BOUND_PCT)
    return `generator CPU ${Math.round(level.generatorCpuPct)}% of a core (its worker thread is the limit)`;
  return undefined;
}

export async function measureCeiling(
  target: BenchTarget,
  plan: BenchPlan,
  first: ArtilleryMeasurement,
  log: (line: string) => void,
): Promise<CeilingFigure> {
  const levels: CeilingLevel[] = [ceilingLevel(plan.llmUsers, plan.llmThinkMs, first)];
  let saturationUsers: number | null = null;
  let saturationCause = saturationOf(levels[0]!) ?? '';
  if (saturationCause) saturationUsers = plan.llmUsers;
  for (const users of plan.ceilingLevels) {
    if (saturationUsers !== null) break;
    log(`ceiling: Artillery, LLM proxy, ${users} users, ${plan.ceilingSeconds} s`);
    const m = await measureArtillery(target, {
      scenario: 'scenarios/llm-proxy.yml',
      env: { LLM_DURATION: `${plan.ceilingSeconds}s` },
      overrides: usersOverrides(users, 'llm users'),
      clientMetric: 'llm.latency_ms',
      serverRoute: 'api.completions',
      serverFamily: 'llm',
      timeoutMs: plan.ceilingSeconds * 1000 + 90_000,
    });
    const level = ceilingLevel(users, plan.llmThinkMs, m);
    levels.push(level);
    const cause = saturationOf(level);
    if (cause) {
      saturationUsers = users;
      saturationCause = cause;
    }
  }
  // The ceiling is where fidelity first gives out: a later level back within tolerance is noise.
  const firstOut = levels.findIndex((l) => l.differenceMs.p99 > plan.ceilingToleranceMs);
  const within = firstOut < 0 ? levels : levels.slice(0, firstOut);
  return {
    command: artilleryCommand({
      scenario: 'scenarios/llm-proxy.yml',
      env: { LLM_DURATION: `${plan.ceilingSeconds}s` },
      overrides: usersOverrides(USERS_PLACEHOLDER, 'llm users'),
    }),
    thinkTimeMs: plan.llmThinkMs,
    toleranceMs: plan.ceilingToleranceMs,
    levels,
    ceilingUsers: within.length > 0 ? Math.max(...within.map((l) => l.users)) : null,
    saturationUsers,
    saturationCause: saturationCause || `none up to ${levels[levels.length - 1]!.users} users`,
  };
}
