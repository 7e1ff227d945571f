import { randomBytes } from 'node:crypto';
import { TEST_ACCOUNT_DOMAIN } from '../../../config/test-accounts';

/**
 * Test accounts of one run. Every address carries the run id (`loadtest+<run>-<n>@example.test`)
 * so that the accounts of a run can be found and cleaned up afterwards: <run> is LOADTEST_RUN_ID,
 * followed by `-<LOADTEST_SCENARIO>` when that is set, so two scenarios started by hand with the
 * same run id never sign up the same address, and `loadtest+<LOADTEST_RUN_ID>-` still finds them all; `example.test` is a
 * reserved domain, so no mail ever leaves. Passwords are random per account and live only in
 * memory: they are never logged, emitted or written.
 */

/** The platform lowercases e-mail addresses at signup; ids are reduced to what a local part allows. */
function normaliseRunId(raw: string): string {
  const cleaned = raw
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '');
  return cleaned.slice(0, 40) || generatedRunId();
}

function generatedRunId(): string {
  return `r${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

let cachedRunId: string | undefined;

/** LOADTEST_RUN_ID when set (the runner sets it for every scenario), else one id per process. */
export function currentRunId(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.LOADTEST_RUN_ID;
  if (fromEnv) return normaliseRunId(fromEnv);
  cachedRunId ??= generatedRunId();
  return cachedRunId;
}

// Artillery may run several worker threads of one process: the worker id keeps their counters apart.
const workerTag = (process.env.LOCAL_WORKER_ID ?? '').replace(/[^a-z0-9]/gi, '').slice(0, 12);
let sequence = 0;

const MAX_SCENARIO_TAG = 24;

/** LOADTEST_SCENARIO reduced to what a local part allows; undefined when unset or nothing is left. */
function scenarioTag(env: NodeJS.ProcessEnv): string | undefined {
  const cleaned = (env.LOADTEST_SCENARIO ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .slice(0, MAX_SCENARIO_TAG)
    .replace(/^-+|-+$/g, '');
  return cleaned || undefined;
}

/** A fresh address for this run: unique across the workers and the scenarios of the run. */
export function nextTestEmail(runId?: string, env: NodeJS.ProcessEnv = process.env): string {
  sequence += 1;
  const run = runId ? normaliseRunId(runId) : currentRunId(env);
  const scenario = scenarioTag(env);
  const tag = scenario ? `${run}-${scenario}` : run;
  const n = workerTag ? `${workerTag}.${sequence}` : String(sequence);
  return `loadtest+${tag}-${n}@${TEST_ACCOUNT_DOMAIN}`;
}

/** 24 random characters: inside the platform's 8-72 limit, and never the same twice. */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}

export interface TestCredentials {
  readonly email: string;
  readonly password: string;
}

export function newTestCredentials(runId?: string): TestCredentials {
  const credentials = { email: nextTestEmail(runId), password: generatePassword() };
  // The password must not show up when an outcome or a session is logged or serialised.
  Object.defineProperty(credentials, 'password', { enumerable: false });
  return credentials;
}
