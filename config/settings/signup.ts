import { z } from 'zod';
import { durationMs } from './shared';

/**
 * Signup → tenant → first chat (scenarios/signup-tenant-chat.yml) and its browser twin
 * (scenarios/signup-browser.yml). Keys are environment variable names. WEB_BASE_URL,
 * API_BASE_URL, ADMIN_JWT, API_JWT_SECRET and LOADTEST_RUN_ID are common settings.
 *
 * The HTTP scenario's users, phases and gate limits are the literal figures of its YAML; the limit
 * settings here are optional overrides without a default of their own (the runner rewrites the
 * matching ensure condition, config/limits.ts).
 */
/** A limit override: unset means the number written in the scenario's ensure condition. */
const optionalLimit = (max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().finite().min(0).max(max).optional();

export const signupSettings = z.object({
  /**
   * Onboardings per step: a runner setting, applied as `--overrides` on the phases (under plain
   * Artillery, write the `--overrides` yourself). Unset = the environment's phases.
   */
  SIGNUP_VUS: z.coerce.number().int().min(1).max(10_000).optional(),
  /** Limit override: p99 of POST /api/auth/signup (bcrypt runs here on the real app), ms. */
  SIGNUP_P99_MS: optionalLimit(),
  /** Limit override: p99 of POST /api/auth/callback/credentials (bcrypt again), ms. */
  LOGIN_P99_MS: optionalLimit(),
  /** Limit override: onboarding.success / onboarding.attempts, percent. */
  SIGNUP_SUCCESS_RATE_MIN_PCT: optionalLimit(100),
  /**
   * Any single request that takes longer is abandoned and counted as `timeout`. The HTTP scenario
   * applies it only when set (else its `config.http.timeout`); the browser journey always.
   */
  SIGNUP_REQUEST_TIMEOUT: durationMs('30s'),
  /** Where the browser journey lands after login; also sent as the credentials callbackUrl. */
  SIGNUP_CALLBACK_PATH: z
    .string()
    .regex(/^\/[^\s]*$/, { error: 'must be a path starting with "/", e.g. /dashboard' })
    .default('/dashboard'),

  /** Debian Chromium for Artillery's Playwright engine. */
  CHROMIUM_PATH: z.string().min(1).default('/usr/bin/chromium'),
  /**
   * Browser journeys per step: a runner setting, applied as `--overrides` on the phases (real
   * Chromium pages: keep it to one or two on a small machine). Unset = the environment's phases.
   */
  BROWSER_VUS: z.coerce.number().int().min(1).max(20).optional(),
  /** Agent tile the journey picks on /dashboard/chat, by its visible name. */
  BROWSER_AGENT_NAME: z.string().min(1).default('General Chat'),
  /** Limit override: p95 of opening the chat page, ms. */
  BROWSER_STEP_P95_MS: optionalLimit(),
  /** Limit override: p95 from sending the first message to the assistant's answer on the page, ms. */
  BROWSER_ANSWER_P95_MS: optionalLimit(),
  /** Limit override: p95 of Largest Contentful Paint of the chat page, ms. */
  BROWSER_LCP_P95_MS: optionalLimit(),
});

export type SignupSettings = z.infer<typeof signupSettings>;
