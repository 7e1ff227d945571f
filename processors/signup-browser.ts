import { performance } from 'node:perf_hooks';
import type { VUContext, VUEvents } from 'artillery';
import type { Locator, Page, Response } from 'playwright-core';
import { GENERATOR_EMITTED_METRICS, reportGeneratorHealth } from './lib/generator-health';
import { count, countFailure, type FailureCause, observe } from './lib/metrics';
import { newTestCredentials } from './lib/web/accounts';
import { BrowserRequestTransport } from './lib/web/browser-transport';
import { causeOfStatus } from './lib/web/causes';
import { classifyChatAnswer } from './lib/web/chat';
import { errorText } from './lib/web/schemas';
import { signupRunSettings } from './lib/web/signup-settings';
import {
  emitZeroSessionCounters,
  logIn,
  registerAccount,
  WEB_SESSION_EMITTED_METRICS,
} from './lib/web-session';

/**
 * The signup journey in a real browser (scenarios/signup-browser.yml, Artillery's Playwright
 * engine). The real login page offers only Google, so signup and login go through the browser
 * context's own request API (same cookie store as its pages), with the same steps and proofs as
 * the HTTP scenario; then the UI: onboarding done, /dashboard/chat, pick an agent, type, send, and
 * wait for the assistant's answer on the page.
 *
 * Every step is a `test.step` (Artillery emits `browser.step.<name>` histograms); the engine adds
 * the web vitals (`browser.page.<LCP|FCP|TTFB|...>.<scenario name>` with aggregateByName).
 * Selectors are the ones the real app and the simulator share: the textarea's placeholder, the
 * agent tile's heading and button, roles and names — no test ids.
 * Counters: browser_journey.attempts / .success / .failures[.<cause>].
 */

type TestStep = (name: string, body: () => Promise<void>) => Promise<void>;

const JOURNEY_AREA = 'browser_journey';

/** The journey's own metric names; the signup and login steps name theirs in lib/web-session.ts. */
export const JOURNEY_METRICS = {
  attempts: `${JOURNEY_AREA}.attempts`,
  success: `${JOURNEY_AREA}.success`,
  failures: `${JOURNEY_AREA}.failures`,
  limitStepP95Ms: `${JOURNEY_AREA}.limit.step_p95_ms`,
  limitAnswerP95Ms: `${JOURNEY_AREA}.limit.answer_p95_ms`,
  limitLcpP95Ms: `${JOURNEY_AREA}.limit.lcp_p95_ms`,
} as const;
const M = JOURNEY_METRICS;

/**
 * Every custom metric this processor can emit (`*`: one or more characters), for `npm run validate`;
 * `browser.*` (steps, web vitals) is the Playwright engine's own.
 */
export const EMITTED_METRICS: readonly string[] = [
  ...Object.values(JOURNEY_METRICS),
  `${JOURNEY_AREA}.failures.*`,
  ...WEB_SESSION_EMITTED_METRICS,
  ...GENERATOR_EMITTED_METRICS,
];

const MESSAGE_PLACEHOLDER = 'Send a message...';
const FIRST_MESSAGE = 'Hello! I just signed up. Please answer with a short greeting.';

class JourneyFailure extends Error {
  constructor(
    readonly failureCause: FailureCause,
    message: string,
  ) {
    super(message);
  }
}

/** The agent's start control, whichever version of the chat page is served. */
function agentControl(page: Page, agentName: string): Locator {
  const tileStart = page
    .locator('article')
    .filter({ has: page.getByRole('heading', { name: agentName, exact: true }) })
    .getByRole('button', { name: 'Start', exact: true });
  const selectButton = page.getByRole('button', { name: `Select ${agentName}`, exact: true });
  return tileStart.or(selectButton).first();
}

