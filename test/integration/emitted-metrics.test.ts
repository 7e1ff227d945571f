import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { VUContext, VUEvents } from 'artillery';
import { parse } from 'yaml';
import { applyLimitSettings, type EnsureCondition } from '../../config/limits';
import * as chat from '../../processors/chat';
import { terminalUrl } from '../../processors/lib/terminal/link';
import { holdSession } from '../../processors/lib/terminal/session';
import * as signup from '../../processors/signup';
import * as terminal from '../../processors/terminal';
import { EmittableMetrics } from '../../scripts/lib/validate/metrics';
import type { Faults } from '../../simulator/src/control-types';
import { type ArtilleryRunResult, explain, runArtillery } from '../helpers/artillery';
import { scenarioPath } from '../helpers/paths';
import { type SimulatorHandle, startSimulator } from '../helpers/simulator';

/**
 * Each processor's EMITTED_METRICS (what `npm run validate` trusts) against what its code really
 * emits: the HTTP scenarios run in real Artillery (their hooks live in the YAML's flow), the others'
 * functions in this process, against the simulator, healthy and with faults that send them down
 * their failure paths; every name they emit must be declared.
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

/** A terminal user's context as Artillery builds it: the target and the environment's variables. */
const terminalContext = (): VUContext =>
  ({
    vars: { $environment: 'smoke', target: sim.apiUrl, loopDuration: '2s', commandInterval: '200ms' },
  }) as unknown as VUContext;

/** Artillery's own metrics, its plugins' (metrics-by-endpoint, agentteams' generator.*): not the processor's. */
const NOT_THE_PROCESSORS = /^(http|vusers|errors|plugins|generator)\./;

/** Every custom name a run reported must be declared by the scenario's processor. */
function assertRunDeclared(run: ArtilleryRunResult, declared: readonly string[], processor: string): void {
  const aggregate = run.report?.aggregate;
  assert.ok(aggregate, explain(run));
  const names = [...Object.keys(aggregate.counters), ...Object.keys(aggregate.summaries)].filter(
    (name) => !NOT_THE_PROCESSORS.test(name),
  );
  const emittable = new EmittableMetrics(declared);
  const missing = names.filter((name) => !emittable.canEmit(name)).sort();
  assert.deepEqual(missing, [], `${processor} emitted metrics missing from its EMITTED_METRICS`);
}

/** The smoke profile of an HTTP scenario, generator limits lifted (not this test's subject). */
function runScenario(name: string, env: Record<string, string>): Promise<ArtilleryRunResult> {
  const script = parse(readFileSync(scenarioPath(name), 'utf8')) as {
    config: { ensure: { conditions: EnsureCondition[] } };
  };
  const { conditions } = applyLimitSettings(script.config.ensure.conditions, name, {
    GENERATOR_CPU_P95_PCT: '1000',
    GENERATOR_LAG_P99_MS: '60000',
  });
  return runArtillery({
    scenario: scenarioPath(name),
    environment: 'smoke',
    overrides: { config: { ensure: { conditions } } },
    env: {
      WEB_BASE_URL: sim.webUrl,
      API_BASE_URL: sim.apiUrl,
      API_JWT_SECRET: sim.jwtSecret,
      LOADTEST_RUN_ID: `${RUN_ID}${name.length}${Date.now().toString(36)}`,
      ...env,
    },
    timeoutMs: 90_000,
  });
}

let sim: SimulatorHandle;
const RUN_ID = `emitted${Date.now().toString(36)}`;

before(async () => {
  sim = await startSimulator({
    seedTenants: 1,
    // A low rate limit sends the chat users down the 429 path as well.
    args: [
      '--ping-interval',
      '200ms',
      '--pong-timeout',
      '900ms',
      '--rate-limit',
      '6',
      '--rate-limit-window',
      '2s',
    ],
  });
  // The processors parse their settings from the environment once per process: set it first.
  Object.assign(process.env, {
    WEB_BASE_URL: sim.webUrl,
    API_BASE_URL: sim.apiUrl,
    SERVICE_API_KEY: sim.serviceApiKey,
    TENANT_IDS: sim.tenantIds.join(','),
    LOADTEST_RUN_ID: RUN_ID,
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
  it('chat-sessions: healthy turns, failed and rate-limited turns, users without a session', async () => {
    await withFaults({ routes: { chat: { errorRate: 0.3, errorStatus: 500 } } }, async () => {
      const run = await runScenario('chat-sessions', { CHAT_DURATION: '4s', CHAT_THINK_TIME: '100ms' });
      assert.ok(run.report?.aggregate.counters['chat.success'], explain(run));
      assert.ok(run.report?.aggregate.counters['chat.failures.chat_failed'], explain(run));
      assert.ok(run.report?.aggregate.counters['chat.rate_limited'], explain(run));
      assertRunDeclared(run, chat.EMITTED_METRICS, 'processors/chat.ts');
    });
    await withFaults({ auth: { csrfRefuse: true } }, async () => {
      const run = await runScenario('chat-sessions', { CHAT_DURATION: '1s' });
      assert.ok(run.report?.aggregate.counters['chat.users.failed'], explain(run));
      assertRunDeclared(run, chat.EMITTED_METRICS, 'processors/chat.ts');
    });
  });

  it('signup-tenant-chat: onboarded users, failed first chats, the container finding, a refused login', async () => {
    await withFaults({ routes: { chat: { errorRate: 0.5, errorStatus: 500 } } }, async () => {
      const run = await runScenario('signup-tenant-chat', {});
      assert.ok(run.report?.aggregate.counters['onboarding.tenants_without_container'], explain(run));
      assert.ok(run.report?.aggregate.counters['onboarding.failures.chat_failed'], explain(run));
      assertRunDeclared(run, signup.EMITTED_METRICS, 'processors/signup.ts');
    });
    await withFaults({ auth: { csrfRefuse: true } }, async () => {
      const run = await runScenario('signup-tenant-chat', {});
      assert.ok(run.report?.aggregate.counters['login.failures.csrf_refused'], explain(run));
      assertRunDeclared(run, signup.EMITTED_METRICS, 'processors/signup.ts');
    });
  });

  it('terminal-ws: a session with drops, stray and malformed frames; a refused one', async () => {
    const events = new Recorder();
    await withFaults(
      { terminal: { dropAfterMs: 600, dropCode: 1011, strayFrameIntervalMs: 150, malformedFrameRate: 0.3 } },
      () => terminal.holdTerminalSession(terminalContext(), events),
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
