import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Faults, MalformedKind, RouteFamily, RouteFault } from '../../simulator/src/control-types';
import { type ArtilleryRunResult, counter, explain, runArtillery, summary } from '../helpers/artillery';
import { scenarioPath } from '../helpers/paths';
import { type SimulatorHandle, startSimulator } from '../helpers/simulator';

/**
 * Broken answers never crash an Artillery worker (exit 11, no summary). Each scenario runs
 * smoke-sized while the simulator answers its routes with HTML error pages, truncated JSON, a wrong
 * content type, empty bodies, connection resets and bodies slower than the request timeout (the
 * terminal: stray and malformed frames and reset upgrades). The run must end normally (exit 0 or 1:
 * a gate may fail, the worker may not), write its --output JSON, and count each failure by cause.
 *
 * A request without an answer (reset, timeout) never reaches afterResponse: Artillery counts it as
 * `errors.<code>` and ends that user, after the scenario's onError hook has counted its cause. So
 * the errors Artillery counts are transport errors only (a processor that threw would show up
 * there by its message), and every attempt is a success or a failure by cause.
 */

const RUN_TIMEOUT_MS = 120_000;
const outDir = mkdtempSync(join(tmpdir(), 'resilience-'));
after(() => rmSync(outDir, { recursive: true, force: true }));

/** One step of the fault rotation: which malformed kind (or slow body) is on, for how long. */
interface FaultStep {
  label: string;
  fault: RouteFault;
}

const RESET_RATE = 0.1;
const malformedStep = (kind: MalformedKind): FaultStep => ({
  label: kind,
  fault: { malformedRate: 0.3, malformedKind: kind, resetRate: RESET_RATE },
});
/** The scenarios' request timeout in these runs (their `*_REQUEST_TIMEOUT` setting). */
const REQUEST_TIMEOUT = '700ms';
const SLOW_MS = 1500;
/**
 * Headers and a first chunk at once, the rest of the body trickled over SLOW_MS. Artillery's
 * engine times a request to its response headers (got's `timeout.response`), so a trickled body
 * is no timeout: it is read whole, late, and its latency says so. No resets in this step, so that
 * every slow body is read to its end.
 */
const slowStep: FaultStep = { label: 'slow-body', fault: { slowBodyMs: SLOW_MS } };

/** An answer later than the request timeout: the engine gives up, a `timeout` failure. */
const lateStep: FaultStep = { label: 'late-answer', fault: { delayMs: SLOW_MS, resetRate: RESET_RATE } };

const ALL_KINDS: MalformedKind[] = ['html', 'truncated-json', 'wrong-content-type', 'empty'];

/**
 * Cycles the fault steps on the given families while Artillery runs (faults apply to the next
 * request), and notes which steps the simulator actually served malformed or slow answers under.
 */
function rotateFaults(sim: SimulatorHandle, families: RouteFamily[], steps: FaultStep[], everyMs: number) {
  const served = new Map<string, number>();
  const apply = (step: FaultStep) => {
    const routes: Faults['routes'] = {};
    for (const family of families) routes[family] = step.fault;
    return sim.control.setFaults({ routes });
  };
  const hitsNow = async () => {
    const stats = await sim.control.stats();
    return families.reduce((sum, family) => {
      const f = stats.faults[family];
      return sum + (f ? f.malformed + f.slowBodies + f.delayed : 0);
    }, 0);
  };
  let index = 0;
  let mark = 0;
  let busy = Promise.resolve();
  const close = async () => {
    const hits = await hitsNow();
    const label = steps[index % steps.length]!.label;
    served.set(label, (served.get(label) ?? 0) + hits - mark);
    mark = hits;
  };
  let timer: NodeJS.Timeout | undefined;
  return {
    async start(): Promise<void> {
      await sim.control.resetStats();
      await apply(steps[0]!);
      timer = setInterval(() => {
        busy = busy.then(async () => {
          await close();
          index += 1;
          await apply(steps[index % steps.length]!);
        });
      }, everyMs);
    },
    async stop(): Promise<Map<string, number>> {
      clearInterval(timer);
      await busy;
      await close();
      await sim.control.clearFaults();
      return served;
    },
  };
}

function assertSurvived(result: ArtilleryRunResult, outputPath: string): void {
  assert.equal(result.signal, null, `Artillery was killed by a signal\n${explain(result)}`);
  assert.equal(result.timedOut, false, `Artillery did not finish\n${explain(result)}`);
  assert.ok(
    result.exitCode === 0 || result.exitCode === 1,
    `exit ${result.exitCode}: a worker crashed (11) or the run broke\n${explain(result)}`,
  );
  assert.ok(existsSync(outputPath), `no --output JSON at ${outputPath}\n${explain(result)}`);
  assert.ok(result.report, 'the --output JSON is readable');
  assert.match(result.stdout, /Summary report/, 'Artillery printed its summary');
}

