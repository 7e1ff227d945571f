import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
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
 * scenarios/signup-tenant-chat.yml run by real Artillery against the simulator: the accounts it
 * creates really exist, the gate passes on a healthy platform and fails, naming the check, when
 * auth is slow, CSRF is refused or the session cookie is a production one over plain http.
 */

const SCENARIO = scenarioPath('signup-tenant-chat');
const SIGNUP_CHECK = 'signup.latency_ms.p99 <';
const LOGIN_CHECK = 'login.latency_ms.p99 <';
const SUCCESS_CHECK = 'onboarding.success > 0.95 * onboarding.attempts';
const ERROR_RATE_CHECK = 'signup.request_errors + login.request_errors';

let runCounter = 0;
const newRunId = () => `sgt${Date.now().toString(36)}${++runCounter}`;

function runScenario(
  sim: SimulatorHandle,
  runId: string,
  environment: string,
  env: Record<string, string> = {},
): Promise<ArtilleryRunResult> {
  return runArtillery({
    scenario: SCENARIO,
    environment,
    env: { WEB_BASE_URL: sim.webUrl, LOADTEST_RUN_ID: runId, ...env },
    timeoutMs: 120_000,
  });
}

async function tenantsOfRun(sim: SimulatorHandle, runId: string) {
  const { tenants } = await sim.control.tenants();
  return tenants.filter((t) => t.email?.startsWith(`loadtest+${runId}-`));
}

function assertCheck(result: ArtilleryRunResult, prefix: string, ok: boolean): void {
  const check = verdict(result, prefix);
  assert.ok(check, `no ensure check starting with "${prefix}"\n${explain(result)}`);
  assert.equal(check.ok, ok, `check "${check.check}" should be ${ok ? 'ok' : 'fail'}\n${explain(result)}`);
}

describe('signup-tenant-chat on a healthy simulator (fast profile)', () => {
  let sim: SimulatorHandle;
  before(async () => {
    sim = await startSimulator({ profile: 'fast' });
  });
  after(async () => {
    await sim?.stop();
  });

  it("onboards the load profile's 50 users: 50 accounts and tenants exist, every check passes", async () => {
    const runId = newRunId();
    // Healthy auth costs ~2 ms here, but 50 onboardings arrive within a second while Artillery
    // and the simulator share two cores with other work: the targets are raised so that the
    // verdict is about the platform, not about this machine's load.
    // The 50-user burst saturates one core of the generator (measured 103-152 %): not this test's subject.
    const result = await runScenario(sim, runId, 'load', {
      SIGNUP_P99_MS: '5000',
      LOGIN_P99_MS: '5000',
      GENERATOR_CPU_P95_PCT: '1000',
    });
    assert.equal(result.exitCode, 0, explain(result));
    for (const check of [SIGNUP_CHECK, LOGIN_CHECK, SUCCESS_CHECK, ERROR_RATE_CHECK])
      assertCheck(result, check, true);
    assert.equal(counter(result, 'onboarding.attempts'), 50);
    assert.equal(counter(result, 'onboarding.success'), 50);
    assert.equal(counter(result, 'first_chat.success'), 50);
    assert.equal(counter(result, 'onboarding.failures'), 0);
    assert.equal(summary(result, 'signup.latency_ms')?.count, 50);
    assert.equal(summary(result, 'login.latency_ms')?.count, 50);
    assert.equal(summary(result, 'onboarding.duration_ms')?.count, 50);

    // Ground truth: the simulator holds exactly these accounts, each with its own tenant, each
    // billed for the one first chat.
    const stats = await sim.control.stats();
    assert.equal(stats.accounts.users, 50);
    assert.equal(stats.accounts.tenants, 50);
    assert.equal(stats.accounts.signups, 50);
    assert.equal(stats.accounts.logins, 50);
    assert.equal(stats.chat.messages, 50);
    const tenants = await tenantsOfRun(sim, runId);
    assert.equal(tenants.length, 50);
    assert.equal(new Set(tenants.map((t) => t.email)).size, 50);
    assert.ok(tenants.every((t) => t.status === 'active' && t.creditsCents < 1000));
    // No password travels into the results.
    assert.ok(!/password/i.test(JSON.stringify(result.report?.aggregate.counters)));
  });

  it('fails the signup and login p99 checks, and only those, when auth is slow', async () => {
    await sim.control.patchFaults({ auth: { extraCpuMs: 300 } });
    try {
      const runId = newRunId();
      const result = await runScenario(sim, runId, 'smoke');
      assert.equal(result.exitCode, 1, explain(result));
      assertCheck(result, SIGNUP_CHECK, false);
      assertCheck(result, LOGIN_CHECK, false);
      assertCheck(result, SUCCESS_CHECK, true);
      assertCheck(result, ERROR_RATE_CHECK, true);
      assert.ok((summary(result, 'signup.latency_ms')?.p99 ?? 0) >= 300, explain(result));
      assert.ok((summary(result, 'login.latency_ms')?.p99 ?? 0) >= 300, explain(result));
      assert.equal(counter(result, 'onboarding.success'), 5);
    } finally {
      await sim.control.clearFaults();
    }
  });

  it('takes its auth targets from SIGNUP_P99_MS / LOGIN_P99_MS and its users from SIGNUP_VUS', async () => {
    await sim.control.patchFaults({ auth: { extraCpuMs: 300 } });
    try {
      const runId = newRunId();
      const result = await runScenario(sim, runId, 'smoke', {
        SIGNUP_P99_MS: '60000',
        LOGIN_P99_MS: '60000',
        SIGNUP_VUS: '3',
      });
      assert.equal(result.exitCode, 0, explain(result));
      assertCheck(result, SIGNUP_CHECK, true);
      assertCheck(result, LOGIN_CHECK, true);
      assert.equal(summary(result, 'signup.limit.latency_p99_ms')?.max, 60000);
      assert.equal(summary(result, 'login.limit.latency_p99_ms')?.max, 60000);
      assert.equal(counter(result, 'onboarding.attempts'), 3);
      assert.equal((await tenantsOfRun(sim, runId)).length, 3);
    } finally {
      await sim.control.clearFaults();
    }
  });

  it('counts logins refused by CSRF as csrf_refused failures, never as successes', async () => {
    await sim.control.patchFaults({ auth: { csrfRefuse: true } });
    try {
      const before = await sim.control.stats();
      const runId = newRunId();
      const result = await runScenario(sim, runId, 'smoke');
      assert.equal(result.exitCode, 1, explain(result));
      assertCheck(result, SUCCESS_CHECK, false);
      assertCheck(result, ERROR_RATE_CHECK, false);
      assert.equal(counter(result, 'signup.success'), 5);
      assert.equal(counter(result, 'login.success'), 0);
      assert.equal(counter(result, 'login.failures.csrf_refused'), 5);
      assert.equal(counter(result, 'onboarding.failures.csrf_refused'), 5);
      assert.equal(counter(result, 'onboarding.success'), 0);
      assert.equal(counter(result, 'first_chat.requests'), 0);
      const afterStats = await sim.control.stats();
      assert.equal(afterStats.accounts.logins - before.accounts.logins, 0);
      assert.equal((await tenantsOfRun(sim, runId)).length, 5);
    } finally {
      await sim.control.clearFaults();
    }
  });
});

