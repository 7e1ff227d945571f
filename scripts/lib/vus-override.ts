import { parse } from 'yaml';

interface Phase {
  arrivalCount?: unknown;
  maxVusers?: unknown;
  [key: string]: unknown;
}

/**
 * `<AREA>_VUS` set by the user replaces the profile's users per step. Scenarios whose phases take
 * the count from `{{ $env.X_VUS }}` need nothing; a literal `arrivalCount` can only be changed with
 * Artillery's --overrides (env cannot reach it). The override names both `config.phases` and the
 * profile's environment so the result is the same whichever Artillery merges last.
 */
export function vusOverrides(scriptText: string, profile: string, vus: number): unknown | undefined {
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
      arrivalCount: vus,
      ...(typeof phase.maxVusers === 'number' ? { maxVusers: vus } : {}),
    };
  });
  if (!changed) return undefined;
  return { config: { phases: replaced, environments: { [profile]: { phases: replaced } } } };
}
