import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parse } from 'yaml';
import { applyLimitSettings, type EnsureCondition, limitsOf } from '../../config/limits';
import { CHAT_BUCKETS } from '../../config/settings/chat';
import { loadChatMessages } from '../../processors/lib/chat/messages';
import { BucketMix } from '../../processors/lib/chat/mix';
import type { Faults } from '../../simulator/src/control-types';
import { counter, explain, runArtillery, summary, verdict } from '../helpers/artillery';
import { ROOT, scenarioPath } from '../helpers/paths';
import { type SimulatorHandle, startSimulator } from '../helpers/simulator';

/**
 * scenarios/chat-sessions.yml run by real Artillery (HTTP engine, the flow in YAML) against the
 * simulator, smoke-sized: each user signs up and logs in once, then chats in a `loop` to the
 * run's deadline with a short think time. Every gate passes on a healthy simulator and trips
 * under the fault that concerns it; counts equal the simulator's.
 */
const SCENARIO = scenarioPath('chat-sessions');
const SUCCESS_CHECK = 'chat.success / (chat.attempts - chat.rate_limited) * 100 >';
const latencyCheck = (bucket: string) =>
  `not (chat.messages.${bucket} > 0) or chat.latency_ms.${bucket}.count < 20`;
const USERS = 5;

const CONDITIONS = (
  parse(readFileSync(SCENARIO, 'utf8')) as { config: { ensure: { conditions: EnsureCondition[] } } }
).config.ensure.conditions;

/** `--overrides` as the runner writes them; the generator limits are lifted (busy shared cores). */
function overrides(users: number | undefined, limits: Record<string, string> = {}) {
  const applied = applyLimitSettings(CONDITIONS, 'chat-sessions', {
    GENERATOR_CPU_P95_PCT: '1000',
    GENERATOR_LAG_P99_MS: '60000',
    ...limits,
  });
  assert.deepEqual(applied.problems, []);
  return {
    config: {
      ensure: { conditions: applied.conditions },
      ...(users === undefined
        ? {}
        : { phases: [{ name: `${users} chat users`, arrivalCount: users, duration: 1 }] }),
    },
  };
}

async function withSimulator(
  options: { faults?: Faults; args?: string[] },
  run: (sim: SimulatorHandle) => Promise<void>,
): Promise<void> {
  const sim = await startSimulator({ args: options.args ?? [] });
  try {
    if (options.faults) await sim.control.setFaults(options.faults);
    await run(sim);
  } finally {
    await sim.stop();
  }
}

function runChat(
  sim: SimulatorHandle,
  env: Record<string, string | undefined> = {},
  options: { users?: number; limits?: Record<string, string> } = {},
) {
  return runArtillery({
    scenario: SCENARIO,
    environment: 'smoke',
    timeoutMs: 90_000,
    overrides: overrides(options.users, options.limits),
    env: {
      WEB_BASE_URL: sim.webUrl,
      API_BASE_URL: sim.apiUrl,
      LOADTEST_RUN_ID: `chat${Date.now().toString(36)}`,
      CHAT_DURATION: '5s',
      CHAT_THINK_TIME: '200ms',
      CHAT_MIX: undefined,
      CHAT_MESSAGES_FILE: undefined,
      CHAT_REQUEST_TIMEOUT: undefined,
      ...env,
    },
  });
}

type Run = Awaited<ReturnType<typeof runChat>>;

const latencyCount = (result: Run) =>
  CHAT_BUCKETS.reduce((sum, bucket) => sum + (summary(result, `chat.latency_ms.${bucket}`)?.count ?? 0), 0);

const workerErrors = (result: Run) =>
  Object.keys(result.report?.aggregate.counters ?? {}).filter((name) => name.startsWith('errors.'));

/** The mix is dealt by smooth weighted round robin: each bucket within one message of its share. */
function assertMix(result: Run, weights: [number, number, number], why: string): void {
  const counts = CHAT_BUCKETS.map((bucket) => counter(result, `chat.messages.${bucket}`));
  const total = counts.reduce((a, b) => a + b, 0);
  const weightSum = weights.reduce((a, b) => a + b, 0);
  assert.ok(total >= 20, `too few messages to judge a mix: ${counts}\n${why}`);
  CHAT_BUCKETS.forEach((bucket, i) => {
    const expected = (total * weights[i]!) / weightSum;
    assert.ok(
      Math.abs(counts[i]! - expected) <= 1,
      `${bucket}: ${counts[i]} of ${total} messages, configured share ${expected.toFixed(1)}`,
    );
  });
}

