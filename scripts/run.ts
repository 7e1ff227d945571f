import { lookup } from 'node:dns/promises';
import { relative } from 'node:path';
import { writeReport } from './lib/report/index';
import { executeRun } from './lib/run-execute';
import { USAGE } from './lib/run-options';
import { planRun, type RunPlan, TARGET_URL_SETTINGS } from './lib/run-plan';

/**
 * `npm start` / `npm run loadtest -- ...`: checks the whole configuration, brings the target up,
 * runs the scenarios and turns the outputs into a verdict. Exit code is the gate: 0 every
 * threshold passed, 1 a threshold failed (or a run broke), 2 bad configuration or could not start.
 */
/**
 * publish-metrics crashes Artillery (ENOTFOUND, exit 1) at its first flush when the StatsD host
 * does not resolve: refuse such a run before any load is sent instead.
 */
async function checkMetricsSink(env: Record<string, string | undefined>): Promise<string | undefined> {
  const publishing = Boolean(env.PUBLISH_METRICS_TYPE || env.STATSD_HOST);
  if (!publishing) return undefined;
  const host = env.STATSD_HOST;
  if (!host) return 'STATSD_HOST: must be set when PUBLISH_METRICS_TYPE is set (where to send metrics)';
  try {
    await lookup(host);
    return undefined;
  } catch {
    return `STATSD_HOST: "${host}" does not resolve; metrics could not be sent`;
  }
}

async function main(): Promise<number> {
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const planned = planRun(process.argv.slice(2), process.env);
  if (!planned.ok) {
    process.stderr.write(
      `configuration error (nothing was sent):\n${planned.problems.map((p) => `  ${p}`).join('\n')}\n`,
    );
    if (planned.problems.some((p) => p.startsWith('command line:'))) process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const plan = planned.plan;
  const metricsProblem = await checkMetricsSink(plan.env);
  if (metricsProblem) {
    process.stderr.write(`configuration error (nothing was sent):\n  ${metricsProblem}\n`);
    return 2;
  }
  log(
    `run ${plan.runId}: profile ${plan.profile}, ${plan.scenarios.length} scenario(s) ${
      plan.options.parallel ? 'in parallel' : 'one after another'
    }: ${plan.scenarios.map((s) => s.entry.name).join(', ')}`,
  );
  log(`target: ${describeTarget(plan)}`);

  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (name: NodeJS.Signals) => {
    interrupts += 1;
    if (interrupts > 1) {
      log('second interrupt: exiting now');
      process.exit(130);
    }
    log(`${name}: stopping the run, writing partial results (again to force-quit)`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const { exitCode } = await executeRun(plan, { log, signal: controller.signal });

  if (plan.options.report) {
    try {
      const { files, summary } = writeReport(plan.outDir);
      log(`\n${summary}`);
      log(`report: ${files.map((f) => relative(process.cwd(), f)).join(', ')}`);
    } catch (error) {
      log(`report could not be written: ${(error as Error).message}`);
    }
  }
  log(`results: ${relative(process.cwd(), plan.outDir) || '.'} (exit ${exitCode})`);
  return exitCode;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`run failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 2;
  },
);

/** Where the load goes, said before any of it is sent (URLs only; settings may hold secrets). */
function describeTarget(plan: RunPlan): string {
  const urls = (names: readonly string[]) =>
    names
      .filter((name) => plan.env[name])
      .map((name) => `${name}=${plan.env[name]}`)
      .join(' ');
  switch (plan.target.kind) {
    case 'simulator':
      return 'the bundled simulator (started by this run on loopback ports)';
    case 'env-file':
      return `${relative(process.cwd(), plan.target.file)}: ${urls(TARGET_URL_SETTINGS) || '(no URL set)'}`;
    case 'environment':
      return `the shell's ${urls(plan.target.names)} (no --target given)`;
  }
}
