/**
 * Prints a run's junit.xml as GitHub workflow commands: a failed threshold becomes an `::error`
 * annotation on the pull request, an inconclusive or skipped one a `::notice`. Workflow commands
 * need no token or `checks: write` permission, so pull requests from forks get them too.
 *
 *   node dist/scripts/junit-annotations.js results/<run-id>/junit.xml
 */
import { existsSync, readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { ROOT } from './lib/paths';

export interface Annotation {
  level: 'error' | 'notice';
  title: string;
  message: string;
  /** The scenario's YAML, relative to the repository, when it is a file of the repository. */
  file?: string;
}

const unescapeXml = (text: string) =>
  text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');

const attribute = (tag: string, name: string): string | null => {
  const match = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return match ? unescapeXml(match[1]!) : null;
};

/** One annotation per failed or skipped test case of the report's junit.xml; passes print nothing. */
export function junitAnnotations(
  xml: string,
  scenarioFile?: (scenario: string) => string | undefined,
): Annotation[] {
  const annotations: Annotation[] = [];
  for (const match of xml.matchAll(/<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const open = match[1]!;
    const body = match[3] ?? '';
    const scenario = (attribute(open, 'classname') ?? '').replace(/^loadtest\./, '');
    const title = `${scenario}: ${attribute(open, 'name') ?? ''}`;
    const file = scenarioFile?.(scenario);
    const failure = /<failure\b([^>]*)/.exec(body);
    const skipped = /<skipped\b([^>]*)/.exec(body);
    if (failure)
      annotations.push({
        level: 'error',
        title,
        message: attribute(failure[1]!, 'message') ?? 'failed',
        ...(file ? { file } : {}),
      });
    else if (skipped)
      annotations.push({
        level: 'notice',
        title,
        message: attribute(skipped[1]!, 'message') ?? 'skipped',
        ...(file ? { file } : {}),
      });
  }
  return annotations;
}

// Escaping of data and properties as the Actions toolkit (@actions/core) does it.
const escapeData = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escapeProperty = (s: string) => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

export function workflowCommand(a: Annotation): string {
  const properties = [
    ...(a.file ? [`file=${escapeProperty(a.file)}`] : []),
    `title=${escapeProperty(a.title)}`,
  ];
  return `::${a.level} ${properties.join(',')}::${escapeData(a.message)}`;
}

function main(argv: string[]): number {
  const file = argv[0];
  if (!file || !existsSync(file)) {
    // No junit.xml: the run stopped before its report; the failed step before this one says why.
    console.log(`::warning title=loadtest::no junit.xml at ${file ?? '(no path given)'}`);
    return 0;
  }
  const scenarioFile = (scenario: string) => {
    const path = resolve(ROOT, 'scenarios', `${scenario}.yml`);
    return existsSync(path) ? relative(ROOT, path) : undefined;
  };
  const annotations = junitAnnotations(readFileSync(file, 'utf8'), scenarioFile);
  for (const a of annotations) console.log(workflowCommand(a));
  const failed = annotations.filter((a) => a.level === 'error').length;
  console.log(`junit: ${failed} failed, ${annotations.length - failed} inconclusive or skipped`);
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