const errorCounters = (result: ArtilleryRunResult): Array<[string, number]> =>
  Object.entries(result.report?.aggregate.counters ?? {}).filter(([name]) => name.startsWith('errors.'));

/** Errors Artillery counted that are not transport errors (`errors.ECONNRESET`, `errors.ETIMEDOUT`): a processor that threw. */
function uncaughtErrors(result: ArtilleryRunResult): string[] {
  return errorCounters(result)
    .map(([name]) => name)
    .filter((name) => !/^errors\.E[A-Z0-9_]+$/.test(name));
}

/** Requests that got no answer, as Artillery counted them (each ended its user). */
const transportErrors = (result: ArtilleryRunResult): number =>
  errorCounters(result).reduce((sum, [, n]) => sum + n, 0);

/**
 * The books balance: every attempt is a success or a failure by cause, and every transport error
 * Artillery counted is a `connection_error` or `timeout` failure of the area.
 */
function assertCountsBalance(result: ArtilleryRunResult, area: string, attempts = `${area}.attempts`): void {
  const counted = causes(result, area);
  assert.ok(counter(result, attempts) > 0, `${attempts} counted\n${explain(result)}`);
  assert.equal(
    counter(result, attempts),
    counter(result, `${area}.success`) + counter(result, `${area}.failures`),
    `${attempts} = ${area}.success + ${area}.failures (${counted})`,
  );
  assert.ok(
    transportErrors(result) > 0,
    `resets and timeouts reached Artillery as errors.*\n${explain(result)}`,
  );
  assert.equal(
    counter(result, `${area}.failures.connection_error`) + counter(result, `${area}.failures.timeout`),
    transportErrors(result),
    `each of Artillery's errors.* (${JSON.stringify(errorCounters(result))}) is a failure by cause (${counted})`,
  );
}

/**
 * Users arriving through the whole rotation (one-shot counts would all have ended at their first
 * reset or timeout, long before the last fault step): plain Artillery's --overrides of the phases.
 */
const spreadUsers = (users: number, seconds: number) => ({
  config: { phases: [{ name: 'resilience-users', arrivalCount: users, duration: seconds }] },
});

function causes(result: ArtilleryRunResult, area: string): string {
  const counters = result.report?.aggregate.counters ?? {};
  return Object.entries(counters)
    .filter(([name, n]) => name.startsWith(`${area}.failures.`) && n > 0)
    .map(([name, n]) => `${name}=${n}`)
    .join(', ');
}

interface HttpCase {
  scenario: string;
  families: RouteFamily[];
  /** The area whose `<area>.failures.<cause>` counters must show each fault. */
  area: string;
  steps: FaultStep[];
  seedTenants: number;
  env: (sim: SimulatorHandle) => Record<string, string | undefined>;
  /** `--overrides` (users and their arrival). */
  overrides: unknown;
  /** Causes that must have been counted. */
  expectCauses: string[];
  /** The latency histograms (one of them) that must show the trickled bodies (cases with a slow-body step). */
  slowLatency?: string[];
}

const CASES: HttpCase[] = [
  {
    scenario: 'llm-proxy',
    families: ['llm'],
    area: 'llm',
    // missing-usage is an LLM-only kind: a 200 without the usage block the billing relies on.
    steps: [...ALL_KINDS.map(malformedStep), malformedStep('missing-usage'), slowStep, lateStep],
    seedTenants: 3,
    env: (sim) => ({
      API_BASE_URL: sim.apiUrl,
      SERVICE_API_KEY: sim.serviceApiKey,
      TENANT_IDS: sim.tenantIds.join(','),
      API_BEARER_TOKEN: undefined,
      LLM_VUS: undefined,
      LLM_DURATION: '7s',
      LLM_THINK_TIME: '20ms',
      LLM_REQUEST_TIMEOUT: REQUEST_TIMEOUT,
    }),
    overrides: spreadUsers(24, 6),
    expectCauses: ['malformed_body', 'connection_error', 'timeout'],
    slowLatency: ['llm.latency_ms'],
  },
  {
    scenario: 'chat-sessions',
    families: ['chat'],
    area: 'chat',
    steps: [...ALL_KINDS.map(malformedStep), slowStep, lateStep],
    seedTenants: 0,
    env: (sim) => ({
      WEB_BASE_URL: sim.webUrl,
      API_BASE_URL: sim.apiUrl,
      CHAT_DURATION: '7s',
      CHAT_THINK_TIME: '20ms',
      CHAT_REQUEST_TIMEOUT: REQUEST_TIMEOUT,
      CHAT_MIX: undefined,
      CHAT_MESSAGES_FILE: undefined,
      CHAT_VUS: undefined,
    }),
    overrides: spreadUsers(24, 6),
    expectCauses: ['malformed_body', 'connection_error', 'timeout'],
    slowLatency: ['chat.latency_ms.short', 'chat.latency_ms.medium', 'chat.latency_ms.long'],
  },
  {
    scenario: 'container-provisioning',
    families: ['containers'],
    area: 'container',
    steps: [...ALL_KINDS.map(malformedStep), lateStep],
    seedTenants: 4,
    env: (sim) => ({
      API_BASE_URL: sim.apiUrl,
      TENANT_IDS: sim.tenantIds.join(','),
      SERVICE_API_KEY: sim.serviceApiKey,
      API_JWT_SECRET: sim.jwtSecret,
      ADMIN_JWT: undefined,
      CONTAINER_MODE: 'warm',
      CONTAINER_VUS: undefined,
      CONTAINER_DURATION: '7s',
      CONTAINER_THINK_TIME: '20ms',
      CONTAINER_REQUEST_TIMEOUT: REQUEST_TIMEOUT,
    }),
    overrides: spreadUsers(18, 6),
    expectCauses: ['malformed_body', 'connection_error', 'timeout'],
  },
];

