import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { VUContext, VUEvents } from 'artillery';
import fc from 'fast-check';
import { parse } from 'yaml';
import { applyLimitSettings, type EnsureCondition } from '../../config/limits';
import { FrameClassifier } from '../../processors/lib/terminal/frames';
import { NonceScanner } from '../../processors/lib/terminal/nonce-scanner';
import { holdTerminalSession } from '../../processors/terminal';
import type { Faults } from '../../simulator/src/control-types';
import {
  type ArtilleryRunResult,
  counter,
  explain,
  runArtillery,
  summary,
  verdict,
} from '../helpers/artillery';
import { scenarioPath } from '../helpers/paths';
import { type SimulatorHandle, startSimulator } from '../helpers/simulator';

/**
 * scenarios/terminal-ws.yml against the simulator's terminal WebSocket, smoke-sized: the smoke
 * profile's 3 sockets held for a few seconds with a command every 250 ms, and a server keepalive
 * (ping every 300 ms, drop after 900 ms without pong) far shorter than the session, so a client
 * that did not answer pings would be dropped in every run. The target is given as Artillery's
 * `-t`, with API_BASE_URL naming a server that has no terminal: the sockets must follow the target.
 */
const SESSION_CHECK = 'not (terminal.sessions.started > 0) or terminal.sessions.completed';
const RTT_CHECK = 'not (terminal.sessions.started > 0) or terminal.rtt_ms';
const ECHO_DELAY_MS = 300;

async function withSimulator(faults: Faults, run: (sim: SimulatorHandle) => Promise<void>): Promise<void> {
  const sim = await startSimulator({
    seedTenants: 2,
    args: ['--ping-interval', '300ms', '--pong-timeout', '900ms'],
  });
  try {
    await sim.control.setFaults(faults);
    await run(sim);
  } finally {
    await sim.stop();
  }
}

const SCRIPT = parse(readFileSync(scenarioPath('terminal-ws'), 'utf8')) as {
  config: { ensure: { conditions: EnsureCondition[] } };
};

/** The `--overrides` the runner passes for limit settings (config/limits.ts). */
function limitOverrides(limits: Record<string, string>) {
  const applied = applyLimitSettings(SCRIPT.config.ensure.conditions, 'terminal-ws', limits);
  assert.deepEqual(applied.problems, []);
  assert.deepEqual(Object.keys(applied.applied).sort(), Object.keys(limits).sort());
  return { config: { ensure: { conditions: applied.conditions } } };
}

interface TerminalRun {
  env?: Record<string, string | undefined>;
  environment?: string;
  limits?: Record<string, string>;
}

function runTerminal(sim: SimulatorHandle, run: TerminalRun = {}) {
  return runArtillery({
    scenario: scenarioPath('terminal-ws'),
    environment: run.environment ?? 'smoke',
    timeoutMs: 60_000,
    // The web app's server: its terminal path is a 404, so a socket opened from API_BASE_URL
    // instead of the target would fail every session.
    extraArgs: ['-t', sim.apiUrl],
    ...(run.limits ? { overrides: limitOverrides(run.limits) } : {}),
    env: {
      API_BASE_URL: sim.webUrl,
      WEB_BASE_URL: sim.webUrl,
      SERVICE_API_KEY: sim.serviceApiKey,
      TENANT_IDS: sim.tenantIds.join(','),
      WS_TENANT_IDS: undefined,
      API_BEARER_TOKEN: undefined,
      WS_DURATION: '4s',
      WS_COMMAND_INTERVAL: '250ms',
      WS_COMMAND_TIMEOUT: '1s',
      WS_RTT_P99_MS: undefined,
      ...run.env,
    },
  });
}

/**
 * Every server drop is a client disconnect, except one that fires in the same instant as the
 * session's own closing handshake at the end of the run (the server counts it, the client had
 * already asked to close): at most one per socket, and in practice none.
 */
function assertDropsMatch(serverDrops: number, clientDisconnects: number, detail: string): void {
  assert.ok(
    serverDrops >= clientDisconnects && serverDrops <= clientDisconnects + 3,
    `server drops ${serverDrops}, client disconnects ${clientDisconnects}: ${detail}`,
  );
}

