import http from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import type { VUContext, VUEvents } from 'artillery';
import { PROFILES, type ProfileName } from '../config/profiles';
import { type LlmRunSettings, llmRunSettings } from '../config/settings/llm';
import { describeIssues } from '../config/settings/shared';
import { remoteTargetProblems } from '../scripts/lib/remote-guard';
import { GENERATOR_EMITTED_METRICS, reportGeneratorHealth } from './lib/generator-health';
import { callCompletion } from './lib/llm/client';
import { type GateLimits, LLM, LLM_EMITTED_METRICS, recordOutcome, recordUserStart } from './lib/llm/record';
import { authHeaders, completionBody, type PromptRow, promptRowsSchema } from './lib/llm/request';
import { count } from './lib/metrics';

/**
 * Processor of scenarios/llm-proxy.yml: every virtual user loops `POST /v1/chat/completions` with
 * its tenant until the run's deadline, so the number of users in the phase is the number of
 * requests in flight (less think time).
 */

export const EMITTED_METRICS: readonly string[] = [...LLM_EMITTED_METRICS, ...GENERATOR_EMITTED_METRICS];

interface RunConfig {
  settings: LlmRunSettings;
  tenantIds: string[];
  endpoint: URL;
  auth: Record<string, string>;
  limits: GateLimits;
}

type Loaded = { ok: true; config: RunConfig } | { ok: false; problems: string[] };

let loaded: Loaded | undefined;

function loadConfig(): Loaded {
  if (loaded) return loaded;
  // An empty variable is "not set", as in the runner.
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) if (value) env[name] = value;
  const parsed = llmRunSettings.safeParse(env);
  if (!parsed.success) return fail(describeIssues(parsed.error));
  const settings = parsed.data;
  const problems: string[] = [];
  if (!settings.TENANT_IDS) problems.push('TENANT_IDS: required (comma-separated tenant UUIDs)');
  const auth = authHeaders(settings);
  if (!auth) problems.push('SERVICE_API_KEY or API_BEARER_TOKEN: one is required to call the API');
  problems.push(
    ...remoteTargetProblems({
      urls: { API_BASE_URL: settings.API_BASE_URL },
      allowRemote: settings.LOADTEST_ALLOW_REMOTE,
      allowedHosts: settings.LOADTEST_ALLOWED_HOSTS,
    }),
  );
  if (problems.length > 0 || !auth || !settings.TENANT_IDS) return fail(problems);
  loaded = {
    ok: true,
    config: {
      settings,
      tenantIds: settings.TENANT_IDS,
      endpoint: new URL('/v1/chat/completions', `${settings.API_BASE_URL}/`),
      auth,
      limits: {
        successRateMinPct: settings.LLM_SUCCESS_RATE_MIN_PCT,
        proxyOverheadP99Ms: settings.LLM_OVERHEAD_P99_MS,
        latencyP99Ms: settings.LLM_LATENCY_P99_MS,
        ttftP99Ms: settings.LLM_TTFT_P99_MS,
      },
    },
  };
  return loaded;
}

function fail(problems: string[]): Loaded {
  loaded = { ok: false, problems };
  // Once per worker; zod messages name the variable, never its value.
  console.error(`llm-proxy: not sending any request:\n  ${problems.join('\n  ')}`);
  return loaded;
}

/** The profile's loop time when LLM_DURATION is unset; no `-e` means the load profile (top-level phases). */
function profileDurationMs(environment: unknown): number {
  const profile = (
    typeof environment === 'string' && environment in PROFILES ? environment : 'load'
  ) as ProfileName;
  return PROFILES[profile].llm.durationMs;
}

interface UserState {
  deadline: number;
  tenantId: string;
  prompts: PromptRow[];
  nextPrompt: number;
  agent: http.Agent;
  config: RunConfig;
}

const users = new Map<string, UserState>();
let usersStarted = 0;
/** Every user of this worker loops to the same deadline, counted from the first one's start. */
let runStartedAt: number | undefined;
let promptProblemReported = false;

