import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { type LoadShape, loadShapeOf } from '../../config/load-shape';
import { PROFILE_NAMES, type ProfileName } from '../../config/profiles';
import { RUN_ID } from '../../config/settings/common';
import { checkSettings } from '../../config/settings/index';
import { missingSettings } from '../../plugins/artillery-plugin-agentteams/src/requirements';
import { parseEnvFile } from './env-file';
import { remoteTargetProblems } from './remote-guard';
import { parseRunOptions, type RunOptions } from './run-options';
import { scenarioOverrides } from './scenario-overrides';
import {
  DEFAULT_CHROMIUM_PATH,
  defaultSmokeScenarios,
  resolveScenario,
  SCENARIO_NAMES,
  type ScenarioEntry,
} from './scenarios';

/** Everything a run needs, decided and checked before any process starts or any request is sent. */
export interface RunPlan {
  options: RunOptions;
  profile: ProfileName;
  runId: string;
  outDir: string;
  scenarios: PlannedScenario[];
  /**
   * The bundled simulator, an env file (`--target x.env`), or the shell's own `*_BASE_URL` variables
   * (a real platform named without --target: never silently replaced by the simulator).
   */
  target:
    | { kind: 'simulator' }
    | { kind: 'env-file'; file: string }
    | { kind: 'environment'; names: string[] };
  /** Raw settings (strings) handed to Artillery: the target file over the process environment. */
  env: Record<string, string>;
  /** Parsed settings (after the schema), for the manifest. */
  settings: Record<string, unknown>;
}

export interface PlannedScenario {
  entry: ScenarioEntry;
  expectedMs: number;
  timeoutMs: number;
  /** Users per step: the `<AREA>_VUS` setting, else the profile's; undefined for an unregistered script without one. */
  vus: number | undefined;
  /** Why the scenario is not run (no users, no browser): recorded as skipped, never as failed. */
  skip: string | undefined;
}

export type PlanResult = { ok: true; plan: RunPlan } | { ok: false; problems: string[] };

/** Settings that name a platform: set in the shell without --target, they are the target. */
export const TARGET_URL_SETTINGS = ['WEB_BASE_URL', 'API_BASE_URL'] as const;

/** Settings the bundled simulator prints for itself; user values for them are ignored there. */
export const SIMULATOR_PROVIDED = [
  'WEB_BASE_URL',
  'API_BASE_URL',
  'NEXTAUTH_URL',
  'SERVICE_API_KEY',
  'API_JWT_SECRET',
  'TENANT_IDS',
  'SIM_CONTROL_URL',
  'SIM_ADMIN_TOKEN',
];

/**
 * Stand-ins for values that only exist once the target is up (simulator output, seeded tenants),
 * so that every other setting and every cross-setting rule is checked before anything starts.
 */
export const PENDING_VALUES: Record<string, string> = {
  WEB_BASE_URL: 'http://127.0.0.1:3000',
  API_BASE_URL: 'http://127.0.0.1:8080',
  NEXTAUTH_URL: 'http://127.0.0.1:3000',
  SERVICE_API_KEY: 'pending-service-api-key',
  API_JWT_SECRET: 'pending-jwt-secret-0123456789abcdef',
  TENANT_IDS: '00000000-0000-4000-8000-000000000000',
  SIM_CONTROL_URL: 'http://127.0.0.1:8099',
  SIM_ADMIN_TOKEN: 'pending-admin-token',
};

const STARTUP_MS = 6_000;
/** One-shot flows (an onboarding per user) take about this long per user on a healthy target. */
const ONE_SHOT_USER_MS = 1_000;

/**
 * How long a scenario should take: the loop time of its users (the `<AREA>_DURATION` setting, else
 * the YAML's loopDuration), or for one-shot flows its phases plus ~1 s per user, plus Artillery's start.
 */
export function expectedDurationMs(shape: LoadShape, loopOverrideMs?: number): number {
  const loop = loopOverrideMs ?? shape.loopDurationMs;
  const work =
    loop !== undefined
      ? Math.max(loop, shape.phasesMs)
      : shape.phasesMs + shape.usersPerStep * shape.steps * ONE_SHOT_USER_MS;
  return work + STARTUP_MS;
}

/** Users per step and where the number comes from (for the line that explains a skip). */
export function effectiveVus(
  entry: ScenarioEntry,
  shape: LoadShape | undefined,
  profile: ProfileName,
  env: Record<string, string>,
): { vus: number | undefined; source: string } {
  const setting = entry.vusSetting;
  const text = setting ? env[setting] : undefined;
  if (setting && text !== undefined && /^\d+$/.test(text))
    return { vus: Number(text), source: `${setting}=${text}` };
  if (!shape) return { vus: undefined, source: 'the script' };
  return { vus: shape.usersPerStep, source: `the ${profile} environment of ${entry.name}.yml` };
}

