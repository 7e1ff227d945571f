import { existsSync } from 'node:fs';
import { basename, isAbsolute, resolve } from 'node:path';
import type { ScenarioArea } from '../../config/profiles';
import { resolveContainerPlan } from '../../config/settings/container';
import { ROOT } from './paths';

/** What a scenario needs from a bundled simulator before it starts. */
export interface SimulatorSetup {
  /** Tenants seeded before the run (container running, SIMULATOR_TENANT_CREDITS_CENTS credits). */
  seedTenants: number;
  /** Extra simulator CLI arguments; scenarios with different arguments get separate simulators. */
  args: string[];
  /**
   * Tenants of its own instead of the pool shared with the other scenarios on the same simulator:
   * the container scenario suspends its tenants' containers, which would cut the terminals and
   * chats of a parallel scenario using the same tenants.
   */
  ownTenants?: boolean;
  /**
   * Settings given to the scenario against the simulator unless the user set them (the
   * real-platform defaults stay as they are): e.g. a poll interval suited to the simulator's
   * millisecond startups.
   */
  defaults?: Record<string, string>;
}

/**
 * Credits of every tenant the runner seeds in the simulator. Every LLM call costs at least one
 * cent and the load profile sends ~450 requests/s, so the platform's 1000 cents for a new tenant
 * would run dry within seconds and the gate would measure credit exhaustion instead of the proxy.
 * Against a real platform tenants have what the platform gives them (1000 cents when new): running
 * dry there is a finding, and the report names it as credit exhaustion.
 */
export const SIMULATOR_TENANT_CREDITS_CENTS = 10_000_000;

/** Where Artillery's Playwright engine finds Chromium unless CHROMIUM_PATH says otherwise. */
export const DEFAULT_CHROMIUM_PATH = '/usr/bin/chromium';

export interface ScenarioEntry {
  name: string;
  /** Absolute path of the Artillery script. */
  path: string;
  area: ScenarioArea;
  simulator: SimulatorSetup;
  /** Drives a real browser (Artillery's Playwright engine): skipped when CHROMIUM_PATH has no Chromium. */
  browser: boolean;
  /** Part of `npm start` (every scenario cheap enough for smoke). */
  inDefaultSmoke: boolean;
  /** Registered in this module (false for a scenario given as a path on the command line). */
  registered: boolean;
  /** The setting that replaces the profile's users per step (e.g. CHAT_VUS), when the scenario has one. */
  vusSetting?: string;
  /** The setting that replaces the YAML's loopDuration (e.g. CHAT_DURATION), for looping scenarios. */
  durationSetting?: string;
  /**
   * Checks across settings that a schema of single variables cannot express, and variables the
   * scenario needs the runner to pass (e.g. gate defaults its ensure block reads via $env).
   */
  prepare?: (
    env: Record<string, string>,
    profile: string,
  ) => { problems: string[]; env: Record<string, string> };
}

const scenario = (
  name: string,
  area: ScenarioArea,
  extra: Partial<Omit<ScenarioEntry, 'name' | 'area' | 'path' | 'registered'>> = {},
): ScenarioEntry => ({
  name,
  path: resolve(ROOT, 'scenarios', `${name}.yml`),
  area,
  simulator: { seedTenants: 0, args: [] },
  browser: false,
  inDefaultSmoke: true,
  registered: true,
  ...extra,
});

export const SCENARIOS: readonly ScenarioEntry[] = [
  scenario('llm-proxy', 'llm', {
    vusSetting: 'LLM_VUS',
    durationSetting: 'LLM_DURATION',
    simulator: { seedTenants: 10, args: [] },
  }),
  scenario('signup-tenant-chat', 'signup', { vusSetting: 'SIGNUP_VUS' }),
  // In `npm start` with one browser (smoke): a Chromium page costs about a core for ~10 s.
  scenario('signup-browser', 'signup', { browser: true, vusSetting: 'BROWSER_VUS' }),
  scenario('chat-sessions', 'chat', {
    simulator: { seedTenants: 5, args: [] },
    vusSetting: 'CHAT_VUS',
    durationSetting: 'CHAT_DURATION',
  }),
  scenario('terminal-ws', 'terminal', {
    vusSetting: 'WS_VUS',
    durationSetting: 'WS_DURATION',
    simulator: { seedTenants: 5, args: [] },
  }),
  scenario('container-provisioning', 'container', {
    vusSetting: 'CONTAINER_VUS',
    durationSetting: 'CONTAINER_DURATION',
    simulator: {
      seedTenants: 5,
      args: [],
      ownTenants: true,
      // The simulator starts a container in milliseconds: a 1 s poll would be most of the figure.
      defaults: { CONTAINER_POLL_INTERVAL: '20ms' },
    },
    prepare: (env) => {
      const plan = resolveContainerPlan(env);
      return plan.ok ? { problems: [], env: {} } : { problems: plan.problems, env: {} };
    },
  }),
];

export const SCENARIO_NAMES = SCENARIOS.map((s) => s.name);

/** Registered scenarios whose YAML exists in this checkout. */
export function availableScenarios(): ScenarioEntry[] {
  return SCENARIOS.filter((s) => existsSync(s.path));
}

export function defaultSmokeScenarios(): ScenarioEntry[] {
  return availableScenarios().filter((s) => s.inDefaultSmoke);
}

const AREA_HINT = /^# loadtest-area: (signup|chat|terminal|container|llm)\s*$/m;

/**
 * Looks a scenario up by name, or accepts a path to a YAML file (ad hoc scenarios, fixtures): its
 * area comes from a `# loadtest-area: <area>` comment, else `llm`, and it needs no seeded tenants
 * unless `# loadtest-seed-tenants: N` says so; its area decides what a real target must provide;
 * `# loadtest-vus-setting: X_VUS` names its users-per-step setting.
 */
export function resolveScenario(
  nameOrPath: string,
  readText: (path: string) => string,
): ScenarioEntry | undefined {
  const registered = SCENARIOS.find((s) => s.name === nameOrPath);
  if (registered) return existsSync(registered.path) ? registered : undefined;
  if (!/\.ya?ml$/.test(nameOrPath)) return undefined;
  const path = isAbsolute(nameOrPath) ? nameOrPath : resolve(process.cwd(), nameOrPath);
  if (!existsSync(path)) return undefined;
  const text = readText(path);
  const area = (AREA_HINT.exec(text)?.[1] ?? 'llm') as ScenarioArea;
  const seed = /^# loadtest-seed-tenants: (\d+)\s*$/m.exec(text)?.[1];
  const vusSetting = /^# loadtest-vus-setting: ([A-Z0-9_]+)$/m.exec(text)?.[1];
  return {
    name: basename(path).replace(/\.ya?ml$/, ''),
    path,
    area,
    simulator: { seedTenants: seed ? Number(seed) : 0, args: [] },
    browser: /engine:\s*['"]?playwright/.test(text),
    inDefaultSmoke: false,
    registered: false,
    ...(vusSetting ? { vusSetting } : {}),
  };
}
