/**
 * What each scenario area needs before any load: the setting that names its target, the settings
 * a run cannot do without, and the runner-only user-count settings. The plugin checks them before
 * any worker starts; the runner reuses the same lists.
 */

export const AREAS = ['signup', 'chat', 'terminal', 'container', 'llm'] as const;
export type Area = (typeof AREAS)[number];

/** The setting `config.target` is written from (`-t` overrides it). */
export const TARGET_SETTING: Record<Area, 'WEB_BASE_URL' | 'API_BASE_URL'> = {
  signup: 'WEB_BASE_URL',
  chat: 'WEB_BASE_URL',
  terminal: 'API_BASE_URL',
  container: 'API_BASE_URL',
  llm: 'API_BASE_URL',
};

/** One requirement: at least one of the settings must be set. */
export interface Requirement {
  anyOf: readonly string[];
  why: string;
}

export const REQUIRED_SETTINGS: Record<Area, readonly Requirement[]> = {
  signup: [],
  chat: [],
  terminal: [
    { anyOf: ['WS_TENANT_IDS', 'TENANT_IDS'], why: 'tenant UUIDs whose terminals are opened' },
    {
      anyOf: ['WEB_BASE_URL'],
      why: "the web app's origin, sent as Origin: the API accepts terminal sockets only from it",
    },
    {
      anyOf: ['SERVICE_API_KEY', 'API_BEARER_TOKEN'],
      why: 'credentials for the terminal WebSocket upgrade',
    },
  ],
  container: [
    { anyOf: ['TENANT_IDS'], why: 'comma-separated tenant UUIDs whose containers are cycled' },
    {
      anyOf: ['SERVICE_API_KEY', 'ADMIN_JWT', 'API_JWT_SECRET'],
      why: 'the service key for POST /api/tenants/{id}/resume, or admin credentials',
    },
  ],
  llm: [
    { anyOf: ['TENANT_IDS'], why: 'comma-separated tenant UUIDs the requests are billed to' },
    { anyOf: ['SERVICE_API_KEY', 'API_BEARER_TOKEN'], why: 'credentials for /v1/chat/completions' },
  ],
};

/**
 * User counts per step: runner settings, applied as `--overrides` on the phases. Under plain
 * Artillery they would be silently ignored (the YAML's phases are literal), so the plugin refuses them.
 */
export const VUS_SETTINGS: Record<Area, readonly string[]> = {
  signup: ['SIGNUP_VUS', 'BROWSER_VUS'],
  chat: ['CHAT_VUS'],
  terminal: ['WS_VUS'],
  container: ['CONTAINER_VUS'],
  llm: ['LLM_VUS'],
};

const isSet = (env: Record<string, string | undefined>, name: string) => (env[name] ?? '') !== '';

/** One line per unmet requirement, naming the setting(s). */
export function missingSettings(area: Area, env: Record<string, string | undefined>): string[] {
  return REQUIRED_SETTINGS[area]
    .filter((r) => !r.anyOf.some((name) => isSet(env, name)))
    .map((r) => `${r.anyOf.join(' or ')}: required (${r.why})`);
}
