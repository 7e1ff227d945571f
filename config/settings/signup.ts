import { z } from 'zod';
import { durationMs, milliseconds, positiveInt } from './shared';

/**
 * Signup → tenant → first chat (scenarios/signup-tenant-chat.yml) and its browser twin
 * (scenarios/signup-browser.yml). Keys are environment variable names. WEB_BASE_URL and
 * LOADTEST_RUN_ID are common settings (config/settings/common.ts).
 *
 * The processors emit the gate limits as `<area>.limit.*` metrics, so the ensure checks hold the
 * same figures with or without the variables set.
 */
export const SIGNUP_DEFAULTS = {
  SIGNUP_P99_MS: 200,
  LOGIN_P99_MS: 200,
  BROWSER_STEP_P95_MS: 5000,
  BROWSER_ANSWER_P95_MS: 15000,
  BROWSER_LCP_P95_MS: 2500,
} as const;

export const signupSettings = z.object({
  /** Onboardings (one per virtual user, per step under stress); unset = the profile's (load: 50). */
  SIGNUP_VUS: z.coerce.number().int().min(1).max(10_000).optional(),
  /** Gate: p99 of POST /api/auth/signup (bcrypt runs here on the real app). */
  SIGNUP_P99_MS: milliseconds(SIGNUP_DEFAULTS.SIGNUP_P99_MS),
  /** Gate: p99 of POST /api/auth/callback/credentials (bcrypt again). */
  LOGIN_P99_MS: milliseconds(SIGNUP_DEFAULTS.LOGIN_P99_MS),
  /** Any single request of the flow that takes longer is abandoned and counted as `timeout`. */
  SIGNUP_REQUEST_TIMEOUT: durationMs('30s'),
  /** Where the browser journey lands after login; also sent as the credentials callbackUrl. */
  SIGNUP_CALLBACK_PATH: z
    .string()
    .regex(/^\/[^\s]*$/, { error: 'must be a path starting with "/", e.g. /dashboard' })
    .default('/dashboard'),

  /** Debian Chromium for Artillery's Playwright engine. */
  CHROMIUM_PATH: z.string().min(1).default('/usr/bin/chromium'),
  /** Browser journeys (real Chromium pages: keep it to one or two on a small machine). */
  BROWSER_VUS: positiveInt(1, 20),
  /** Agent tile the journey picks on /dashboard/chat, by its visible name. */
  BROWSER_AGENT_NAME: z.string().min(1).default('General Chat'),
  /** Gate: p95 of the page steps (open chat, pick agent). */
  BROWSER_STEP_P95_MS: milliseconds(SIGNUP_DEFAULTS.BROWSER_STEP_P95_MS),
  /** Gate: p95 from sending the first message to the assistant's answer on the page. */
  BROWSER_ANSWER_P95_MS: milliseconds(SIGNUP_DEFAULTS.BROWSER_ANSWER_P95_MS),
  /** Gate: p95 of Largest Contentful Paint of the chat page (2.5 s is web.dev's "good"). */
  BROWSER_LCP_P95_MS: milliseconds(SIGNUP_DEFAULTS.BROWSER_LCP_P95_MS),
});

export type SignupSettings = z.infer<typeof signupSettings>;