describe('broken answers never crash a worker', () => {
  for (const c of CASES) {
    it(`${c.scenario}: ${c.steps.map((s) => s.label).join(', ')} and resets are counted by cause`, async (t) => {
      const sim = await startSimulator({ seedTenants: c.seedTenants, args: ['--rate-limit', '100000'] });
      const outputPath = join(outDir, `${c.scenario}.json`);
      try {
        const rotation = rotateFaults(sim, c.families, c.steps, 700);
        await rotation.start();
        const result = await runArtillery({
          scenario: scenarioPath(c.scenario),
          environment: 'smoke',
          outputPath,
          timeoutMs: RUN_TIMEOUT_MS,
          overrides: c.overrides,
          env: { LOADTEST_RUN_ID: `resilience-${c.scenario}`, ...c.env(sim) },
        });
        const served = await rotation.stop();
        assertSurvived(result, outputPath);
        for (const cause of c.expectCauses)
          assert.ok(
            counter(result, `${c.area}.failures.${cause}`) > 0,
            `${c.area}.failures.${cause} not counted; counted: ${causes(result, c.area)}; faults served per step: ${JSON.stringify([...served])}\n${explain(result)}`,
          );
        assert.deepEqual(uncaughtErrors(result), [], `errors Artillery caught itself\n${explain(result)}`);
        assertCountsBalance(result, c.area);
        if (c.slowLatency) {
          assert.ok(
            (served.get(slowStep.label) ?? 0) > 0,
            `slow bodies were served: ${JSON.stringify([...served])}`,
          );
          const max = Math.max(...c.slowLatency.map((name) => summary(result, name)?.max ?? 0));
          assert.ok(
            max >= SLOW_MS * 0.8,
            `a trickled body is measured whole: max of ${c.slowLatency.join(', ')} = ${max}`,
          );
        }
        t.diagnostic(
          `users ${counter(result, 'vusers.created')} (${counter(result, 'vusers.failed')} ended by an error); ` +
            `${c.area}.attempts ${counter(result, `${c.area}.attempts`)} = success ${counter(result, `${c.area}.success`)} + ` +
            `failures ${counter(result, `${c.area}.failures`)} (${causes(result, c.area)}); errors.* ${JSON.stringify(errorCounters(result))}`,
        );
      } finally {
        await sim.stop();
      }
    });
  }

  // One account per user and no duration: two runs, each with a different kind on auth and chat.
  for (const [authKind, chatKind] of [
    ['html', 'truncated-json'],
    ['wrong-content-type', 'empty'],
  ] as const) {
    it(`signup-tenant-chat: ${authKind} on auth, ${chatKind} on chat, resets: counted by cause`, async (t) => {
      const sim = await startSimulator();
      const outputPath = join(outDir, `signup-${authKind}.json`);
      try {
        await sim.control.setFaults({
          routes: {
            auth: { malformedRate: 0.15, malformedKind: authKind, resetRate: 0.05 },
            chat: { malformedRate: 0.5, malformedKind: chatKind, resetRate: 0.1 },
          },
        });
        const result = await runArtillery({
          scenario: scenarioPath('signup-tenant-chat'),
          environment: 'smoke',
          outputPath,
          timeoutMs: RUN_TIMEOUT_MS,
          // Thirty onboardings (one per user): enough that some meet each fault.
          overrides: { config: { phases: [{ name: 'onboardings', arrivalCount: 30, duration: 1 }] } },
          env: {
            WEB_BASE_URL: sim.webUrl,
            LOADTEST_RUN_ID: `resilience-signup-${authKind}`,
            SIGNUP_VUS: undefined,
            SIGNUP_REQUEST_TIMEOUT: '5s',
          },
        });
        const stats = await sim.control.stats();
        assertSurvived(result, outputPath);
        assert.ok((stats.faults.auth?.malformed ?? 0) > 0, 'auth answers were malformed');
        assert.ok((stats.faults.chat?.malformed ?? 0) > 0, 'chat answers were malformed');
        const counted = causes(result, 'onboarding');
        assert.ok(
          counter(result, 'onboarding.failures.malformed_body') > 0,
          `malformed not counted: ${counted}`,
        );
        assert.ok(
          counter(result, 'onboarding.failures.connection_error') > 0,
          `resets not counted: ${counted}\n${explain(result)}`,
        );
        // Every onboarding that did not succeed is a counted failure, each reset one of them.
        assertCountsBalance(result, 'onboarding');
        assert.equal(counter(result, 'onboarding.attempts'), 30, 'one onboarding per user');
        t.diagnostic(
          `onboarding.attempts 30 = success ${counter(result, 'onboarding.success')} + failures ` +
            `${counter(result, 'onboarding.failures')} (${counted}); errors.* ${JSON.stringify(errorCounters(result))}`,
        );
        assert.deepEqual(uncaughtErrors(result), [], `errors Artillery caught itself\n${explain(result)}`);
      } finally {
        await sim.stop();
      }
    });
  }

  it('signup-browser: a truncated chat answer fails the journey by cause, not the worker', async () => {
    const sim = await startSimulator();
    const outputPath = join(outDir, 'signup-browser.json');
    try {
      await sim.control.setFaults({
        routes: { chat: { malformedRate: 1, malformedKind: 'truncated-json' } },
      });
      const result = await runArtillery({
        scenario: scenarioPath('signup-browser'),
        environment: 'smoke',
        outputPath,
        timeoutMs: RUN_TIMEOUT_MS,
        env: {
          WEB_BASE_URL: sim.webUrl,
          LOADTEST_RUN_ID: 'resilience-browser',
          CHROMIUM_PATH: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
          SIGNUP_REQUEST_TIMEOUT: '10s',
        },
      });
      assertSurvived(result, outputPath);
      assert.equal(counter(result, 'browser_journey.success'), 0, explain(result));
      // The journey rethrows so that Artillery fails the browser VU; the cause is counted first.
      assert.ok(
        counter(result, 'browser_journey.failures.malformed_body') > 0,
        `counted: ${causes(result, 'browser_journey')}\n${explain(result)}`,
      );
    } finally {
      await sim.stop();
    }
  });

  it('terminal-ws: stray frames, malformed frames and reset upgrades are counted, never fatal', async () => {
    const sim = await startSimulator({
      seedTenants: 2,
      args: ['--ping-interval', '300ms', '--pong-timeout', '900ms'],
    });
    const outputPath = join(outDir, 'terminal.json');
    try {
      await sim.control.setFaults({
        // Sockets dropped every 600 ms reconnect many times: enough upgrades that some are reset.
        terminal: { strayFrameIntervalMs: 150, malformedFrameRate: 0.3, dropAfterMs: 600 },
        routes: { terminal: { resetRate: 0.3 } },
      });
      const result = await runArtillery({
        scenario: scenarioPath('terminal-ws'),
        environment: 'smoke',
        outputPath,
        timeoutMs: RUN_TIMEOUT_MS,
        env: {
          API_BASE_URL: sim.apiUrl,
          WEB_BASE_URL: sim.webUrl,
          SERVICE_API_KEY: sim.serviceApiKey,
          TENANT_IDS: sim.tenantIds.join(','),
          WS_TENANT_IDS: undefined,
          API_BEARER_TOKEN: undefined,
          WS_DURATION: '5s',
          WS_COMMAND_INTERVAL: '250ms',
          WS_COMMAND_TIMEOUT: '1s',
          WS_RECONNECT_BASE_DELAY: '50ms',
          WS_RECONNECT_MAX_DELAY: '200ms',
          WS_MAX_RECONNECTS: '100',
        },
      });
      const stats = await sim.control.stats();
      assertSurvived(result, outputPath);
      assert.ok(stats.terminal.strayFramesSent > 0 && stats.terminal.malformedFramesSent > 0);
      assert.ok(counter(result, 'terminal.stray_frames') > 0, `stray frames not counted\n${explain(result)}`);
      assert.ok(counter(result, 'terminal.malformed_frames') > 0, 'malformed frames not counted');
      assert.ok((stats.faults.terminal?.resets ?? 0) > 0, 'some upgrades were reset');
      assert.ok(
        counter(result, 'terminal.connect_failures') > 0,
        'reset upgrades counted as connect failures',
      );
      // The sockets are the processor's own (no Artillery engine request): Artillery counts no error at all.
      assert.deepEqual(errorCounters(result), [], `errors Artillery caught itself\n${explain(result)}`);
    } finally {
      await sim.stop();
    }
  });
});