const workerErrors = (result: ArtilleryRunResult) =>
  Object.keys(result.report?.aggregate.counters ?? {}).filter((name) => name.startsWith('errors.'));

describe('terminal-ws scenario', () => {
  it('measures the round trip as the injected echo delay on the -t target, answers pings and passes the gate', async () => {
    await withSimulator({ terminal: { echoDelayMs: ECHO_DELAY_MS } }, async (sim) => {
      const result = await runTerminal(sim);
      const why = explain(result);
      assert.equal(result.exitCode, 0, why);
      assert.equal(verdict(result, SESSION_CHECK)?.ok, true, why);
      assert.equal(verdict(result, RTT_CHECK)?.ok, true, why);
      assert.equal(counter(result, 'terminal.sessions.started'), 3, why);
      assert.equal(counter(result, 'terminal.sessions.completed'), 3, why);
      assert.equal(counter(result, 'terminal.disconnects'), 0, why);

      const rtt = summary(result, 'terminal.rtt_ms');
      // Enough round trips for the p99 check to decide (20 samples), not "few samples".
      assert.ok(rtt && rtt.count >= 20, `expected round trips: ${JSON.stringify(rtt)}\n${why}`);
      // The TTY echoes the typed line at once; only the command's output (after the delay) counts.
      // Artillery's summaries keep values to ~1% relative accuracy, hence 0.98.
      assert.ok(rtt.min >= ECHO_DELAY_MS * 0.98, `rtt below the injected delay: ${JSON.stringify(rtt)}`);
      assert.ok(rtt.median <= ECHO_DELAY_MS + 100, `rtt median far above the delay: ${JSON.stringify(rtt)}`);
      console.log(`terminal rtt with ${ECHO_DELAY_MS} ms echo delay: ${JSON.stringify(rtt)}`);

      const stats = await sim.control.stats();
      assert.ok(counter(result, 'terminal.pings_received') > 0, why);
      assert.equal(stats.terminal.drops, 0, 'the server dropped a socket: pongs not answered?');
      assert.equal(stats.terminal.connectionsOpened, 3);
      assert.equal(stats.terminal.resizes, 3);
      assert.equal(stats.terminal.closesByCode['1000'], 3, JSON.stringify(stats.terminal.closesByCode));
      assert.ok(stats.terminal.commandsExecuted >= rtt.count, JSON.stringify(stats.terminal));
    });
  });

  it('fails the round-trip check when the shell answers slower than WS_RTT_P99_MS', async () => {
    await withSimulator({ terminal: { echoDelayMs: ECHO_DELAY_MS } }, async (sim) => {
      const result = await runTerminal(sim, { limits: { WS_RTT_P99_MS: String(ECHO_DELAY_MS - 100) } });
      const why = explain(result);
      assert.ok((summary(result, 'terminal.rtt_ms')?.count ?? 0) >= 20, why);
      assert.equal(result.exitCode, 1, why);
      assert.equal(verdict(result, RTT_CHECK)?.ok, false, why);
      assert.ok(verdict(result, RTT_CHECK)?.check.endsWith(`p99 < ${ECHO_DELAY_MS - 100}`), why);
      assert.equal(verdict(result, SESSION_CHECK)?.ok, true, why);
    });
  });

  it('counts drops by close code, reconnects after each one, and fails the session check', async () => {
    const dropCode = 4001;
    await withSimulator({ terminal: { dropAfterMs: 500, dropCode } }, async (sim) => {
      const result = await runTerminal(sim, { env: { WS_DURATION: '5s' } });
      const why = explain(result);
      const stats = await sim.control.stats();
      const simulated = JSON.stringify(stats.terminal);
      const disconnects = counter(result, 'terminal.disconnects');
      assert.ok(disconnects >= 3 * 4, `${simulated}\n${why}`);
      // The server records a drop's own code only when the client answered it: exact.
      assert.equal(disconnects, stats.terminal.closesByCode[String(dropCode)], `${simulated}\n${why}`);
      assert.equal(counter(result, `terminal.disconnects.code_${dropCode}`), disconnects, why);
      assertDropsMatch(stats.terminal.drops, disconnects, simulated);
      assert.equal(counter(result, 'terminal.reconnects'), disconnects, why);
      assert.equal(summary(result, 'terminal.reconnect_ms')?.count, disconnects, why);
      // More reconnects than WS_MAX_RECONNECTS (3) in one session: it did not hold.
      assert.equal(counter(result, 'terminal.sessions.failed'), 3, why);
      assert.equal(counter(result, 'terminal.session_failures.too_many_reconnects'), 3, why);
      assert.equal(verdict(result, SESSION_CHECK)?.ok, false, why);
      assert.equal(result.exitCode, 1, why);
      console.log(
        `terminal drops: client ${disconnects} (code ${dropCode}), server closesByCode ${JSON.stringify(stats.terminal.closesByCode)}, drops ${stats.terminal.drops}`,
      );
    });
  });

  it('counts abrupt drops (no close frame) as code 1006', async () => {
    await withSimulator({ terminal: { dropAfterMs: 1500 } }, async (sim) => {
      const result = await runTerminal(sim, { env: { WS_DURATION: '3s' } });
      const why = explain(result);
      const stats = await sim.control.stats();
      const disconnects = counter(result, 'terminal.disconnects.code_1006');
      assert.ok(disconnects >= 3, `${JSON.stringify(stats.terminal)}\n${why}`);
      assert.equal(counter(result, 'terminal.disconnects'), disconnects, why);
      assertDropsMatch(stats.terminal.drops, disconnects, JSON.stringify(stats.terminal));
      assert.equal(counter(result, 'terminal.reconnects'), disconnects, why);
      console.log(
        `terminal abrupt drops: client code_1006 ${disconnects}, server drops ${stats.terminal.drops}`,
      );
    });
  });

  it('counts stray and malformed frames without crashing a worker', async () => {
    const faults: Faults = { terminal: { strayFrameIntervalMs: 100, malformedFrameRate: 0.3 } };
    await withSimulator(faults, async (sim) => {
      const result = await runTerminal(sim, { env: { WS_DURATION: '3s' } });
      const why = explain(result);
      const stats = await sim.control.stats();
      assert.deepEqual(workerErrors(result), [], why);
      assert.equal(counter(result, 'vusers.failed'), 0, why);
      assert.equal(counter(result, 'terminal.sessions.completed'), 3, why);
      assert.ok(stats.terminal.strayFramesSent > 10, JSON.stringify(stats.terminal));
      assert.ok(stats.terminal.malformedFramesSent > 0, JSON.stringify(stats.terminal));
      // Frames still in flight when a socket closes may be lost, never invented.
      const stray = counter(result, 'terminal.stray_frames');
      const malformed = counter(result, 'terminal.malformed_frames');
      assert.ok(stray > 0 && stray <= stats.terminal.strayFramesSent, `stray ${stray}\n${why}`);
      assert.ok(
        stray >= stats.terminal.strayFramesSent - 3,
        `stray ${stray} of ${stats.terminal.strayFramesSent}`,
      );
      assert.ok(
        malformed > 0 && malformed <= stats.terminal.malformedFramesSent,
        `malformed ${malformed}\n${why}`,
      );
      assert.equal(result.exitCode, 0, why);
    });
  });

  it('names refused handshakes by cause (Origin, auth) and counts those sessions as failed', async () => {
    await withSimulator({}, async (sim) => {
      // The API's own origin is not the web app's: the terminal refuses it.
      const foreignOrigin = await runTerminal(sim, { env: { WEB_BASE_URL: sim.apiUrl, WS_DURATION: '2s' } });
      let why = explain(foreignOrigin);
      assert.equal(counter(foreignOrigin, 'terminal.failures.origin_refused'), 3, why);
      assert.equal(counter(foreignOrigin, 'terminal.session_failures.refused'), 3, why);
      assert.equal(verdict(foreignOrigin, SESSION_CHECK)?.ok, false, why);

      const wrongKey = await runTerminal(sim, { env: { SERVICE_API_KEY: 'not-the-key', WS_DURATION: '2s' } });
      why = explain(wrongKey);
      assert.equal(counter(wrongKey, 'terminal.failures.unauthorized'), 3, why);
      assert.equal(counter(wrongKey, 'terminal.sessions.failed'), 3, why);
      assert.deepEqual([...workerErrors(foreignOrigin), ...workerErrors(wrongKey)], [], why);
      assert.equal((await sim.control.stats()).terminal.connectionsOpened, 0);
    });
  });

  describe('in the load profile (no terminal users)', () => {
    let sim: SimulatorHandle;
    before(async () => {
      sim = await startSimulator({ seedTenants: 1 });
    });
    after(async () => {
      await sim.stop();
    });

    it('opens no socket and applies no gate', async () => {
      const result = await runTerminal(sim, { environment: 'load' });
      const why = explain(result);
      assert.equal(result.exitCode, 0, why);
      assert.equal(counter(result, 'terminal.sessions.started'), 0, why);
      assert.ok(result.ensure.length > 0 && result.ensure.every((v) => v.ok), why);
      assert.equal((await sim.control.stats()).terminal.connectionsOpened, 0);
    });
  });
});

