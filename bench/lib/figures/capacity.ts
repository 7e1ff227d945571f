import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT } from '../../../scripts/lib/paths';
import { stopByPid } from '../../../scripts/lib/simulator-process';
import { round2 } from '../percentiles';
import type { BenchPlan } from '../plan';
import type { Quantiles, SimulatorCapacityFigure } from '../results';
import { type BenchTarget, logInChatUser } from '../target';
import { chatEnv, warmUp } from '../warmup';
import { CHAT_SHOWN_ENV, LLM_SHOWN_ENV, runWrk } from '../wrk';

/**
 * Figure 4: how much load the simulator itself can answer (wrk, back to back, on its hot routes)
 * relative to a bare node:http server on the same machine, and how much latency it adds at the
 * target load compared with that bare server. Modelled delays are zero meanwhile: they are the
 * simulated platform's time, not the simulator's cost.
 */

export const BARE_SERVER = resolve(ROOT, 'dist', 'bench', 'bare-server.js');

async function withBareServer<T>(use: (url: string) => Promise<T>): Promise<T> {
  const child = spawn(process.execPath, [BARE_SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const url = await new Promise<string>((resolveUrl, reject) => {
      const timer = setTimeout(() => reject(new Error('bare server did not start')), 10_000);
      child.once('exit', (code) => reject(new Error(`bare server exited ${code}`)));
      createInterface({ input: child.stdout }).on('line', (line) => {
        const match = /^BARE_URL=(.+)$/.exec(line);
        if (!match) return;
        clearTimeout(timer);
        resolveUrl(match[1]!);
      });
    });
    return await use(url);
  } finally {
    await stopByPid(child);
  }
}

const q = (s: Quantiles): Quantiles => ({ p50: round2(s.p50), p99: round2(s.p99) });
const ZERO = { kind: 'fixed', ms: 0 } as const;

/**
 * Runs `measure` with the simulator's modelled delays (model time, proxy time, chat) at zero, so
 * that what remains is the simulator's own code; the models are restored afterwards.
 */
async function withoutModelledDelays<T>(target: BenchTarget, measure: () => Promise<T>): Promise<T> {
  const saved = await target.control.getLatency();
  await target.control.patchLatency({
    models: { ...saved.models, modelFirstToken: ZERO, modelPerToken: ZERO, proxyApp: ZERO, chat: ZERO },
  });
  try {
    return await measure();
  } finally {
    await target.control.patchLatency({ models: saved.models });
  }
}

export async function measureCapacity(
  target: BenchTarget,
  plan: BenchPlan,
  log: (line: string) => void,
): Promise<SimulatorCapacityFigure> {
  const connections = plan.capacityConnections;
  const seconds = plan.capacitySeconds;
  const llmEnv = { WRK_SERVICE_API_KEY: target.serviceApiKey, WRK_TENANT_ID: target.tenantIds[0]! };
  const login = await logInChatUser(target);
  const completionsPath = '/v1/chat/completions';

  return withBareServer((bareUrl) =>
    withoutModelledDelays(target, async () => {
      log(
        `capacity: wrk back to back, ${connections} connections, ${seconds} s per route, modelled delays 0`,
      );
      const backToBack = { connections, durationSeconds: seconds };
      const completionsUrl = `${target.apiUrl}${completionsPath}`;
      const chatUrl = `${target.webUrl}/api/chat`;
      await warmUp(`${bareUrl}${completionsPath}`, 'completions.lua', llmEnv, plan.warmupSeconds);
      const bare = await runWrk({
        ...backToBack,
        url: `${bareUrl}${completionsPath}`,
        shownUrl: `$BARE_URL${completionsPath}`,
        script: 'completions.lua',
        env: llmEnv,
        shownEnv: LLM_SHOWN_ENV,
      });
      await warmUp(completionsUrl, 'completions.lua', llmEnv, plan.warmupSeconds);
      const completions = await runWrk({
        ...backToBack,
        url: completionsUrl,
        shownUrl: `$API_BASE_URL${completionsPath}`,
        script: 'completions.lua',
        env: llmEnv,
        shownEnv: LLM_SHOWN_ENV,
      });
      await warmUp(chatUrl, 'chat.lua', chatEnv(login), plan.warmupSeconds);
      const chat = await runWrk({
        ...backToBack,
        url: chatUrl,
        shownUrl: '$WEB_BASE_URL/api/chat',
        script: 'chat.lua',
        env: chatEnv(login),
        shownEnv: CHAT_SHOWN_ENV,
      });
      for (const [name, r] of [
        ['bare', bare],
        ['api.completions', completions],
        ['web.chat', chat],
      ] as const)
        if (r.errors > r.requests * 0.01)
          throw new Error(`wrk against ${name}: ${r.errors} of ${r.requests} failed`);

      log(
        `capacity: wrk at the target LLM load, simulator and bare server, ${plan.targetLoadSeconds} s each`,
      );
      const targetLoad = {
        script: 'completions.lua',
        connections: plan.llmUsers,
        durationSeconds: plan.targetLoadSeconds,
        delayMs: plan.llmThinkMs,
        rampMs: 1000,
        env: llmEnv,
        shownEnv: LLM_SHOWN_ENV,
      };
      const bareAtTarget = await runWrk({
        ...targetLoad,
        url: `${bareUrl}${completionsPath}`,
        shownUrl: `$BARE_URL${completionsPath}`,
      });
      await target.control.resetStats();
      const simAtTarget = await runWrk({
        ...targetLoad,
        url: `${target.apiUrl}${completionsPath}`,
        shownUrl: `$API_BASE_URL${completionsPath}`,
      });
      const server = (await target.control.stats()).routes['api.completions']?.latencyMs;
      if (!server) throw new Error('the simulator saw no api.completions request');
      const simulatorMs = q(simAtTarget.latencyMs);
      const bareMs = q(bareAtTarget.latencyMs);
      const ratio = (rps: number) => round2(rps / bare.requestsPerSecond);
      const route = (name: string, r: typeof completions) => ({
        route: name,
        requestsPerSecond: round2(r.requestsPerSecond),
        ratioToBare: ratio(r.requestsPerSecond),
        command: r.command,
      });
      return {
        connections,
        durationSeconds: seconds,
        bare: { requestsPerSecond: round2(bare.requestsPerSecond), command: bare.command },
        routes: [route('api.completions', completions), route('web.chat', chat)],
        addedLatency: {
          simulatorMs,
          bareMs,
          addedMs: { p50: round2(simulatorMs.p50 - bareMs.p50), p99: round2(simulatorMs.p99 - bareMs.p99) },
          serverMs: q(server),
          durationSeconds: plan.targetLoadSeconds,
          command: simAtTarget.command,
        },
      };
    }),
  );
}
