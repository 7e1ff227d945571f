import { z } from 'zod';
import { PROFILE_NAMES } from '../profiles';
import { booleanFlag, httpUrl, tenantIdList } from './shared';

/**
 * Settings every scenario and the runner share. Keys are environment variable names so that a
 * zod issue path names the setting the user has to fix.
 */

const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

const secretText = (what: string) =>
  z
    .string()
    .min(1, { error: `must not be empty when set (${what})` })
    .refine((v) => v.trim() === v, { error: `must not start or end with whitespace (${what})` })
    .optional();

const jwt = (what: string) =>
  z
    .string()
    .regex(JWT, { error: `must be a JWT (three base64url parts separated by dots) (${what})` })
    .optional();

const HOSTNAME =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV6 = /^\[?[0-9a-fA-F:]+\]?$/;

/** Comma-separated host names (no scheme, no port): hosts the remote guard lets load go to. */
export const hostList = z
  .string()
  .default('')
  .transform((text, ctx) => {
    const hosts = text
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter((h) => h.length > 0);
    const bad = hosts.filter((h) => !HOSTNAME.test(h) && !IPV6.test(h));
    if (bad.length > 0) {
      ctx.addIssue({
        code: 'custom',
        message: `must be comma-separated host names without scheme or port; bad entries: ${bad
          .map((b) => JSON.stringify(b))
          .join(', ')}`,
      });
      return z.NEVER;
    }
    return hosts.map((h) => h.replace(/^\[|\]$/g, ''));
  });

export const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const commonSettings = z.object({
  WEB_BASE_URL: httpUrl(),
  API_BASE_URL: httpUrl(),
  TENANT_IDS: tenantIdList.optional(),
  SERVICE_API_KEY: secretText('the API service key sent as X-Service-API-Key'),
  API_BEARER_TOKEN: jwt('HS256 JWT for the API, sent as Authorization: Bearer'),
  ADMIN_JWT: jwt('admin JWT for /api/admin/* routes'),
  API_JWT_SECRET: z
    .string()
    .min(16, { error: 'must be at least 16 characters (the API signing secret)' })
    .optional(),
  /** Model time the proxy overhead is computed against when the platform sends no Server-Timing. */
  INFERENCE_BUDGET_MS: z.coerce
    .number({ error: 'must be a number of milliseconds, e.g. 2000' })
    .finite({ error: 'must be a number of milliseconds, e.g. 2000' })
    .min(0, { error: 'must not be negative (milliseconds)' })
    .default(0),
  LOADTEST_RUN_ID: z
    .string()
    .regex(RUN_ID, { error: 'must be 1-64 characters of letters, digits, ".", "_" or "-"' })
    .optional(),
  LOADTEST_PROFILE: z.enum(PROFILE_NAMES, { error: `must be one of ${PROFILE_NAMES.join(', ')}` }).optional(),
  LOADTEST_ALLOW_REMOTE: booleanFlag(false),
  LOADTEST_ALLOWED_HOSTS: hostList,
  /** Tag of the target in published metrics (default: `simulator` or the env file's name). */
  LOADTEST_TARGET_ENV: z
    .string()
    .regex(RUN_ID, { error: 'must be 1-64 characters of letters, digits, ".", "_" or "-"' })
    .optional(),
  /** Switches Artillery's publish-metrics reporter on (docs/METRICS.md); the runner sets it from STATSD_HOST. */
  PUBLISH_METRICS_TYPE: z
    .enum(['influxdb-statsd', 'statsd', 'datadog'], { error: 'must be influxdb-statsd, statsd or datadog' })
    .optional(),
  STATSD_HOST: z
    .string()
    .regex(HOSTNAME, { error: 'must be a host name or IPv4 address without scheme or port' })
    .optional(),
  /** Generator self-monitoring limits (processors/lib/generator-health.ts); the scenarios default to 250 / 90. */
  GENERATOR_LAG_P99_MS: z.coerce
    .number({ error: 'must be a number of milliseconds, e.g. 250' })
    .finite()
    .positive({ error: 'must be more than 0 (milliseconds)' })
    .optional(),
  GENERATOR_CPU_P95_PCT: z.coerce
    .number({ error: 'must be a percentage of one core, e.g. 90' })
    .finite()
    .positive({ error: 'must be more than 0 (percent)' })
    .optional(),
  ISOLATION_PROBES: booleanFlag(false),
  ISOLATION_TENANT_TOKEN: jwt('a token of the first tenant in TENANT_IDS, for the terminal isolation probe'),
  STATSD_PORT: z.coerce
    .number({ error: 'must be a UDP port number' })
    .int({ error: 'must be a whole port number' })
    .min(1, { error: 'must be 1-65535' })
    .max(65535, { error: 'must be 1-65535' })
    .default(8125),
});

export type CommonSettings = z.infer<typeof commonSettings>;

/**
 * Settings whose values must never reach results, logs or reports. Area schemas add theirs via
 * `isSecretSetting` (any name that looks like a password, key, token or secret).
 */
export const SECRET_SETTINGS = [
  'SERVICE_API_KEY',
  'API_BEARER_TOKEN',
  'ADMIN_JWT',
  'API_JWT_SECRET',
  'SIM_ADMIN_TOKEN',
] as const;

const SECRET_NAME = /(PASSWORD|SECRET|(^|_)TOKEN$|API_KEY|JWT|COOKIE|CREDENTIAL)/i;

export function isSecretSetting(name: string): boolean {
  return (SECRET_SETTINGS as readonly string[]).includes(name) || SECRET_NAME.test(name);
}
