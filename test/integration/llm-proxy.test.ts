import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { parse } from 'yaml';
import { applyLimitSettings, type EnsureCondition } from '../../config/limits';
import { requestStream } from '../../processors/lib/llm/stream-client';
import { SCENARIO_HTTP_TIMEOUT_MS } from '../../processors/llm-proxy';
import type { LatencySettings, SimStats } from '../../simulator/src/control-types';
import { type ArtilleryRunResult, counter, explain, runArtillery, summary } from '../helpers/artillery';
import { scenarioPath } from '../helpers/paths';
import { type SimulatorHandle, startSimulator } from '../helpers/simulator';

/**
 * scenarios/llm-proxy.yml run for real (Artillery, smoke-sized) against the simulator, with its
 * faults and latency models as the ground truth the scenario's numbers must agree with.
 */

const TENANTS = 5;
/** Modelled delays are setTimeout sleeps, which Node may end a little early. */
const TIMER_SLACK_MS = 3;
const REQUEST_NAME = 'llm_completion';

/** Fragments naming each ensure check of the scenario (the check text is its expression). */
const CHECK = {
  successRate: 'llm.success / llm.attempts',
  credits: 'llm.credits_exhausted_responses == 0',
  overhead: 'llm.proxy_overhead_ms.p99',
  latency: 'llm.latency_ms.p99',
  ttft: 'llm.ttft_ms.p99',
  generatorLag: 'generator.event_loop_lag_ms.p99',
  generatorCpu: 'generator.cpu_pct.p95',
} as const;
type CheckName = keyof typeof CHECK;

interface PhaseSpec {
  name?: string;
  arrivalCount?: unknown;
  arrivalRate?: unknown;
  maxVusers?: unknown;
  duration?: number;
  pause?: number;
}

interface Script {
  config: {
    target: string;
    http: { timeout: number };
    phases: PhaseSpec[];
    variables: Record<string, unknown>;
    environments: Record<string, { phases: PhaseSpec[]; variables: Record<string, unknown> }>;
    plugins: Record<string, unknown>;
    ensure: { conditions: EnsureCondition[] };
  };
  scenarios: { flow: { loop: Record<string, { name?: string; url?: string; json?: unknown }>[] }[] }[];
}

const scriptText = readFileSync(scenarioPath('llm-proxy'), 'utf8');
const script = parse(scriptText) as Script;

function failedChecks(result: ArtilleryRunResult): CheckName[] {
  const names = Object.keys(CHECK) as CheckName[];
  assert.equal(result.ensure.length, names.length, `expected ${names.length} checks\n${explain(result)}`);
  for (const name of names)
    assert.ok(
      result.ensure.some((v) => v.check.includes(CHECK[name])),
      `check ${name} not printed\n${explain(result)}`,
    );
  return names.filter((name) => result.ensure.some((v) => !v.ok && v.check.includes(CHECK[name])));
}

function hist(result: ArtilleryRunResult, name: string) {
  const value = summary(result, name);
  assert.ok(value, `histogram ${name} missing\n${explain(result)}`);
  return value;
}

