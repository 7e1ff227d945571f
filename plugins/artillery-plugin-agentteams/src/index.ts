import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { HealthSampler, type MetricSink } from './health';
import { type PreflightScript, preflight } from './preflight';

/**
 * artillery-plugin-agentteams: the suite's own Artillery plugin (`config.plugins.agentteams`).
 *
 * Main thread (constructed before any worker starts): checks settings, target, remote guard,
 * required and runner-only settings and the build (src/preflight.ts); on any problem it prints one
 * line per problem and exits 2, so no request is sent. It writes the ensure plugin's verdicts to
 * $LOADTEST_CHECKS_FILE when that is set.
 *
 * Workers: samples generator health on a timer for the whole run (src/health.ts), through the
 * worker's scenario event emitter, which a hook injected into every scenario hands over.
 */

/** dist/plugins/agentteams.js -> the repository root. */
const ROOT = resolve(__dirname, '..', '..');

export const HOOK_NAME = 'agentteamsStartHealth';

/** One ensure verdict as written to $LOADTEST_CHECKS_FILE. */
export interface CheckVerdict {
  check: string;
  ok: boolean;
  strict: boolean;
}

interface ArtilleryGlobal {
  globalEvents?: { on(event: string, listener: (...args: unknown[]) => void): unknown };
}

interface ScenarioSpec {
  engine?: string;
  beforeScenario?: string | string[];
  testFunction?: string;
  flowFunction?: string;
}

interface WorkerScript {
  config: { processor?: unknown; engine?: string };
  scenarios?: ScenarioSpec[];
}

type Processor = Record<string, unknown>;

function artilleryGlobal(): ArtilleryGlobal | undefined {
  return (globalThis as { artillery?: ArtilleryGlobal }).artillery;
}

/** The ensure plugin's `checks` payload as verdicts; anything unexpected is skipped, not guessed. */
export function toVerdicts(checks: unknown): CheckVerdict[] {
  if (!Array.isArray(checks)) return [];
  const verdicts: CheckVerdict[] = [];
  for (const item of checks) {
    if (typeof item !== 'object' || item === null) continue;
    const { original, result, strict } = item as { original?: unknown; result?: unknown; strict?: unknown };
    if (typeof original !== 'string') continue;
    verdicts.push({ check: original, ok: result === 1 || result === true, strict: strict !== false });
  }
  return verdicts;
}

function runMainThread(script: PreflightScript): void {
  const env = process.env;
  const checksFile = env.LOADTEST_CHECKS_FILE;
  if (checksFile) {
    artilleryGlobal()?.globalEvents?.on('checks', (checks: unknown) => {
      writeFileSync(checksFile, `${JSON.stringify(toVerdicts(checks), null, 1)}\n`);
    });
  }
  const result = preflight(script, env, ROOT);
  if (result.target) console.log(`agentteams: ${result.scenario} target ${result.target}`);
  if (result.problems.length === 0) return;
  // stderr is synchronous for files and pipes on POSIX, so the lines are out before the exit.
  process.stderr.write(
    `agentteams: not sending any request:\n${result.problems.map((p) => `  ${p}\n`).join('')}`,
  );
  process.exit(2);
}

export class Plugin {
  private sampler: HealthSampler | undefined;

  constructor(script: unknown, _events: unknown) {
    if (process.env.LOCAL_WORKER_ID === undefined) {
      runMainThread(script as PreflightScript);
      return;
    }
    this.sampler = new HealthSampler();
    this.attachToWorker(script as WorkerScript);
  }

  /** Every scenario hands the worker's scenario emitter over before its first step. */
  private attachToWorker(script: WorkerScript): void {
    const sampler = this.sampler!;
    if (script.config.processor === undefined) script.config.processor = {};
    if (typeof script.config.processor !== 'object' || script.config.processor === null) return;
    const processor = script.config.processor as Processor;
    processor[HOOK_NAME] = (_context: unknown, events: MetricSink, done?: () => void) => {
      sampler.start(events);
      if (done) done();
    };
    for (const scenario of script.scenarios ?? []) {
      const engine = scenario.engine ?? script.config.engine;
      if (engine === 'playwright') {
        // The Playwright engine runs no beforeScenario hooks: its test function gets the emitter.
        const name = scenario.testFunction ?? scenario.flowFunction;
        const original = name ? processor[name] : undefined;
        if (!name || typeof original !== 'function') continue;
        processor[name] = (page: unknown, context: unknown, events: MetricSink, test: unknown) => {
          sampler.start(events);
          return (original as (...args: unknown[]) => unknown)(page, context, events, test);
        };
        continue;
      }
      const hooks =
        scenario.beforeScenario === undefined ? [] : ([] as string[]).concat(scenario.beforeScenario);
      // First, so a processor hook that throws cannot keep the sampler from starting.
      scenario.beforeScenario = [HOOK_NAME, ...hooks];
    }
  }

  cleanup(done: () => void): void {
    this.sampler?.stop();
    done();
  }
}
