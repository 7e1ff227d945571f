import type { VUContext, VUEvents } from 'artillery';
import type { Locator, Page, Response } from 'playwright-core';
import { z } from 'zod';
import { commonSettings } from '../config/settings/common';
import { describeIssues } from '../config/settings/shared';
import { signupSettings } from '../config/settings/signup';
import { count, countFailure, type FailureCause } from './lib/metrics';
import { newTestCredentials } from './lib/web/accounts';
import { PAGE_ERROR_KINDS, type PageError, watchPageErrors } from './lib/web/browser-page-errors';
import { BrowserAuth, chatVerdict } from './lib/web/browser-transport';

/**
 * The signup journey in a real browser (scenarios/signup-browser.yml, Artillery's Playwright
 * engine) on the target Artillery gives the VU (`-t` honoured). The real login page offers only
 * Google, so signup and login go through the browser context's own request API (same cookie store
 * as its pages); then the UI: onboarding done, /dashboard/chat, pick an agent, type, send, and
 * wait for the assistant's answer on the page.
 *
 * Every step is a `test.step` (Artillery emits `browser.step.<name>` only for a step that
 * finished); the engine adds the web vitals (`browser.page.<LCP|FCP|TTFB|...>.<scenario name>`).
 * A journey that stops names the step (`browser_journey.stuck.<step>`) and its cause: the
 * platform's answer when there is one, else `page_error` when the page itself failed (CSP
 * violation, uncaught exception, console error, failed request: `browser_journey.page_errors.*`),
 * else the timeout. `browser_journey.reached.<step>` counts the steps that were measured, so the
 * latency checks judge only measurements that happened.
 */

const JOURNEY_AREA = 'browser_journey';
export const JOURNEY_STEPS = [
  'signup',
  'login',
  'onboarding',
  'open_chat',
  'pick_agent',
  'first_answer',
] as const;
export type JourneyStep = (typeof JOURNEY_STEPS)[number];

export const JOURNEY_METRICS = {
  attempts: `${JOURNEY_AREA}.attempts`,
  success: `${JOURNEY_AREA}.success`,
  failures: `${JOURNEY_AREA}.failures`,
  pageErrors: `${JOURNEY_AREA}.page_errors`,
} as const;
/** Journeys whose step finished (and was measured as browser.step.<step>). */
export const reachedMetric = (step: JourneyStep) => `${JOURNEY_AREA}.reached.${step}`;
/** Journeys that stopped in this step. */
export const stuckMetric = (step: JourneyStep) => `${JOURNEY_AREA}.stuck.${step}`;
export const pageErrorMetric = (kind: PageError['kind']) => `${JOURNEY_AREA}.page_errors.${kind}`;
const M = JOURNEY_METRICS;

/**
 * Every custom metric this processor can emit (`*`: one or more characters), for `npm run validate`;
 * `browser.*` (steps, web vitals) is the Playwright engine's own.
 */
export const EMITTED_METRICS: readonly string[] = [
  M.attempts,
  M.success,
  M.failures,
  M.pageErrors,
  `${JOURNEY_AREA}.failures.*`,
  ...JOURNEY_STEPS.flatMap((step) => [reachedMetric(step), stuckMetric(step)]),
  ...PAGE_ERROR_KINDS.map(pageErrorMetric),
];

const settingsSchema = z.object({
  LOADTEST_RUN_ID: commonSettings.shape.LOADTEST_RUN_ID,
  SIGNUP_REQUEST_TIMEOUT: signupSettings.shape.SIGNUP_REQUEST_TIMEOUT,
  SIGNUP_CALLBACK_PATH: signupSettings.shape.SIGNUP_CALLBACK_PATH,
  BROWSER_AGENT_NAME: signupSettings.shape.BROWSER_AGENT_NAME,
});
type JourneySettings = z.infer<typeof settingsSchema>;

let cachedSettings: JourneySettings | undefined;

/** Parsed once per worker; an empty variable is "not set". Throws naming the setting. */
function journeySettings(): JourneySettings {
  if (cachedSettings) return cachedSettings;
  const present: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env))
    if (value !== undefined && value !== '') present[name] = value;
  const parsed = settingsSchema.safeParse(present);
  if (!parsed.success) throw new Error(`signup-browser settings: ${describeIssues(parsed.error).join('; ')}`);
  cachedSettings = parsed.data;
  return cachedSettings;
}

