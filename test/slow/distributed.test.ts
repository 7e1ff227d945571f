import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { parse } from 'yaml';
import { ROOT } from '../helpers/paths';

/**
 * Artillery Cloud (--record), run-fargate, Azure ACI and Kubernetes workers get the test as a
 * bundle built by Artillery's bill of materials (lib/platform/aws-ecs/legacy/bom.ts): the script,
 * config.processor resolved against the script's folder and traced with esbuild (local files
 * bundled, npm packages installed from package.json), payload paths of config and every
 * environment resolved against the script's folder, config.includeFiles, and the package.json /
 * package-lock.json / .npmrc at the common prefix of those files. This test runs that very code
 * on every scenario.
 */
const SCENARIOS_DIR = resolve(ROOT, 'scenarios');
const BOM_MODULE = resolve(ROOT, 'node_modules/artillery/dist/lib/platform/aws-ecs/legacy/bom.js');
const DISTRIBUTED_DOC = resolve(ROOT, 'docs', 'DISTRIBUTED.md');

interface BomManifest {
  files: Array<{ orig: string; noPrefix: string }>;
  modules: string[];
  pkgDeps: string[];
  externals: Array<{ name: string; reason: string }>;
}
type CreateBom = (
  scriptPath: string,
  extraFiles: string[],
  opts: { flags: Record<string, unknown>; scenarioPath: string },
  callback: (err: Error | null, manifest: BomManifest | null) => void,
) => void;

interface PayloadSpec {
  path?: string;
}
interface ScenarioConfig {
  target?: string;
  processor?: string;
  payload?: PayloadSpec | PayloadSpec[];
  includeFiles?: string[];
  environments?: Record<string, { payload?: PayloadSpec | PayloadSpec[]; target?: string }>;
}

const scenarioFiles = readdirSync(SCENARIOS_DIR)
  .filter((f) => f.endsWith('.yml'))
  .map((f) => resolve(SCENARIOS_DIR, f));

async function bomOf(scenario: string, environment: string): Promise<BomManifest> {
  const { createBOM } = (await import(pathToFileURL(BOM_MODULE).href)) as { createBOM: CreateBom };
  return new Promise((resolvePromise, reject) =>
    createBOM(scenario, [], { flags: { environment }, scenarioPath: scenario }, (err, manifest) =>
      err || !manifest ? reject(err ?? new Error('no manifest')) : resolvePromise(manifest),
    ),
  );
}

function payloadPaths(config: ScenarioConfig): string[] {
  const specs = [config.payload, ...Object.values(config.environments ?? {}).map((e) => e.payload)];
  return specs
    .flatMap((p) => (p === undefined ? [] : Array.isArray(p) ? p : [p]))
    .flatMap((p) => (p.path ? [p.path] : []));
}

