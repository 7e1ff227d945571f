import http from 'node:http';
import type { VUContext, VUEvents } from 'artillery';
import { parseDurationMs } from '../config/duration';
import { type LlmRunSettings, llmRunSettings } from '../config/settings/llm';
import { describeIssues } from '../config/settings/shared';
import { classifyNetworkError } from './lib/http-errors';
import { judgeEngineResponse } from './lib/llm/engine-response';
import {
  LLM,
  LLM_EMITTED_METRICS,
  recordAttempt,
  recordFailure,
  recordOutcome,
  recordUserStart,
} from './lib/llm/record';
import { authHeaders, completionBody, type PromptRow, promptRowsSchema } from './lib/llm/request';
import { requestStream } from './lib/llm/stream-client';
import { count } from './lib/metrics';

/**
 * Hooks of scenarios/llm-proxy.yml. The flow (a `post` to /v1/chat/completions in a deadline
 * loop) is in the YAML; these hooks turn settings into variables, pick each request's prompt and
 * tenant, and read each answer: token usage, Server-Timing proxy overhead, latency, failures by
 * cause. Streaming (LLM_STREAM) is the one `function:` step: the engine hands hooks only a whole
 * body, and time to first token needs each chunk's arrival.
 */

export const EMITTED_METRICS: readonly string[] = LLM_EMITTED_METRICS;

/** `http.timeout` of scenarios/llm-proxy.yml, for the streaming step, which the engine does not time. */
export const SCENARIO_HTTP_TIMEOUT_MS = 60_000;

interface RunConfig {
  settings: LlmRunSettings;
  tenantIds: string[];
  auth: { serviceApiKey?: string; bearerAuthorization?: string };
}

type Loaded = { ok: true; config: RunConfig } | { ok: false };

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
  const headers = authHeaders(settings);
  if (!headers) problems.push('SERVICE_API_KEY or API_BEARER_TOKEN: one is required to call the API');
  if (problems.length > 0 || !headers || !settings.TENANT_IDS) return fail(problems);
  loaded = {
    ok: true,
    config: {
      settings,
      tenantIds: settings.TENANT_IDS,
      auth: {
        ...(headers['x-service-api-key'] ? { serviceApiKey: headers['x-service-api-key'] } : {}),
        ...(headers.authorization ? { bearerAuthorization: headers.authorization } : {}),
      },
    },
  };
  return loaded;
}

/** Problems already printed by this worker: each once, however many users hit it. */
const reported = new Set<string>();

function reportOnce(problem: string): void {
  if (reported.has(problem)) return;
  reported.add(problem);
  // Messages name the setting or variable, never a value.
  console.error(`llm-proxy: not sending any request: ${problem}`);
}

function fail(problems: string[]): Loaded {
  loaded = { ok: false };
  for (const problem of problems) reportOnce(problem);
  return loaded;
}

let promptRows: PromptRow[] | undefined;

function promptsOf(context: VUContext): PromptRow[] | undefined {
  if (promptRows) return promptRows;
  const parsed = promptRowsSchema.safeParse(context.vars.prompts);
  if (!parsed.success) {
    reportOnce(
      `prompt payload unusable (config.payload name "prompts", loadAll): ${describeIssues(parsed.error).join('; ')}`,
    );
    return undefined;
  }
  promptRows = parsed.data;
  return promptRows;
}

