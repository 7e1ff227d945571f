import type { VUContext } from 'artillery';
import { parseDurationMs } from '../../../config/duration';
import { commonSettings } from '../../../config/settings/common';
import { describeIssues } from '../../../config/settings/shared';
import { terminalSettings } from '../../../config/settings/terminal';

const schema = commonSettings.extend(terminalSettings.shape);
export type TerminalRunSettings = ReturnType<typeof schema.parse>;

let cached: TerminalRunSettings | undefined;

/** Parses the environment once per worker; an empty variable counts as unset. Throws naming the setting. */
export function terminalRunSettings(env: NodeJS.ProcessEnv = process.env): TerminalRunSettings {
  if (cached && env === process.env) return cached;
  const present: Record<string, string> = {};
  for (const [name, value] of Object.entries(env))
    if (value !== undefined && value !== '') present[name] = value;
  const parsed = schema.safeParse(present);
  if (!parsed.success) throw new Error(`terminal settings: ${describeIssues(parsed.error).join('; ')}`);
  if (env === process.env) cached = parsed.data;
  return parsed.data;
}

/**
 * The API the VU really talks to: Artillery's `target` variable, which is `config.target` after
 * `-t` and the environment's own target were applied.
 */
export function targetOf(context: VUContext): string {
  const target: unknown = context.vars.target;
  if (typeof target !== 'string' || !/^https?:\/\//.test(target))
    throw new Error(
      `terminal: the target ${JSON.stringify(target)} is not an http(s) URL (set API_BASE_URL or pass -t)`,
    );
  return target.replace(/\/+$/, '');
}

/** A duration variable of the scenario (`config.variables` / the environment's), in ms. */
function durationVar(context: VUContext, name: string): number | undefined {
  const value: unknown = context.vars[name];
  if (typeof value === 'number') return value * 1000;
  if (typeof value !== 'string') return undefined;
  const ms = parseDurationMs(value);
  if (ms === undefined)
    throw new Error(`terminal: variables.${name} "${value}" is not a duration (e.g. 8s, 10m)`);
  return ms;
}

/** WS_DURATION, else the YAML's `loopDuration` of the profile being run. */
export function sessionDurationMs(settings: TerminalRunSettings, context: VUContext): number {
  const ms = settings.WS_DURATION ?? durationVar(context, 'loopDuration');
  if (ms === undefined)
    throw new Error('terminal: no session length (set WS_DURATION or variables.loopDuration)');
  return ms;
}

/** A person at a terminal types about every 15 s; the YAML sets shorter intervals for short runs. */
const DEFAULT_COMMAND_INTERVAL_MS = 15_000;

/** WS_COMMAND_INTERVAL, else the YAML's `commandInterval`, else 15 s. */
export function commandIntervalMs(settings: TerminalRunSettings, context: VUContext): number {
  return (
    settings.WS_COMMAND_INTERVAL ?? durationVar(context, 'commandInterval') ?? DEFAULT_COMMAND_INTERVAL_MS
  );
}

/** Tenants whose terminals are opened: WS_TENANT_IDS, else TENANT_IDS. */
export function terminalTenantIds(settings: TerminalRunSettings): string[] {
  const ids = settings.WS_TENANT_IDS ?? settings.TENANT_IDS;
  if (!ids || ids.length === 0)
    throw new Error('terminal settings: set WS_TENANT_IDS or TENANT_IDS (tenant UUIDs)');
  return ids;
}

/** The web app's origin: the API accepts terminal sockets only from the web app's pages. */
export function webOrigin(settings: TerminalRunSettings): string {
  if (!settings.WEB_BASE_URL)
    throw new Error('terminal settings: set WEB_BASE_URL (the web app whose Origin the API accepts)');
  return new URL(settings.WEB_BASE_URL).origin;
}

/** Auth (service key preferred, else the bearer JWT) and the web app's Origin. */
export function terminalHeaders(settings: TerminalRunSettings): Record<string, string> {
  const headers: Record<string, string> = { Origin: webOrigin(settings) };
  if (settings.SERVICE_API_KEY) headers['X-Service-API-Key'] = settings.SERVICE_API_KEY;
  else if (settings.API_BEARER_TOKEN) headers.Authorization = `Bearer ${settings.API_BEARER_TOKEN}`;
  return headers;
}
