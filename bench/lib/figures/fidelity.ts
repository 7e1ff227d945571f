import type { LatencySummary } from '../../../simulator/src/control-types';
import { type ArtilleryMeasurement, measureArtillery, usersOverrides } from '../artillery-point';
import { autocannonCommand, runAutocannon } from '../autocannon';
import { round2 } from '../percentiles';
import type { BenchPlan } from '../plan';
import { withMachineBusy } from '../proc-sampler';
import type { FidelityFigure, FidelityPoint, FidelityWorkload, Quantiles } from '../results';
import { type BenchTarget, logInChatUser } from '../target';
import { chatEnv, warmUp } from '../warmup';
import { CHAT_SHOWN_ENV, LLM_SHOWN_ENV, runWrk } from '../wrk';

/**
 * Figure 1: at the target load (100 LLM users, 50 chat users), what Artillery reports against what
 * the simulator measured for the same requests, next to wrk and autocannon at the same load.
 */

const LLM_BODY =
  '{"model":"openai/gpt-4.1-mini","messages":[{"role":"user","content":"Say hello in one short sentence."}],' +
  '"temperature":0.7,"max_tokens":64,"stream":false}';
const CHAT_BODY = '{"message":"Hi! What can you do?"}';

const q = (s: { p50: number; p99: number }): Quantiles => ({ p50: round2(s.p50), p99: round2(s.p99) });
const minus = (a: Quantiles, b: Quantiles): Quantiles => ({
  p50: round2(a.p50 - b.p50),
  p99: round2(a.p99 - b.p99),
});

function point(
  tool: FidelityPoint['tool'],
  users: number,
  durationSeconds: number,
  client: { count: number; p50: number; p99: number },
  server: LatencySummary,
  extra: {
    requestsPerSecond: number;
    serverInFlightMax: number | null;
    generatorCpuPct: number | null;
    machineCpuPct: number;
    command: string;
  },
): FidelityPoint {
  return {
    tool,
    users,
    durationSeconds,
    requests: client.count,
    serverRequests: server.count,
    requestsPerSecond: round2(extra.requestsPerSecond),
    clientMs: q(client),
    serverMs: q(server),
    differenceMs: minus(q(client), q(server)),
    serverInFlightMax: extra.serverInFlightMax,
    generatorCpuPct: extra.generatorCpuPct === null ? null : round2(extra.generatorCpuPct),
    machineCpuPct: round2(extra.machineCpuPct),
    command: extra.command,
  };
}

export function artilleryPoint(users: number, seconds: number, m: ArtilleryMeasurement): FidelityPoint {
  return point('artillery', users, seconds, m.client, m.server, {
    requestsPerSecond: m.requestsPerSecond,
    serverInFlightMax: m.serverInFlightMax,
    generatorCpuPct: m.generator.cpuPct,
    machineCpuPct: m.machineCpuPct,
    command: m.command,
  });
}

/**
 * A figure over requests that mostly failed would compare error paths: more than 1 % failed and
 * the point is refused.
 */
function requireHealthy(what: string, requests: number, failures: number): void {
  if (requests === 0 || failures > requests * 0.01)
    throw new Error(
      `${what}: ${failures} of ${requests} requests failed; the figure would not be about the route`,
    );
}

function serverFailures(stats: { status: Record<string, number> } | undefined): number {
  if (!stats) return 0;
  return Object.entries(stats.status)
    .filter(([status]) => !/^2\d\d$/.test(status))
    .reduce((sum, [, n]) => sum + n, 0);
}

/** The server-side summary of one route since the last reset. */
async function serverTime(
  target: BenchTarget,
  route: string,
): Promise<{ summary: LatencySummary; inFlight: number }> {
  const stats = await target.control.stats();
  const summary = stats.routes[route]?.latencyMs;
  if (!summary) throw new Error(`the simulator saw no ${route} request`);
  const family = route === 'web.chat' ? 'chat' : 'llm';
  return { summary, inFlight: stats.inFlight[family].max };
}

