import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RESULTS_END, RESULTS_START } from '../../bench/lib/render';
import { type BenchResults, FIGURE_FIELDS, type FigureName } from '../../bench/lib/results';
import { DIST, ROOT } from '../helpers/paths';

/**
 * The bench harness end to end in --quick mode: every figure is measured (real Artillery, wrk,
 * autocannon, the runner, the simulator) and carries every field BENCHMARKS.md renders. Values
 * are machine-dependent and never asserted.
 */

const BENCH_JS = resolve(DIST, 'bench', 'run.js');
/** Session tokens are JWE/JWT-shaped; none may reach a results file. */
const JWT_LIKE = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*\./;

let work: string;
let results: BenchResults;
let resultsFile: string;
let benchOutput = '';
let benchExit: number | null = null;

function runNode(args: string[], timeoutMs: number): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ARTILLERY_DISABLE_TELEMETRY: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const timer = setTimeout(() => {
    if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
  }, timeoutMs);
  return new Promise((resolveRun) => {
    child.once('close', (code) => {
      clearTimeout(timer);
      resolveRun({ code, output });
    });
  });
}

function valueAt(object: unknown, path: string): unknown {
  let current: unknown = object;
  for (const key of path.split('.')) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

before(async () => {
  assert.ok(existsSync(BENCH_JS), 'build first: npx tsup');
  work = mkdtempSync(join(tmpdir(), 'bench-test-'));
  const run = await runNode([BENCH_JS, '--quick', '--out', work, '--no-markdown'], 420_000);
  benchExit = run.code;
  benchOutput = run.output;
  const files = readdirSync(work).filter((name) => name.endsWith('.json'));
  assert.equal(files.length, 1, `one results file expected in ${work}; bench output:\n${benchOutput}`);
  resultsFile = join(work, files[0]!);
  results = JSON.parse(readFileSync(resultsFile, 'utf8')) as BenchResults;
});

after(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('npm run bench -- --quick', () => {
  test('every figure was measured and the bench exits 0', () => {
    const failed = Object.entries(results.figures)
      .filter(([, figure]) => !figure.ok)
      .map(([name, figure]) => `${name}: ${figure.ok ? '' : figure.error}`);
    assert.deepEqual(failed, [], `bench output:\n${benchOutput.slice(-4000)}`);
    assert.equal(benchExit, 0);
    assert.equal(results.quick, true);
  });

  for (const [name, fields] of Object.entries(FIGURE_FIELDS) as [FigureName, string[]][]) {
    test(`${name} carries ${fields.length} field(s)`, () => {
      const figure = results.figures[name];
      assert.ok(figure.ok, `${name} not measured: ${figure.ok ? '' : figure.error}`);
      for (const field of fields) {
        const value = valueAt(figure, field);
        // A ceiling or saturation point the levels never reached is null: present, not missing.
        const present =
          (typeof value === 'number' && Number.isFinite(value)) ||
          (Array.isArray(value) && value.length > 0) ||
          (value === null && ['ceilingUsers', 'saturationUsers', 'exitCode'].includes(field));
        assert.ok(present, `${name}.${field} is ${JSON.stringify(value)}`);
      }
    });
  }

  test('every figure names its command', () => {
    const f = results.figures;
    const commands: unknown[] = [];
    if (f.fidelity.ok)
      for (const w of [f.fidelity.llm, f.fidelity.chat])
        commands.push(w.artillery.command, w.wrk.command, w.autocannon.command);
    if (f.generatorCost.ok) commands.push(f.generatorCost.command);
    if (f.ceiling.ok) commands.push(f.ceiling.command);
    if (f.simulatorCapacity.ok)
      commands.push(
        f.simulatorCapacity.bare.command,
        f.simulatorCapacity.addedLatency.command,
        ...f.simulatorCapacity.routes.map((r) => r.command),
      );
    if (f.smokeRun.ok) commands.push(f.smokeRun.command);
    if (f.wsSoak.ok) commands.push(f.wsSoak.command);
    assert.equal(commands.length, 14);
    for (const command of commands)
      assert.ok(typeof command === 'string' && command.length > 10, String(command));
  });

  test('no session token, cookie or key in the results', () => {
    const text = readFileSync(resultsFile, 'utf8');
    assert.doesNotMatch(text, JWT_LIKE);
    assert.doesNotMatch(text, /next-auth\.session-token=|authjs\.session-token=/);
    assert.match(text, /\$SERVICE_API_KEY|\$WRK_SERVICE_API_KEY/, 'commands show secrets as variables');
  });

  test('--render writes the figures between the markers of a markdown file, keeping the rest', async () => {
    const markdown = join(work, 'BENCHMARKS.md');
    writeFileSync(
      markdown,
      `# Benchmarks\n\nhand-written intro\n\n${RESULTS_START}\nold numbers\n${RESULTS_END}\n\nfooter\n`,
    );
    const run = await runNode([BENCH_JS, '--render', resultsFile, '--markdown', markdown], 30_000);
    assert.equal(run.code, 0, run.output);
    const text = readFileSync(markdown, 'utf8');
    assert.match(text, /hand-written intro/);
    assert.match(text, /footer/);
    assert.doesNotMatch(text, /old numbers/);
    for (const heading of [
      '### 1. Fidelity',
      '### 2. Generator cost',
      '### 3. Ceiling',
      '### 4. Simulator capacity',
      '### 5. `npm start` wall time',
      '### 6. WebSocket soak memory',
    ])
      assert.ok(text.includes(heading), `missing ${heading}`);
    assert.doesNotMatch(text, /Not measured in this run/);
  });
});
