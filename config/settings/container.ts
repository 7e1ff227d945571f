import { z } from 'zod';
import { PROFILES, type ProfileName } from '../profiles';
import { commonSettings } from './common';
import { describeIssues, durationMs, optionalDurationMs, positiveInt } from './shared';

/**
 * Settings of the container provisioning scenario (scenarios/container-provisioning.yml).
 * Credentials (SERVICE_API_KEY, ADMIN_JWT, API_JWT_SECRET) and TENANT_IDS are common settings.
 * CONTAINER_VUS / CONTAINER_DURATION default to the profile's `container` shape (config/profiles.ts).
 * The gate limits are read by the processor and emitted as `container.limit.*` metrics that the
 * ensure checks compare against, so they hold whether or not the variables are set.
 */

/** A duration that may stay unset (durationMs() always falls back to its default). */
const claimsObject = z
  .string()
  .default('{"sub":"agentteams-loadtest","role":"admin","isAdmin":true}')
  .transform((text, ctx) => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON object of JWT claims, e.g. {"isAdmin":true}' });
      return z.NEVER;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON object of JWT claims, e.g. {"isAdmin":true}' });
      return z.NEVER;
    }
    return value as Record<string, unknown>;
  });

export const containerSettings = z.object({
  /** Users in flight; unset: the profile's `container` users (the YAML falls back to them). */
  CONTAINER_VUS: z.coerce.number().int().min(1).max(10_000).optional(),
  /** How long each user keeps cycling; unset: the duration of the Artillery environment's profile. */
  CONTAINER_DURATION: optionalDurationMs({ positive: true }),
  /** cold: suspend, resume, wait for healthy (needs admin credentials); warm: time the resume call only. */
  CONTAINER_MODE: z.enum(['cold', 'warm'], { error: 'must be cold or warm' }).optional(),
  /** Readiness poll period; the startup figure is at most this much (plus one request) late. */
  CONTAINER_POLL_INTERVAL: durationMs('1s').refine((ms) => ms >= 1, { error: 'must be at least 1ms' }),
  CONTAINER_READY_TIMEOUT: durationMs('120s').refine((ms) => ms >= 1, { error: 'must be at least 1ms' }),
  /** Per request (suspend, resume, one poll). */
  CONTAINER_REQUEST_TIMEOUT: durationMs('30s').refine((ms) => ms >= 1, { error: 'must be at least 1ms' }),
  /** Pause of each user between two cycles. */
  CONTAINER_THINK_TIME: durationMs('1s'),
  /** Gate: startup (resume sent -> healthy) p95 must stay below this many ms. */
  CONTAINER_STARTUP_P95_MS: positiveInt(30_000, 24 * 3_600_000),
  /** Gate: provisioning success must be above this percentage of attempts. */
  CONTAINER_SUCCESS_MIN: z.coerce
    .number({ error: 'must be a percentage between 0 and 100' })
    .min(0, { error: 'must be a percentage between 0 and 100' })
    .max(100, { error: 'must be a percentage between 0 and 100' })
    .default(90),
  /** Claims of the admin JWT signed locally with API_JWT_SECRET (when ADMIN_JWT is not given). */
  CONTAINER_ADMIN_CLAIMS: claimsObject,
});

export type ContainerSettings = z.infer<typeof containerSettings>;

const scenarioSettings = z.object({ ...commonSettings.shape, ...containerSettings.shape });
export type ContainerScenarioSettings = z.infer<typeof scenarioSettings>;

export type AdminCredentials =
  | { kind: 'token'; token: string }
  | { kind: 'secret'; secret: string; claims: Record<string, unknown> };

/** What one run does, resolved from the settings: the processor and the runner read the same plan. */
export interface ContainerPlan {
  apiBaseUrl: string;
  tenantIds: string[];
  mode: 'cold' | 'warm';
  /** Warm because no admin credentials were given (not chosen): only the resume call is measured. */
  resumeCallOnly: boolean;
  serviceApiKey: string | undefined;
  admin: AdminCredentials | undefined;
  durationMs: number;
  pollIntervalMs: number;
  readyTimeoutMs: number;
  requestTimeoutMs: number;
  thinkTimeMs: number;
  /** The remote guard's settings (load goes to loopback only unless allowed). */
  remote: { allowRemote: boolean; allowedHosts: string[] };
  /** Gate limits, emitted as container.limit.* metrics that the ensure checks compare against. */
  limits: { startupP95Ms: number; successMinPct: number };
}

