import type { LoadedRun } from './load';
import { thresholdRows } from './thresholds';

const xml = (text: string) =>
  text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are invalid in XML 1.0
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

/** JUnit XML: one test case per threshold; a scenario that did not run is one failed case. */
export function runJunit(run: LoadedRun): string {
  let tests = 0;
  let failures = 0;
  const suites = run.scenarios.map((scenario) => {
    const rows = thresholdRows(scenario.verdicts, scenario.report);
    const cases = rows.map((row) => {
      const name = `${row.check}${row.optional ? ' (optional)' : ''}`;
      const failed = !row.ok && !row.optional;
      return `    <testcase classname="loadtest.${xml(scenario.record.name)}" name="${xml(name)}">${
        failed
          ? `\n      <failure message="${xml(`${row.cause}: ${row.measured}`)}" type="${xml(row.cause)}">${xml(
              `${row.check} failed; measured ${row.measured}`,
            )}</failure>\n    `
          : ''
      }</testcase>`;
    });
    if (scenario.record.outcome === 'skipped') {
      cases.push(
        `    <testcase classname="loadtest.${xml(scenario.record.name)}" name="run">\n      <skipped message="${xml(
          scenario.record.reason ?? 'skipped',
        )}"/>\n    </testcase>`,
      );
    } else if (scenario.record.outcome !== 'pass' && rows.every((r) => r.ok)) {
      cases.push(
        `    <testcase classname="loadtest.${xml(scenario.record.name)}" name="run">\n      <failure message="${xml(
          scenario.record.reason ?? scenario.record.outcome,
        )}" type="${xml(scenario.record.outcome)}"/>\n    </testcase>`,
      );
    }
    const suiteFailures = cases.filter((c) => c.includes('<failure')).length;
    tests += cases.length;
    failures += suiteFailures;
    return `  <testsuite name="${xml(scenario.record.name)}" tests="${cases.length}" failures="${suiteFailures}" time="${
      (scenario.record.durationMs ?? 0) / 1000
    }">\n${cases.join('\n')}\n  </testsuite>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="loadtest ${xml(run.manifest.runId)}" tests="${tests}" failures="${failures}">\n${suites.join('\n')}\n</testsuites>\n`;
}
