import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../paths';

export type ScriptValidator = (script: unknown) => string | undefined;

/**
 * Artillery's own script validation (the Joi schema `artillery run` applies after merging the
 * environment). Not in its package exports, so it is loaded by file path; undefined when the
 * installed Artillery no longer ships it, in which case our zod subset still applies.
 */
export async function loadArtilleryValidator(): Promise<ScriptValidator | undefined> {
  const file = join(ROOT, 'node_modules', 'artillery', 'dist', 'lib', 'util', 'validate-script.js');
  if (!existsSync(file)) return undefined;
  // A variable specifier keeps the bundler from turning this ESM import into require().
  const specifier = pathToFileURL(file).href;
  const loaded = (await import(specifier)) as { default?: unknown };
  return typeof loaded.default === 'function' ? (loaded.default as ScriptValidator) : undefined;
}
