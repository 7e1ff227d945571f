import type { ArtilleryReport } from '../artillery-run';
import type { LoadedRun, LoadedScenario } from './load';
import {
  fmt,
  GENERATOR_SATURATED_NOTE,
  generatorSaturated,
  MACHINE_CPU_METRIC,
  MACHINE_SATURATED_NOTE,
  machineSaturated,
  type ThresholdRow,
  thresholdRows,
} from './thresholds';

export interface CheckCounts {
  passed: number;
  failed: number;
  inconclusive: number;
}

export function countRows(rows: readonly ThresholdRow[]): CheckCounts {
  return {
    passed: rows.filter((r) => r.status === 'pass').length,
    failed: rows.filter((r) => r.status === 'fail').length,
    inconclusive: rows.filter((r) => r.status === 'inconclusive').length,
  };
}

export function scenarioCounts(scenario: LoadedScenario): CheckCounts {
  return countRows(thresholdRows(scenario.verdicts, scenario.report));
}

/** The run's verdict word (PASS / FAILED) and a sentence with the check counts. */
export function runVerdict(run: LoadedRun): { word: string; sentence: string } {
  const code = run.manifest.exitCode;
  const word = code === 0 ? 'PASS' : code === 1 ? 'FAILED (thresholds)' : 'FAILED (could not run)';
  const total = run.scenarios.map(scenarioCounts).reduce(
    (sum, c) => ({
      passed: sum.passed + c.passed,
      failed: sum.failed + c.failed,
      inconclusive: sum.inconclusive + c.inconclusive,
    }),
    { passed: 0, failed: 0, inconclusive: 0 },
  );
  const inconclusive =
    total.inconclusive > 0
      ? `, ${total.inconclusive} INCONCLUSIVE (too few samples to judge a percentile; they fail nothing)`
      : '';
  return {
    word,
    sentence: `Checks: ${total.passed} PASS, ${total.failed} FAILED${inconclusive}.`,
  };
}

/** The cause cell: the class, and the step reached when a measurement never happened. */
export function causeText(row: ThresholdRow): string {
  if (!row.cause) return row.causeDetail ?? '-';
  return row.causeDetail ? `${row.cause} (${row.causeDetail})` : row.cause;
}

/** Notes that invalidate the latency verdicts: a saturated generator, a saturated machine. */
export function scenarioSaturationNotes(
  rows: readonly ThresholdRow[],
  report: ArtilleryReport | undefined,
): string[] {
  const notes: string[] = [];
  if (generatorSaturated(rows)) notes.push(GENERATOR_SATURATED_NOTE);
  if (machineSaturated(rows)) {
    const cpu = report?.aggregate.summaries[MACHINE_CPU_METRIC];
    notes.push(
      cpu
        ? `${MACHINE_SATURATED_NOTE} (${MACHINE_CPU_METRIC} p95 ${fmt(cpu.p95)}, max ${fmt(cpu.max)}, n=${cpu.count})`
        : MACHINE_SATURATED_NOTE,
    );
  }
  return notes;
}
