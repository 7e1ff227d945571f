export type {
  ArtilleryReport,
  ArtilleryRunResult,
  EnsureVerdict,
} from '../../scripts/lib/artillery-run';

import {
  type ArtilleryRunResult,
  type RunArtilleryOptions,
  runArtillery as runArtilleryProcess,
} from '../../scripts/lib/artillery-run';
import { assertStartedTargets } from './started-targets';

/**
 * Artillery for tests: targets named by the developer's shell are dropped, and every target the
 * run names (env or -t) must be a server this test started, else the test fails before any load.
 */
export function runArtillery(options: RunArtilleryOptions): Promise<ArtilleryRunResult> {
  const env: Record<string, string | undefined> = {
    WEB_BASE_URL: undefined,
    API_BASE_URL: undefined,
    NEXTAUTH_URL: undefined,
    SIM_CONTROL_URL: undefined,
    ...options.env,
  };
  assertStartedTargets(env, options.extraArgs ?? []);
  return runArtilleryProcess({ ...options, env });
}

/** Counter value from the aggregate report (0 when the metric never appeared). */
export function counter(result: ArtilleryRunResult, name: string): number {
  return result.report?.aggregate.counters[name] ?? 0;
}

/** Summary (histogram) from the aggregate report. */
export function summary(result: ArtilleryRunResult, name: string) {
  return result.report?.aggregate.summaries[name];
}

/** The verdict whose check starts with the given metric/expression text. */
export function verdict(result: ArtilleryRunResult, checkPrefix: string) {
  return result.ensure.find((v) => v.check.startsWith(checkPrefix));
}

/** Readable diagnostics for assertion messages. */
export function explain(result: ArtilleryRunResult): string {
  return [
    `exit=${result.exitCode} signal=${result.signal} timedOut=${result.timedOut}`,
    `ensure: ${JSON.stringify(result.ensure)}`,
    `stderr: ${result.stderr.slice(-2000)}`,
    `stdout tail: ${result.stdout.slice(-3000)}`,
  ].join('\n');
}
