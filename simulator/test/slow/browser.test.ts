import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { chromium } from 'playwright-core';
import { z } from 'zod';
import { type SimulatorHandle, startSimulator } from '../helpers/simulator';

/** The simulator's pages in a real browser (headless Chromium): slow tier. */

/** Signs a new account up and logs it in over HTTP; returns its session cookie's value. */
async function signedUpSession(sim: SimulatorHandle): Promise<string> {
  const email = `browser-${randomUUID()}@example.com`;
  const password = 'correct-horse-9';
  const signup = await fetch(`${sim.webUrl}/api/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: sim.webUrl },
    body: JSON.stringify({ email, password }),
  });
  assert.equal(signup.status, 200, await signup.text());
  const csrf = await fetch(`${sim.webUrl}/api/auth/csrf`);
  const { csrfToken } = z.object({ csrfToken: z.string() }).parse(await csrf.json());
  const cookie = csrf.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  const login = await fetch(`${sim.webUrl}/api/auth/callback/credentials`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
    body: new URLSearchParams({ csrfToken, email, password, callbackUrl: '/dashboard', json: 'true' }),
  });
  assert.equal(login.status, 200, await login.text());
  const session = login.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .find((c) => c.startsWith('next-auth.session-token='));
  assert.ok(session, 'session cookie set');
  return session.slice('next-auth.session-token='.length);
}

describe('simulator pages in a real browser', () => {
  let sim: SimulatorHandle;
  before(async () => {
    sim = await startSimulator();
  });
  after(async () => {
    await sim?.stop();
  });

  it('a real browser drives the onboarding wizard and the chat page to an assistant answer', async () => {
    const sessionToken = await signedUpSession(sim);
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    try {
      const context = await browser.newContext();
      await context.addCookies([
        {
          name: 'next-auth.session-token',
          value: sessionToken,
          url: sim.webUrl,
        },
      ]);
      const page = await context.newPage();
      await page.goto(`${sim.webUrl}/dashboard/chat`);
      assert.equal(new URL(page.url()).pathname, '/onboarding');
      await page.getByRole('heading', { name: 'Set up your first AI Agent' }).waitFor();
      for (let step = 0; step < 3; step++) await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByRole('button', { name: 'Send Test Message' }).click();
      await page.getByTestId('onboarding-reply').waitFor({ timeout: 15_000 });
      await page.getByRole('button', { name: 'Finish Onboarding' }).click();
      await page.getByRole('heading', { name: 'Your agent is ready' }).waitFor();
      // The wizard stored the primary agent: the chat page opens straight into its chat panel.
      await page.waitForURL(`${sim.webUrl}/dashboard/chat`, { timeout: 10_000 });
      await page.getByPlaceholder('Send a message...').waitFor();
      await page.getByRole('button', { name: 'Back to agents' }).click();
      await page.getByRole('heading', { name: 'Choose an AI Agent to get started' }).waitFor();
      const tile = page
        .locator('article')
        .filter({ has: page.getByRole('heading', { name: 'General Chat' }) });
      await tile.getByRole('button', { name: 'Start' }).click();
      const input = page.getByPlaceholder('Send a message...');
      assert.equal(await input.getAttribute('name'), null);
      await input.fill('What can you do?');
      await input.press('Enter');
      const answer = page.getByTestId('chat-message-assistant').last();
      await answer.waitFor({ timeout: 15_000 });
      assert.equal(await answer.getAttribute('data-status'), 'ok');
      assert.ok(((await answer.textContent()) ?? '').length > 0);
      assert.equal(await page.getByRole('log').getAttribute('data-chat-state'), 'answered');
      assert.match(page.url(), /\/dashboard\/chat\?conversationId=[0-9a-f-]{36}$/);
    } finally {
      await browser.close();
    }
  });
});
