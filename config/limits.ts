/**
 * Every gate limit of the suite. A scenario's `config.ensure.conditions` hold the limits as literal
 * numbers (the YAML number is the default); a limit setting replaces the number that follows its
 * fragment in the scenarios it applies to. The runner turns set limit settings into an
 * `--overrides` of the conditions; under plain Artillery the plugin refuses them and prints that
 * `--overrides` instead, so a limit is never silently ignored.
 *
 * A fragment is the text right before the number, operator included, e.g.
 * `llm.proxy_overhead_ms.p99 <` in `llm.proxy_overhead_ms.count < 20 or llm.proxy_overhead_ms.p99 < 500`.
 */

/** Applies to every scenario (fixtures included). */
export const ALL_SCENARIOS = '*';

export interface LimitEntry {
  /** Scenario names (file names without .yml) or ALL_SCENARIOS. */
  scenarios: readonly string[];
  /** The text right before the number in the condition, e.g. `llm.latency_ms.p99 <`. */
  fragment: string;
  /** What the number means, for messages and reports. */
  unit: 'ms' | '%';
}

export const LIMITS = {
  GENERATOR_LAG_P99_MS: {
    scenarios: [ALL_SCENARIOS],
    fragment: 'generator.event_loop_lag_ms.p99 <',
    unit: 'ms',
  },
  GENERATOR_CPU_P95_PCT: { scenarios: [ALL_SCENARIOS], fragment: 'generator.cpu_pct.p95 <', unit: '%' },

  SIGNUP_P99_MS: { scenarios: ['signup-tenant-chat'], fragment: 'signup.latency_ms.p99 <', unit: 'ms' },
  LOGIN_P99_MS: { scenarios: ['signup-tenant-chat'], fragment: 'login.latency_ms.p99 <', unit: 'ms' },
  SIGNUP_SUCCESS_RATE_MIN_PCT: {
    scenarios: ['signup-tenant-chat'],
    fragment: 'onboarding.success / onboarding.attempts * 100 >',
    unit: '%',
  },

  BROWSER_STEP_P95_MS: {
    scenarios: ['signup-browser'],
    fragment: 'browser.step.open_chat.p95 <',
    unit: 'ms',
  },
  BROWSER_ANSWER_P95_MS: {
    scenarios: ['signup-browser'],
    fragment: 'browser.step.first_answer.p95 <',
    unit: 'ms',
  },
  BROWSER_LCP_P95_MS: {
    scenarios: ['signup-browser'],
    fragment: 'browser.page.LCP.signup_browser.p95 <',
    unit: 'ms',
  },

  CHAT_SUCCESS_RATE_MIN_PCT: {
    scenarios: ['chat-sessions'],
    fragment: 'chat.success / (chat.attempts - chat.rate_limited) * 100 >',
    unit: '%',
  },
  CHAT_P99_MS_SHORT: { scenarios: ['chat-sessions'], fragment: 'chat.latency_ms.short.p99 <', unit: 'ms' },
  CHAT_P99_MS_MEDIUM: { scenarios: ['chat-sessions'], fragment: 'chat.latency_ms.medium.p99 <', unit: 'ms' },
  CHAT_P99_MS_LONG: { scenarios: ['chat-sessions'], fragment: 'chat.latency_ms.long.p99 <', unit: 'ms' },

  WS_SUCCESS_RATE_MIN_PCT: {
    scenarios: ['terminal-ws'],
    fragment: 'terminal.sessions.completed / terminal.sessions.started * 100 >',
    unit: '%',
  },
  WS_RTT_P99_MS: { scenarios: ['terminal-ws'], fragment: 'terminal.rtt_ms.p99 <', unit: 'ms' },

  CONTAINER_STARTUP_P95_MS: {
    scenarios: ['container-provisioning'],
    fragment: 'container.startup_ms.p95 <',
    unit: 'ms',
  },
  CONTAINER_SUCCESS_MIN: {
    scenarios: ['container-provisioning'],
    fragment: 'container.success / container.attempts * 100 >',
    unit: '%',
  },

  LLM_SUCCESS_RATE_MIN_PCT: {
    scenarios: ['llm-proxy'],
    fragment: 'llm.success / llm.attempts * 100 >',
    unit: '%',
  },
  LLM_OVERHEAD_P99_MS: { scenarios: ['llm-proxy'], fragment: 'llm.proxy_overhead_ms.p99 <', unit: 'ms' },
  LLM_LATENCY_P99_MS: { scenarios: ['llm-proxy'], fragment: 'llm.latency_ms.p99 <', unit: 'ms' },
  LLM_TTFT_P99_MS: { scenarios: ['llm-proxy'], fragment: 'llm.ttft_ms.p99 <', unit: 'ms' },
} as const satisfies Record<string, LimitEntry>;

