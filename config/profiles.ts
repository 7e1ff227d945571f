/**
 * The names of the load profiles and of the platform areas. The shapes themselves (users, steps,
 * loop time) live in each scenario's YAML as Artillery environments (`-e smoke|load|soak|stress`):
 * config/load-shape.ts reads them for the runner, the report and the benchmarks.
 */
export const PROFILE_NAMES = ['smoke', 'load', 'soak', 'stress'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

export const SCENARIO_AREAS = ['signup', 'chat', 'terminal', 'container', 'llm'] as const;
export type ScenarioArea = (typeof SCENARIO_AREAS)[number];
