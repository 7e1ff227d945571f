import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { jwtVerify } from 'jose';
import { PROFILES } from '../../config/profiles';
import { containerGateEnv, resolveContainerPlan } from '../../config/settings/container';
import { AdminTokenSource } from '../../processors/lib/container/admin-token';
import { readContainer, StateTimeline } from '../../processors/lib/container/readiness';
import { TenantLeases } from '../../processors/lib/container/tenant-lease';
import type { LatencyModel, LatencySettings } from '../../simulator/src/control-types';
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
 * scenarios/container-provisioning.yml, run by real Artillery against the simulator. The realistic
 * profile at time scale 0.02 turns the 5-25 s cold start into 100-500 ms and the 30 s health-check
 * interval (here 5 s) into 100 ms, so a cold cycle takes well under a second.
 */

const TIME_SCALE = 0.02;
const HEALTH_INTERVAL_MS = 5_000;
const POLL_INTERVAL_MS = 10;
const STARTUP_CHECK = 'container.startup_ms.p95';
const SUCCESS_CHECK = 'container.success / container.attempts';

let sim: SimulatorHandle;

before(async () => {
  sim = await startSimulator({
    profile: 'realistic',
    timeScale: TIME_SCALE,
    seedTenants: 4,
    args: ['--health-interval', `${HEALTH_INTERVAL_MS}ms`],
  });
});

after(async () => {
  await sim?.stop();
});

beforeEach(async () => {
  await sim.control.clearFaults();
  await sim.control.resetStats();
});

interface RunOptions {
  adminCredentials?: boolean;
  env?: Record<string, string | undefined>;
}

function runScenario(options: RunOptions = {}): Promise<ArtilleryRunResult> {
  return runArtillery({
    scenario: scenarioPath('container-provisioning'),
    environment: 'smoke',
    timeoutMs: 90_000,
    env: {
      API_BASE_URL: sim.apiUrl,
      TENANT_IDS: sim.tenantIds.join(','),
      SERVICE_API_KEY: sim.serviceApiKey,
      API_JWT_SECRET: options.adminCredentials === false ? undefined : sim.jwtSecret,
      ADMIN_JWT: undefined,
      CONTAINER_MODE: undefined,
      CONTAINER_DURATION: '4s',
      CONTAINER_POLL_INTERVAL: `${POLL_INTERVAL_MS}ms`,
      CONTAINER_THINK_TIME: '0ms',
      CONTAINER_READY_TIMEOUT: '10s',
      CONTAINER_STARTUP_P95_MS: undefined,
      CONTAINER_SUCCESS_MIN: undefined,
      CONTAINER_VUS: undefined,
      ...options.env,
    },
  });
}

// --- the simulator's cold-start model, sampled independently of the simulator's own code ---

function sample(model: LatencyModel, random: () => number): number {
  switch (model.kind) {
    case 'fixed':
      return model.ms;
    case 'uniform':
      return model.minMs + (model.maxMs - model.minMs) * random();
    case 'lognormal': {
      const sigma = Math.log(Math.max(model.p99Ms, model.medianMs) / model.medianMs) / 2.326_347_874;
      const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
      return model.medianMs * Math.exp(sigma * z);
    }
  }
}

/** Deterministic PRNG so that the expected quantiles do not wobble between runs. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * Resume request sent -> healthy, as the simulator models it: the resume call (the container is
 * started when it returns), the cold start (times the multiplier), then the first health check.
 */
function startupModel(latency: LatencySettings, multiplier = 1): (q: number) => number {
  const random = mulberry32(7);
  const samples = Array.from({ length: 100_000 }, () => {
    const resumeCall = sample(latency.models.containerResumeCall, random) * latency.timeScale;
    const coldStart = sample(latency.models.containerColdStart, random) * latency.timeScale * multiplier;
    return resumeCall + coldStart + HEALTH_INTERVAL_MS * latency.timeScale;
  }).sort((a, b) => a - b);
  return (q) => samples[Math.min(samples.length - 1, Math.max(0, Math.floor(q * samples.length)))]!;
}

/**
 * Where the measured quantile q of n samples must lie: between the model's quantiles q -/+ 3.3
 * standard errors of a sample quantile (a 1-in-1000 miss), widened by Artillery's ~1% sketch error,
 * and late by at most one poll period plus a poll's round trip (the figure is when readiness was
 * SEEN). A scenario timing only the resume call, or timing to "running" instead of "healthy",
 * lands far outside.
 */
