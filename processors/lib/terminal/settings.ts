import { PROFILE_NAMES, PROFILES, type ProfileName } from '../../../config/profiles';
import { commonSettings } from '../../../config/settings/common';
import { describeIssues } from '../../../config/settings/shared';
import { commandIntervalDefaultMs, terminalSettings } from '../../../config/settings/terminal';

const schema = commonSettings.extend(terminalSettings.shape);
export type TerminalRunSettings = ReturnType<typeof schema.parse>;

let cached: TerminalRunSettings | undefined;

/** Parses the environment once per worker; an empty variable counts as unset. Throws naming the setting. */
export function terminalRunSettings(env: NodeJS.ProcessEnv = process.env): TerminalRunSettings {
  if (cached) return cached;
  const present: Record<string, string> = {};
  for (const [name, value] of Object.entries(env))
    if (value !== undefined && value !== '') present[name] = value;
  const parsed = schema.safeParse(present);
  if (!parsed.success) throw new Error(`terminal settings: ${describeIssues(parsed.error).join('; ')}`);
  cached = parsed.data;
  return cached;
}

function isProfile(name: unknown): name is ProfileName {
  return typeof name === 'string' && (PROFILE_NAMES as readonly string[]).includes(name);
}

/** The profile being run: the Artillery environment, else LOADTEST_PROFILE, else load (the YAML's top level). */
export function runProfile(settings: TerminalRunSettings, environment: unknown): ProfileName {
  return isProfile(environment) ? environment : (settings.LOADTEST_PROFILE ?? 'load');
}

/** WS_DURATION, else the profile's terminal duration. */
export function sessionDurationMs(settings: TerminalRunSettings, profile: ProfileName): number {
  return settings.WS_DURATION ?? PROFILES[profile].terminal.durationMs;
}

/** WS_COMMAND_INTERVAL, else the profile's default. */
export function commandIntervalMs(settings: TerminalRunSettings, profile: ProfileName): number {
  return settings.WS_COMMAND_INTERVAL ?? commandIntervalDefaultMs(profile);
}

/** Tenants whose terminals are opened: WS_TENANT_IDS, else TENANT_IDS. */
export function terminalTenantIds(settings: TerminalRunSettings): string[] {
  const ids = settings.WS_TENANT_IDS ?? settings.TENANT_IDS;
  if (!ids || ids.length === 0)
    throw new Error('terminal settings: set WS_TENANT_IDS or TENANT_IDS (tenant UUIDs)');
  return ids;
}

/** Auth (service key preferred, else the bearer JWT) and the web app's Origin. */
export function terminalHeaders(settings: TerminalRunSettings): Record<string, string> {
  const headers: Record<string, string> = { Origin: new URL(settings.WEB_BASE_URL).origin };
  if (settings.SERVICE_API_KEY) headers['X-Service-API-Key'] = settings.SERVICE_API_KEY;
  else if (settings.API_BEARER_TOKEN) headers.Authorization = `Bearer ${settings.API_BEARER_TOKEN}`;
  return headers;
}
