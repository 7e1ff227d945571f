import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from '../scripts/lib/paths';
import { makeRedactor } from '../scripts/lib/redact';
import { type ArtilleryMeasurement, measureArtillery, usersOverrides } from './lib/artillery-point';
import { measureCapacity } from './lib/figures/capacity';
import { measureCeiling } from './lib/figures/ceiling';
import { measureFidelity } from './lib/figures/fidelity';
import { measureGeneratorCost } from './lib/figures/generator-cost';
import { measureSmokeRun } from './lib/figures/smoke-run';
import { measureWsSoak } from './lib/figures/ws-soak';
import { describeMachine } from './lib/machine';
import { benchPlan } from './lib/plan';
import { renderResults, spliceResults } from './lib/render';
import type { BenchResults, Figure, FigureName } from './lib/results';
import { type BenchTarget, startBenchTarget } from './lib/target';

/**
 * `npm run bench`: every figure of BENCHMARKS.md measured in one run on this machine, written
 * to bench/results/<timestamp>.json and rendered into BENCHMARKS.md.
 *
 *   node dist/bench/run.js [--quick] [--out <dir>] [--markdown <file>|--no-markdown] [--only a,b]
 *   node dist/bench/run.js --render bench/results/<timestamp>.json   # re-render BENCHMARKS.md
 *
 * --quick runs each figure for seconds (harness check; numbers not worth quoting) and writes no
 * markdown unless --markdown is given. Exit 0 when every figure asked for was measured, 1 otherwise.
 */

const FIGURES: FigureName[] = [
  'fidelity',
  'ceiling',
  'simulatorCapacity',
  'wsSoak',
  'generatorCost',
  'smokeRun',
];
const USAGE =
  'usage: bench/run [--quick] [--out <dir>] [--markdown <file>|--no-markdown] [--only fidelity,...] [--render <results.json>]';

interface CliOptions {
  quick: boolean;
  out: string;
  markdown: string | undefined;
  only: FigureName[];
  render: string | undefined;
}

function parseCli(argv: string[]): CliOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      quick: { type: 'boolean' },
      out: { type: 'string' },
      markdown: { type: 'string' },
      'no-markdown': { type: 'boolean' },
      only: { type: 'string' },
      render: { type: 'string' },
    },
  });
  const only = values.only ? values.only.split(',').map((s) => s.trim()) : FIGURES;
  const unknown = only.filter((name) => !FIGURES.includes(name as FigureName));
  if (unknown.length > 0)
    throw new Error(`--only: unknown figure(s) ${unknown.join(', ')}; known: ${FIGURES.join(', ')}`);
  const quick = values.quick === true;
  // BENCHMARKS.md shows one whole run: a quick or partial run writes it only when asked to.
  const whole = !quick && only.length === FIGURES.length;
  const defaultMarkdown = whole ? resolve(ROOT, 'BENCHMARKS.md') : undefined;
  return {
    quick,
    out: resolve(values.out ?? resolve(ROOT, 'bench', 'results')),
    markdown: values['no-markdown']
      ? undefined
      : values.markdown
        ? resolve(values.markdown)
        : defaultMarkdown,
    only: only as FigureName[],
    render: values.render,
  };
}

const log = (line: string) =>
  process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

async function attempt<T>(
  name: FigureName,
  options: CliOptions,
  measure: () => Promise<T>,
): Promise<Figure<T>> {
  if (!options.only.includes(name)) return { ok: false, error: 'skipped (--only)' };
  const started = Date.now();
  try {
    const value = await measure();
    log(`${name}: measured in ${Math.round((Date.now() - started) / 1000)} s`);
    return { ok: true, ...value };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log(`${name}: NOT measured: ${message}`);
    return { ok: false, error: message };
  }
}

function writeMarkdown(file: string, results: BenchResults): void {
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  writeFileSync(file, spliceResults(current, renderResults(results)));
  log(`rendered into ${relative(process.cwd(), file) || file}`);
}