function assertQuantileMatches(
  measured: number,
  q: number,
  n: number,
  model: (q: number) => number,
  what: string,
) {
  const spread = 3.3 * Math.sqrt((q * (1 - q)) / n);
  const low = model(Math.max(0, q - spread)) * 0.98;
  const high = model(Math.min(0.9999, q + spread)) * 1.02 + POLL_INTERVAL_MS + 30;
  assert.ok(
    measured >= low && measured <= high,
    `${what}: measured ${measured.toFixed(1)} ms outside the model's [${low.toFixed(1)}, ${high.toFixed(1)}] (n=${n})`,
  );
}

describe('container provisioning scenario', { concurrency: false }, () => {
  test('cold starts: the startup histogram matches the cold-start model and the gate passes', async (t) => {
    // A narrow cold start (15-17.5 s, scaled: 300-350 ms) so that the few dozen samples of a short
    // run pin the quantiles down to a few ms: then timing to "running" instead of "healthy" (100 ms
    // early) or timing the resume call alone cannot pass.
    const configured = await sim.control.getLatency();
    const coldStart: LatencyModel = { kind: 'uniform', minMs: 15_000, maxMs: 17_500 };
    await sim.control.patchLatency({ models: { ...configured.models, containerColdStart: coldStart } });
    let result: ArtilleryRunResult;
    let latency: LatencySettings;
    try {
      latency = await sim.control.getLatency();
      assert.deepEqual(latency.models.containerColdStart, coldStart);
      // Three users over four tenants (the smoke profile has two): CONTAINER_VUS overrides the profile.
      result = await runScenario({ env: { CONTAINER_VUS: '3' } });
    } finally {
      await sim.control.patchLatency({ models: configured.models });
    }
    assert.equal(result.exitCode, 0, explain(result));

    const startup = summary(result, 'container.startup_ms');
    assert.ok(startup && startup.count >= 10, `too few cold starts measured\n${explain(result)}`);
    const model = startupModel(latency);
    t.diagnostic(
      `startup n=${startup.count} median=${startup.median} (model ${model(0.5).toFixed(1)}) ` +
        `p95=${startup.p95} (model ${model(0.95).toFixed(1)})`,
    );
    assertQuantileMatches(startup.median, 0.5, startup.count, model, 'startup median');
    assertQuantileMatches(startup.p95, 0.95, startup.count, model, 'startup p95');

    // Every cycle was a cold one, measured to readiness, and the simulator saw each cold start.
    const attempts = counter(result, 'container.attempts');
    assert.equal(counter(result, 'container.mode.cold'), attempts);
    assert.equal(counter(result, 'container.success'), attempts);
    assert.equal(counter(result, 'container.cold.success'), attempts);
    assert.equal(counter(result, 'container.mode.warm'), 0);
    assert.equal(counter(result, 'container.mode.resume_call_only'), 0);
    assert.equal(summary(result, 'container.warm.resume_call_ms'), undefined);
    const stats = await sim.control.stats();
    assert.equal(stats.containers.coldStarts, startup.count);

    // Time per state: docker reports the container running from the start call on, so the cold
    // start and the wait for the first health check both show as health "starting" (routes/admin.go).
    assert.equal(summary(result, 'container.state_ms.starting'), undefined, explain(result));
    const health = summary(result, 'container.state_ms.health_starting');
    assert.ok(health, explain(result));
    const scaledHealth = HEALTH_INTERVAL_MS * TIME_SCALE;
    const expected = stats.containers.coldStartMs.p50 + scaledHealth;
    assert.ok(
      Math.abs(health.median - expected) <= 0.15 * stats.containers.coldStartMs.p50 + POLL_INTERVAL_MS + 30,
      `health_starting median ${health.median} vs cold start p50 + health interval ${expected}`,
    );
    assert.equal(counter(result, 'vusers.created'), 3);
    // Unset limits are the documented defaults.
    assert.equal(summary(result, 'container.limit.startup_p95_ms')?.max, 30_000);
    assert.equal(summary(result, 'container.limit.success_min_pct')?.max, 90);
    assert.equal(verdict(result, STARTUP_CHECK)?.ok, true, explain(result));
    assert.equal(verdict(result, SUCCESS_CHECK)?.ok, true, explain(result));
  });

  test('without admin credentials only the resume call is timed, reported as warm, and said so', async () => {
    const result = await runScenario({ adminCredentials: false });
    const attempts = counter(result, 'container.attempts');
    assert.ok(attempts > 0, explain(result));
    assert.equal(counter(result, 'container.mode.warm'), attempts);
    assert.equal(counter(result, 'container.mode.resume_call_only'), attempts);
    assert.equal(counter(result, 'container.warm.success'), attempts);
    assert.equal(counter(result, 'container.mode.cold'), 0);
    assert.equal(summary(result, 'container.warm.resume_call_ms')?.count, attempts);
    assert.equal(summary(result, 'container.cold.resume_call_ms'), undefined);
    assert.match(result.stdout + result.stderr, /only the resume call can be\s+measured/);
    // A running container is not restarted by resume: no cold start happened.
    assert.equal((await sim.control.stats()).containers.coldStarts, 0);
    // Startup was never measured, so its check cannot pass; the success check does.
    assert.equal(summary(result, 'container.startup_ms'), undefined);
    assert.equal(verdict(result, STARTUP_CHECK)?.ok, false, explain(result));
    assert.equal(verdict(result, SUCCESS_CHECK)?.ok, true, explain(result));
    assert.equal(result.exitCode, 1);
  });

  test('cold starts slowed past the target fail the startup p95 check (and only that one)', async () => {
    const latency = await sim.control.getLatency();
    // Healthy p95 here is ~590 ms; three times slower cold starts put it near 1.5 s.
    const target = 800;
    assert.ok(startupModel(latency)(0.95) < target * 0.8 && startupModel(latency, 3)(0.95) > target * 1.5);
    await sim.control.patchFaults({ containers: { coldStartMultiplier: 3 } });
    const result = await runScenario({ env: { CONTAINER_STARTUP_P95_MS: String(target) } });
    assert.equal(result.exitCode, 1, explain(result));
    assert.equal(verdict(result, STARTUP_CHECK)?.ok, false, explain(result));
    assert.equal(summary(result, 'container.limit.startup_p95_ms')?.max, target);
    assert.equal(verdict(result, SUCCESS_CHECK)?.ok, true, explain(result));
    const startup = summary(result, 'container.startup_ms')!;
    assertQuantileMatches(
      startup.median,
      0.5,
      startup.count,
      startupModel(latency, 3),
      'slowed startup median',
    );
  });

  test('failing resumes and unhealthy containers fail the success check, each counted by cause', async () => {
    await sim.control.patchFaults({ containers: { resumeFailRate: 0.4, unhealthyRate: 0.3 } });
    const result = await runScenario();
    assert.equal(result.exitCode, 1, explain(result));
    assert.equal(verdict(result, SUCCESS_CHECK)?.ok, false, explain(result));
    assert.equal(verdict(result, STARTUP_CHECK)?.ok, true, explain(result));

    const attempts = counter(result, 'container.attempts');
    const resumeFailed = counter(result, 'container.failures.resume_failed');
    const unhealthy = counter(result, 'container.failures.unhealthy');
    assert.ok(resumeFailed > 0 && unhealthy > 0, explain(result));
    assert.equal(counter(result, 'container.success') + resumeFailed + unhealthy, attempts);
    assert.equal(counter(result, 'container.failures'), resumeFailed + unhealthy);
    // The simulator's own count of failed resumes: the scenario's resumes plus its restore calls
    // (admin resume of a container a failed cycle left suspended).
    const stats = await sim.control.stats();
    assert.equal(
      stats.containers.resumeFailures,
      resumeFailed + counter(result, 'container.cold.restore_failed'),
    );
    assert.equal(
      counter(result, 'container.cold.restored') + counter(result, 'container.cold.restore_failed'),
      resumeFailed,
    );
  });

  test('dropped connections are counted by cause, polls ride them out, and no user dies', async () => {
    await sim.control.patchFaults({ routes: { containers: { resetRate: 0.1 } } });
    const result = await runScenario();
    const attempts = counter(result, 'container.attempts');
    const failures = counter(result, 'container.failures');
    assert.ok(attempts > 0, explain(result));
    assert.equal(counter(result, 'vusers.failed'), 0, explain(result));
    assert.equal(counter(result, 'container.processor_errors'), 0, explain(result));
    assert.equal(counter(result, 'container.success') + failures, attempts);
    // A reset suspend or resume ends the cycle as a connection error; a reset poll is retried.
    assert.ok(counter(result, 'container.failures.connection_error') > 0, explain(result));
    assert.ok(counter(result, 'container.cold.poll_errors') > 0, explain(result));
    assert.equal(failures, counter(result, 'container.failures.connection_error'));
    const resets = (await sim.control.stats()).faults.containers?.resets ?? 0;
    assert.equal(
      resets,
      counter(result, 'container.failures.connection_error') +
        counter(result, 'container.cold.poll_errors') +
        counter(result, 'container.cold.restore_failed'),
    );
  });

  test('malformed answers are counted per route, never crash a user', async () => {
    // Truncated JSON under a 200: an HTML error page would carry a 5xx and count as a server error.
    await sim.control.patchFaults({
      routes: { containers: { malformedRate: 0.1, malformedKind: 'truncated-json' } },
    });
    const result = await runScenario();
    const attempts = counter(result, 'container.attempts');
    assert.ok(attempts > 0, explain(result));
    assert.equal(counter(result, 'vusers.failed'), 0, explain(result));
    assert.equal(counter(result, 'container.processor_errors'), 0, explain(result));
    const malformed = ['suspend', 'resume', 'poll'].reduce(
      (sum, route) => sum + counter(result, `container.malformed.${route}`),
      0,
    );
    const injected = (await sim.control.stats()).faults.containers?.malformed ?? 0;
    assert.ok(injected > 0);
    // Restore calls (admin resume) are not parsed: a malformed restore answer still restored.
    assert.ok(malformed > 0 && malformed <= injected, `${malformed} counted, ${injected} injected`);
    assert.equal(
      counter(result, 'container.failures.malformed_body'),
      counter(result, 'container.malformed.suspend') + counter(result, 'container.malformed.resume'),
    );
  });

  test('a remote API is refused before any load is sent', async () => {
    const result = await runScenario({
      env: { API_BASE_URL: 'http://example.com:8080', CONTAINER_DURATION: '1s' },
    });
    assert.ok(counter(result, 'container.settings_invalid') > 0, explain(result));
    assert.equal(counter(result, 'container.attempts'), 0);
    assert.match(result.stdout + result.stderr, /API_BASE_URL: host "example\.com" is not loopback/);
    assert.equal(result.exitCode, 1);
  });

  test('credit exhaustion, a non-admin token and a readiness timeout are named as such, not as latency', async () => {
    // Failing cycles are quick: a think time keeps them from spinning.
    const quick = { CONTAINER_DURATION: '2s', CONTAINER_THINK_TIME: '50ms' };
    await sim.control.patchFaults({ credits: { exhausted: true } });
    const credits = await runScenario({ env: quick });
    const attempts = counter(credits, 'container.attempts');
    assert.ok(attempts > 0, explain(credits));
    assert.equal(counter(credits, 'container.failures.credits_exhausted'), attempts);
    assert.equal(summary(credits, 'container.startup_ms'), undefined);
    assert.equal(verdict(credits, SUCCESS_CHECK)?.ok, false, explain(credits));

    await sim.control.clearFaults();
    const notAdmin = await runScenario({
      env: { ...quick, CONTAINER_ADMIN_CLAIMS: '{"sub":"not-an-admin"}' },
    });
    const tries = counter(notAdmin, 'container.attempts');
    assert.ok(tries > 0, explain(notAdmin));
    assert.equal(counter(notAdmin, 'container.failures.forbidden'), tries);
    assert.equal(counter(notAdmin, 'container.cold.suspend_failures'), tries);
    assert.equal(verdict(notAdmin, SUCCESS_CHECK)?.ok, false, explain(notAdmin));

    // Cold starts of 10-50 s against a 300 ms readiness timeout: every cycle times out, and the
    // time it waited shows as time spent starting.
    await sim.control.patchFaults({ containers: { coldStartMultiplier: 100 } });
    const stuck = await runScenario({ env: { ...quick, CONTAINER_READY_TIMEOUT: '300ms' } });
    const cycles = counter(stuck, 'container.attempts');
    assert.ok(cycles > 0, explain(stuck));
    assert.equal(counter(stuck, 'container.failures.readiness_timeout'), cycles);
    assert.equal(summary(stuck, 'container.startup_ms'), undefined);
    const waited = summary(stuck, 'container.state_ms.health_starting');
    assert.ok(waited && waited.min >= 250 && waited.max <= 300 + POLL_INTERVAL_MS + 100, explain(stuck));
  });
});

