import { z } from 'zod';
import { commonSettings } from './common';
import { describeIssues, optionalDurationMs } from './shared';

/**
 * Settings of the container provisioning scenario (scenarios/container-provisioning.yml).
 * Credentials (SERVICE_API_KEY, ADMIN_JWT, API_JWT_SECRET) and TENANT_IDS are common settings.
 * The scenario YAML holds every default: users per profile (phases), how long each user loops
 * (`loopDuration`), the poll period, the readiness deadline, the pause between cycles, the request
 * timeout (`http.timeout`) and the gate limits (`ensure`). The settings below only override them.
 */

const JWT_CLAIMS_HINT = 'must be a JSON object of JWT claims, e.g. {"isAdmin":true}';

const claimsObject = z
  .string()
  .default('{"sub":"agentteams-loadtest","role":"admin","isAdmin":true}')
  .transform((text, ctx) => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: JWT_CLAIMS_HINT });
      return z.NEVER;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      ctx.addIssue({ code: 'custom', message: JWT_CLAIMS_HINT });
      return z.NEVER;
    }
    return value as Record<string, unknown>;
  });

const positiveDuration = optionalDurationMs({ positive: true });

export const containerSettings = z.object({
  /** Runner setting: users per step, applied by the runner as `--overrides` on the phases. */
  CONTAINER_VUS: z.coerce.number().int().min(1).max(10_000).optional(),
  /** How long each user keeps cycling; unset: the YAML's `loopDuration`. */
  CONTAINER_DURATION: positiveDuration,
  /** cold: suspend, resume, wait for healthy (needs admin credentials); warm: time the resume call only. */
  CONTAINER_MODE: z.enum(['cold', 'warm'], { error: 'must be cold or warm' }).optional(),
  /** Readiness poll period (YAML `pollInterval`); the startup figure is at most this much (plus one request) late. */
  CONTAINER_POLL_INTERVAL: positiveDuration,
  /** Readiness deadline after the resume (YAML `readyTimeout`). */
  CONTAINER_READY_TIMEOUT: positiveDuration,
  /** Per request (YAML `http.timeout`). */
  CONTAINER_REQUEST_TIMEOUT: positiveDuration,
  /** Pause of each user between two cycles (YAML `thinkTime`). */
  CONTAINER_THINK_TIME: optionalDurationMs(),
  /** Gate limit: startup p95 in ms; unset: the number in the scenario's ensure block. */
  CONTAINER_STARTUP_P95_MS: z.coerce
    .number({ error: 'must be a number of milliseconds, e.g. 30000' })
    .positive({ error: 'must be more than 0 (milliseconds)' })
    .optional(),
  /** Gate limit: provisioning success in percent of attempts; unset: the scenario's number. */
  CONTAINER_SUCCESS_MIN: z.coerce
    .number({ error: 'must be a percentage between 0 and 100' })
    .min(0, { error: 'must be a percentage between 0 and 100' })
    .max(100, { error: 'must be a percentage between 0 and 100' })
    .optional(),
  /** Claims of the admin JWT signed locally with API_JWT_SECRET (when ADMIN_JWT is not given). */
  CONTAINER_ADMIN_CLAIMS: claimsObject,
});

export type ContainerSettings = z.infer<typeof containerSettings>;

const scenarioSettings = z.object({ ...commonSettings.shape, ...containerSettings.shape });

export type AdminCredentials =
  | { kind: 'token'; token: string }
  | { kind: 'secret'; secret: string; claims: Record<string, unknown> };

/** Timings set in the environment; each one left unset keeps the scenario YAML's value. */
export interface ContainerTimingOverrides {
  durationMs?: number;
  pollIntervalMs?: number;
  readyTimeoutMs?: number;
  requestTimeoutMs?: number;
  thinkTimeMs?: number;
}

/** What one run does, resolved from the settings: the processor and the runner read the same plan. */
export interface ContainerPlan {
  tenantIds: string[];
  mode: 'cold' | 'warm';
  /** Warm because no admin credentials were given (not chosen): only the resume call is measured. */
  resumeCallOnly: boolean;
  /** Sent as X-Service-API-Key on the resume route; without it the admin token is sent there. */
  serviceApiKey: string | undefined;
  admin: AdminCredentials | undefined;
  overrides: ContainerTimingOverrides;
}

export type PlanResult = { ok: true; plan: ContainerPlan } | { ok: false; problems: string[] };

/** Parses the environment (an empty variable counts as unset) and resolves the run plan. */
export function resolveContainerPlan(env: Record<string, string | undefined>): PlanResult {
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
  if (problems.length > 0 || !s.TENANT_IDS) return { ok: false, problems };

  const mode = s.CONTAINER_MODE ?? (admin ? 'cold' : 'warm');
  return {
    ok: true,
    plan: {
      tenantIds: s.TENANT_IDS,
      mode,
      resumeCallOnly: mode === 'warm' && !admin,
      serviceApiKey: s.SERVICE_API_KEY,
      admin,
      overrides: {
        durationMs: s.CONTAINER_DURATION,
        pollIntervalMs: s.CONTAINER_POLL_INTERVAL,
        readyTimeoutMs: s.CONTAINER_READY_TIMEOUT,
        requestTimeoutMs: s.CONTAINER_REQUEST_TIMEOUT,
        thinkTimeMs: s.CONTAINER_THINK_TIME,
      },
    },
  };
}