function insideRepo(path: string): boolean {
  const rel = relative(ROOT, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

interface PackageJson {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}
const readPackage = (path: string) => JSON.parse(readFileSync(resolve(ROOT, path), 'utf8')) as PackageJson;
const rootPackage = readPackage('package.json');
const rootDependencies = Object.keys(rootPackage.dependencies ?? {}).sort();
const PLUGIN = 'artillery-plugin-agentteams';
const PLUGIN_FILES = ['plugins/artillery-plugin-agentteams/package.json', 'dist/plugins/agentteams.js'];
/** What only the machine that starts a run (tooling/) or the simulator needs: never on a worker. */
const notForWorkers = [
  ...Object.keys(readPackage('tooling/package.json').dependencies ?? {}),
  ...Object.keys(readPackage('simulator/package.json').dependencies ?? {}),
].filter((name) => !rootDependencies.includes(name));

describe('scenarios bundle for distributed runs as Artillery bundles them', () => {
  test('there are scenarios to check', () => assert.ok(scenarioFiles.length > 0));

  for (const scenario of scenarioFiles) {
    const name = relative(ROOT, scenario);
    const config = ((parse(readFileSync(scenario, 'utf8')) as { config?: ScenarioConfig }).config ??
      {}) as ScenarioConfig;

    test(`${name}: processor and payloads are relative to the scenario and inside the repository`, () => {
      const refs = [config.processor, ...payloadPaths(config), ...(config.includeFiles ?? [])].filter(
        (p): p is string => typeof p === 'string',
      );
      for (const ref of refs) {
        assert.ok(!isAbsolute(ref), `${ref}: absolute paths do not exist on a remote worker`);
        assert.doesNotMatch(ref, /\{\{/, `${ref}: a templated path cannot be bundled`);
        const absolute = resolve(SCENARIOS_DIR, ref);
        assert.ok(insideRepo(absolute), `${ref} leaves the repository`);
        assert.ok(existsSync(absolute), `${ref} does not exist (processors: run npm run build)`);
      }
    });

    test(`${name}: the target comes from the environment, not a local address`, () => {
      const targets = [
        config.target,
        ...Object.values(config.environments ?? {}).map((e) => e.target),
      ].filter((t): t is string => typeof t === 'string');
      for (const target of targets)
        assert.match(target, /^\{\{\s*\$env\.[A-Z0-9_]+\s*\}\}$/, `target "${target}"`);
    });

    test(`${name}: no local-only absolute path outside a {{ $env }} default`, () => {
      const lines = readFileSync(scenario, 'utf8')
        .split('\n')
        .map((line) => line.replace(/#.*$/, ''));
      const offending = lines.filter((line) =>
        /["'\s:](\/(home|tmp|work|Users|root|var|usr|opt)\/|[A-Z]:\\)/.test(line),
      );
      assert.deepEqual(offending, [], 'paths that exist only on this machine');
    });

    test(`${name}: Artillery's bill of materials holds every file and declared dependency`, async () => {
      const manifest = await bomOf(scenario, 'smoke');
      const files = manifest.files.map((f) => f.orig);
      for (const file of files) {
        assert.ok(
          file === ROOT + sep + relative(ROOT, file) && insideRepo(file),
          `${file} is outside the repository`,
        );
        assert.ok(existsSync(file), `${file} missing`);
      }
      const noPrefix = manifest.files.map((f) => f.noPrefix);
      assert.ok(
        noPrefix.includes('package.json'),
        'package.json is at the bundle root (dependencies get installed)',
      );
      assert.ok(noPrefix.includes('package-lock.json'), 'package-lock.json too (the same versions)');
      assert.ok(noPrefix.includes(relative(ROOT, scenario)), 'the scenario keeps its place in the tree');
      if (config.processor)
        assert.ok(files.includes(resolve(SCENARIOS_DIR, config.processor)), 'the processor');
      for (const payload of payloadPaths(config))
        assert.ok(files.includes(resolve(SCENARIOS_DIR, payload)), `the payload ${payload}`);
      assert.deepEqual(manifest.externals, [], 'imports that a worker could not install or find');
      // A worker runs `npm install <module>` for each of these, then `npm install` of the bundle's
      // package.json (devDependencies included): both lists must hold runtime packages only.
      assert.deepEqual(
        manifest.modules.filter((m) => !rootDependencies.includes(m)),
        [],
        'packages a worker would install beyond the root dependencies',
      );
      for (const m of manifest.modules)
        assert.ok(
          !notForWorkers.includes(m),
          `${m} (a dev tool or a simulator package) is on the worker's list`,
        );
      assert.ok(
        !rootPackage.devDependencies || Object.keys(rootPackage.devDependencies).length === 0,
        'root devDependencies would be installed on every worker: they belong in tooling/package.json',
      );
    });

    const declaresPlugin = Object.keys(
      (parse(readFileSync(scenario, 'utf8')) as { config?: { plugins?: object } }).config?.plugins ?? {},
    ).includes('agentteams');
    // The plugin reaches a worker as files of the bundle (config.includeFiles) installed through the
    // root's `file:` dependency; without them the worker's `npm install` stops at the missing folder.
    test(`${name}: the suite's Artillery plugin travels with the bundle`, {
      skip: declaresPlugin ? false : 'no agentteams plugin',
    }, async () => {
      const files = (await bomOf(scenario, 'smoke')).files.map((f) => f.noPrefix);
      for (const file of PLUGIN_FILES)
        assert.ok(files.includes(file), `${file}: add ../${file} to config.includeFiles`);
    });
  }

  test('root dependencies are exactly what the built processors and plugin require at run time', () => {
    const required = new Set<string>([PLUGIN]);
    for (const folder of ['dist/processors', 'dist/plugins'])
      for (const file of readdirSync(resolve(ROOT, folder)).filter((f) => f.endsWith('.js')))
        for (const name of requiredPackages(readFileSync(resolve(ROOT, folder, file), 'utf8')))
          required.add(name);
    assert.deepEqual(rootDependencies, [...required].sort());
    assert.equal(rootPackage.dependencies?.[PLUGIN], `file:${dirname(PLUGIN_FILES[0]!)}`);
  });

  test("a worker's install of the bundle gets the runtime packages only and runs no build", async () => {
    const scenario = resolve(SCENARIOS_DIR, 'llm-proxy.yml');
    const manifest = await bomOf(scenario, 'smoke');
    const dir = mkdtempSync(join(tmpdir(), 'artillery-bundle-'));
    try {
      const files = manifest.files.map((f) => ({ from: f.orig, to: f.noPrefix }));
      for (const file of PLUGIN_FILES)
        if (!files.some((f) => f.to === file)) files.push({ from: resolve(ROOT, file), to: file });
      for (const { from, to } of files) {
        mkdirSync(dirname(join(dir, to)), { recursive: true });
        cpSync(from, join(dir, to));
      }
      // The worker (Artillery's loadgen-worker) runs `npm install <module>` per listed module, then
      // `npm install`; the second is the one that installs the lock file and runs `prepare`.
      const result = spawnSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], {
        cwd: dir,
        encoding: 'utf8',
        timeout: 240_000,
      });
      const output = `${result.stdout}\n${result.stderr}`;
      assert.equal(result.status, 0, output.slice(-3000));
      assert.doesNotMatch(output, /> tsup|No input files/, 'prepare must not build in the bundle layout');
      const installed = readdirSync(join(dir, 'node_modules')).flatMap((name) =>
        name.startsWith('@')
          ? readdirSync(join(dir, 'node_modules', name)).map((n) => `${name}/${n}`)
          : [name],
      );
      for (const name of rootDependencies) assert.ok(installed.includes(name), `${name} installed`);
      const unwanted = installed.filter((name) => notForWorkers.includes(name) || name === 'node');
      assert.deepEqual(unwanted, [], 'dev tools or simulator packages installed on the worker');
      assert.ok(installed.length < 20, `a small install: ${installed.join(', ')}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the check fails for an undeclared package and a file outside the repository', async () => {
    const manifest = await bomOf(
      resolve(__dirname, '..', 'fixtures', 'metrics', 'outside-tree.yml'),
      'smoke',
    );
    const flagged = manifest.externals.map((e) => e.name);
    assert.ok(flagged.includes('left-pad-undeclared-in-package-json'), JSON.stringify(manifest.externals));
    assert.ok(
      flagged.some((name) => name.includes('outside-the-repository')),
      `the missing file outside the tree is flagged: ${JSON.stringify(manifest.externals)}`,
    );
  });

  test('docs/DISTRIBUTED.md covers every scenario', () => {
    const doc = readFileSync(DISTRIBUTED_DOC, 'utf8');
    for (const scenario of scenarioFiles) {
      const base = relative(SCENARIOS_DIR, scenario);
      assert.ok(doc.includes(base), `docs/DISTRIBUTED.md says nothing about ${base}`);
    }
  });
});

/** Bare package names a built file requires (tsup leaves node_modules external). */
function requiredPackages(source: string): Set<string> {
  const names = new Set<string>();
  for (const match of source.matchAll(/require\("([^"./][^"]*)"\)/g)) {
    const spec = match[1]!;
    if (spec.startsWith('node:') || isBuiltin(spec)) continue;
    names.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
  }
  return names;
}

/** Not a failure yet while the scenario does not ship the plugin's files: the lead adds includeFiles. */
