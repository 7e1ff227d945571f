import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import {
  type SimulatorHandle,
  simulatorChildEnv,
  simulatorHandle,
  startSimulatorProcess,
} from '../../src/process';

/** The package's root; the CLI runs from source through tsx, so no build can be stale. */
export const PACKAGE_ROOT = resolve(__dirname, '..', '..');
export const CLI_SOURCE = resolve(PACKAGE_ROOT, 'src', 'cli.ts');

const cliArgs = (args: string[]) => ['--import', 'tsx', CLI_SOURCE, ...args];

/** Runs the CLI to completion (flag checks); cwd is the package so `tsx` resolves from it. */
export function runCli(
  args: string[],
  timeoutMs = 30_000,
): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, cliArgs(args), {
      cwd: PACKAGE_ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: simulatorChildEnv(),
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`simulator ${args.join(' ')} still running after ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (status) => {
      clearTimeout(timer);
      resolveRun({ status, stderr });
    });
  });
}

export type { SimulatorHandle };

export interface StartSimulatorOptions {
  profile?: 'fast' | 'realistic';
  seedTenants?: number;
  timeScale?: number;
  /** Extra CLI arguments, e.g. ['--cookie-mode', 'secure']. */
  args?: string[];
  startTimeoutMs?: number;
}

/**
 * Starts the simulator from source as a child process on ephemeral loopback ports, ready at its
 * SIM_READY line; stop() ends it by pid. A child process keeps the test's own event loop out of
 * the simulator's timings.
 */
export async function startSimulator(options: StartSimulatorOptions = {}): Promise<SimulatorHandle> {
  const started = await startSimulatorProcess({
    nodeArgs: cliArgs([]),
    cwd: PACKAGE_ROOT,
    profile: options.profile ?? 'fast',
    args: [
      ...(options.seedTenants ? ['--seed-tenants', String(options.seedTenants)] : []),
      ...(options.timeScale !== undefined ? ['--time-scale', String(options.timeScale)] : []),
      ...(options.args ?? []),
    ],
    startTimeoutMs: options.startTimeoutMs ?? 30_000,
  });
  try {
    return simulatorHandle(started);
  } catch (error) {
    await started.stop();
    throw error;
  }
}

/** Polls `read` until `done` holds or the deadline passes; returns the last value read. */
export async function pollUntil<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  { timeoutMs = 10_000, intervalMs = 20 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((resolveLater) => setTimeout(resolveLater, intervalMs));
    value = await read();
  }
  return value;
}