function workload(
  route: string,
  artillery: FidelityPoint,
  wrk: FidelityPoint,
  autocannon: FidelityPoint,
): FidelityWorkload {
  const wrkDiff = Math.max(0.01, Math.abs(wrk.differenceMs.p99));
  return {
    route,
    artillery,
    wrk,
    autocannon,
    artilleryToWrkP99DifferenceRatio: round2(artillery.differenceMs.p99 / wrkDiff),
  };
}

export interface FidelityRun {
  figure: FidelityFigure;
  /** The Artillery LLM run, reused as the ceiling's first level. */
  llmMeasurement: ArtilleryMeasurement;
}

export async function measureFidelity(
  target: BenchTarget,
  plan: BenchPlan,
  log: (line: string) => void,
): Promise<FidelityRun> {
  const seconds = plan.fidelitySeconds;
  const timeoutMs = seconds * 1000 + 90_000;

  const tenantId = target.tenantIds[0]!;
  const completionsUrl = `${target.apiUrl}/v1/chat/completions`;
  const chatUrl = `${target.webUrl}/api/chat`;
  const login = await logInChatUser(target);
  const llmEnv = { WRK_SERVICE_API_KEY: target.serviceApiKey, WRK_TENANT_ID: tenantId };
  log(`fidelity: warming the simulator's routes up (${plan.warmupSeconds} s each)`);
  await warmUp(completionsUrl, 'completions.lua', llmEnv, plan.warmupSeconds);
  await warmUp(chatUrl, 'chat.lua', chatEnv(login), plan.warmupSeconds);

  // LLM proxy at 100 users.
  const llmUsers = plan.llmUsers;
  log(`fidelity: Artillery, LLM proxy, ${llmUsers} users, ${seconds} s`);
  const llm = await measureArtillery(target, {
    scenario: 'scenarios/llm-proxy.yml',
    env: { LLM_DURATION: `${seconds}s` },
    overrides: usersOverrides(llmUsers, 'llm users'),
    clientMetric: 'llm.latency_ms',
    serverRoute: 'api.completions',
    serverFamily: 'llm',
    timeoutMs,
  });
  requireHealthy(
    'Artillery, LLM proxy',
    llm.server.count,
    serverFailures(llm.stats.routes['api.completions']),
  );
  const llmArtillery = artilleryPoint(llmUsers, seconds, llm);

  log(`fidelity: wrk, LLM proxy, ${llmUsers} connections, ${plan.llmThinkMs} ms think`);
  await target.control.resetStats();
  const wrkLlmRun = await withMachineBusy(() =>
    runWrk({
      url: completionsUrl,
      shownUrl: '$API_BASE_URL/v1/chat/completions',
      script: 'completions.lua',
      connections: llmUsers,
      durationSeconds: seconds,
      delayMs: plan.llmThinkMs,
      rampMs: 1000,
      env: llmEnv,
      shownEnv: LLM_SHOWN_ENV,
    }),
  );
  const wrkLlm = wrkLlmRun.value;
  requireHealthy('wrk, LLM proxy', wrkLlm.requests, wrkLlm.errors);
  const wrkLlmServer = await serverTime(target, 'api.completions');
  const llmWrk = point(
    'wrk',
    llmUsers,
    seconds,
    { count: wrkLlm.requests, ...wrkLlm.latencyMs },
    wrkLlmServer.summary,
    {
      requestsPerSecond: wrkLlm.requestsPerSecond,
      serverInFlightMax: wrkLlmServer.inFlight,
      generatorCpuPct: null,
      machineCpuPct: wrkLlmRun.machineCpuPct,
      command: wrkLlm.command,
    },
  );

  log(`fidelity: autocannon, LLM proxy, ${llmUsers} connections at Artillery's rate`);
  await target.control.resetStats();
  const llmLoad = {
    url: completionsUrl,
    method: 'POST' as const,
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      'x-service-api-key': target.serviceApiKey,
      'x-tenant-id': tenantId,
    },
    body: LLM_BODY,
    users: llmUsers,
    ratePerUser: llm.requestsPerSecond / llmUsers,
    durationSeconds: seconds,
  };
  const acLlmRun = await withMachineBusy(() => runAutocannon(llmLoad));
  const acLlm = acLlmRun.value;
  requireHealthy('autocannon, LLM proxy', acLlm.requests, acLlm.errors);
  const acLlmServer = await serverTime(target, 'api.completions');
  const llmAutocannon = point('autocannon', llmUsers, seconds, acLlm.latencyMs, acLlmServer.summary, {
    requestsPerSecond: acLlm.requestsPerSecond,
    serverInFlightMax: acLlmServer.inFlight,
    generatorCpuPct: null,
    machineCpuPct: acLlmRun.machineCpuPct,
    command: autocannonCommand(llmLoad, '$API_BASE_URL/v1/chat/completions', [
      'content-type=application/json',
      'x-service-api-key=$SERVICE_API_KEY',
      'x-tenant-id=$TENANT_ID',
    ]),
  });

  // Chat at 50 users: only short messages, so that one Artillery histogram holds every request.
  const chatUsers = plan.chatUsers;
  log(`fidelity: Artillery, chat, ${chatUsers} users, ${seconds} s`);
  const chat = await measureArtillery(target, {
    scenario: 'scenarios/chat-sessions.yml',
    env: { CHAT_DURATION: `${seconds}s`, CHAT_MIX: '100,0,0' },
    overrides: usersOverrides(chatUsers, 'chat users'),
    clientMetric: 'chat.latency_ms.short',
    serverRoute: 'web.chat',
    serverFamily: 'chat',
    timeoutMs,
  });
  requireHealthy('Artillery, chat', chat.server.count, serverFailures(chat.stats.routes['web.chat']));
  const chatArtillery = artilleryPoint(chatUsers, seconds, chat);

  log(`fidelity: wrk, chat, ${chatUsers} connections, ${plan.chatThinkMs} ms think`);
  await target.control.resetStats();
  const wrkChatRun = await withMachineBusy(() =>
    runWrk({
      url: chatUrl,
      shownUrl: '$WEB_BASE_URL/api/chat',
      script: 'chat.lua',
      connections: chatUsers,
      durationSeconds: seconds,
      delayMs: plan.chatThinkMs,
      rampMs: 1000,
      env: chatEnv(login),
      shownEnv: CHAT_SHOWN_ENV,
    }),
  );
  const wrkChat = wrkChatRun.value;
  requireHealthy('wrk, chat', wrkChat.requests, wrkChat.errors);
  const wrkChatServer = await serverTime(target, 'web.chat');
  const chatWrk = point(
    'wrk',
    chatUsers,
    seconds,
    { count: wrkChat.requests, ...wrkChat.latencyMs },
    wrkChatServer.summary,
    {
      requestsPerSecond: wrkChat.requestsPerSecond,
      serverInFlightMax: wrkChatServer.inFlight,
      generatorCpuPct: null,
      machineCpuPct: wrkChatRun.machineCpuPct,
      command: wrkChat.command,
    },
  );

  log(`fidelity: autocannon, chat, ${chatUsers} connections at Artillery's rate`);
  await target.control.resetStats();
  const chatLoad = {
    url: chatUrl,
    method: 'POST' as const,
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      cookie: login.cookie,
      origin: login.origin,
    },
    body: CHAT_BODY,
    users: chatUsers,
    ratePerUser: chat.requestsPerSecond / chatUsers,
    durationSeconds: seconds,
  };
  const acChatRun = await withMachineBusy(() => runAutocannon(chatLoad));
  const acChat = acChatRun.value;
  requireHealthy('autocannon, chat', acChat.requests, acChat.errors);
  const acChatServer = await serverTime(target, 'web.chat');
  const chatAutocannon = point('autocannon', chatUsers, seconds, acChat.latencyMs, acChatServer.summary, {
    requestsPerSecond: acChat.requestsPerSecond,
    serverInFlightMax: acChatServer.inFlight,
    generatorCpuPct: null,
    machineCpuPct: acChatRun.machineCpuPct,
    command: autocannonCommand(chatLoad, '$WEB_BASE_URL/api/chat', [
      'content-type=application/json',
      'cookie=$SESSION_COOKIE',
      'origin=$WEB_BASE_URL',
    ]),
  });

  return {
    figure: {
      llm: workload('api.completions', llmArtillery, llmWrk, llmAutocannon),
      chat: workload('web.chat', chatArtillery, chatWrk, chatAutocannon),
    },
    llmMeasurement: llm,
  };
}
