import { execFileSync } from 'node:child_process';
import type { EnsureVerdict } from './artillery-run';

/** results/<run-id>/manifest.json: what ran, how, and how it ended. Read by the report. */
export interface RunManifest {
  runId: string;
  profile: string;
  target:
    | { kind: 'simulator'; simulatorProfile: string; faults?: unknown }
    /** `file`: the env file, or for `environment` the shell variables that named the platform. */
    | { kind: 'env-file' | 'environment'; file: string };
  parallel: boolean;
  git: { revision: string | null; dirty: boolean | null };
  versions: {
    node: string;
    /**
     * `node --version` of the executable that runs Artillery (the runner spawns it with its own
     * process.execPath): the proof that a run used a Node Artillery supports, not the system's.
     * Absent in runs before it was recorded.
     */
    artilleryNode?: string;
    artillery: string | null;
    suite: string | null;
  };
  /** Settings as checked, secrets reduced to "(set, redacted)". */
  settings: Record<string, unknown>;
  seededTenants: number;
  /** Who got which seeded tenants and with how many credits (absent in runs before it was recorded). */
  seeding?: SeedingRecord[];
  startedAt: string;
  endedAt: string | null;
  interrupted: boolean;
  exitCode: number | null;
  scenarios: ScenarioRecord[];
}

export type ScenarioOutcome = 'pass' | 'threshold-failed' | 'error' | 'not-started' | 'skipped';

/** One batch of tenants the runner created for the run. */
export interface SeedingRecord {
  scenarios: string[];
  tenants: number;
  /** Credits per tenant; null when the platform decides (signup on a real platform: 1000 cents). */
  creditsCents: number | null;
  via: 'simulator control API' | 'signup';
}

export interface ScenarioRecord {
  name: string;
  /** Path of the YAML relative to the suite root (or absolute outside it). */
  script: string;
  area: string;
  /** Folder (relative to the run folder) with output.json, ensure.json, console.log. */
  dir: string;
  startedAt: string | null;
  endedAt: string | null;
  expectedMs: number;
  durationMs: number | null;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  outcome: ScenarioOutcome;
  /** Why, when the outcome is not pass (for skipped: why it was not run). */
  reason: string | null;
  /** Users per step the scenario ran with (the `<AREA>_VUS` setting or the profile's), when known. */
  vus?: number | null;
  /** TENANT_IDS this scenario was given, when the runner decided them (seeded tenants). */
  tenantIds?: string[];
  checksPassed: number;
  checksFailed: number;
  /** output.json was rebuilt from Artillery's periodic console output (it stopped before writing it). */
  partialResults: boolean;
  /**
   * LOADTEST_RUN_ID as this scenario saw it: the run id plus its position, so that scenarios
   * sharing one platform never create the same test account; it still starts with the run id.
   */
  dataTag: string;
}

/** results/<run-id>/<scenario>/ensure.json */
export interface EnsureFile {
  scenario: string;
  exitCode: number | null;
  verdicts: EnsureVerdict[];
}

/** What `node --version` prints for the executable the runner starts Artillery with. */
export function artilleryNodeVersion(): string {
  return execFileSync(process.execPath, ['--version'], { encoding: 'utf8' }).trim();
}