describe('terminal session settings', () => {
  class Recorder implements VUEvents {
    readonly counters = new Map<string, number>();
    emit(type: 'counter' | 'histogram' | 'rate', name: string, value?: number): void {
      if (type === 'counter') this.counters.set(name, (this.counters.get(name) ?? 0) + (value ?? 0));
    }
  }
  const context = (vars: Record<string, unknown>) => ({ vars }) as unknown as VUContext;

  // The plugin refuses these before any load; the processor still fails the session by cause.
  it('fails the session as bad_settings, naming the setting, without a tenant', async () => {
    const saved = { ...process.env };
    try {
      for (const name of ['TENANT_IDS', 'WS_TENANT_IDS']) delete process.env[name];
      const noTenant = new Recorder();
      await assert.rejects(
        holdTerminalSession(context({ target: 'http://127.0.0.1:9', loopDuration: '1s' }), noTenant),
        /WS_TENANT_IDS or TENANT_IDS/,
      );
      assert.equal(noTenant.counters.get('terminal.session_failures.bad_settings'), 1);
      assert.equal(noTenant.counters.get('terminal.sessions.started'), 1);
    } finally {
      process.env = saved;
    }
  });
});

describe('terminal output scanning', () => {
  const nonce = 'lt0123456789ab';
  // What a TTY sends back for `echo <nonce>\n`: the typed line, then the command's output.
  const typed = `agent@sim:~$ echo ${nonce}\r\n`;
  const output = `${nonce}\r\nagent@sim:~$ `;

  /** Feeds `text` cut at the given positions; returns how many characters it took to see the nonce (-1: never). */
  function feed(text: string, cuts: number[]): number {
    const scanner = new NonceScanner(nonce);
    const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
    const chunks: string[] = [];
    let from = 0;
    for (const point of [...points, text.length]) {
      chunks.push(text.slice(from, point));
      from = point;
    }
    let seenAt = -1;
    let offset = 0;
    for (const chunk of chunks) {
      offset += chunk.length;
      if (scanner.push(Buffer.from(chunk, 'latin1')) && seenAt < 0) seenAt = offset;
    }
    return seenAt;
  }

  it('finds the nonce in the output however the frames split it, never in the echo of the typed line', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(200), { maxLength: 12 }), (cuts) => {
        const seenAt = feed(typed + output, cuts);
        assert.ok(seenAt >= typed.length + nonce.length, `seen at ${seenAt}`);
        assert.equal(feed(typed, cuts), -1);
      }),
    );
  });

  it('counts empty and text frames as stray, invalid UTF-8 as malformed, and a split character as output', () => {
    const frames = new FrameClassifier();
    assert.equal(frames.classify(Buffer.alloc(0), true), 'stray');
    assert.equal(frames.classify(Buffer.from('{"type":"x"}'), false), 'stray');
    assert.equal(frames.classify(Buffer.from([0xff, 0xfe, 0xc3, 0x28]), true), 'malformed');
    const euro = Buffer.from('€');
    assert.equal(frames.classify(euro.subarray(0, 1), true), 'output');
    assert.equal(frames.classify(euro.subarray(1), true), 'output');
  });
});
