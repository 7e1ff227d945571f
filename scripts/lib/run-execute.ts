import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, isAbsolute, join, relative } from 'node:path';
import { checkSettings, isSecretSetting, publicSettings } from '../../config/settings/index';
import { SimControlClient } from '../../simulator/src/control-client';
import { type ArtilleryRunResult, runArtillery } from './artillery-run';
import {
  artilleryNodeVersion,
  type EnsureFile,
  type RunManifest,
  type ScenarioOutcome,
  type ScenarioRecord,
  type SeedingRecord,
} from './manifest';
import { ROOT } from './paths';
import { describeFigures, PeriodParser, partialReport } from './progress';
import { makeRedactor, type Redactor } from './redact';
import { type PlannedScenario, type RunPlan, simulatorDefaults } from './run-plan';
import { scenarioOverrides } from './scenario-overrides';
import { SIMULATOR_TENANT_CREDITS_CENTS } from './scenarios';
import { seedTenantsBySignup } from './signup-seeder';
import { launchSimulator, type SimulatorProcess } from './simulator-process';

export interface ExecuteHooks {
  log: (line: string) => void;
  signal: AbortSignal;
  /** How often a progress line per running scenario is printed. */
  progressEveryMs?: number;
}

export interface ExecuteResult {
  exitCode: 0 | 1 | 2;
  manifest: RunManifest;
}

function readJsonVersion(path: string): string | null {
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (
      typeof parsed === 'object' &&
      parsed !== null &&
      'version' in parsed &&
      typeof parsed.version === 'string'
    )
      return parsed.version;
  } catch {
    // not installed
  }
  return null;
}

function gitState(): RunManifest['git'] {
  // GIT_OPTIONAL_LOCKS=0: reading the state must never take the index lock another process may hold.
  const git = (args: string[]) =>
    execFileSync('git', args, {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' },
    }).trim();
  try {
    const revision = git(['rev-parse', 'HEAD']);
    let dirty: boolean | null = null;
    try {
      dirty = git(['status', '--porcelain', '--untracked-files=no']).length > 0;
    } catch {
      dirty = null;
    }
    return { revision, dirty };
  } catch {
    return { revision: null, dirty: null };
  }
}

/** The shared Artillery config that adds publish-metrics to any scenario (docs/METRICS.md). */
export const PUBLISH_METRICS_CONFIG = join(ROOT, 'config', 'publish-metrics.yml');

const display = (path: string) => {
  const rel = relative(ROOT, path);
  return rel.startsWith('..') || isAbsolute(rel) ? path : rel;
};

function outcomeOf(result: ArtilleryRunResult): { outcome: ScenarioOutcome; reason: string | null } {
  const failed = result.ensure.filter((v) => !v.ok && v.strict);
  if (result.timedOut) return { outcome: 'error', reason: 'timed out (killed)' };
  if (!result.report)
    return {
      outcome: 'not-started',
      reason: `Artillery produced no results (exit ${result.exitCode ?? result.signal}): ${
        (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-3).join(' ') || 'no output'
      }`,
    };
  if (failed.length > 0)
    return { outcome: 'threshold-failed', reason: `failed: ${failed.map((f) => f.check).join('; ')}` };
  if (result.exitCode !== 0)
    return { outcome: 'error', reason: `Artillery exited ${result.exitCode ?? result.signal}` };
  return { outcome: 'pass', reason: null };
}

interface SimGroup {
  key: string;
  args: string[];
  /** Size of the tenant pool the group's scenarios share (0: none needed). */
  sharedTenants: number;
  sharedBy: string[];
  /** Scenarios that get tenants of their own (container cycling must not stop a neighbour's). */
  ownTenants: PlannedScenario[];
  process?: SimulatorProcess;
  env: Record<string, string>;
}

