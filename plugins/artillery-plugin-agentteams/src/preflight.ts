import { basename, extname } from 'node:path';
import { z } from 'zod';
import { applyLimitSettings, type EnsureCondition, setLimitSettings } from '../../../config/limits';
import { checkSettings, settingNamesFor } from '../../../config/settings/index';
import { remoteTargetProblems } from '../../../scripts/lib/remote-guard';
import { AREAS, type Area, missingSettings, TARGET_SETTING, VUS_SETTINGS } from './requirements';
import { staleBuildProblems } from './source-record';

/**
 * Everything checked in Artillery's main thread before any worker starts, so that a run that
 * cannot be right sends no request at all: the plugin config, the area's settings, the target and
 * every other platform URL (loopback only unless allowed), the settings the area cannot do
 * without, runner-only settings under plain Artillery, and a stale build.
 */

export const pluginConfigSchema = z.looseObject({
  area: z.enum(AREAS, { error: `config.plugins.agentteams.area: must be one of ${AREAS.join(', ')}` }),
});
export type PluginConfig = z.infer<typeof pluginConfigSchema>;

/** The part of the script (a JSON copy after -t, -e, --overrides and templating) read here. */
export interface PreflightScript {
  config?: {
    target?: unknown;
    processor?: unknown;
    phases?: unknown;
    ensure?: { conditions?: unknown };
    plugins?: Record<string, unknown>;
  };
  _scriptPath?: unknown;
}

export interface Preflight {
  scenario: string;
  /** The target as printed (no credentials), when there is a usable one. */
  target: string | undefined;
  problems: string[];
}

const PHASES = z.array(z.looseObject({ arrivalCount: z.unknown().optional() }));
const CONDITIONS = z.array(z.looseObject({ expression: z.string(), strict: z.boolean().optional() }));

/** The scenario's name: its file name without extension (the limit registry is keyed by it). */
export function scenarioNameOf(script: PreflightScript): string {
  const path = typeof script._scriptPath === 'string' ? script._scriptPath : '';
  return path ? basename(path, extname(path)) : 'scenario';
}

/** `dist/processors/x.js` -> `processors/x`: the bundle whose sources the stale check compares. */
export function processorOutputOf(processor: unknown): string | undefined {
  if (typeof processor !== 'string') return undefined;
  const name = /(?:^|[\\/])dist[\\/]processors[\\/]([^\\/]+)\.js$/.exec(processor)?.[1];
  return name ? `processors/${name}` : undefined;
}

function printableUrl(url: URL): string {
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  return copy.href.replace(/\/$/, '');
}

const overridesArg = (overrides: unknown) => `--overrides '${JSON.stringify(overrides)}'`;

function runnerOnlyProblems(
  area: Area,
  scenario: string,
  script: PreflightScript,
  env: NodeJS.ProcessEnv,
): string[] {
  const problems: string[] = [];
  for (const name of VUS_SETTINGS[area]) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const users = Number(raw);
    const head = `${name}: a setting of the suite's runner (npm run loadtest); plain Artillery takes the users from the YAML's phases`;
    const phases = PHASES.safeParse(script.config?.phases);
    if (!/^\d+$/.test(raw.trim()) || users < 1) {
      problems.push(`${head}, and ${JSON.stringify(raw)} is not a whole number of users`);
    } else if (!phases.success) {
      problems.push(`${head}; pass --overrides with config.phases instead`);
    } else {
      const overridden = phases.data.map((p) =>
        p.arrivalCount === undefined ? p : { ...p, arrivalCount: users },
      );
      problems.push(`${head}; unset it and pass ${overridesArg({ config: { phases: overridden } })}`);
    }
  }
  const limits = setLimitSettings(scenario, env);
  if (limits.length > 0) {
    const conditions = CONDITIONS.safeParse(script.config?.ensure?.conditions);
    const applied = applyLimitSettings(
      conditions.success ? (conditions.data as EnsureCondition[]) : [],
      scenario,
      env,
    );
    problems.push(...applied.problems);
    const usable = limits.filter((name) => applied.applied[name] !== undefined);
    if (usable.length > 0)
      problems.push(
        `${usable.join(', ')}: limit setting${usable.length > 1 ? 's' : ''} of the suite's runner (npm run loadtest); ` +
          `plain Artillery takes the limits from the YAML's ensure conditions; unset ${usable.length > 1 ? 'them' : 'it'} and pass ` +
          overridesArg({ config: { ensure: { conditions: applied.conditions } } }),
      );
  }
  return problems;
}

export function preflight(script: PreflightScript, env: NodeJS.ProcessEnv, root: string): Preflight {
  const scenario = scenarioNameOf(script);
  const problems: string[] = [];
  const parsedConfig = pluginConfigSchema.safeParse(script.config?.plugins?.agentteams ?? {});
  if (!parsedConfig.success) {
    return {
      scenario,
      target: undefined,
      problems: parsedConfig.error.issues.map((i) => i.message),
    };
  }
  const area = parsedConfig.data.area;
  const runner = env.LOADTEST_RUNNER === '1';
  const runnerOnly = runner ? [] : runnerOnlyProblems(area, scenario, script, env);
  const refused = new Set(runnerOnly.flatMap((line) => line.split(':')[0]!.split(', ')));

  const settings = checkSettings(env, [area]);
  if (!settings.ok) problems.push(...settings.problems.filter((line) => !refused.has(line.split(':')[0]!)));

  const targetSetting = TARGET_SETTING[area];
  const rawTarget = typeof script.config?.target === 'string' ? script.config.target.trim() : '';
  let target: URL | undefined;
  if (rawTarget === '' || rawTarget === 'undefined' || rawTarget === 'null') {
    problems.push(`target: none given: pass -t http://127.0.0.1:PORT or set ${targetSetting}`);
  } else {
    try {
      target = new URL(rawTarget);
      if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new Error('not http');
    } catch {
      target = undefined;
      problems.push(
        `target: ${JSON.stringify(rawTarget)} is not an http(s) URL (pass -t http://127.0.0.1:PORT or set ${targetSetting})`,
      );
    }
  }

  const urls: Record<string, string> = {};
  if (target) urls.target = target.href;
  for (const name of settingNamesFor([area]).filter((n) => n.endsWith('_BASE_URL'))) {
    const value = env[name];
    if (value) urls[name] = value;
  }
  const allowRemote = ['1', 'true', 'yes'].includes((env.LOADTEST_ALLOW_REMOTE ?? '').trim().toLowerCase());
  const allowedHosts = (env.LOADTEST_ALLOWED_HOSTS ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h.length > 0);
  problems.push(...remoteTargetProblems({ urls, allowRemote, allowedHosts }));

  problems.push(...missingSettings(area, env));
  problems.push(...runnerOnly);

  const outputs = ['plugins/agentteams'];
  const processorOutput = processorOutputOf(script.config?.processor);
  if (processorOutput) outputs.push(processorOutput);
  problems.push(...staleBuildProblems(root, outputs));

  return { scenario, target: target ? printableUrl(target) : undefined, problems };
}