/** The target the user really calls: config.target after `-t`, as Artillery put it in the variables. */
function targetOf(context: VUContext): URL | undefined {
  const target: unknown = context.vars.target;
  if (typeof target !== 'string') return undefined;
  try {
    const url = new URL(target);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

/** How long users loop: LLM_DURATION, else the environment's `loopDuration` variable. */
function loopDurationMs(settings: LlmRunSettings, context: VUContext): number | undefined {
  if (settings.LLM_DURATION !== undefined) return settings.LLM_DURATION;
  const value: unknown = context.vars.loopDuration;
  // A bare YAML number is seconds, as in Artillery's own durations.
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value * 1000;
  if (typeof value === 'string') return parseDurationMs(value);
  return undefined;
}

/** Every user of this worker loops to the same deadline, counted from the first one's start. */
let runStartedAt: number | undefined;
let usersStarted = 0;

/** Variables the YAML reads; `llmMode` switches between the `post` and the streaming step. */
type LlmMode = 'json' | 'stream' | 'off';

interface UserVars {
  llmMode: LlmMode;
  llmDeadline: number;
  llmUserIndex: number;
  llmNextPrompt: number;
}

function userVars(context: VUContext): UserVars | undefined {
  const { llmMode, llmDeadline, llmUserIndex, llmNextPrompt } = context.vars;
  if (llmMode !== 'json' && llmMode !== 'stream') return undefined;
  if (
    typeof llmDeadline !== 'number' ||
    typeof llmUserIndex !== 'number' ||
    typeof llmNextPrompt !== 'number'
  )
    return undefined;
  return { llmMode, llmDeadline, llmUserIndex, llmNextPrompt };
}

/** beforeScenario: settings to variables, the deadline, zeroed counters for the gate. */
export function startLlmUser(context: VUContext, events: VUEvents, done: (error?: Error) => void): void {
  // A user that cannot run still passes the loop's think step once: it needs a valid duration.
  Object.assign(context.vars, { llmMode: 'off' satisfies LlmMode, thinkTime: '0ms' });
  const result = loadConfig();
  const prompts = result.ok ? promptsOf(context) : undefined;
  const target = targetOf(context);
  if (result.ok && !target)
    reportOnce('the target (config.target, API_BASE_URL or -t) is not an http(s) URL');
  const loopMs = result.ok ? loopDurationMs(result.config.settings, context) : undefined;
  if (result.ok && loopMs === undefined)
    reportOnce(
      'no loop time: LLM_DURATION unset and the scenario variable loopDuration missing or not a duration (e.g. "8s")',
    );
  if (!result.ok || !prompts || !target || loopMs === undefined) {
    count(events, LLM.configError);
    done();
    return;
  }
  const { settings, auth } = result.config;
  const now = Date.now();
  runStartedAt ??= now;
  const deadline = runStartedAt + loopMs;
  const index = usersStarted++;
  Object.assign(context.vars, {
    // A user arriving after the deadline (a later stress step with a short LLM_DURATION) sends nothing.
    llmMode: (now >= deadline ? 'off' : settings.LLM_STREAM ? 'stream' : 'json') satisfies LlmMode,
    llmDeadline: deadline,
    llmUserIndex: index,
    llmNextPrompt: index % prompts.length,
    model: settings.LLM_MODEL,
    maxTokens: settings.LLM_MAX_TOKENS,
    temperature: settings.LLM_TEMPERATURE,
    thinkTime: `${settings.LLM_THINK_TIME}ms`,
    // One of the two is set; a header whose value is undefined is not sent.
    serviceApiKey: auth.serviceApiKey,
    bearerAuthorization: auth.bearerAuthorization,
  });
  recordUserStart(events);
  done();
}

/** Loop condition (`whileTrue`): keep going until the run's deadline. */
export function llmUserHasTime(context: VUContext, next: (keepGoing: boolean) => void): void {
  const user = userVars(context);
  next(user !== undefined && Date.now() < user.llmDeadline);
}

/** The next prompt of the mix and the user's tenant, into `prompt` / `tenantId`; counts the attempt. */
function pickTurn(context: VUContext, events: VUEvents, config: RunConfig, user: UserVars): string {
  const prompts = promptRows ?? [];
  const prompt = prompts[user.llmNextPrompt % prompts.length]?.prompt ?? '';
  context.vars.llmNextPrompt = user.llmNextPrompt + 1;
  context.vars.prompt = prompt;
  context.vars.tenantId = config.tenantIds[user.llmUserIndex % config.tenantIds.length];
  recordAttempt(events);
  return prompt;
}

/** beforeRequest of `llm_completion`. */
export function pickPromptAndTenant(
  requestParams: { timeout?: number },
  context: VUContext,
  events: VUEvents,
  done: (error?: Error) => void,
): void {
  const user = userVars(context);
  if (loaded?.ok && user) {
    pickTurn(context, events, loaded.config, user);
    const timeoutMs = loaded.config.settings.LLM_REQUEST_TIMEOUT;
    // The engine reads the request's timeout in seconds after this hook.
    if (timeoutMs !== undefined) requestParams.timeout = timeoutMs / 1000;
  }
  done();
}

/** afterResponse of `llm_completion`: usage, overhead, latency, or the failure's cause. */
export function recordCompletion(
  _requestParams: unknown,
  response: unknown,
  _context: VUContext,
  events: VUEvents,
  done: (error?: Error) => void,
): void {
  recordOutcome(
    events,
    judgeEngineResponse(response),
    loaded?.ok ? loaded.config.settings.INFERENCE_BUDGET_MS : 0,
  );
  done();
}

/**
 * Scenario `onError`: a request that got no answer. Artillery counts it as `errors.<code>` and
 * ends the user; this names the cause in the scenario's own counters first.
 */
export function countTransportFailure(
  error: unknown,
  _requestParams: unknown,
  _context: VUContext,
  events: VUEvents,
  done: (error?: Error) => void,
): void {
  recordFailure(events, classifyNetworkError(error));
  done();
}

/** Flow step: with llmMode "stream", one streamed completion timed chunk by chunk. */
export async function streamCompletion(context: VUContext, events: VUEvents): Promise<void> {
  const user = userVars(context);
  const target = targetOf(context);
  if (!loaded?.ok || !user || user.llmMode !== 'stream' || !target) return;
  // The loop body runs once before its condition is first asked.
  if (Date.now() >= user.llmDeadline) return;
  const { settings } = loaded.config;
  const prompt = pickTurn(context, events, loaded.config, user);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'text/event-stream',
    'x-tenant-id': String(context.vars.tenantId),
  };
  if (typeof context.vars.serviceApiKey === 'string')
    headers['x-service-api-key'] = context.vars.serviceApiKey;
  if (typeof context.vars.bearerAuthorization === 'string')
    headers.authorization = context.vars.bearerAuthorization;
  const outcome = await requestStream({
    // As the engine does: the request path appended to the target, a path prefix kept.
    url: new URL(`${target.href.replace(/\/+$/, '')}/v1/chat/completions`),
    headers,
    body: JSON.stringify(
      completionBody({
        model: settings.LLM_MODEL,
        prompt,
        temperature: settings.LLM_TEMPERATURE,
        maxTokens: settings.LLM_MAX_TOKENS,
        stream: true,
      }),
    ),
    timeoutMs: settings.LLM_REQUEST_TIMEOUT ?? SCENARIO_HTTP_TIMEOUT_MS,
    agent: userAgent(context, target),
  });
  recordOutcome(events, outcome, settings.INFERENCE_BUDGET_MS);
}

/**
 * The keep-alive agent Artillery's engine made for this user (one socket per user), so that the
 * streaming step holds one connection per user as the `post` does; Node's global agent otherwise.
 */
function userAgent(context: VUContext, target: URL): http.Agent | undefined {
  const agent: unknown = target.protocol === 'https:' ? context._httpsAgent : context._httpAgent;
  return agent instanceof http.Agent ? agent : undefined;
}