/** Runs the plan: target up, tenants seeded, scenarios run, results and manifest written. */
export async function executeRun(plan: RunPlan, hooks: ExecuteHooks): Promise<ExecuteResult> {
  const { log, signal } = hooks;
  mkdirSync(plan.outDir, { recursive: true });
  const manifest: RunManifest = {
    runId: plan.runId,
    profile: plan.profile,
    target:
      plan.target.kind === 'simulator'
        ? {
            kind: 'simulator',
            simulatorProfile: plan.options.simProfile,
            ...(plan.options.simFaults ? { faults: JSON.parse(plan.options.simFaults) as unknown } : {}),
          }
        : plan.target.kind === 'env-file'
          ? { kind: 'env-file', file: display(plan.target.file) }
          : { kind: 'environment', file: `shell ${plan.target.names.join(', ')}` },
    parallel: plan.options.parallel,
    git: gitState(),
    versions: {
      node: process.version,
      artilleryNode: artilleryNodeVersion(),
      artillery: readJsonVersion(join(ROOT, 'node_modules', 'artillery', 'package.json')),
      suite: readJsonVersion(join(ROOT, 'package.json')),
    },
    settings: publicSettings(plan.settings),
    seededTenants: 0,
    seeding: [],
    startedAt: new Date().toISOString(),
    endedAt: null,
    interrupted: false,
    exitCode: null,
    scenarios: plan.scenarios.map(({ entry, expectedMs, vus, skip }, index) => ({
      name: entry.name,
      script: display(entry.path),
      area: entry.area,
      dir: entry.name,
      startedAt: null,
      endedAt: null,
      expectedMs,
      durationMs: null,
      exitCode: null,
      signal: null,
      timedOut: false,
      outcome: skip === undefined ? 'not-started' : 'skipped',
      reason: skip ?? null,
      vus: vus ?? null,
      checksPassed: 0,
      checksFailed: 0,
      partialResults: false,
      dataTag: `${plan.runId}-${index + 1}`,
    })),
  };
  const writeManifest = () =>
    writeFileSync(join(plan.outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  writeManifest();

  const groups = new Map<string, SimGroup>();
  const groupOf = new Map<string, SimGroup>();
  /** Per scenario: what it gets on top of its group's environment (own tenants, simulator defaults). */
  const ownEnv = new Map<string, Record<string, string>>();
  let redact: Redactor = makeRedactor(secretValues(plan.env));
  const scenarioEnv = new Map<string, Record<string, string>>();
  let startFailure: string | undefined;
  const seeding: SeedingRecord[] = manifest.seeding!;
  const toRun = plan.scenarios.filter((s) => s.skip === undefined);
  for (const [index, planned] of plan.scenarios.entries())
    if (planned.skip !== undefined)
      log(`[${planned.entry.name}] skipped: ${manifest.scenarios[index]!.reason}`);
  const recordOf = (name: string) => manifest.scenarios.find((r) => r.name === name)!;

  try {
    // Bring the target up and give it tenants.
    if (plan.target.kind === 'simulator') {
      for (const planned of toRun) {
        const { entry } = planned;
        const key = JSON.stringify(entry.simulator.args);
        const group: SimGroup = groups.get(key) ?? {
          key,
          args: entry.simulator.args,
          sharedTenants: 0,
          sharedBy: [],
          ownTenants: [],
          env: {},
        };
        if (entry.simulator.ownTenants) group.ownTenants.push(planned);
        else {
          const wanted = Math.max(plan.options.seedTenants ?? 0, entry.simulator.seedTenants);
          group.sharedTenants = Math.max(group.sharedTenants, wanted);
          if (wanted > 0) group.sharedBy.push(entry.name);
        }
        groups.set(key, group);
        groupOf.set(entry.name, group);
        ownEnv.set(entry.name, simulatorDefaults([entry], plan.env));
      }
      for (const group of groups.values()) {
        if (signal.aborted) break;
        group.process = await launchSimulator({
          profile: plan.options.simProfile,
          ...(plan.options.simFaults ? { faults: plan.options.simFaults } : {}),
          args: group.args,
        });
        log(
          `simulator up (pid ${group.process.pid}) at ${group.process.env.WEB_BASE_URL} / ${group.process.env.API_BASE_URL}`,
        );
        group.env = { ...group.process.env };
        const control = new SimControlClient(group.env.SIM_CONTROL_URL!, group.env.SIM_ADMIN_TOKEN!);
        const seed = async (count: number, tag: string, scenarios: string[]) => {
          const seeded = await control.seedTenants(count, tag, {
            creditsCents: SIMULATOR_TENANT_CREDITS_CENTS,
          });
          manifest.seededTenants += seeded.tenantIds.length;
          seeding.push({
            scenarios,
            tenants: seeded.tenantIds.length,
            creditsCents: SIMULATOR_TENANT_CREDITS_CENTS,
            via: 'simulator control API',
          });
          log(
            `seeded ${seeded.tenantIds.length} tenants for ${scenarios.join(', ')} (tag ${tag}, ${SIMULATOR_TENANT_CREDITS_CENTS} cents each)`,
          );
          return seeded.tenantIds;
        };
        if (group.sharedTenants > 0) {
          const ids = await seed(group.sharedTenants, plan.runId, group.sharedBy);
          group.env.TENANT_IDS = ids.join(',');
          for (const name of group.sharedBy) recordOf(name).tenantIds = ids;
        }
        for (const planned of group.ownTenants) {
          const record = recordOf(planned.entry.name);
          // At least one tenant per user: a tenant is cycled by one user at a time.
          const count = Math.max(
            planned.entry.simulator.seedTenants,
            plan.options.seedTenants ?? 0,
            planned.vus ?? 0,
            1,
          );
          const ids = await seed(count, record.dataTag, [planned.entry.name]);
          record.tenantIds = ids;
          ownEnv.set(planned.entry.name, { ...ownEnv.get(planned.entry.name), TENANT_IDS: ids.join(',') });
        }
      }
    } else if (plan.options.seedTenants !== undefined && toRun.length > 0) {
      log(`creating ${plan.options.seedTenants} tenants through the signup flow`);
      const seeded = await seedTenantsBySignup({
        webBaseUrl: plan.settings.WEB_BASE_URL as string,
        runId: plan.runId,
        count: plan.options.seedTenants,
      });
      const group: SimGroup = {
        key: 'real',
        args: [],
        sharedTenants: 0,
        sharedBy: [],
        ownTenants: [],
        env: { TENANT_IDS: seeded.map((t) => t.tenantId).join(',') },
      };
      for (const { entry } of toRun) {
        groupOf.set(entry.name, group);
        recordOf(entry.name).tenantIds = seeded.map((t) => t.tenantId);
      }
      manifest.seededTenants = seeded.length;
      seeding.push({
        scenarios: toRun.map((s) => s.entry.name),
        tenants: seeded.length,
        creditsCents: null,
        via: 'signup',
      });
      log(`created ${seeded.length} tenants (accounts loadtest+${plan.runId}-N-*@example.com)`);
    }
    // The real values are known now: check them again, with every cross-setting rule.
    for (const { entry } of toRun) {
      const targetEnv = { ...(groupOf.get(entry.name)?.env ?? {}), ...(ownEnv.get(entry.name) ?? {}) };
      const env = { ...plan.env, ...targetEnv };
      const recheck = checkSettings(env, [entry.area]);
      if (!recheck.ok) throw new Error(`settings rejected for ${entry.name}: ${recheck.problems.join('; ')}`);
      const visible = publicSettings(recheck.settings);
      // A scenario's private tenants are in its record, not the run's shared TENANT_IDS.
      if (entry.simulator.ownTenants && plan.target.kind === 'simulator') delete visible.TENANT_IDS;
      Object.assign(manifest.settings, visible);
      const prepared = entry.prepare?.(env, plan.profile) ?? { problems: [], env: {} };
      if (prepared.problems.length > 0)
        throw new Error(`settings rejected for ${entry.name}: ${prepared.problems.join('; ')}`);
      scenarioEnv.set(entry.name, { ...targetEnv, ...prepared.env });
    }
    writeManifest();
  } catch (error) {
    startFailure = `could not start: ${(error as Error).message}`;
  }

  const allEnv = { ...plan.env, ...Object.assign({}, ...[...groups.values()].map((g) => g.env)) };
  redact = makeRedactor(secretValues(allEnv));

  if (startFailure !== undefined || signal.aborted) {
    if (startFailure) log(redact(startFailure));
    for (const record of manifest.scenarios)
      if (record.outcome !== 'skipped') record.reason = startFailure ?? 'interrupted before start';
  } else {
    const runOne = (planned: PlannedScenario, index: number) =>
      runScenario(
        plan,
        planned,
        manifest.scenarios[index]!,
        scenarioEnv.get(planned.entry.name) ?? {},
        redact,
        hooks,
      );
    try {
      const indexed = plan.scenarios
        .map((planned, index) => ({ planned, index }))
        .filter((s) => !s.planned.skip);
      if (plan.options.parallel)
        await Promise.all(indexed.map(({ planned, index }) => runOne(planned, index)));
      else
        for (const { planned, index } of indexed) {
          if (signal.aborted) break;
          await runOne(planned, index);
        }
    } finally {
      // Whatever happened, the simulators this run started go down with it.
      for (const group of groups.values()) await group.process?.stop();
    }
  }
  for (const group of groups.values()) await group.process?.stop();

  manifest.interrupted = signal.aborted;
  manifest.endedAt = new Date().toISOString();
  const outcomes = manifest.scenarios.map((s) => s.outcome).filter((o) => o !== 'skipped');
  // Nothing measured is no pass: a gate that ran no check must not open.
  if (outcomes.length === 0) log('nothing ran: every scenario was skipped');
  const exitCode: 0 | 1 | 2 =
    startFailure !== undefined ||
    manifest.interrupted ||
    outcomes.length === 0 ||
    outcomes.includes('not-started')
      ? 2
      : outcomes.every((o) => o === 'pass')
        ? 0
        : 1;
  manifest.exitCode = exitCode;
  writeManifest();
  return { exitCode, manifest };
}

function secretValues(env: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (isSecretSetting(name)) out[name] = value;
  return out;
}

async function runScenario(
  plan: RunPlan,
  planned: PlannedScenario,
  record: ScenarioRecord,
  targetEnv: Record<string, string>,
  redact: Redactor,
  hooks: ExecuteHooks,
): Promise<void> {
  const dir = join(plan.outDir, record.dir);
  mkdirSync(dir, { recursive: true });
  const started = Date.now();
  record.startedAt = new Date(started).toISOString();
  const periods = new PeriodParser();
  const tag = `[${record.name}]`;
  hooks.log(`${tag} started (profile ${plan.profile}, expected ~${Math.round(planned.expectedMs / 1000)} s)`);
  const ticker = setInterval(() => {
    const elapsed = Math.round((Date.now() - started) / 1000);
    hooks.log(
      `${tag} ${elapsed}s/~${Math.round(planned.expectedMs / 1000)}s | ${describeFigures(periods.latest, periods.phase)}`,
    );
  }, hooks.progressEveryMs ?? 5_000);

  // Checked when the run was planned: problems cannot appear here.
  const publishing = Boolean(plan.env.PUBLISH_METRICS_TYPE || plan.env.STATSD_HOST);
  const { overrides, limits } = scenarioOverrides({
    scriptText: readFileSync(planned.entry.path, 'utf8'),
    scenario: planned.entry.name,
    profile: plan.profile,
    env: plan.env,
    vusSetting: planned.entry.vusSetting,
    // publish-metrics is one shared file; the runner hands it over as an override, like a
    // distributed run must.
    ...(publishing ? { publishMetricsConfig: readFileSync(PUBLISH_METRICS_CONFIG, 'utf8') } : {}),
  });
  for (const [setting, value] of Object.entries(limits))
    hooks.log(`${tag} limit ${setting}=${value} (runner setting)`);
  let result: ArtilleryRunResult;
  try {
    result = await runArtillery({
      scenario: planned.entry.path,
      environment: plan.profile,
      ...(overrides === undefined ? {} : { overrides }),
      env: {
        ...plan.env,
        ...targetEnv,
        // One run id for the whole run (metrics tags, Grafana's run-id variable); test accounts stay
        // unique per scenario because their emails carry LOADTEST_SCENARIO as well.
        LOADTEST_RUN_ID: plan.runId,
        LOADTEST_SCENARIO: record.name,
        LOADTEST_PROFILE: plan.profile,
        LOADTEST_TARGET_ENV:
          plan.env.LOADTEST_TARGET_ENV ??
          (plan.target.kind === 'simulator'
            ? 'simulator'
            : plan.target.kind === 'env-file'
              ? basename(plan.target.file).replace(/\.env$/, '')
              : 'environment'),
        // Runner-only settings (<AREA>_VUS, gate limits) reach Artillery as --overrides; the plugin
        // refuses them under plain Artillery, where nothing would apply them.
        LOADTEST_RUNNER: '1',
        // STATSD_HOST alone switches publishing on for runner users (see docs/METRICS.md).
        ...(plan.env.STATSD_HOST && !plan.env.PUBLISH_METRICS_TYPE
          ? { PUBLISH_METRICS_TYPE: 'influxdb-statsd' }
          : {}),
      },
      outputPath: join(dir, 'output.json'),
      timeoutMs: planned.timeoutMs,
      onLine: (line) => periods.feed(line),
      signal: hooks.signal,
    });
  } catch (error) {
    result = {
      exitCode: null,
      signal: null,
      timedOut: false,
      report: undefined,
      ensure: [],
      stdout: '',
      stderr: `could not run Artillery: ${(error as Error).message}`,
      durationMs: Date.now() - started,
    };
  } finally {
    clearInterval(ticker);
  }

  // Interrupted or crashed before Artillery wrote its JSON: keep what its periodic output showed.
  const partial = result.report ? undefined : partialReport(periods.all);
  if (partial) writeFileSync(join(dir, 'output.json'), `${JSON.stringify(partial, null, 2)}\n`);
  const ensureFile: EnsureFile = {
    scenario: record.name,
    exitCode: result.exitCode,
    verdicts: result.ensure,
  };
  writeFileSync(join(dir, 'ensure.json'), `${JSON.stringify(ensureFile, null, 2)}\n`);
  writeFileSync(
    join(dir, 'console.log'),
    redact(`${result.stdout}${result.stderr ? `\n--- stderr ---\n${result.stderr}` : ''}`),
  );
  const { outcome, reason } = outcomeOf(result);
  Object.assign(record, {
    endedAt: new Date().toISOString(),
    durationMs: result.durationMs,
    exitCode: result.exitCode,
    signal: result.signal,
    timedOut: result.timedOut,
    outcome: hooks.signal.aborted ? 'error' : outcome,
    partialResults: partial !== undefined,
    reason: hooks.signal.aborted ? 'interrupted' : reason === null ? null : redact(reason),
    checksPassed: result.ensure.filter((v) => v.ok).length,
    checksFailed: result.ensure.filter((v) => !v.ok).length,
  });
  hooks.log(
    `${tag} ${record.outcome} in ${Math.round(result.durationMs / 1000)}s (checks ${record.checksPassed} ok, ${record.checksFailed} failed)${
      record.reason ? `: ${record.reason}` : ''
    }`,
  );
}