describe('container scenario parts', () => {
  test('readiness follows the real API snapshot shapes (routes/admin.go)', () => {
    assert.deepEqual(readContainer({ state: 'running', running: true, health: 'healthy' }), { ready: true });
    assert.deepEqual(readContainer({ state: 'running', running: true, health: 'starting' }), {
      ready: false,
      label: 'health_starting',
    });
    // Docker without a HEALTHCHECK: the Go orchestrator reports health "unknown".
    assert.deepEqual(readContainer({ state: 'running', running: true, health: 'unknown' }), {
      ready: false,
      label: 'running_unchecked',
    });
    assert.deepEqual(readContainer({ state: 'running', running: true, health: 'unhealthy' }), {
      ready: false,
      label: 'unhealthy',
    });
    assert.deepEqual(readContainer({ state: 'stopped', running: false, health: 'healthy' }), {
      ready: false,
      label: 'stopped',
    });
    assert.deepEqual(readContainer({ state: 'not_provisioned' }), { ready: false, label: 'not_provisioned' });
    assert.deepEqual(readContainer({ state: 'weird' }), { ready: false, label: 'other' });
  });

  test('state times add up to the startup', () => {
    const timeline = new StateTimeline(100);
    timeline.observe(110, 'starting');
    timeline.observe(300, 'health_starting');
    timeline.observe(350, 'health_starting');
    timeline.observe(420, undefined);
    assert.deepEqual(Object.fromEntries(timeline.durations()), { starting: 200, health_starting: 120 });
    const timedOut = new StateTimeline(0);
    timedOut.observe(40, 'starting');
    timedOut.observe(90, 'health_starting');
    timedOut.close(300);
    assert.deepEqual(Object.fromEntries(timedOut.durations()), { starting: 90, health_starting: 210 });
  });

  test('leases are exclusive across workers of one run and rotate over all tenants', () => {
    const ids = ['a', 'b', 'c'].map((c) => `${c.repeat(8)}-0000-4000-8000-000000000000`);
    const runId = `test-${process.pid}-${Date.now()}`;
    const workerA = TenantLeases.forRun(runId, ids);
    const workerB = TenantLeases.forRun(runId, ids);
    const held = [workerA.tryAcquire(), workerB.tryAcquire(), workerA.tryAcquire()];
    assert.deepEqual([...held].sort(), [...ids].sort());
    assert.equal(workerB.tryAcquire(), undefined);
    workerA.release(held[1]!);
    assert.equal(workerB.tryAcquire(), held[1]);
    for (const id of ids) workerA.release(id);
    workerA.cleanup();
    assert.notEqual(TenantLeases.forRun(runId, ids).tryAcquire(), undefined);
    for (const id of ids) workerA.release(id);
    workerA.cleanup();
  });

  test('the plan: cold with admin credentials, warm and resume-call-only without, errors name the setting', () => {
    const base = { TENANT_IDS: '11111111-1111-4111-8111-111111111111', SERVICE_API_KEY: 'key' };
    const cold = resolveContainerPlan({ ...base, API_JWT_SECRET: 's'.repeat(32) }, 'smoke');
    assert.ok(cold.ok);
    assert.equal(cold.plan.mode, 'cold');
    assert.equal(cold.plan.durationMs, PROFILES.smoke.container.durationMs);
    const warm = resolveContainerPlan(base);
    assert.ok(warm.ok);
    assert.equal(warm.plan.mode, 'warm');
    assert.equal(warm.plan.resumeCallOnly, true);
    const chosenWarm = resolveContainerPlan({ ...base, ADMIN_JWT: 'a.b.c', CONTAINER_MODE: 'warm' });
    assert.ok(chosenWarm.ok && !chosenWarm.plan.resumeCallOnly);
    const refused = resolveContainerPlan({ ...base, CONTAINER_MODE: 'cold' });
    assert.ok(!refused.ok && refused.problems.some((p) => p.startsWith('CONTAINER_MODE:')));
    const badPoll = resolveContainerPlan({ ...base, CONTAINER_POLL_INTERVAL: 'soon' });
    assert.ok(!badPoll.ok && badPoll.problems.some((p) => p.startsWith('CONTAINER_POLL_INTERVAL:')));
    assert.deepEqual(containerGateEnv({}), {
      CONTAINER_STARTUP_P95_MS: '30000',
      CONTAINER_SUCCESS_MIN: '90',
    });
  });

  test('a locally signed admin token carries the admin claims, is short-lived and renewed', async () => {
    const secret = 'x'.repeat(32);
    let now = 1_000_000;
    const source = new AdminTokenSource({ kind: 'secret', secret, claims: { isAdmin: true } }, () => now);
    const first = await source.token();
    const { payload } = await jwtVerify(first, new TextEncoder().encode(secret), {
      algorithms: ['HS256'],
      currentDate: new Date(now * 1000),
    });
    assert.equal(payload.isAdmin, true);
    assert.ok(payload.exp! - now <= 300);
    assert.equal(await source.token(), first);
    now += 250;
    assert.notEqual(await source.token(), first);
  });
});