/** A piece of the answer that survives markdown rendering: the first plain words of its first line. */
export function visibleSnippet(content: string): string | undefined {
  const firstLine = content.split('\n').find((line) => line.trim().length > 0) ?? '';
  const plain = /[\p{L}\p{N}][\p{L}\p{N} ,.'!?:;-]*/u.exec(firstLine)?.[0]?.trim() ?? '';
  const snippet = plain.slice(0, 40).trim();
  return snippet.length >= 3 ? snippet : undefined;
}

function causeOf(error: unknown): FailureCause {
  if (error instanceof JourneyFailure) return error.failureCause;
  if (error instanceof Error && error.name === 'TimeoutError') return 'timeout';
  if (error instanceof Error && /net::ERR_/.test(error.message)) return 'connection_error';
  return 'unexpected_status';
}

function isChatPost(response: Response): boolean {
  return response.request().method() === 'POST' && new URL(response.url()).pathname === '/api/chat';
}

export async function signupBrowserJourney(
  page: Page,
  _context: VUContext,
  events: VUEvents,
  test: { step: TestStep },
): Promise<void> {
  const settings = signupRunSettings();
  reportGeneratorHealth(events);
  emitZeroSessionCounters(events);
  for (const name of [M.success, M.failures]) count(events, name, 0);
  count(events, M.attempts);
  // The gate's limits travel as metrics, so the checks read the settings (or their defaults).
  observe(events, M.limitStepP95Ms, settings.BROWSER_STEP_P95_MS);
  observe(events, M.limitAnswerP95Ms, settings.BROWSER_ANSWER_P95_MS);
  observe(events, M.limitLcpP95Ms, settings.BROWSER_LCP_P95_MS);

  const base = settings.WEB_BASE_URL;
  const transport = new BrowserRequestTransport(page.request, base, settings.SIGNUP_REQUEST_TIMEOUT);
  const credentials = newTestCredentials(settings.LOADTEST_RUN_ID);
  const messageBox = page.getByPlaceholder(MESSAGE_PLACEHOLDER);

  try {
    await test.step('signup', async () => {
      const signup = await registerAccount(events, transport, credentials);
      if (!signup.ok) throw new JourneyFailure(signup.cause, signup.detail);
    });

    await test.step('login', async () => {
      const login = await logIn(events, transport, credentials, {
        callbackPath: settings.SIGNUP_CALLBACK_PATH,
      });
      if (!login.ok) throw new JourneyFailure(login.cause, login.detail);
    });

    // A new user is sent to /onboarding from every page until this is done.
    await test.step('onboarding', async () => {
      const done = await transport.send({
        method: 'POST',
        path: '/api/onboarding',
        json: { completed: true },
        origin: true,
      });
      if (done.kind === 'transport') throw new JourneyFailure(done.cause, `onboarding: ${done.message}`);
      if (done.status !== 200) {
        const error = errorText(done.text);
        throw new JourneyFailure(
          causeOfStatus(done.status, done.text),
          `onboarding: ${done.status}${error ? ` ${JSON.stringify(error)}` : ''}`,
        );
      }
    });

    const agent = agentControl(page, settings.BROWSER_AGENT_NAME);
    await test.step('open_chat', async () => {
      await page.goto(`${base}/dashboard/chat`);
      const path = new URL(page.url()).pathname;
      if (path === '/login')
        throw new JourneyFailure(
          'session_rejected',
          'open_chat: the chat page sent the logged-in user to /login',
        );
      if (path === '/onboarding')
        throw new JourneyFailure('unexpected_status', 'open_chat: sent to /onboarding after completing it');
      // A returning user may land straight in the chat panel; a new one sees the agent picker.
      await agent.or(messageBox).first().waitFor({ state: 'visible' });
    });

    await test.step('pick_agent', async () => {
      if (await agent.isVisible()) await agent.click();
      await messageBox.waitFor({ state: 'visible' });
    });

    await test.step('first_answer', async () => {
      await messageBox.pressSequentially(FIRST_MESSAGE);
      const started = performance.now();
      const answered = page.waitForResponse(isChatPost, { timeout: settings.SIGNUP_REQUEST_TIMEOUT });
      await messageBox.press('Enter');
      const response = await answered;
      const text = await response.text();
      const headers = new Headers();
      for (const { name, value } of await response.headersArray()) headers.append(name, value);
      const verdict = classifyChatAnswer({
        kind: 'answer',
        status: response.status(),
        headers,
        text,
        ms: performance.now() - started,
        cookies: [],
      });
      if (!verdict.ok) throw new JourneyFailure(verdict.cause, verdict.detail);
      const snippet = visibleSnippet(verdict.content);
      const unambiguous = snippet && !FIRST_MESSAGE.toLowerCase().includes(snippet.toLowerCase());
      // Without a piece of text that only the answer has, the reply is done when the box takes input again.
      if (unambiguous) await page.getByText(snippet).last().waitFor({ state: 'visible' });
      else await page.locator(`textarea[placeholder="${MESSAGE_PLACEHOLDER}"]:not([disabled])`).waitFor();
    });

    count(events, M.success);
    reportGeneratorHealth(events);
  } catch (error) {
    countFailure(events, JOURNEY_AREA, causeOf(error));
    reportGeneratorHealth(events);
    throw error;
  }
}