/** Why a scenario cannot or need not run here, or undefined when it runs. */
export function skipReason(
  entry: ScenarioEntry,
  vus: ReturnType<typeof effectiveVus>,
  env: Record<string, string>,
  fileExists: (path: string) => boolean = existsSync,
): string | undefined {
  if (vus.vus === 0) return `${vus.source}: 0 users, so nothing to run`;
  if (entry.browser) {
    const chromium = env.CHROMIUM_PATH ?? DEFAULT_CHROMIUM_PATH;
    if (!fileExists(chromium))
      return `no Chromium at ${chromium} (install chromium, or set CHROMIUM_PATH to its binary)`;
  }
  return undefined;
}

function newRunId(profile: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').replace(/\..*$/, '');
  return `${stamp}-${profile}-${randomBytes(2).toString('hex')}`;
}

function definedOnly(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

export function planRun(argv: string[], processEnv: NodeJS.ProcessEnv, cwd = process.cwd()): PlanResult {
  const parsed = parseRunOptions(argv);
  if (!parsed.ok) return parsed;
  const options = parsed.options;
  const problems: string[] = [];

  // Target: the bundled simulator, an env file describing a real platform, or the shell's own
  // *_BASE_URL variables. A user who named a platform in the shell gets that platform (through the
  // remote-target guard below), never a silent simulator run.
  let env = definedOnly(processEnv);
  let target: RunPlan['target'] = { kind: 'simulator' };
  const namedInShell = TARGET_URL_SETTINGS.filter((name) => env[name]);
  if (options.target === undefined && namedInShell.length > 0) {
    target = { kind: 'environment', names: namedInShell };
  } else if (options.target !== undefined && options.target !== 'simulator') {
    const file = resolve(cwd, options.target);
    if (!existsSync(file) || !statSync(file).isFile()) {
      problems.push(`--target: "${options.target}" is neither "simulator" nor an existing env file`);
    } else {
      const fileEnv = parseEnvFile(readFileSync(file, 'utf8'), options.target);
      if (!fileEnv.ok) problems.push(...fileEnv.problems.map((p) => `--target ${p}`));
      // The file is what the user pointed at: it wins over stale shell variables.
      else env = { ...env, ...fileEnv.env };
      target = { kind: 'env-file', file };
    }
  }
  // scenarios/signup-browser.yml reads `{{ $env.CHROMIUM_PATH }}` and Artillery templating has no
  // defaults: the runner always hands a value over.
  env.CHROMIUM_PATH ||= DEFAULT_CHROMIUM_PATH;
  if (target.kind === 'simulator') {
    for (const name of SIMULATOR_PROVIDED) delete env[name];
  } else if (options.simFaults !== undefined) {
    problems.push(
      target.kind === 'environment'
        ? `--sim-faults: only applies to the simulator, but ${target.names.join(' and ')} name a platform (unset them or pass --target simulator)`
        : '--sim-faults: only applies to --target simulator',
    );
  }

  // Profile: the flag, else LOADTEST_PROFILE, else smoke (never a heavy load by accident).
  const envProfile = env.LOADTEST_PROFILE;
  const profile: ProfileName =
    options.profile ??
    ((PROFILE_NAMES as readonly string[]).includes(envProfile ?? '') ? (envProfile as ProfileName) : 'smoke');

  // Scenarios.
  const scenarios: ScenarioEntry[] = [];
  if (options.scenarios === undefined) {
    scenarios.push(...defaultSmokeScenarios());
    if (scenarios.length === 0) problems.push('--scenario: no scenario YAML found under scenarios/');
  } else {
    for (const name of options.scenarios) {
      const entry = resolveScenario(name, (p) => readFileSync(p, 'utf8'));
      if (!entry)
        problems.push(
          `--scenario: unknown scenario "${name}" (known: ${SCENARIO_NAMES.join(', ')}; or a path to a .yml file)`,
        );
      else if (scenarios.some((s) => s.name === entry.name))
        problems.push(`--scenario: "${entry.name}" given twice`);
      else scenarios.push(entry);
    }
  }

  const skips = new Map<string, string>();
  const vusOf = new Map<string, number | undefined>();
  const shapeOf = new Map<string, LoadShape>();
  for (const entry of scenarios) {
    const shape = loadShapeOf(readFileSync(entry.path, 'utf8'), profile);
    if (shape.ok) shapeOf.set(entry.name, shape.shape);
    else problems.push(`${entry.name}.yml: ${shape.problem}`);
    const vus = effectiveVus(entry, shape.ok ? shape.shape : undefined, profile, env);
    vusOf.set(entry.name, vus.vus);
    const reason = skipReason(entry, vus, env);
    if (reason !== undefined) skips.set(entry.name, reason);
  }

  // Settings: every variable the chosen scenarios read, checked by schema.
  const areas = scenarios.map((s) => s.area);
  const checkEnv =
    target.kind === 'simulator'
      ? { ...env, ...simulatorDefaults(scenarios, env), ...PENDING_VALUES }
      : options.seedTenants !== undefined
        ? { ...env, TENANT_IDS: PENDING_VALUES.TENANT_IDS! }
        : env;
  const checked = checkSettings(checkEnv, areas);
  let settings: Record<string, unknown> = {};
  if (!checked.ok) problems.push(...checked.problems);
  else {
    settings = checked.settings;
    if (target.kind !== 'simulator') {
      const urls: Record<string, string> = {};
      for (const [name, value] of Object.entries(settings))
        if (/_URL$/.test(name) && typeof value === 'string') urls[name] = value;
      problems.push(
        ...remoteTargetProblems({
          urls,
          allowRemote: settings.LOADTEST_ALLOW_REMOTE === true,
          allowedHosts: (settings.LOADTEST_ALLOWED_HOSTS as string[] | undefined) ?? [],
        }),
      );
      // The plugin checks the same requirements in every Artillery run; here they stop the whole
      // run before anything starts. Seeded tenants (--seed-tenants) stand in for TENANT_IDS.
      const seeded = options.seedTenants !== undefined ? { TENANT_IDS: PENDING_VALUES.TENANT_IDS } : {};
      for (const scenario of scenarios) {
        if (skips.has(scenario.name)) continue;
        for (const missing of missingSettings(scenario.area, { ...env, ...seeded }))
          problems.push(
            missing.startsWith('TENANT_IDS:')
              ? `${missing}, needed by ${scenario.name} (or pass --seed-tenants N to create tenants through signup)`
              : `${missing}, needed by ${scenario.name}`,
          );
      }
    }
  }

  if (checked.ok)
    for (const scenario of scenarios)
      if (scenario.prepare && !skips.has(scenario.name))
        problems.push(...scenario.prepare(checkEnv, profile).problems);
  // Users per step and gate limits reach Artillery as --overrides: unusable values stop the run here.
  for (const scenario of scenarios) {
    if (skips.has(scenario.name)) continue;
    problems.push(
      ...scenarioOverrides({
        scriptText: readFileSync(scenario.path, 'utf8'),
        scenario: scenario.name,
        profile,
        env,
        vusSetting: scenario.vusSetting,
      }).problems,
    );
  }

  // Where results go: a fresh folder, never on top of an earlier run.
  const requestedRunId = settings.LOADTEST_RUN_ID as string | undefined;
  let runId = requestedRunId ?? (options.out ? basename(options.out) : newRunId(profile));
  if (!RUN_ID.test(runId)) {
    if (options.out) runId = newRunId(profile);
    else problems.push(`LOADTEST_RUN_ID: "${runId}" is not a valid run id`);
  }
  const outDir = resolve(cwd, options.out ?? `results/${runId}`);
  if (existsSync(outDir) && (!statSync(outDir).isDirectory() || readdirSync(outDir).length > 0))
    problems.push(`--out: ${outDir} already exists and is not empty (results of another run?)`);

  if (problems.length > 0) return { ok: false, problems: [...new Set(problems)] };
  return {
    ok: true,
    plan: {
      options,
      profile,
      runId,
      outDir,
      scenarios: scenarios.map((entry) => {
        const shape = shapeOf.get(entry.name)!;
        const loopSetting = entry.durationSetting ? settings[entry.durationSetting] : undefined;
        const expectedMs = expectedDurationMs(
          shape,
          typeof loopSetting === 'number' ? loopSetting : undefined,
        );
        return {
          entry,
          expectedMs,
          timeoutMs: expectedMs * 2 + 120_000,
          vus: vusOf.get(entry.name),
          skip: skips.get(entry.name),
        };
      }),
      target,
      env,
      settings,
    },
  };
}

/** The scenarios' simulator-only defaults, for the settings a user did not set. */
export function simulatorDefaults(
  scenarios: readonly ScenarioEntry[],
  env: Record<string, string>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const scenario of scenarios)
    for (const [name, value] of Object.entries(scenario.simulator.defaults ?? {}))
      if (env[name] === undefined || env[name] === '') out[name] = value;
  return out;
}