describe('chat length mix', () => {
  it('deals every prefix of the message sequence within one message of the configured shares', () => {
    fc.assert(
      fc.property(
        fc.tuple(fc.nat(100), fc.nat(100), fc.nat(100)).filter(([a, b, c]) => a + b + c > 0),
        fc.integer({ min: 1, max: 400 }),
        ([short, medium, long], picks) => {
          const mix = new BucketMix({ short, medium, long });
          const seen = { short: 0, medium: 0, long: 0 };
          const total = short + medium + long;
          for (let n = 1; n <= picks; n++) {
            seen[mix.next()] += 1;
            for (const [bucket, weight] of Object.entries({ short, medium, long }))
              assert.ok(Math.abs(seen[bucket as keyof typeof seen] - (n * weight) / total) < 1 + 1e-9);
          }
        },
      ),
    );
  });
});

describe('chat-sessions scenario', () => {
  it('holds its gate limits as literal numbers the limit settings rewrite, and a valid payload', () => {
    const found = Object.fromEntries(limitsOf(CONDITIONS, 'chat-sessions').map((l) => [l.setting, l.value]));
    assert.deepEqual(
      {
        CHAT_SUCCESS_RATE_MIN_PCT: found.CHAT_SUCCESS_RATE_MIN_PCT,
        CHAT_P99_MS_SHORT: found.CHAT_P99_MS_SHORT,
        CHAT_P99_MS_MEDIUM: found.CHAT_P99_MS_MEDIUM,
        CHAT_P99_MS_LONG: found.CHAT_P99_MS_LONG,
      },
      {
        CHAT_SUCCESS_RATE_MIN_PCT: 95,
        CHAT_P99_MS_SHORT: 5000,
        CHAT_P99_MS_MEDIUM: 8000,
        CHAT_P99_MS_LONG: 12000,
      },
    );
    assert.doesNotMatch(JSON.stringify(CONDITIONS), /\$env|\{\{|\.limit\./);
    const messages = loadChatMessages(resolve(ROOT, 'config', 'payloads', 'chat-messages.json'));
    for (const bucket of CHAT_BUCKETS) assert.ok(messages[bucket].length >= 3, bucket);
  });

  it('chats in one conversation per user with the 50/35/15 mix, counts equal the simulator, the gate passes', async () => {
    await withSimulator({}, async (sim) => {
      const result = await runChat(sim);
      const why = explain(result);
      assert.equal(result.exitCode, 0, why);
      assert.equal(verdict(result, SUCCESS_CHECK)?.ok, true, why);
      for (const bucket of CHAT_BUCKETS) assert.equal(verdict(result, latencyCheck(bucket))?.ok, true, why);
      assert.deepEqual(workerErrors(result), [], why);

      assert.equal(counter(result, 'chat.users.ready'), USERS, why);
      assertMix(result, [50, 35, 15], why);
      const success = counter(result, 'chat.success');
      assert.equal(counter(result, 'chat.failures'), 0, why);
      assert.equal(success, counter(result, 'chat.attempts'), why);
      assert.equal(latencyCount(result), success, why);

      // Continuity: every answer after a user's first kept its conversation, on both sides.
      assert.equal(counter(result, 'chat.conversation_mismatch'), 0, why);
      assert.equal(counter(result, 'chat.conversation_continued'), success - USERS, why);
      const stats = await sim.control.stats();
      assert.equal(stats.chat.conversations, USERS, JSON.stringify(stats.chat));
      assert.equal(stats.chat.messages, success, JSON.stringify(stats.chat));

      // Artillery's own metrics: every request named, the chat requests are the suite's attempts.
      const steps = { auth_csrf: 2 * USERS, auth_signup: USERS, auth_callback: USERS, auth_session: USERS };
      for (const [step, n] of Object.entries(steps)) {
        assert.equal(counter(result, `plugins.metrics-by-endpoint.${step}.codes.200`), n, step);
        assert.equal(summary(result, `plugins.metrics-by-endpoint.response_time.${step}`)?.count, n, step);
      }
      assert.equal(counter(result, 'plugins.metrics-by-endpoint.chat_message.codes.200'), success, why);
      assert.equal(counter(result, 'http.requests'), 5 * USERS + success, why);
      assert.equal(summary(result, 'http.response_time')?.count, 5 * USERS + success, why);
      // Client latency (whole answer) against the simulator's own time for the same requests.
      const client = summary(result, 'chat.latency_ms.short')!;
      const server = stats.routes['web.chat']?.latencyMs;
      assert.ok(server && client.p50 >= server.p50 - 1, JSON.stringify({ client, server }));
    });
  });

  it('classifies 429s as rate limiting: waits Retry-After, resends, records no latency for them', async () => {
    await withSimulator({ args: ['--rate-limit', '3', '--rate-limit-window', '2s'] }, async (sim) => {
      const result = await runChat(sim, { CHAT_MIX: '1,0,1', CHAT_THINK_TIME: '100ms' });
      const why = explain(result);
      const stats = await sim.control.stats();
      const limited = counter(result, 'chat.rate_limited');
      assert.ok(limited > 0, why);
      assert.equal(limited, stats.chat.rateLimited, JSON.stringify(stats.chat));
      assert.equal(counter(result, 'plugins.metrics-by-endpoint.chat_message.codes.429'), limited, why);
      assert.equal(counter(result, 'chat.failures.rate_limited'), limited, why);
      assert.equal(counter(result, 'chat.failures'), limited, `only rate limiting expected\n${why}`);
      // Waits are the platform's Retry-After (whole seconds), kept apart from latency.
      const waits = summary(result, 'chat.retry_after_ms');
      assert.equal(waits?.count, limited, why);
      // Artillery's summaries keep values to ~1% relative accuracy, hence 980 for one second.
      assert.ok(waits.min >= 980, JSON.stringify(waits));
      const success = counter(result, 'chat.success');
      assert.equal(latencyCount(result), success, why);
      assert.equal(stats.chat.messages, success, JSON.stringify(stats.chat));
      assert.equal(counter(result, 'chat.attempts'), success + limited, why);
      // A configured mix without medium messages: none sent, and its check does not apply.
      assert.equal(counter(result, 'chat.messages.medium'), 0, why);
      assertMix(result, [1, 0, 1], why);
      assert.equal(verdict(result, latencyCheck('medium'))?.ok, true, why);
      // Being rate limited is not a failed chat: the gate still passes.
      assert.equal(verdict(result, SUCCESS_CHECK)?.ok, true, why);
      assert.equal(result.exitCode, 0, why);
    });
  });

  it('trips each length bucket latency check when answers are slower than its limit', async () => {
    await withSimulator({ faults: { routes: { chat: { delayMs: 400 } } } }, async (sim) => {
      // 20 answers per bucket at least: fewer would be inconclusive by design.
      const result = await runChat(
        sim,
        { CHAT_MIX: '1,1,1', CHAT_DURATION: '8s', CHAT_THINK_TIME: '100ms' },
        {
          users: 10,
          limits: { CHAT_P99_MS_SHORT: '300', CHAT_P99_MS_MEDIUM: '300', CHAT_P99_MS_LONG: '300' },
        },
      );
      const why = explain(result);
      assert.equal(result.exitCode, 1, why);
      for (const bucket of CHAT_BUCKETS) {
        assert.ok((summary(result, `chat.latency_ms.${bucket}`)?.count ?? 0) >= 20, `${bucket}\n${why}`);
        assert.equal(verdict(result, latencyCheck(bucket))?.ok, false, why);
      }
      assert.equal(verdict(result, SUCCESS_CHECK)?.ok, true, why);
      assert.ok((summary(result, 'chat.latency_ms.short')?.min ?? 0) >= 400 * 0.98, why);
    });
  });

  it('trips the success check when the web app cannot answer chats', async () => {
    await withSimulator({ faults: { routes: { chat: { errorRate: 0.5 } } } }, async (sim) => {
      const result = await runChat(sim);
      const why = explain(result);
      assert.equal(result.exitCode, 1, why);
      assert.equal(verdict(result, SUCCESS_CHECK)?.ok, false, why);
      const failures = counter(result, 'chat.failures');
      assert.ok(failures > 0, why);
      // The contract's 500 {"error":"Failed to generate assistant response"} is a failed chat.
      assert.equal(counter(result, 'chat.failures.chat_failed'), failures, why);
      assert.equal(counter(result, 'plugins.metrics-by-endpoint.chat_message.codes.500'), failures, why);
      assert.equal(counter(result, 'chat.attempts'), counter(result, 'chat.success') + failures, why);
      assert.deepEqual(workerErrors(result), [], why);
    });
  });

  it('counts a chat request without an answer by cause; Artillery ends that user', async () => {
    await withSimulator({ faults: { routes: { chat: { resetRate: 0.2 } } } }, async (sim) => {
      const result = await runChat(sim, { CHAT_THINK_TIME: '50ms' });
      const why = explain(result);
      const resets = counter(result, 'chat.failures.connection_error');
      assert.ok(resets > 0, why);
      assert.equal(counter(result, 'errors.ECONNRESET'), resets, why);
      assert.equal(counter(result, 'vusers.failed'), resets, why);
      // Every attempt is an answer judged or a counted failure.
      assert.equal(
        counter(result, 'chat.attempts'),
        counter(result, 'chat.success') + counter(result, 'chat.failures'),
        why,
      );
    });
  });

  it('counts users whose login fails as chat.users.failed; they send no chat', async () => {
    await withSimulator({ faults: { auth: { csrfRefuse: true } } }, async (sim) => {
      const result = await runChat(sim, { CHAT_DURATION: '2s' });
      const why = explain(result);
      assert.equal(result.exitCode, 1, why);
      assert.equal(counter(result, 'chat.users.failed'), USERS, why);
      assert.equal(counter(result, 'chat.users.ready'), 0, why);
      assert.equal(counter(result, 'login.failures.csrf_refused'), USERS, why);
      assert.equal(counter(result, 'chat.attempts'), 0, why);
      assert.equal(counter(result, 'vusers.failed'), 0, why);
      assert.equal(verdict(result, SUCCESS_CHECK)?.ok, false, why);
    });
  });
});
