import type { LoadedRun } from './load';
import { inconclusiveMessage, thresholdRows } from './thresholds';
import { causeText } from './verdicts';

const xml = (text: string) =>
  text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are invalid in XML 1.0
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

/**
 * JUnit XML: one test case per threshold; an inconclusive check (too few samples) is `skipped`
 * with n and max; a scenario that did not run is one failed case.
 */
export function runJunit(run: LoadedRun): string {
  let tests = 0;
  let failures = 0;
  let skipped = 0;
  const suites = run.scenarios.map((scenario) => {
    const rows = thresholdRows(scenario.verdicts, scenario.report);
    const cases = rows.map((row) => {
      const name = `${row.check}${row.strict ? '' : ' (not strict)'}`;
      const open = `    <testcase classname="loadtest.${xml(scenario.record.name)}" name="${xml(name)}">`;
      if (row.status === 'inconclusive')
        return `${open}\n      <skipped message="${xml(inconclusiveMessage(row))}"/>\n    </testcase>`;
      if (row.status === 'fail' && row.strict) {
        const cause = causeText(row);
        return `${open}\n      <failure message="${xml(`FAILED (${cause}): ${row.measured}, limit ${row.limit}`)}" type="${xml(
          row.cause ?? 'failed',
        )}">${xml(`${row.check} failed; measured ${row.measured}; cause ${cause}`)}</failure>\n    </testcase>`;
      }
      return `${open}</testcase>`;
    });
    if (scenario.record.outcome === 'skipped') {
      cases.push(
        `    <testcase classname="loadtest.${xml(scenario.record.name)}" name="run">\n      <skipped message="${xml(
          scenario.record.reason ?? 'skipped',
        )}"/>\n    </testcase>`,
      );
    } else if (scenario.record.outcome !== 'pass' && rows.every((r) => r.status !== 'fail' || !r.strict)) {
      cases.push(
        `    <testcase classname="loadtest.${xml(scenario.record.name)}" name="run">\n      <failure message="${xml(
          scenario.record.reason ?? scenario.record.outcome,
        )}" type="${xml(scenario.record.outcome)}"/>\n    </testcase>`,
      );
    }
    const suiteFailures = cases.filter((c) => c.includes('<failure')).length;
    const suiteSkipped = cases.filter((c) => c.includes('<skipped')).length;
    tests += cases.length;
    failures += suiteFailures;
    skipped += suiteSkipped;
    return `  <testsuite name="${xml(scenario.record.name)}" tests="${cases.length}" failures="${suiteFailures}" skipped="${suiteSkipped}" time="${
      (scenario.record.durationMs ?? 0) / 1000
    }">\n${cases.join('\n')}\n  </testsuite>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="loadtest ${xml(run.manifest.runId)}" tests="${tests}" failures="${failures}" skipped="${skipped}">\n${suites.join('\n')}\n</testsuites>\n`;
}
