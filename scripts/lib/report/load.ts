import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { ArtilleryPeriod, ArtilleryReport } from '../artillery-run';
import type { RunManifest, ScenarioRecord } from '../manifest';

/** One run folder as the report reads it: the manifest plus each scenario's outputs. */
export interface LoadedRun {
  dir: string;
  manifest: RunManifest;
  scenarios: LoadedScenario[];
}

export interface LoadedScenario {
  record: ScenarioRecord;
  report: ArtilleryReport | undefined;
  verdicts: Verdict[];
}

/** One check of the ensure plugin as its `checks` event reported it. */
export interface Verdict {
  check: string;
  ok: boolean;
  /** Ensure's `strict: false` conditions are reported but do not fail the run. */
  strict: boolean;
}

const Summary = z.record(z.string(), z.number());
const Period = z.looseObject({
  counters: z.record(z.string(), z.number()).default({}),
  rates: z.record(z.string(), z.number()).default({}),
  summaries: z.record(z.string(), Summary).default({}),
  period: z.union([z.number(), z.string()]).optional(),
  firstMetricAt: z.number().optional(),
  lastMetricAt: z.number().optional(),
});
const Report = z.looseObject({ aggregate: Period, intermediate: z.array(Period).default([]) });
const Check = z.object({ check: z.string(), ok: z.boolean(), strict: z.boolean().default(true) });
/** ensure.json in the scenario folder: the checks file's entries, under `verdicts` (or `checks`). */
const Ensure = z.union([
  z.looseObject({ verdicts: z.array(Check) }).transform((f) => f.verdicts),
  z.looseObject({ checks: z.array(Check) }).transform((f) => f.checks),
  z.array(Check),
]);

export class RunFolderError extends Error {}

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8'));
}

export function loadRun(dir: string): LoadedRun {
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) throw new RunFolderError(`${dir}: no manifest.json (not a run folder)`);
  // The manifest is written by this suite; its shape is checked where it matters (scenarios list).
  const manifest = readJson(manifestPath) as RunManifest;
  if (!Array.isArray(manifest.scenarios)) throw new RunFolderError(`${manifestPath}: no scenarios list`);
  const scenarios = manifest.scenarios.map((record): LoadedScenario => {
    const outputPath = join(dir, record.dir, 'output.json');
    const ensurePath = join(dir, record.dir, 'ensure.json');
    let report: ArtilleryReport | undefined;
    if (existsSync(outputPath)) {
      try {
        const parsed = Report.safeParse(readJson(outputPath));
        if (parsed.success) report = parsed.data as unknown as ArtilleryReport;
      } catch {
        report = undefined;
      }
    }
    let verdicts: Verdict[] = [];
    if (existsSync(ensurePath)) {
      try {
        const parsed = Ensure.safeParse(readJson(ensurePath));
        if (parsed.success) verdicts = parsed.data;
      } catch {
        verdicts = [];
      }
    }
    return { record, report, verdicts };
  });
  return { dir, manifest, scenarios };
}

/** Ensure's view of a period: counters, rates and `<summary>.<aggregation>` as one flat map. */
export function flatValues(period: ArtilleryPeriod | undefined): Record<string, number> {
  if (!period) return {};
  const out: Record<string, number> = { ...period.counters, ...(period.rates ?? {}) };
  for (const [name, summary] of Object.entries(period.summaries ?? {}))
    for (const [aggregation, value] of Object.entries(summary))
      out[`${name}.${aggregation}`] = value as number;
  return out;
}

export function periodStartMs(period: ArtilleryPeriod): number | undefined {
  const value = Number(period.period ?? period.firstMetricAt);
  return Number.isFinite(value) ? value : undefined;
}