/** The run's key numbers, printed with the test (node --test shows diagnostics). */
function digest(result: ArtilleryRunResult, stats?: SimStats): string[] {
  const c = (name: string) => counter(result, name);
  const p = (name: string) => {
    const h = summary(result, name);
    return h ? `${h.p50.toFixed(1)}/${h.p99.toFixed(1)}` : '-';
  };
  const failures = Object.entries(result.report?.aggregate.counters ?? {})
    .filter(([name, value]) => (name.startsWith('llm.failures.') || name.startsWith('errors.')) && value > 0)
    .map(([name, value]) => `${name}=${value}`);
  const served = stats?.routes['api.completions']?.latencyMs;
  return [
    `attempts=${c('llm.attempts')} success=${c('llm.success')} http.requests=${c('http.requests')} failures=[${failures.join(' ')}]`,
    `tokens p/c/t=${c('llm.tokens.prompt')}/${c('llm.tokens.completion')}/${c('llm.tokens.total')}` +
      (stats
        ? ` billed=${stats.llm.promptTokens}/${stats.llm.completionTokens}/${stats.llm.totalTokens}`
        : ''),
    `p50/p99 ms: e2e=${p('llm.latency_ms')} overhead=${p('llm.proxy_overhead_ms')} http.response_time=${p('http.response_time')} ttft=${p('llm.ttft_ms')} itl=${p('llm.inter_token_ms')}` +
      (served ? ` server=${served.p50.toFixed(1)}/${served.p99.toFixed(1)}` : '') +
      (stats ? ` inFlight.max=${stats.inFlight.llm.max}` : ''),
    `checks: ${result.ensure.map((v) => `${v.ok ? 'ok' : 'FAIL'}: ${v.check}`).join(' | ')}`,
  ];
}