/** The web app the VU really uses: Artillery's `target` (config.target after -t). */
function targetOf(context: VUContext): string {
  const target: unknown = context.vars.target;
  if (typeof target !== 'string' || !/^https?:\/\//.test(target))
    throw new Error(
      `signup-browser: the target ${JSON.stringify(target)} is not an http(s) URL (set WEB_BASE_URL or pass -t)`,
    );
  return target.replace(/\/+$/, '');
}

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

/**
 * Why the journey stopped: the platform's own answer first (a classified failure), then the page's
 * own errors (a page that never became interactive makes every later wait time out), then the error.
 */
export function causeOf(error: unknown, pageErrors: readonly PageError[]): FailureCause {
  if (error instanceof JourneyFailure) return error.failureCause;
  if (pageErrors.length > 0) return 'page_error';
  if (error instanceof Error && error.name === 'TimeoutError') return 'timeout';
  if (error instanceof Error && /Timeout \d+ms exceeded/.test(error.message)) return 'timeout';
  if (error instanceof Error && /net::ERR_/.test(error.message)) return 'connection_error';
  return 'unexpected_status';
}

function isChatPost(response: Response): boolean {
  return response.request().method() === 'POST' && new URL(response.url()).pathname === '/api/chat';
}

/** The first few page errors, for the one diagnostic line of a journey. */
function describe(errors: readonly PageError[]): string {
  return errors
    .slice(0, 3)
    .map((e) => `${e.kind}: ${e.text}`)
    .join('; ');
}

function firstLine(error: unknown): string {
  return error instanceof Error ? (error.message.split('\n')[0] ?? error.name) : String(error);
}

export async function signupBrowserJourney(
  page: Page,
  context: VUContext,
  events: VUEvents,
  test: { step: (name: string, body: () => Promise<void>) => Promise<void> },
): Promise<void> {
  // Every counter a check reads exists from the first journey on, zero included.
  for (const name of [M.success, M.failures, M.pageErrors, ...JOURNEY_STEPS.map(reachedMetric)])
    count(events, name, 0);
  count(events, M.attempts);
  let current: JourneyStep = JOURNEY_STEPS[0];
  let pageErrors: PageError[] = [];
  try {
    const settings = journeySettings();
    const base = targetOf(context);
    pageErrors = await watchPageErrors(page, (error) => {
      count(events, M.pageErrors);
      count(events, pageErrorMetric(error.kind));
    });
    const auth = new BrowserAuth(page.request, base, settings.SIGNUP_REQUEST_TIMEOUT);
    const credentials = newTestCredentials(settings.LOADTEST_RUN_ID);
    const messageBox = page.getByPlaceholder(MESSAGE_PLACEHOLDER);
    const agent = agentControl(page, settings.BROWSER_AGENT_NAME);
    const step = async (name: JourneyStep, body: () => Promise<void>) => {
      current = name;
      await test.step(name, body);
      count(events, reachedMetric(name));
    };
    const must = async (
      outcome: Promise<{ ok: true } | { ok: false; cause: FailureCause; detail: string }>,
    ) => {
      const result = await outcome;
      if (!result.ok) throw new JourneyFailure(result.cause, result.detail);
    };

    await step('signup', () => must(auth.signUp(credentials)));
    await step('login', () => must(auth.logIn(credentials, settings.SIGNUP_CALLBACK_PATH)));
    await step('onboarding', () => must(auth.completeOnboarding()));

    await step('open_chat', async () => {
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

    await step('pick_agent', async () => {
      if (await agent.isVisible()) await agent.click();
      await messageBox.waitFor({ state: 'visible' });
    });

    await step('first_answer', async () => {
      await messageBox.pressSequentially(FIRST_MESSAGE);
      const answered = page.waitForResponse(isChatPost, { timeout: settings.SIGNUP_REQUEST_TIMEOUT });
      await messageBox.press('Enter');
      const response = await answered;
      const verdict = chatVerdict(response.status(), await response.text(), response.headers().location);
      if (!verdict.ok) throw new JourneyFailure(verdict.cause, verdict.detail);
      const snippet = visibleSnippet(verdict.content);
      const unambiguous = snippet && !FIRST_MESSAGE.toLowerCase().includes(snippet.toLowerCase());
      // Without a piece of text that only the answer has, the reply is done when the box takes input again.
      if (unambiguous) await page.getByText(snippet).last().waitFor({ state: 'visible' });
      else await page.locator(`textarea[placeholder="${MESSAGE_PLACEHOLDER}"]:not([disabled])`).waitFor();
    });

    count(events, M.success);
    if (pageErrors.length > 0)
      console.error(`signup-browser: journey completed with page errors: ${describe(pageErrors)}`);
  } catch (error) {
    const cause = causeOf(error, pageErrors);
    countFailure(events, JOURNEY_AREA, cause);
    count(events, stuckMetric(current));
    console.error(
      `signup-browser: journey stuck at ${current} (${cause}): ${firstLine(error)}` +
        (pageErrors.length > 0 ? ` | page errors: ${describe(pageErrors)}` : ''),
    );
    // The engine counts the VU as failed under errors.<message>: a short, stable name of step and cause.
    throw new Error(`journey stuck at ${current}: ${cause}`);
  }
}