async function main(): Promise<number> {
  let options: CliOptions;
  try {
    options = parseCli(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (options.render) {
    const results = JSON.parse(readFileSync(options.render, 'utf8')) as BenchResults;
    writeMarkdown(options.markdown ?? resolve(ROOT, 'BENCHMARKS.md'), results);
    return 0;
  }

  const plan = benchPlan(options.quick);
  const startedAt = new Date();
  const machine = describeMachine();
  log(
    `${options.quick ? 'quick' : 'full'} bench on ${machine.cores} × ${machine.cpuModel}, load average ${machine.loadAverageAtStart}`,
  );

  const secrets: Record<string, string | undefined> = {};
  let target: BenchTarget | undefined;
  const notRun = { ok: false as const, error: 'not run: the bench simulator did not start' };
  const figures: BenchResults['figures'] = {
    fidelity: notRun,
    generatorCost: notRun,
    ceiling: notRun,
    simulatorCapacity: notRun,
    smokeRun: notRun,
    wsSoak: notRun,
  };
  try {
    const needsTarget = options.only.some((n) =>
      ['fidelity', 'ceiling', 'simulatorCapacity', 'wsSoak'].includes(n),
    );
    if (needsTarget) {
      target = await startBenchTarget();
      for (const name of ['SERVICE_API_KEY', 'API_JWT_SECRET', 'SIM_ADMIN_TOKEN', 'NEXTAUTH_SECRET'])
        secrets[name] = target.sim.env[name];
    }
    const bench = target;
    const noTarget = async (): Promise<never> => {
      throw new Error('the bench simulator did not start');
    };

    let llmAt100: ArtilleryMeasurement | undefined;
    figures.fidelity = await attempt('fidelity', options, async () => {
      if (!bench) return noTarget();
      const run = await measureFidelity(bench, plan, log);
      llmAt100 = run.llmMeasurement;
      return run.figure;
    });
    figures.ceiling = await attempt('ceiling', options, async () => {
      if (!bench) return noTarget();
      const first =
        llmAt100 ??
        (await measureArtillery(bench, {
          scenario: 'scenarios/llm-proxy.yml',
          env: { LLM_DURATION: `${plan.ceilingSeconds}s` },
          overrides: usersOverrides(plan.llmUsers, 'llm users'),
          clientMetric: 'llm.latency_ms',
          serverRoute: 'api.completions',
          serverFamily: 'llm',
          timeoutMs: plan.ceilingSeconds * 1000 + 90_000,
        }));
      return measureCeiling(bench, plan, first, log);
    });
    figures.simulatorCapacity = await attempt('simulatorCapacity', options, async () =>
      bench ? measureCapacity(bench, plan, log) : noTarget(),
    );
    figures.wsSoak = await attempt('wsSoak', options, async () =>
      bench ? measureWsSoak(bench, plan, log) : noTarget(),
    );
  } catch (error) {
    const message = `the bench simulator did not start: ${(error as Error).message}`;
    log(message);
    for (const name of ['fidelity', 'ceiling', 'simulatorCapacity', 'wsSoak'] as const)
      if (figures[name] === notRun) figures[name] = { ok: false, error: message };
  } finally {
    await target?.stop();
  }
  // The runner starts its own simulators: measured with the bench's simulator stopped.
  figures.generatorCost = await attempt('generatorCost', options, () => measureGeneratorCost(plan, log));
  figures.smokeRun = await attempt('smokeRun', options, () => measureSmokeRun(plan, log));

  const finishedAt = new Date();
  const results: BenchResults = {
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    quick: options.quick,
    wallSeconds: Math.round((finishedAt.getTime() - startedAt.getTime()) / 1000),
    machine,
    figures,
  };
  // Session cookies and keys only ever travel in child environments; this is the last safety net.
  const redact = makeRedactor(secrets);
  const text = redact(`${JSON.stringify(results, null, 2)}\n`);
  mkdirSync(options.out, { recursive: true });
  const file = resolve(options.out, `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, text);
  log(`results: ${relative(process.cwd(), file) || file} (${results.wallSeconds} s)`);
  if (options.markdown) writeMarkdown(options.markdown, JSON.parse(text) as BenchResults);
  return options.only.every((name) => results.figures[name].ok) ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 2;
  },
);