function assertNear(actual: number, expected: number, tolerance: number, what: string) {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: ${actual.toFixed(1)} not within ±${tolerance} of ${expected}`,
  );
}

describe('scenarios/llm-proxy.yml as an Artillery script', () => {
  const users = (phases: PhaseSpec[]) =>
    phases.filter((p) => p.pause === undefined).map((p) => p.arrivalCount);

  it('literal load shapes per environment; no -e is the load profile', () => {
    const { environments } = script.config;
    assert.deepEqual(users(environments.smoke!.phases), [10]);
    assert.equal(environments.smoke!.variables.loopDuration, '8s');
    assert.deepEqual(users(environments.load!.phases), [100]);
    assert.equal(environments.load!.variables.loopDuration, '10m');
    assert.deepEqual(users(environments.soak!.phases), [20]);
    assert.equal(environments.soak!.variables.loopDuration, '60m');
    assert.deepEqual(users(environments.stress!.phases), [100, 100, 100]);
    assert.deepEqual(
      environments.stress!.phases.filter((p) => p.pause !== undefined).map((p) => p.pause),
      [299, 299],
    );
    assert.equal(environments.stress!.variables.loopDuration, '15m');
    for (const [name, environment] of Object.entries(environments))
      for (const phase of environment.phases.filter((p) => p.pause === undefined)) {
        assert.equal(phase.duration, 1, `${name}: users arrive within one second`);
        assert.equal(phase.arrivalRate, undefined, `${name}: no arrivalRate fallback`);
        assert.equal(phase.maxVusers, undefined, `${name}: no maxVusers`);
      }
    assert.deepEqual(script.config.phases, environments.load!.phases);
    assert.deepEqual(script.config.variables, environments.load!.variables);
    const allPhases = [script.config.phases, ...Object.values(environments).map((e) => e.phases)];
    assert.equal(JSON.stringify(allPhases).includes('{{'), false, 'no variable in the phases');
  });

  it('target from API_BASE_URL, the suite plugin first, one named post, the streaming timeout equal to http.timeout', () => {
    assert.equal(script.config.target, '{{ $env.API_BASE_URL }}');
    assert.deepEqual(Object.keys(script.config.plugins).slice(0, 3), [
      'agentteams',
      'metrics-by-endpoint',
      'ensure',
    ]);
    assert.equal(script.config.http.timeout * 1000, SCENARIO_HTTP_TIMEOUT_MS);
    const posts = script.scenarios[0]!.flow[0]!.loop.filter((step) => 'post' in step).map(
      (step) => step.post,
    );
    assert.equal(posts.length, 1);
    assert.equal(posts[0]!.name, REQUEST_NAME);
    assert.equal(posts[0]!.url, '/v1/chat/completions');
    // The real proxy refuses unknown fields: exactly the contract's fields.
    assert.deepEqual(Object.keys(posts[0]!.json as object).sort(), [
      'max_tokens',
      'messages',
      'model',
      'stream',
      'temperature',
    ]);
    // Limits are literal numbers, no setting templated into a check.
    for (const { expression } of script.config.ensure.conditions)
      assert.equal(expression.includes('{{'), false);
  });
});

describe('scenarios/llm-proxy.yml against the simulator', { concurrency: false }, () => {
  let sim: SimulatorHandle;

  before(async () => {
    sim = await startSimulator({ seedTenants: TENANTS });
  });
  after(async () => {
    await sim?.stop();
  });
  beforeEach(async () => {
    await sim.control.clearFaults();
    for (const id of sim.tenantIds) await sim.control.setCredits(id, 1000);
    // A profile switch reloads the profile's models, undoing a test's model patches.
    await sim.control.patchLatency({ profile: 'realistic' });
    await sim.control.patchLatency({ profile: 'fast', timeScale: 1 });
    await sim.control.resetStats();
  });

  /** Patches single latency models (the control API merges them). */
  const patchModels = (models: Partial<LatencySettings['models']>) => sim.control.patchLatency({ models });

  interface RunOptions {
    env?: Record<string, string | undefined>;
    environment?: string;
    /** Users (one step), as the runner's LLM_VUS does: `--overrides` on the phases. */
    users?: number;
    /** Limit settings, written into the conditions the way the runner does it. */
    limits?: Record<string, string>;
    /** `-t`: the target on the command line instead of API_BASE_URL. */
    target?: string;
  }

  const run = ({ env = {}, environment = 'smoke', users, limits = {}, target }: RunOptions = {}) => {
    // 100 users on this 2-core machine really do saturate the generator; these tests are about the
    // platform's checks, generator-health.test.ts about that one.
    const applied = applyLimitSettings(script.config.ensure.conditions, 'llm-proxy', {
      GENERATOR_CPU_P95_PCT: '1000',
      ...limits,
    });
    assert.deepEqual(applied.problems, []);
    return runArtillery({
      scenario: scenarioPath('llm-proxy'),
      environment,
      env: {
        API_BASE_URL: sim.apiUrl,
        SERVICE_API_KEY: sim.serviceApiKey,
        TENANT_IDS: sim.tenantIds.join(','),
        LLM_DURATION: '3s',
        ...env,
      },
      overrides: {
        config: {
          ...(users ? { phases: [{ name: 'llm-users', arrivalCount: users, duration: 1 }] } : {}),
          ensure: { conditions: applied.conditions },
        },
      },
      extraArgs: target ? ['-t', target] : [],
      timeoutMs: 120_000,
    });
  };

  /** What the scenario counted must be what the simulator served and billed. */
  function assertAgreesWithSimulator(result: ArtilleryRunResult, stats: SimStats) {
    const served = stats.routes['api.completions']?.count ?? 0;
    assert.equal(counter(result, 'llm.attempts'), served, `attempts vs served\n${explain(result)}`);
    assert.equal(counter(result, 'llm.success'), stats.llm.calls, 'successes vs billed calls');
    assert.equal(counter(result, 'llm.tokens.prompt'), stats.llm.promptTokens, 'prompt tokens');
    assert.equal(counter(result, 'llm.tokens.completion'), stats.llm.completionTokens, 'completion tokens');
    assert.equal(counter(result, 'llm.tokens.total'), stats.llm.totalTokens, 'total tokens');
  }

  it('healthy: passes every check; tokens equal what the simulator billed; Artillery metrics for the named request', async (t) => {
    const result = await run();
    const stats = await sim.control.stats();
    for (const line of digest(result, stats)) t.diagnostic(line);
    assert.equal(result.exitCode, 0, explain(result));
    assert.deepEqual(failedChecks(result), []);
    assertAgreesWithSimulator(result, stats);
    assert.ok(counter(result, 'llm.success') > 30, 'enough requests for a verdict');
    assert.equal(counter(result, 'llm.failures'), 0);
    // The smoke environment's 10 users, each with one of the seeded tenants.
    assert.equal(counter(result, 'vusers.created'), 10);
    assert.equal(counter(result, 'vusers.failed'), 0);
    const { tenants } = await sim.control.tenants();
    for (const id of sim.tenantIds)
      assert.ok((tenants.find((t) => t.id === id)?.creditsCents ?? 1000) < 1000, `tenant ${id} was billed`);
    // Artillery's own metrics: the requests went through its HTTP engine.
    const success = counter(result, 'llm.success');
    assert.equal(counter(result, 'http.requests'), counter(result, 'llm.attempts'));
    assert.equal(counter(result, 'http.codes.200'), success);
    assert.equal(hist(result, 'http.response_time').count, success);
    assert.equal(counter(result, `plugins.metrics-by-endpoint.${REQUEST_NAME}.codes.200`), success);
    assert.equal(hist(result, `plugins.metrics-by-endpoint.response_time.${REQUEST_NAME}`).count, success);
    // Server-Timing present on every answer: the exact method, never the budget estimate.
    assert.equal(counter(result, 'llm.overhead_method.server_timing'), success);
    assert.equal(counter(result, 'llm.overhead_method.inference_budget'), 0);
    assert.equal(hist(result, 'llm.request_tokens.total').count, success);
    // Prompts of varied length: the payload spans short and long prompts.
    const prompt = hist(result, 'llm.request_tokens.prompt');
    assert.ok(prompt.min < 30 && prompt.max > 200, `prompt tokens ${prompt.min}..${prompt.max}`);
    assert.equal(counter(result, 'llm.codes.200'), success);
    for (const text of [JSON.stringify(result.report), result.stdout, result.stderr])
      assert.equal(text.includes(sim.serviceApiKey), false, 'the service key never reaches results or logs');
  });

  it('-t wins over API_BASE_URL for the engine path', async (t) => {
    // API_BASE_URL names the simulator's web app, which has no such route: every request must go
    // to the -t target for the counts to agree with the API's.
    const result = await run({ env: { API_BASE_URL: sim.webUrl }, target: sim.apiUrl, users: 3 });
    const stats = await sim.control.stats();
    for (const line of digest(result, stats)) t.diagnostic(line);
    assert.equal(result.exitCode, 0, explain(result));
    assert.ok(result.stdout.includes(`target ${sim.apiUrl}`), 'the target used is printed');
    assertAgreesWithSimulator(result, stats);
    assert.ok(counter(result, 'llm.success') > 5);
    assert.equal(counter(result, 'llm.failures'), 0);
  });

  it('injected proxy overhead at 100 users: all in flight at the peak; gate names overhead', async (t) => {
    // The load environment: its 100 users, held for the whole (shortened) run. A 2 s delay keeps
    // every user's request open while the rest are still being created on a busy 2-core machine.
    await sim.control.patchFaults({ llm: { appDelayMs: 2_000 } });
    const result = await run({ env: { LLM_THINK_TIME: '0ms', LLM_DURATION: '6s' }, environment: 'load' });
    const stats = await sim.control.stats();
    for (const line of digest(result, stats)) t.diagnostic(line);
    assert.equal(result.exitCode, 1, explain(result));
    assert.deepEqual(failedChecks(result), ['overhead']);
    assertAgreesWithSimulator(result, stats);
    const overhead = hist(result, 'llm.proxy_overhead_ms');
    assert.ok(overhead.min >= 2_000 - TIMER_SLACK_MS, `overhead min ${overhead.min} below the injected 2 s`);
    assert.equal(counter(result, 'vusers.created'), 100);
    assert.equal(counter(result, 'vusers.failed'), 0);
    assert.equal(stats.inFlight.llm.max, 100, 'exactly 100 requests in flight at the peak');
  });

  it('injected proxy overhead measured as ~600 ms; LLM_OVERHEAD_P99_MS (written into the condition) moves the limit', async (t) => {
    // The smoke environment's 10 users: the generator is far from saturated, so the client figure
    // can be held to the truth (at 100 users on a busy 2-core machine the generator's own delay shows).
    await sim.control.patchFaults({ llm: { appDelayMs: 600 } });
    const result = await run({ limits: { LLM_OVERHEAD_P99_MS: '900' } });
    const stats = await sim.control.stats();
    for (const line of digest(result, stats)) t.diagnostic(line);
    assert.equal(result.exitCode, 0, explain(result));
    assert.deepEqual(failedChecks(result), []);
    assert.ok(result.ensure.some((v) => v.check.includes('llm.proxy_overhead_ms.p99 < 900')));
    assertAgreesWithSimulator(result, stats);
    const overhead = hist(result, 'llm.proxy_overhead_ms');
    assertNear(overhead.p50, 600, 60, 'overhead p50');
    assert.ok(overhead.min >= 600 - TIMER_SLACK_MS, `overhead min ${overhead.min} below the injected 600 ms`);
    // The client-side figure agrees with the simulator's own measurement of its app time.
    assertNear(overhead.p50, stats.llm.appMs.p50, 60, 'client overhead vs simulator app time');
    assert.ok(hist(result, 'llm.upstream_ms').p50 < 50, 'fast model: upstream time is small');
    assert.equal(counter(result, 'vusers.created'), 10);
  });

  it('error storm: every failure counted by cause as the simulator injected it; gate names success rate', async (t) => {
    await sim.control.patchFaults({
      routes: { llm: { errorRate: 0.2, malformedRate: 0.1, malformedKind: 'html' } },
    });
    const result = await run();
    const stats = await sim.control.stats();
    for (const line of digest(result, stats)) t.diagnostic(line);
    assert.equal(result.exitCode, 1, explain(result));
    assert.deepEqual(failedChecks(result), ['successRate']);
    assertAgreesWithSimulator(result, stats);
    const injected = stats.faults.llm;
    assert.ok(injected && injected.errors > 0 && injected.malformed > 0, 'faults fired');
    assert.equal(counter(result, 'llm.failures.upstream_error'), injected.errors);
    assert.equal(counter(result, 'llm.failures.malformed_body'), injected.malformed);
    assert.equal(counter(result, 'llm.malformed.html'), injected.malformed);
    assert.equal(
      counter(result, 'llm.failures'),
      injected.errors + injected.malformed,
      'no failure without an injected cause',
    );
    assert.equal(counter(result, 'http.codes.502'), injected.errors + injected.malformed);
    // Answers of any status reach the hooks: nobody's loop ends on a 5xx or a garbled body.
    assert.equal(counter(result, 'vusers.failed'), 0);
  });

  it('connection resets: counted by cause in the success rate; Artillery ends each user it hits', async (t) => {
    await sim.control.patchFaults({ routes: { llm: { resetRate: 0.2 } } });
    const result = await run({ users: 20 });
    const stats = await sim.control.stats();
    for (const line of digest(result, stats)) t.diagnostic(line);
    assert.equal(result.exitCode, 1, explain(result));
    assert.deepEqual(failedChecks(result), ['successRate']);
    assertAgreesWithSimulator(result, stats);
    const resets = stats.faults.llm?.resets ?? 0;
    assert.ok(resets > 0, 'faults fired');
    // A reset never reaches afterResponse: the scenario's onError hook names it first.
    assert.equal(counter(result, 'llm.failures.connection_error'), resets);
    assert.equal(counter(result, 'errors.ECONNRESET'), resets);
    assert.equal(counter(result, 'vusers.failed'), resets);
    assert.equal(counter(result, 'llm.attempts') - counter(result, 'llm.success'), resets);
  });

  it('malformed 200 answers (missing usage) are counted as such, not as successes', async (t) => {
    await sim.control.patchFaults({
      routes: { llm: { malformedRate: 0.5, malformedKind: 'missing-usage' } },
    });
    const result = await run({ users: 4 });
    const stats = await sim.control.stats();
    for (const line of digest(result, stats)) t.diagnostic(line);
    const injected = stats.faults.llm?.malformed ?? 0;
    assert.ok(injected > 0);
    assert.equal(counter(result, 'llm.malformed.missing_usage'), injected);
    assert.equal(counter(result, 'llm.failures.malformed_body'), injected);
    assert.deepEqual(failedChecks(result), ['successRate']);
    assert.equal(counter(result, 'vusers.created'), 4);
    assert.equal(counter(result, 'vusers.failed'), 0, 'a malformed body never crashes a user');
  });

  it('answers slower than LLM_REQUEST_TIMEOUT are timeouts, counted and never measured as latency', async (t) => {
    await sim.control.patchFaults({ routes: { llm: { delayMs: 400 } } });
    const result = await run({ users: 3, env: { LLM_REQUEST_TIMEOUT: '150ms' } });
    for (const line of digest(result)) t.diagnostic(line);
    assert.equal(result.exitCode, 1, explain(result));
    assert.deepEqual(failedChecks(result), ['successRate']);
    // The engine gives up on the request and ends the user: one attempt each.
    assert.equal(counter(result, 'llm.attempts'), 3);
    assert.equal(counter(result, 'llm.failures.timeout'), 3);
    assert.equal(counter(result, 'errors.ETIMEDOUT'), 3);
    assert.equal(summary(result, 'llm.latency_ms'), undefined);
  });

  it('bearer JWT auth reaches the proxy; an unknown model is counted as bad_request', async (t) => {
    const token = await new SignJWT({ sub: 'loadtest' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode(sim.jwtSecret));
    const result = await run({
      env: { SERVICE_API_KEY: '', API_BEARER_TOKEN: token, LLM_MODEL: 'openai/no-such-model' },
      users: 3,
    });
    const stats = await sim.control.stats();
    for (const line of digest(result, stats)) t.diagnostic(line);
    assert.equal(result.exitCode, 1, explain(result));
    assert.deepEqual(failedChecks(result), ['successRate']);
    const served = stats.routes['api.completions'];
    assert.ok(served && served.count > 0);
    assert.equal(served.status['400'], served.count, 'the proxy refused the model, not the credentials');
    assert.equal(counter(result, 'llm.failures.bad_request'), served.count);
    assert.equal(counter(result, 'llm.failures.unauthorized'), 0);
    assert.equal(
      result.stdout.includes(token) || result.stderr.includes(token),
      false,
      'the JWT never printed',
    );
  });

  it('credit exhaustion: counted as credits, never as latency; gate names credits and success rate', async (t) => {
    await sim.control.patchFaults({ credits: { exhausted: true } });
    const result = await run({ users: 4 });
    const stats = await sim.control.stats();
    for (const line of digest(result, stats)) t.diagnostic(line);
    assert.equal(result.exitCode, 1, explain(result));
    assert.deepEqual(failedChecks(result), ['successRate', 'credits']);
    assert.ok(stats.llm.paymentRequired > 0);
    assert.equal(counter(result, 'llm.failures.credits_exhausted'), stats.llm.paymentRequired);
    assert.equal(counter(result, 'llm.credits_exhausted_responses'), stats.llm.paymentRequired);
    assert.equal(counter(result, 'http.codes.402'), stats.llm.paymentRequired);
    assert.equal(counter(result, 'llm.success'), 0);
    assert.equal(summary(result, 'llm.latency_ms'), undefined, '402s must not appear as latency');
    assert.equal(summary(result, 'llm.proxy_overhead_ms'), undefined);
  });

  it('streaming (through -t): TTFT, inter-token latency and tokens/s agree with the modelled model; gate passes', async (t) => {
    await patchModels({
      modelFirstToken: { kind: 'fixed', ms: 40 },
      modelPerToken: { kind: 'fixed', ms: 8 },
    });
    // The streaming step must call the target the engine would: -t, not API_BASE_URL.
    const result = await run({
      env: { LLM_STREAM: 'true', API_BASE_URL: sim.webUrl },
      target: sim.apiUrl,
      users: 5,
    });
    const stats = await sim.control.stats();
    for (const line of digest(result, stats)) t.diagnostic(line);
    assert.equal(result.exitCode, 0, explain(result));
    assert.deepEqual(failedChecks(result), []);
    assertAgreesWithSimulator(result, stats);
    const streamed = counter(result, 'llm.streamed_responses');
    assert.ok(streamed > 10);
    assert.equal(streamed, counter(result, 'llm.success'));
    assert.equal(stats.llm.streamed, streamed);
    assert.equal(counter(result, 'llm.stream_buffered'), 0);
    assert.equal(counter(result, 'http.requests'), 0, 'the engine sends nothing in streaming mode');
    const ttft = hist(result, 'llm.ttft_ms');
    assert.ok(ttft.min >= 40 - TIMER_SLACK_MS, `TTFT ${ttft.min} below the modelled 40 ms first token`);
    assertNear(ttft.p50, 50, 30, 'TTFT p50 (40 ms modelled + proxy and client)');
    assertNear(hist(result, 'llm.inter_token_ms').p50, 8, 5, 'inter-token gap p50');
    assertNear(hist(result, 'llm.inter_token_mean_ms').p50, 8, 5, 'per-request mean gap p50');
    assertNear(hist(result, 'llm.output_tokens_per_s').p50, 120, 60, 'decode rate p50 (1000/8 ms)');
    // End to end is first token plus the rest: at least 40 + 8 × (tokens − 1).
    const e2e = hist(result, 'llm.latency_ms');
    assert.ok(e2e.min >= 40 + 8 * (hist(result, 'llm.request_tokens.completion').min - 1) - TIMER_SLACK_MS);
    // Server-Timing in stream headers covers the way to the first token: overhead stays small.
    assert.ok(hist(result, 'llm.proxy_overhead_ms').p50 < 25);
  });

  it('streaming: a slow first token fails the TTFT check by name', async (t) => {
    await patchModels({
      modelFirstToken: { kind: 'fixed', ms: 150 },
      modelPerToken: { kind: 'fixed', ms: 2 },
    });
    const result = await run({ env: { LLM_STREAM: 'true' }, users: 4, limits: { LLM_TTFT_P99_MS: '100' } });
    for (const line of digest(result)) t.diagnostic(line);
    assert.equal(result.exitCode, 1, explain(result));
    assert.deepEqual(failedChecks(result), ['ttft']);
    assert.ok(hist(result, 'llm.ttft_ms').min >= 150 - TIMER_SLACK_MS);
  });

  it('buffered answers to streaming requests are counted and measured as non-streamed; slow model fails e2e latency, not overhead', async (t) => {
    await sim.control.patchFaults({ llm: { bufferStreams: true } });
    await patchModels({
      modelFirstToken: { kind: 'fixed', ms: 700 },
      modelPerToken: { kind: 'fixed', ms: 0 },
    });
    // 4 users × 3 s at ≥ 700 ms each is under 20 answers: the check would be inconclusive.
    const result = await run({
      env: { LLM_STREAM: 'true', LLM_DURATION: '5s', LLM_THINK_TIME: '0ms' },
      users: 4,
      limits: { LLM_LATENCY_P99_MS: '500' },
    });
    const stats = await sim.control.stats();
    for (const line of digest(result, stats)) t.diagnostic(line);
    assert.equal(result.exitCode, 1, explain(result));
    assert.deepEqual(failedChecks(result), ['latency']);
    assertAgreesWithSimulator(result, stats);
    assert.ok(counter(result, 'llm.success') >= 20);
    assert.equal(counter(result, 'llm.stream_buffered'), counter(result, 'llm.success'));
    assert.equal(counter(result, 'llm.streamed_responses'), 0);
    assert.equal(summary(result, 'llm.ttft_ms'), undefined);
    assert.ok(hist(result, 'llm.latency_ms').min >= 700 - TIMER_SLACK_MS);
    // Model time is upstream time: the proxy overhead stays near zero.
    assert.ok(hist(result, 'llm.proxy_overhead_ms').p99 < 100);
  });
});

/** A throwaway local server whose handler each test decides. */
async function withServer(
  handler: http.RequestListener,
  body: (url: URL, agent: http.Agent) => Promise<void>,
): Promise<void> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    await body(new URL(`http://127.0.0.1:${port}/v1/chat/completions`), agent);
  } finally {
    agent.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

const usage = { prompt_tokens: 12, completion_tokens: 4, total_tokens: 16 };
const chunk = (content: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    choices: [{ index: 0, delta: { content }, finish_reason: null }],
    ...extra,
  });