describe('signup-tenant-chat against a production-style build over plain http', () => {
  let sim: SimulatorHandle;
  before(async () => {
    sim = await startSimulator({ profile: 'fast', args: ['--cookie-mode', 'secure'] });
  });
  after(async () => {
    await sim?.stop();
  });

  it('logs in with the __Secure- cookies and names the rejected chat session_rejected', async () => {
    const result = await runScenario(sim, newRunId(), 'smoke');
    assert.equal(result.exitCode, 1, explain(result));
    assert.equal(counter(result, 'login.success'), 5, explain(result));
    assert.equal(counter(result, 'first_chat.failures.session_rejected'), 5);
    assert.equal(counter(result, 'onboarding.failures.session_rejected'), 5);
    assert.equal(counter(result, 'onboarding.failures'), 5);
    assertCheck(result, SUCCESS_CHECK, false);
    assert.match(result.stdout + result.stderr, /session_rejected.*plain http/);
  });
});

describe('signup-tenant-chat on the realistic profile (bcrypt-like auth on 2 cores)', () => {
  let sim: SimulatorHandle;
  before(async () => {
    sim = await startSimulator({ profile: 'realistic' });
  });
  after(async () => {
    await sim?.stop();
  });

  it('reproduces the real app: the onboardings succeed, the 200 ms auth targets do not', async () => {
    const result = await runScenario(sim, newRunId(), 'smoke');
    assert.equal(result.exitCode, 1, explain(result));
    assertCheck(result, SIGNUP_CHECK, false);
    assertCheck(result, LOGIN_CHECK, false);
    assertCheck(result, SUCCESS_CHECK, true);
    assert.ok((summary(result, 'signup.latency_ms')?.p50 ?? 0) >= 300, explain(result));
    // The run's output names the cause next to the number.
    assert.match(
      result.stderr + result.stdout,
      /latency_ms \d+ ms > the 200 ms target: auth latency\..*bcrypt/,
    );
  });
});
