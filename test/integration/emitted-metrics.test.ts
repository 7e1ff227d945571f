import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { VUContext, VUEvents } from 'artillery';
import * as chat from '../../processors/chat';
import { terminalUrl } from '../../processors/lib/terminal/link';
import { holdSession } from '../../processors/lib/terminal/session';
import * as session from '../../processors/lib/web-session';
import * as signup from '../../processors/signup';
import * as browser from '../../processors/signup-browser';
import * as terminal from '../../processors/terminal';
import { EmittableMetrics } from '../../scripts/lib/validate/metrics';
import type { Faults } from '../../simulator/src/control-types';
import { ROOT } from '../helpers/paths';
import { type SimulatorHandle, startSimulator } from '../helpers/simulator';

/**
 * Each processor's EMITTED_METRICS (what `npm run validate` trusts) against what its code really
 * emits: the processors' own hooks run in this process against the simulator, healthy and with
 * faults that send them down their failure paths, and every name they emit must be declared.
 * A metric added to the code but not to the list fails here, before an ensure check on it would
 * be rejected by validate or, worse, fail only at the end of a long run.
 */

/** Names a hook emitted, as Artillery would receive them. */
class Recorder implements VUEvents {
  readonly names = new Set<string>();
  readonly counters = new Map<string, number>();
  emit(type: 'counter' | 'histogram' | 'rate', name: string, value?: number): void {
    this.names.add(name);
    if (type === 'counter') this.counters.set(name, (this.counters.get(name) ?? 0) + (value ?? 0));
  }
  counter(name: string): number {
    return this.counters.get(name) ?? 0;
  }
}

function assertDeclared(recorder: Recorder, declared: readonly string[], processor: string): void {
  const emittable = new EmittableMetrics(declared);
  const missing = [...recorder.names].filter((name) => !emittable.canEmit(name)).sort();
  assert.deepEqual(missing, [], `${processor} emitted metrics missing from its EMITTED_METRICS`);
}

const vuContext = (): VUContext => ({ vars: { $environment: 'smoke' } }) as unknown as VUContext;

let sim: SimulatorHandle;
const RUN_ID = `emitted${Date.now().toString(36)}`;

before(async () => {
  sim = await startSimulator({
    seedTenants: 1,
    args: ['--ping-interval', '200ms', '--pong-timeout', '900ms'],
  });
  // The processors parse their settings from the environment once per process: set it first.
  Object.assign(process.env, {
    WEB_BASE_URL: sim.webUrl,
    API_BASE_URL: sim.apiUrl,
    SERVICE_API_KEY: sim.serviceApiKey,
    TENANT_IDS: sim.tenantIds.join(','),
    LOADTEST_RUN_ID: RUN_ID,
    CHAT_DURATION: '60s',
    CHAT_THINK_TIME: '100ms',
    CHAT_MESSAGES_FILE: resolve(ROOT, 'config', 'payloads', 'chat-messages.json'),
    CHAT_REQUEST_TIMEOUT: '5s',
    SIGNUP_REQUEST_TIMEOUT: '5s',
    WS_DURATION: '2s',
    WS_COMMAND_INTERVAL: '200ms',
    WS_COMMAND_TIMEOUT: '300ms',
    WS_RECONNECT_BASE_DELAY: '50ms',
    WS_RECONNECT_MAX_DELAY: '100ms',
  });
});

after(async () => {
  await sim?.stop();
});

async function withFaults(faults: Faults, body: () => Promise<void>): Promise<void> {
  await sim.control.setFaults(faults);
  try {
    await body();
  } finally {
    await sim.control.clearFaults();
  }
}

