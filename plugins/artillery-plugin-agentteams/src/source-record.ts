import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/**
 * A stale build is refused, not run: `artillery run` loads dist/processors/*.js, so a processor
 * edited in processors/*.ts and not rebuilt would silently run the old code. The build records
 * the digest of every source file that went into each bundle (from esbuild's metafile); before
 * any load the plugin compares them with the files on disk.
 */

/** Source trees whose files can end up in a bundle. */
export const SOURCE_DIRS = [
  'processors',
  'config',
  'scripts/lib',
  'plugins/artillery-plugin-agentteams/src',
] as const;
/** Where the build writes the record (inside dist/processors: it is about those bundles). */
export const SOURCE_RECORD = join('dist', 'processors', '.sources.json');

export interface SourceRecord {
  /** Output (e.g. `processors/llm-proxy`) -> its source files (repo-relative, `/`) -> sha256. */
  outputs: Record<string, Record<string, string>>;
}

const posix = (path: string) => path.split(sep).join('/');

function digest(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** sha256 of every file under the source trees, keyed by repo-relative path. */
export function sourceDigests(root: string): Record<string, string> {
  const digests: Record<string, string> = {};
  const walk = (dir: string) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      if (name === 'node_modules' || name === 'dist') continue;
      const path = join(dir, name);
      const stat = statSync(path, { throwIfNoEntry: false });
      if (!stat) continue;
      if (stat.isDirectory()) walk(path);
      else if (stat.isFile()) digests[posix(relative(root, path))] = digest(path);
    }
  };
  for (const dir of SOURCE_DIRS) walk(join(root, dir));
  return digests;
}

interface Metafile {
  outputs: Record<string, { inputs: Record<string, unknown> }>;
}

/**
 * Writes the record from esbuild's metafile and the digests taken when the build started (a file
 * edited during the build then reads as stale: the safe side).
 */
export function writeSourceRecord(root: string, digests: Record<string, string>, metafilePath: string): void {
  const meta = JSON.parse(readFileSync(metafilePath, 'utf8')) as Metafile;
  const record: SourceRecord = { outputs: {} };
  for (const [output, { inputs }] of Object.entries(meta.outputs)) {
    const name = /^dist\/((?:processors|plugins)\/[^/]+)\.js$/.exec(posix(output))?.[1];
    if (!name) continue;
    const files: Record<string, string> = {};
    for (const input of Object.keys(inputs)) {
      const path = posix(input);
      const sum = digests[path];
      if (sum) files[path] = sum;
    }
    record.outputs[name] = files;
  }
  writeFileSync(join(root, SOURCE_RECORD), `${JSON.stringify(record, null, 1)}\n`);
}

const REBUILD = 'run npm run build';

/**
 * Problems (empty when fresh) of the given bundles, e.g. `processors/llm-proxy` and
 * `plugins/agentteams`. Nothing is checked where the source tree is absent (a distributed worker
 * gets dist/ only).
 */
export function staleBuildProblems(root: string, outputs: readonly string[]): string[] {
  if (!existsSync(join(root, 'processors')) || !existsSync(join(root, 'config'))) return [];
  let record: SourceRecord;
  try {
    record = JSON.parse(readFileSync(join(root, SOURCE_RECORD), 'utf8')) as SourceRecord;
  } catch {
    return [`${SOURCE_RECORD} is missing: the build that made dist/ recorded no sources; ${REBUILD}`];
  }
  const problems: string[] = [];
  for (const output of outputs) {
    const where = output.startsWith('processors/') ? 'dist/processors' : `dist/${output}.js`;
    const files = record.outputs[output];
    if (!files) {
      problems.push(
        `${where} is stale: dist/${output}.js was not built from the current sources; ${REBUILD}`,
      );
      continue;
    }
    const changed = Object.entries(files)
      .filter(([path, sum]) => {
        const file = join(root, path);
        return !existsSync(file) || digest(file) !== sum;
      })
      .map(([path]) => path);
    if (changed.length > 0)
      problems.push(
        `${where} is stale: ${changed.slice(0, 3).join(', ')}${changed.length > 3 ? ` and ${changed.length - 3} more` : ''} changed after the last build; ${REBUILD}`,
      );
  }
  return problems;
}
