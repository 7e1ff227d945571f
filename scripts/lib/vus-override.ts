import { parse } from 'yaml';

interface Phase {
  name?: unknown;
  arrivalCount?: unknown;
  maxVusers?: unknown;
  [key: string]: unknown;
}

/**
 * `<AREA>_VUS` set by the user replaces the profile's users per step. Scenarios whose phases take
 * the count from `{{ $env.X_VUS }}` need nothing; a literal `arrivalCount` can only be changed with
 * Artillery's --overrides (env cannot reach it).
 *
 * Artillery 2.0.34 merges `config.environments.<profile>` into `config` first and applies
 * --overrides after it (lib/util/prepare-test-execution-plan.ts: checkConfig, then addOverrides;
 * arrays replaced whole), so `config.phases` is the copy that counts. The environment's copy is
 * replaced as well so that the result does not depend on that order in another version; the runner
 * test checks the user count that actually ran. Phase names say who changed the count, so that
 * Artillery's "Phase started: 3 terminal sessions" does not contradict `WS_VUS=1`.
 */
export function vusOverrides(
  scriptText: string,
  profile: string,
  vus: number,
  setting = 'the VUs setting',
): unknown | undefined {
  const script = parse(scriptText) as {
    config?: { phases?: Phase[]; environments?: Record<string, { phases?: Phase[] }> };
  };
  const phases = script.config?.environments?.[profile]?.phases ?? script.config?.phases;
  if (!Array.isArray(phases)) return undefined;
  let changed = false;
  const replaced = phases.map((phase) => {
    if (typeof phase.arrivalCount !== 'number') return phase;
    changed = true;
    return {
      ...phase,
      ...(typeof phase.name === 'string' ? { name: `${vus} users (${setting})` } : {}),
      arrivalCount: vus,
      ...(typeof phase.maxVusers === 'number' ? { maxVusers: vus } : {}),
    };
  });
  if (!changed) return undefined;
  return { config: { phases: replaced, environments: { [profile]: { phases: replaced } } } };
}
