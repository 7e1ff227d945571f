import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT } from '../../../scripts/lib/paths';
import { stopByPid } from '../../../scripts/lib/simulator-process';
import { round2 } from '../percentiles';
import type { BenchPlan } from '../plan';
import type { FidelityPoint, Quantiles, SimulatorCapacityFigure } from '../results';
import { type BenchTarget, logInChatUser } from '../target';
import { CHAT_SHOWN_ENV, LLM_SHOWN_ENV, runWrk } from '../wrk';

/**
 * Figure 4: how much load the simulator itself can answer (wrk, back to back, on its hot routes)
 * relative to a bare node:http server on the same machine, and how much latency it adds at the
 * seed's load compared with that bare server.
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

export async function measureCapacity(
  target: BenchTarget,
  plan: BenchPlan,
  seedLoadWrk: FidelityPoint | undefined,
  log: (line: string) => void,
): Promise<SimulatorCapacityFigure> {
  const connections = plan.capacityConnections;
  const seconds = plan.capacitySeconds;
  const llmEnv = { WRK_SERVICE_API_KEY: target.serviceApiKey, WRK_TENANT_ID: target.tenantIds[0]! };
  const login = await logInChatUser(target);

  return withBareServer(async (bareUrl) => {
    log(`capacity: wrk back to back, ${connections} connections, ${seconds} s per route`);
    const bare = await runWrk({
      url: `${bareUrl}/v1/chat/completions`,
      shownUrl: '$BARE_URL/v1/chat/completions',
      script: 'completions.lua',
      connections,
      durationSeconds: seconds,
      env: llmEnv,
      shownEnv: LLM_SHOWN_ENV,
    });
    const completions = await runWrk({
      url: `${target.apiUrl}/v1/chat/completions`,
      shownUrl: '$API_BASE_URL/v1/chat/completions',
      script: 'completions.lua',
      connections,
      durationSeconds: seconds,
      env: llmEnv,
      shownEnv: LLM_SHOWN_ENV,
    });
    const chat = await runWrk({
      url: `${target.webUrl}/api/chat`,
      shownUrl: '$WEB_BASE_URL/api/chat',
      script: 'chat.lua',
      connections,
      durationSeconds: seconds,
      env: { WRK_COOKIE: login.cookie, WRK_ORIGIN: login.origin },
      shownEnv: CHAT_SHOWN_ENV,
    });
    for (const [name, r] of [
      ['bare', bare],
      ['api.completions', completions],
      ['web.chat', chat],
    ] as const)
      if (r.errors > r.requests * 0.01)
        throw new Error(`wrk against ${name}: ${r.errors} of ${r.requests} failed`);

    // The seed's LLM load against the bare server; the simulator's side is the fidelity figure's wrk run.
    log(`capacity: wrk at the seed's LLM load against the bare server`);
    const seedSeconds = seedLoadWrk?.durationSeconds ?? plan.fidelitySeconds;
    const seedLoad = {
      script: 'completions.lua',
      connections: plan.llmUsers,
      durationSeconds: seedSeconds,
      delayMs: plan.llmThinkMs,
      rampMs: 1000,
      env: llmEnv,
      shownEnv: LLM_SHOWN_ENV,
    };
    const bareAtSeed = await runWrk({
      ...seedLoad,
      url: `${bareUrl}/v1/chat/completions`,
      shownUrl: '$BARE_URL/v1/chat/completions',
    });
    let simulatorMs: Quantiles;
    let serverMs: Quantiles;
    if (seedLoadWrk) {
      simulatorMs = seedLoadWrk.clientMs;
      serverMs = seedLoadWrk.serverMs;
    } else {
      await target.control.resetStats();
      const sim = await runWrk({ ...seedLoad, url: `${target.apiUrl}/v1/chat/completions` });
      simulatorMs = q(sim.latencyMs);
      const route = (await target.control.stats()).routes['api.completions'];
      serverMs = q(route?.latencyMs ?? { p50: Number.NaN, p99: Number.NaN });
    }
    const bareMs = q(bareAtSeed.latencyMs);
    const ratio = (rps: number) => round2(rps / bare.requestsPerSecond);
    return {
      connections,
      durationSeconds: seconds,
      bare: { requestsPerSecond: round2(bare.requestsPerSecond), command: bare.command },
      routes: [
        {
          route: 'api.completions',
          requestsPerSecond: round2(completions.requestsPerSecond),
          ratioToBare: ratio(completions.requestsPerSecond),
          command: completions.command,
        },
        {
          route: 'web.chat',
          requestsPerSecond: round2(chat.requestsPerSecond),
          ratioToBare: ratio(chat.requestsPerSecond),
          command: chat.command,
        },
      ],
      addedLatency: {
        simulatorMs,
        bareMs,
        addedMs: { p50: round2(simulatorMs.p50 - bareMs.p50), p99: round2(simulatorMs.p99 - bareMs.p99) },
        serverMs,
        command: bareAtSeed.command,
      },
    };
  });
}
