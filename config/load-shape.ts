import { parse } from 'yaml';
import { parseDurationMs } from './duration';
import type { ProfileName } from './profiles';

/**
 * The load shape of a scenario under a profile, read from the scenario's own YAML: its
 * `config.environments.<profile>` phases and `variables.loopDuration` (top-level `config.phases` /
 * `config.variables` when the environment has none, which is what `artillery run` without `-e`
 * uses). The YAML is the one source of truth: Artillery, the runner and the processors read it.
 *
 * Constant concurrency is `arrivalCount: N, duration: 1` per step plus a deadline loop of
 * `loopDuration`; stress adds steps separated by `pause` phases.
 */
export interface LoadShape {
  /** The largest arrivalCount of one step (users in flight per step). */
  usersPerStep: number;
  /** Arrival phases (stress ramps in several). */
  steps: number;
  /** How long each user loops to the run's deadline; undefined for one-shot flows. */
  loopDurationMs: number | undefined;
  /** Phases and pauses added up: when the last user has arrived. */
  phasesMs: number;
}

interface PhaseSpec {
  arrivalCount?: unknown;
  arrivalRate?: unknown;
  duration?: unknown;
  pause?: unknown;
}

interface ScriptConfig {
  phases?: PhaseSpec[];
  variables?: Record<string, unknown>;
  environments?: Record<string, { phases?: PhaseSpec[]; variables?: Record<string, unknown> }>;
}

export type LoadShapeResult = { ok: true; shape: LoadShape } | { ok: false; problem: string };

function seconds(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return (parseDurationMs(value) ?? Number.NaN) / 1000;
  return 0;
}

export function loadShapeOf(scriptText: string, profile: ProfileName | undefined): LoadShapeResult {
  const script = parse(scriptText) as { config?: ScriptConfig } | null;
  const config = script?.config ?? {};
  const environment = profile ? config.environments?.[profile] : undefined;
  const phases = environment?.phases ?? config.phases;
  if (!Array.isArray(phases) || phases.length === 0)
    return { ok: false, problem: `no phases for ${profile ? `environment ${profile}` : 'the top level'}` };
  const variables = { ...(config.variables ?? {}), ...(environment?.variables ?? {}) };

  let usersPerStep = 0;
  let steps = 0;
  let phasesMs = 0;
  for (const phase of phases) {
    if (phase.pause !== undefined) {
      phasesMs += seconds(phase.pause) * 1000;
      continue;
    }
    const duration = seconds(phase.duration);
    phasesMs += duration * 1000;
    const users =
      typeof phase.arrivalCount === 'number'
        ? phase.arrivalCount
        : typeof phase.arrivalRate === 'number'
          ? phase.arrivalRate * duration
          : Number.NaN;
    if (!Number.isFinite(users))
      return { ok: false, problem: 'an arrival phase without a literal arrivalCount or arrivalRate' };
    usersPerStep = Math.max(usersPerStep, users);
    steps++;
  }
  if (!Number.isFinite(phasesMs))
    return { ok: false, problem: 'a phase duration or pause is not a duration' };

  let loopDurationMs: number | undefined;
  if (variables.loopDuration !== undefined) {
    loopDurationMs =
      typeof variables.loopDuration === 'number'
        ? variables.loopDuration * 1000
        : parseDurationMs(String(variables.loopDuration));
    if (loopDurationMs === undefined)
      return {
        ok: false,
        problem: `variables.loopDuration is not a duration: ${String(variables.loopDuration)}`,
      };
  }
  return { ok: true, shape: { usersPerStep, steps, loopDurationMs, phasesMs } };
}