const USER_KEY = 'llmUserId';

function stateOf(context: VUContext): UserState | undefined {
  const id: unknown = context.vars[USER_KEY];
  return typeof id === 'string' ? users.get(id) : undefined;
}

/** beforeScenario: tenant, prompts and deadline of this user; zero counters for the gate. */
export function startLlmUser(context: VUContext, events: VUEvents, done: (error?: Error) => void): void {
  reportGeneratorHealth(events);
  const result = loadConfig();
  if (!result.ok) {
    count(events, LLM.configError);
    done();
    return;
  }
  const { config } = result;
  const prompts = promptRowsSchema.safeParse(context.vars.prompts);
  if (!prompts.success) {
    if (!promptProblemReported)
      console.error(
        `llm-proxy: prompt payload unusable (config.payload name "prompts", loadAll): ${describeIssues(prompts.error).join('; ')}`,
      );
    promptProblemReported = true;
    count(events, LLM.configError);
    done();
    return;
  }
  runStartedAt ??= Date.now();
  const index = usersStarted++;
  const durationMs = config.settings.LLM_DURATION ?? profileDurationMs(context.vars.$environment);
  const id = `${process.pid}-${index}`;
  const agentOptions = { keepAlive: true, maxSockets: 1 };
  users.set(id, {
    deadline: runStartedAt + durationMs,
    tenantId: config.tenantIds[index % config.tenantIds.length]!,
    prompts: prompts.data,
    nextPrompt: index % prompts.data.length,
    // One connection per user, kept alive between its requests, like an SDK client would.
    agent:
      config.endpoint.protocol === 'https:' ? new https.Agent(agentOptions) : new http.Agent(agentOptions),
    config,
  });
  context.vars[USER_KEY] = id;
  recordUserStart(events, config.limits);
  done();
}

/** Loop condition (`whileTrue`): keep going until the run's deadline. */
export function llmUserHasTime(context: VUContext, next: (keepGoing: boolean) => void): void {
  const state = stateOf(context);
  next(state !== undefined && Date.now() < state.deadline);
}

/** One completion request, measured and recorded, then the user's think time. */
export async function sendCompletion(context: VUContext, events: VUEvents): Promise<void> {
  reportGeneratorHealth(events);
  const state = stateOf(context);
  // The loop body runs once before its condition is first asked.
  if (!state || Date.now() >= state.deadline) return;
  const { settings, endpoint, auth } = state.config;
  const prompt = state.prompts[state.nextPrompt % state.prompts.length]!;
  state.nextPrompt++;
  const body = completionBody({
    model: settings.LLM_MODEL,
    prompt: prompt.prompt,
    temperature: settings.LLM_TEMPERATURE,
    maxTokens: settings.LLM_MAX_TOKENS,
    stream: settings.LLM_STREAM,
  });
  const outcome = await callCompletion({
    url: endpoint,
    headers: {
      ...auth,
      'content-type': 'application/json',
      accept: settings.LLM_STREAM ? 'text/event-stream' : 'application/json',
      'x-tenant-id': state.tenantId,
    },
    body: JSON.stringify(body),
    stream: settings.LLM_STREAM,
    timeoutMs: settings.LLM_REQUEST_TIMEOUT,
    agent: state.agent,
  });
  recordOutcome(events, outcome, settings.INFERENCE_BUDGET_MS);
  const think = Math.min(settings.LLM_THINK_TIME, state.deadline - Date.now());
  if (think > 0) await sleep(think);
}

/** afterScenario: release the user's connection. */
export function endLlmUser(context: VUContext, events: VUEvents, done: (error?: Error) => void): void {
  reportGeneratorHealth(events);
  const id: unknown = context.vars[USER_KEY];
  if (typeof id === 'string') {
    users.get(id)?.agent.destroy();
    users.delete(id);
  }
  done();
}