export type LimitSetting = keyof typeof LIMITS;
export const LIMIT_SETTINGS = Object.keys(LIMITS) as LimitSetting[];

export interface EnsureCondition {
  expression: string;
  strict?: boolean;
}

export function appliesTo(entry: LimitEntry, scenarioName: string): boolean {
  return entry.scenarios.includes(ALL_SCENARIOS) || entry.scenarios.includes(scenarioName);
}

/** Limit settings of one scenario (the generator ones included). */
export function limitSettingsOf(scenarioName: string): LimitSetting[] {
  return LIMIT_SETTINGS.filter((name) => appliesTo(LIMITS[name], scenarioName));
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const NUMBER = '-?\\d+(?:\\.\\d+)?';

/**
 * Matches `<fragment> <number>` where the fragment starts at a word boundary of the expression
 * (so `llm.latency_ms.p99 <` never matches inside `xllm.latency_ms.p99 <`). Whitespace inside the
 * fragment may vary. Groups: 1 = fragment and spacing, 2 = the number.
 */
function fragmentPattern(fragment: string): RegExp {
  const body = fragment.trim().split(/\s+/).map(escapeRegExp).join('\\s*');
  return new RegExp(`(?<![\\w.])(${body}\\s*)(${NUMBER})(?![\\w.])`, 'g');
}

export interface AppliedLimits {
  /** A copy of the conditions with the numbers of the set limit settings replaced. */
  conditions: EnsureCondition[];
  /** Settings whose value was written into a condition. */
  applied: Partial<Record<LimitSetting, number>>;
  /** One line per unusable setting, naming it. */
  problems: string[];
}

/** The value of a limit setting: undefined when unset or empty, NaN when not a number. */
export function limitValue(raw: string | undefined): number | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const text = raw.trim();
  return new RegExp(`^${NUMBER}$`).test(text) ? Number(text) : Number.NaN;
}

/**
 * Replaces, in the conditions of `scenarioName`, the number after each set limit setting's
 * fragment by the setting's value. Unset settings leave the YAML's number as it is.
 */
export function applyLimitSettings(
  conditions: readonly EnsureCondition[],
  scenarioName: string,
  env: Record<string, string | undefined>,
): AppliedLimits {
  const out = conditions.map((c) => ({ ...c }));
  const applied: Partial<Record<LimitSetting, number>> = {};
  const problems: string[] = [];
  for (const name of limitSettingsOf(scenarioName)) {
    const value = limitValue(env[name]);
    if (value === undefined) continue;
    const entry: LimitEntry = LIMITS[name];
    if (!Number.isFinite(value) || value < 0) {
      problems.push(
        `${name}: must be a non-negative number (${entry.unit}), not ${JSON.stringify(env[name])}`,
      );
      continue;
    }
    const pattern = fragmentPattern(entry.fragment);
    const hits = out.filter((c) => c.expression.match(pattern)?.length === 1);
    const anyMultiple = out.some((c) => (c.expression.match(pattern)?.length ?? 0) > 1);
    if (hits.length > 1 || anyMultiple) {
      problems.push(`${name}: more than one ensure condition contains "${entry.fragment} <number>"`);
      continue;
    }
    const hit = hits[0];
    // A scenario without this check (a fixture without generator checks) has nothing to replace.
    if (!hit) continue;
    hit.expression = hit.expression.replace(pattern, (_all, head: string) => `${head}${value}`);
    applied[name] = value;
  }
  return { conditions: out, applied, problems };
}

export interface LimitInForce {
  setting: LimitSetting;
  value: number;
  /** The whole expression the limit appears in. */
  expression: string;
}

/** The limits written in the conditions (for reports), optionally only those of one scenario. */
export function limitsOf(conditions: readonly EnsureCondition[], scenarioName?: string): LimitInForce[] {
  const names = scenarioName === undefined ? LIMIT_SETTINGS : limitSettingsOf(scenarioName);
  const found: LimitInForce[] = [];
  for (const setting of names) {
    const pattern = fragmentPattern(LIMITS[setting].fragment);
    for (const condition of conditions) {
      for (const match of condition.expression.matchAll(pattern)) {
        found.push({ setting, value: Number(match[2]), expression: condition.expression });
      }
    }
  }
  return found;
}

/** Limit settings of this scenario that are set (non-empty) in `env`. */
export function setLimitSettings(
  scenarioName: string,
  env: Record<string, string | undefined>,
): LimitSetting[] {
  return limitSettingsOf(scenarioName).filter((name) => limitValue(env[name]) !== undefined);
}