describe('EMITTED_METRICS covers what each processor emits', () => {
  it('chat-sessions: healthy turns, failed and rate-limited turns, a user without a session', async () => {
    const events = new Recorder();
    const context = vuContext();
    await chat.startChatUser(context, events);
    assert.equal(events.counter('chat.users.ready'), 1, 'the user got a session');
    for (let turn = 0; turn < 3; turn += 1) await chat.sendChatTurn(context, events);
    await withFaults({ routes: { chat: { errorRate: 1, errorStatus: 500 } } }, () =>
      chat.sendChatTurn(context, events),
    );
    // One refusal: the turn waits Retry-After and sends again, which then succeeds.
    await withFaults({ routes: { chat: { errorRate: 1, errorStatus: 429 } } }, async () => {
      const turn = chat.sendChatTurn(context, events);
      for (let waited = 0; events.counter('chat.rate_limited') === 0 && waited < 5000; waited += 20)
        await new Promise((resolve) => setTimeout(resolve, 20));
      await sim.control.clearFaults();
      await turn;
    });
    await withFaults({ auth: { csrfRefuse: true } }, () => chat.startChatUser(vuContext(), events));
    assert.ok(events.counter('chat.success') >= 3, 'healthy turns succeeded');
    assert.ok(events.counter('chat.failures') >= 1, 'the 500 was counted');
    assert.ok(events.counter('chat.rate_limited') >= 1, 'the 429 was counted');
    assert.equal(events.counter('chat.users.failed'), 1, 'the refused login was counted');
    assertDeclared(events, chat.EMITTED_METRICS, 'processors/chat.ts');
  });

  it('signup-tenant-chat: an onboarded user, a failed first chat, a refused login', async () => {
    const events = new Recorder();
    await signup.onboardUser(vuContext(), events);
    await withFaults({ routes: { chat: { errorRate: 1, errorStatus: 500 } } }, () =>
      signup.onboardUser(vuContext(), events),
    );
    await withFaults({ auth: { csrfRefuse: true } }, () => signup.onboardUser(vuContext(), events));
    assert.equal(events.counter('onboarding.success'), 1);
    assert.equal(events.counter('onboarding.failures'), 2);
    assertDeclared(events, signup.EMITTED_METRICS, 'processors/signup.ts');
  });

  it('signup-browser: the signup and login steps it shares, healthy and refused', async () => {
    // The journey itself needs Chromium (test/signup-browser.test.ts); its own names are constants.
    const events = new Recorder();
    session.emitZeroSessionCounters(events);
    for (const name of Object.values(browser.JOURNEY_METRICS)) events.emit('counter', name, 0);
    const transport = new session.WebClient(sim.webUrl, 5000);
    const credentials = session.newTestCredentials(RUN_ID);
    assert.ok((await session.registerAccount(events, transport, credentials)).ok);
    assert.ok((await session.logIn(events, transport, credentials)).ok);
    await withFaults({ auth: { csrfRefuse: true } }, async () => {
      assert.equal(
        (await session.logIn(events, new session.WebClient(sim.webUrl, 5000), credentials)).ok,
        false,
      );
    });
    assert.equal(
      (await session.registerAccount(events, new session.WebClient(sim.webUrl, 5000), credentials)).ok,
      false,
      'the same address twice is a conflict',
    );
    assertDeclared(events, browser.EMITTED_METRICS, 'processors/signup-browser.ts');
  });

  it('terminal-ws: a session with drops, stray and malformed frames; a refused one', async () => {
    const events = new Recorder();
    await withFaults(
      { terminal: { dropAfterMs: 600, dropCode: 1011, strayFrameIntervalMs: 150, malformedFrameRate: 0.3 } },
      () => terminal.holdTerminalSession(vuContext(), events),
    );
    assert.ok(events.counter('terminal.disconnects') >= 1, 'the drops were seen');
    // A wrong key is refused at the handshake: the session fails without ever connecting.
    const refused = await holdSession(
      {
        endpoint: {
          url: terminalUrl(sim.apiUrl, sim.tenantIds[0]!),
          headers: { 'X-Service-API-Key': 'wrong-key', Origin: new URL(sim.webUrl).origin },
          connectTimeoutMs: 2000,
        },
        deadline: performance.now() + 1000,
        cols: 80,
        rows: 24,
        commandIntervalMs: 200,
        commandTimeoutMs: 300,
        reconnectBaseMs: 50,
        reconnectMaxMs: 100,
        maxReconnects: 3,
        recoveryTimeoutMs: 1000,
      },
      events,
    );
    assert.equal(refused.ok, false);
    assert.ok(events.counter('terminal.failures') >= 1);
    assertDeclared(events, terminal.EMITTED_METRICS, 'processors/terminal.ts');
  });
});