export type PlanResult = { ok: true; plan: ContainerPlan } | { ok: false; problems: string[] };

/**
 * Parses the environment (an empty variable counts as unset) and resolves the run plan.
 * `profile` is the Artillery environment name; its duration is used when CONTAINER_DURATION is unset.
 */
export function resolveContainerPlan(env: Record<string, string | undefined>, profile?: string): PlanResult {
  const present: Record<string, string> = {};
  for (const [name, value] of Object.entries(env))
    if (value !== undefined && value !== '') present[name] = value;
  const parsed = scenarioSettings.safeParse(present);
  if (!parsed.success) return { ok: false, problems: describeIssues(parsed.error) };
  const s = parsed.data;

  const problems: string[] = [];
  if (!s.TENANT_IDS)
    problems.push('TENANT_IDS: required (comma-separated tenant UUIDs whose containers are cycled)');
  const admin: AdminCredentials | undefined = s.ADMIN_JWT
    ? { kind: 'token', token: s.ADMIN_JWT }
    : s.API_JWT_SECRET
      ? { kind: 'secret', secret: s.API_JWT_SECRET, claims: s.CONTAINER_ADMIN_CLAIMS }
      : undefined;
  if (s.CONTAINER_MODE === 'cold' && !admin)
    problems.push(
      'CONTAINER_MODE: cold needs admin credentials (ADMIN_JWT, or API_JWT_SECRET to sign one) to suspend containers and read their health',
    );
  if (!s.SERVICE_API_KEY && !admin)
    problems.push(
      'SERVICE_API_KEY: required to call POST /api/tenants/{id}/resume (or give admin credentials)',
    );
  if (problems.length > 0) return { ok: false, problems };

  const mode = s.CONTAINER_MODE ?? (admin ? 'cold' : 'warm');
  const profileDuration =
    profile && profile in PROFILES ? PROFILES[profile as ProfileName].container.durationMs : undefined;
  return {
    ok: true,
    plan: {
      apiBaseUrl: s.API_BASE_URL,
      tenantIds: s.TENANT_IDS!,
      mode,
      resumeCallOnly: mode === 'warm' && !admin,
      serviceApiKey: s.SERVICE_API_KEY,
      admin,
      durationMs: s.CONTAINER_DURATION ?? profileDuration ?? PROFILES.load.container.durationMs,
      pollIntervalMs: s.CONTAINER_POLL_INTERVAL,
      readyTimeoutMs: s.CONTAINER_READY_TIMEOUT,
      requestTimeoutMs: s.CONTAINER_REQUEST_TIMEOUT,
      thinkTimeMs: s.CONTAINER_THINK_TIME,
      remote: { allowRemote: s.LOADTEST_ALLOW_REMOTE, allowedHosts: s.LOADTEST_ALLOWED_HOSTS },
      limits: { startupP95Ms: s.CONTAINER_STARTUP_P95_MS, successMinPct: s.CONTAINER_SUCCESS_MIN },
    },
  };
}

/**
 * The gate limits with their defaults applied, as environment strings (the runner passes them on
 * for its manifest). The scenario does not depend on them being set: the processor emits the same
 * values as container.limit.* metrics.
 */
export function containerGateEnv(env: Record<string, string | undefined>): Record<string, string> {
  const parsed = containerSettings
    .pick({ CONTAINER_STARTUP_P95_MS: true, CONTAINER_SUCCESS_MIN: true })
    .parse({
      CONTAINER_STARTUP_P95_MS: env.CONTAINER_STARTUP_P95_MS || undefined,
      CONTAINER_SUCCESS_MIN: env.CONTAINER_SUCCESS_MIN || undefined,
    });
  return {
    CONTAINER_STARTUP_P95_MS: String(parsed.CONTAINER_STARTUP_P95_MS),
    CONTAINER_SUCCESS_MIN: String(parsed.CONTAINER_SUCCESS_MIN),
  };
}