const sse = (...datas: string[]) => datas.map((d) => `data: ${d}\n\n`).join('');
const completion = JSON.stringify({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  model: 'openai/gpt-4.1-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
  usage,
});

describe('streaming client (the LLM_STREAM step) against a local server', () => {
  const call = (url: URL, agent: http.Agent, timeoutMs = 5_000, headers: Record<string, string> = {}) =>
    requestStream({
      url,
      agent,
      timeoutMs,
      headers: { 'content-type': 'application/json', ...headers },
      body: '{}',
    });

  it('a stream with Server-Timing as a trailer subtracts upstream from the whole answer', async () => {
    await withServer(
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream', trailer: 'server-timing' });
        res.write(sse(chunk('a')));
        setTimeout(() => {
          res.write(sse(chunk(' b', { usage }), '[DONE]'));
          res.addTrailers({ 'server-timing': 'upstream;dur=25' });
          res.end();
        }, 30);
      },
      async (url, agent) => {
        const outcome = await call(url, agent);
        assert.ok(outcome.ok && outcome.mode === 'stream');
        assert.equal(outcome.upstreamMs, 25);
        assert.equal(outcome.upstreamSpanMs, outcome.totalMs);
        assert.ok(outcome.timing && outcome.timing.gapsMs.length === 1 && outcome.timing.gapsMs[0]! >= 25);
      },
    );
  });

  it('a JSON answer to a streaming request is a buffered stream', async () => {
    await withServer(
      (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(completion),
      async (url, agent) => {
        const outcome = await call(url, agent);
        assert.ok(outcome.ok && outcome.mode === 'buffered_stream' && outcome.timing === undefined);
      },
    );
  });

  it('a stream cut off mid-body is a connection error; a stream that ends early is truncated', async () => {
    await withServer(
      (req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(sse(chunk('a')));
        if (req.headers['x-mode'] === 'reset') setTimeout(() => res.socket?.destroy(), 10);
        else setTimeout(() => res.end(), 10);
      },
      async (url, agent) => {
        const reset = await call(url, agent, 5_000, { 'x-mode': 'reset' });
        assert.deepEqual(reset.ok ? 'ok' : reset.cause, 'connection_error');
        const early = await call(url, agent);
        assert.ok(!early.ok && early.cause === 'malformed_body' && early.malformed === 'truncated_stream');
      },
    );
  });

  it('no complete answer in time is a timeout; a refused connection is a connection error', async () => {
    await withServer(
      () => {
        // Never answers.
      },
      async (url, agent) => {
        const outcome = await call(url, agent, 100);
        assert.ok(!outcome.ok && outcome.cause === 'timeout');
        assert.ok(outcome.totalMs >= 97, 'gave up only after the timeout');
      },
    );
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const agent = new http.Agent();
    const refused = await call(new URL(`http://127.0.0.1:${port}/v1/chat/completions`), agent);
    agent.destroy();
    assert.ok(!refused.ok && refused.cause === 'connection_error');
  });
});
