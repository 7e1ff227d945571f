import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { applyLimitSettings, type EnsureCondition } from '../../config/limits';
import { causeOf, visibleSnippet } from '../../processors/signup-browser';
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
 * scenarios/signup-browser.yml in Debian Chromium through Artillery's Playwright engine, against
 * the simulator's web app given as Artillery's `-t` (WEB_BASE_URL names the simulator's API, which
 * has no pages: the journey must follow the target). The journey completes with every step timed
 * and web vitals reported; a page whose scripts its CSP blocks gets the journey stuck, named by
 * step and page-error cause, never as a latency failure; slow pages and a slow assistant trip the
 * latency checks once there are enough journeys to judge.
 */

const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const STEPS = ['signup', 'login', 'onboarding', 'open_chat', 'pick_agent', 'first_answer'];
const JOURNEY_CHECK = 'browser_journey.success == browser_journey.attempts';
const MEASURED_CHECK = 'browser_journey.reached.first_answer == browser_journey.attempts';
const OPEN_CHAT_CHECK =
  'browser_journey.reached.open_chat < browser_journey.attempts or browser.step.open_chat';
const ANSWER_CHECK =
  'browser_journey.reached.first_answer < browser_journey.attempts or browser.step.first_answer';
const LCP_CHECK = 'browser_journey.reached.open_chat < browser_journey.attempts or browser.page.LCP';
const LATENCY_CHECKS = [OPEN_CHAT_CHECK, ANSWER_CHECK, LCP_CHECK];

const SCRIPT = parse(readFileSync(scenarioPath('signup-browser'), 'utf8')) as {
  config: { ensure: { conditions: EnsureCondition[] } };
};

interface JourneyRun {
  runId: string;
  /** `--overrides` besides the limits. */
  config?: Record<string, unknown>;
  /** Limit settings, passed as the runner does: rewritten conditions in `--overrides`. */
  limits?: Record<string, string>;
}

function runJourney(sim: SimulatorHandle, run: JourneyRun): Promise<ArtilleryRunResult> {
  const config: Record<string, unknown> = { ...run.config };
  if (run.limits) {
    const applied = applyLimitSettings(SCRIPT.config.ensure.conditions, 'signup-browser', run.limits);
    assert.deepEqual(applied.problems, []);
    assert.deepEqual(Object.keys(applied.applied).sort(), Object.keys(run.limits).sort());
    config.ensure = { conditions: applied.conditions };
  }
  return runArtillery({
    scenario: scenarioPath('signup-browser'),
    environment: 'smoke',
    extraArgs: ['-t', sim.webUrl],
    ...(Object.keys(config).length > 0 ? { overrides: { config } } : {}),
    env: { WEB_BASE_URL: sim.apiUrl, LOADTEST_RUN_ID: run.runId, CHROMIUM_PATH },
    timeoutMs: 240_000,
  });
}

const newRunId = () => `brw${Date.now().toString(36)}`;

