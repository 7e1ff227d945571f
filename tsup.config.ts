import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'tsup';
import { sourceDigests, writeSourceRecord } from './plugins/artillery-plugin-agentteams/src/source-record';

// Every top-level .ts file in these folders is an entry point; subfolders (lib/, src/ internals)
// are bundled into the entries that import them. Output keeps the folder: dist/processors/x.js.
const entryFolders: Record<string, string> = {
  processors: 'processors',
  scripts: 'scripts',
  bench: 'bench',
  simulator: 'simulator/src',
};

function entriesOf(outDir: string, srcDir: string): Record<string, string> {
  const entries: Record<string, string> = {};
  let names: string[] = [];
  try {
    names = readdirSync(srcDir);
  } catch {
    return entries;
  }
  for (const name of names) {
    const file = join(srcDir, name);
    if (!name.endsWith('.ts') || name.endsWith('.d.ts') || !statSync(file).isFile()) continue;
    entries[`${outDir}/${name.slice(0, -3)}`] = file;
  }
  return entries;
}

const entry = Object.assign(
  {},
  ...Object.entries(entryFolders).map(([outDir, srcDir]) => entriesOf(outDir, srcDir)),
  { 'plugins/agentteams': 'plugins/artillery-plugin-agentteams/src/index.ts' },
);

// Taken before the build reads the sources: the plugin refuses a dist/ built from other ones.
const sourcesAtBuild = sourceDigests(__dirname);

export default defineConfig({
  entry,
  outDir: 'dist',
  format: ['cjs'],
  platform: 'node',
  target: 'node22',
  bundle: true,
  // Runtime dependencies stay external: Artillery's bundler (Fargate, Lambda) ships node_modules.
  skipNodeModulesBundle: true,
  splitting: false,
  sourcemap: true,
  // No clean: parallel runs (tests, helpers) may be reading dist/ while a build runs.
  clean: false,
  dts: false,
  silent: true,
  metafile: true,
  onSuccess: async () =>
    writeSourceRecord(__dirname, sourcesAtBuild, join(__dirname, 'dist', 'metafile-cjs.json')),
});