describe('signup-browser in Chromium against the simulator', {
  skip: !existsSync(CHROMIUM_PATH) && `no Chromium at ${CHROMIUM_PATH}`,
}, () => {
  let sim: SimulatorHandle;
  before(async () => {
    sim = await startSimulator({ profile: 'fast' });
  });
  after(async () => {
    await sim?.stop();
  });

  it('completes the journey on the -t target and reports step timings and web vitals', async () => {
    const runId = newRunId();
    const result = await runJourney(sim, { runId });
    const why = explain(result);
    assert.equal(result.exitCode, 0, why);
    for (const check of result.ensure) assert.ok(check.ok, `${check.check}\n${why}`);
    assert.equal(counter(result, 'browser_journey.success'), 1, why);
    assert.equal(counter(result, 'browser_journey.page_errors'), 0, why);
    assert.equal(counter(result, 'vusers.failed'), 0, why);
    const timings: Record<string, number> = {};
    for (const step of STEPS) {
      assert.equal(summary(result, `browser.step.${step}`)?.count, 1, `step ${step}\n${why}`);
      assert.equal(counter(result, `browser_journey.reached.${step}`), 1, `reached ${step}\n${why}`);
      timings[step] = summary(result, `browser.step.${step}`)!.max;
    }
    for (const vital of ['LCP', 'FCP', 'TTFB']) {
      assert.ok(summary(result, `browser.page.${vital}.signup_browser`), `vital ${vital}\n${why}`);
      timings[vital] = summary(result, `browser.page.${vital}.signup_browser`)!.max;
    }
    console.log(`healthy journey (ms): ${JSON.stringify(timings)}`);
    // The page really logged in as the new user: the simulator has the account and its first chat.
    const { tenants } = await sim.control.tenants();
    const mine = tenants.filter((t) => t.email?.startsWith(`loadtest+${runId}-`));
    assert.equal(mine.length, 1);
    assert.ok(mine[0]!.creditsCents < 1000, 'the first chat was billed to the new tenant');
    const stats = await sim.control.stats();
    assert.equal(stats.routes['web.chat']?.status['200'], 1);
  });

  it('names the step and the page-error cause when the CSP blocks the page, not a latency failure', async () => {
    await sim.control.patchFaults({ pages: { blockScripts: true } });
    try {
      // The stuck step waits out the engine's default timeout: 5 s instead of 30 here.
      const result = await runJourney(sim, {
        runId: newRunId(),
        config: { engines: { playwright: { defaultTimeout: 5 } } },
      });
      const why = explain(result);
      assert.equal(result.exitCode, 1, why);
      assert.equal(counter(result, 'browser_journey.stuck.pick_agent'), 1, why);
      assert.equal(counter(result, 'browser_journey.failures.page_error'), 1, why);
      assert.equal(counter(result, 'browser_journey.failures.timeout'), 0, why);
      assert.ok(counter(result, 'browser_journey.page_errors.csp_violation') >= 1, why);
      assert.equal(counter(result, 'errors.journey stuck at pick_agent: page_error'), 1, why);
      // The steps before it were measured; the one that never happened was not.
      assert.equal(summary(result, 'browser.step.open_chat')?.count, 1, why);
      assert.equal(summary(result, 'browser.step.pick_agent'), undefined, why);
      assert.equal(summary(result, 'browser.step.first_answer'), undefined, why);
      // Verdicts: the journey did not complete and measured no answer; no latency check failed.
      assert.equal(verdict(result, JOURNEY_CHECK)?.ok, false, why);
      assert.equal(verdict(result, MEASURED_CHECK)?.ok, false, why);
      for (const check of LATENCY_CHECKS) assert.equal(verdict(result, check)?.ok, true, `${check}\n${why}`);
      assert.match(
        result.stdout + result.stderr,
        /journey stuck at pick_agent \(page_error\).*csp_violation/,
        why,
      );
      console.log(
        `CSP-blocked page: stuck.pick_agent=${counter(result, 'browser_journey.stuck.pick_agent')} ` +
          `failures.page_error=${counter(result, 'browser_journey.failures.page_error')} ` +
          `page_errors=${JSON.stringify(
            Object.fromEntries(
              Object.entries(result.report?.aggregate.counters ?? {}).filter(([n]) =>
                n.startsWith('browser_journey.page_errors'),
              ),
            ),
          )}`,
      );
    } finally {
      await sim.control.clearFaults();
    }
  });

  it('fails the journey check with the platform cause when the assistant fails', async () => {
    await sim.control.patchFaults({ routes: { chat: { errorRate: 1 } } });
    try {
      const result = await runJourney(sim, { runId: newRunId() });
      const why = explain(result);
      assert.equal(result.exitCode, 1, why);
      assert.equal(verdict(result, JOURNEY_CHECK)?.ok, false, why);
      // The platform's answer is the cause, even though the page logged the failed request.
      assert.equal(counter(result, 'browser_journey.failures.chat_failed'), 1, why);
      assert.equal(counter(result, 'browser_journey.stuck.first_answer'), 1, why);
      assert.equal(counter(result, 'browser_journey.success'), 0, why);
      assert.equal(summary(result, 'browser.step.open_chat')?.count, 1, why);
      for (const check of LATENCY_CHECKS) assert.equal(verdict(result, check)?.ok, true, `${check}\n${why}`);
    } finally {
      await sim.control.clearFaults();
    }
  });

  it('trips the open-chat, first-answer and LCP checks by name when pages and the assistant are slow', async () => {
    const delayMs = 1500;
    await sim.control.patchFaults({ routes: { pages: { delayMs }, chat: { delayMs } } });
    try {
      // 20 journeys, one every 2 s: enough samples for the p95 checks to decide.
      const result = await runJourney(sim, {
        runId: newRunId(),
        config: {
          // Overrides apply after the environment: this replaces the smoke phases.
          phases: [{ name: '20 journeys', arrivalCount: 20, duration: 40 }],
        },
        limits: { BROWSER_STEP_P95_MS: '1000', BROWSER_ANSWER_P95_MS: '1000', BROWSER_LCP_P95_MS: '1000' },
      });
      const why = explain(result);
      assert.equal(counter(result, 'browser_journey.success'), 20, why);
      assert.equal(result.exitCode, 1, why);
      assert.equal(verdict(result, JOURNEY_CHECK)?.ok, true, why);
      assert.equal(verdict(result, MEASURED_CHECK)?.ok, true, why);
      for (const check of LATENCY_CHECKS) assert.equal(verdict(result, check)?.ok, false, `${check}\n${why}`);
      for (const name of [
        'browser.step.open_chat',
        'browser.step.first_answer',
        'browser.page.LCP.signup_browser',
      ])
        assert.ok((summary(result, name)?.min ?? 0) >= delayMs * 0.98, `${name}\n${why}`);
      console.log(
        `slow pages and assistant (${delayMs} ms): ${[
          'browser.step.open_chat',
          'browser.step.first_answer',
          'browser.page.LCP.signup_browser',
        ]
          .map((n) => `${n} p95=${summary(result, n)?.p95} n=${summary(result, n)?.count}`)
          .join(', ')}`,
      );
    } finally {
      await sim.control.clearFaults();
    }
  });
});

describe('browser journey causes', () => {
  it('blames the page for a timeout when the page reported errors, the timeout otherwise', () => {
    const timeout = Object.assign(new Error('locator.waitFor: Timeout 5000ms exceeded.'), {
      name: 'TimeoutError',
    });
    assert.equal(causeOf(timeout, []), 'timeout');
    assert.equal(
      causeOf(timeout, [{ kind: 'csp_violation', text: 'script-src-elem blocked inline' }]),
      'page_error',
    );
    assert.equal(causeOf(new Error('page.goto: net::ERR_CONNECTION_REFUSED'), []), 'connection_error');
  });
});

describe('answer snippet the journey looks for on the page', () => {
  it('takes the first plain words of the first line, past markdown', () => {
    assert.equal(visibleSnippet('Hello there! How can I help?'), 'Hello there! How can I help?');
    assert.equal(visibleSnippet('\n\n**Sure** — here it is'), 'Sure');
    assert.equal(visibleSnippet('# Title\nbody'), 'Title');
    assert.equal(visibleSnippet('x'.repeat(100))?.length, 40);
    assert.equal(visibleSnippet('```'), undefined);
  });
});
