import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { SimControlClient } from '../../src/control-client';

/** The package's root; the CLI runs from source through tsx, so no build can be stale. */
export const PACKAGE_ROOT = resolve(__dirname, '..', '..');
export const CLI_SOURCE = resolve(PACKAGE_ROOT, 'src', 'cli.ts');

const cliArgs = (args: string[]) => ['--import', 'tsx', CLI_SOURCE, ...args];

// Secrets come from these variables when set; every test start wants fresh random ones.
function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['SERVICE_API_KEY', 'API_JWT_SECRET', 'SIM_ADMIN_TOKEN', 'NEXTAUTH_SECRET'])
    delete env[name];
  return env;
}

/** Runs the CLI to completion (flag checks); cwd is the package so `tsx` resolves from it. */
export function runCli(
  args: string[],
  timeoutMs = 30_000,
): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, cliArgs(args), {
      cwd: PACKAGE_ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: childEnv(),
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

export interface SimulatorHandle {
  pid: number;
  /** Every NAME=value line the simulator printed (WEB_BASE_URL, API_BASE_URL, NEXTAUTH_URL, ...). */
  env: Record<string, string>;
  webUrl: string;
  apiUrl: string;
  controlUrl: string;
  nextauthUrl: string;
  serviceApiKey: string;
  jwtSecret: string;
  adminToken: string;
  tenantIds: string[];
  control: SimControlClient;
  /** Lines the simulator wrote to stderr (for diagnosing a failed test). */
  stderr: string[];
  stop(): Promise<void>;
}

export interface StartSimulatorOptions {
  profile?: 'fast' | 'realistic';
  seedTenants?: number;
  timeScale?: number;
  /** Extra CLI arguments, e.g. ['--cookie-mode', 'secure']. */
  args?: string[];
  startTimeoutMs?: number;
}

export function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined)
    return Promise.resolve();
  const pid = child.pid;
  return new Promise((resolveStopped) => {
    const timer = setTimeout(() => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolveStopped();
    });
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      clearTimeout(timer);
      resolveStopped();
    }
  });
}

/**
 * Starts the simulator as a child process on ephemeral loopback ports, ready at its SIM_READY
 * line; stop() ends it by pid. A child process keeps the test's own event loop out of the
 * simulator's timings.
 */
export async function startSimulator(options: StartSimulatorOptions = {}): Promise<SimulatorHandle> {
  const args = [
    '--host',
    '127.0.0.1',
    '--web-port',
    '0',
    '--api-port',
    '0',
    '--control-port',
    '0',
    '--profile',
    options.profile ?? 'fast',
    ...(options.seedTenants ? ['--seed-tenants', String(options.seedTenants)] : []),
    ...(options.timeScale !== undefined ? ['--time-scale', String(options.timeScale)] : []),
    ...(options.args ?? []),
  ];
  const child = spawn(process.execPath, cliArgs(args), {
    cwd: PACKAGE_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: childEnv(),
  });
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    if (stderr.length < 500) stderr.push(line);
  });
  const env: Record<string, string> = {};
  try {
    await new Promise<void>((resolveReady, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`simulator not ready in time; stderr:\n${stderr.join('\n')}`)),
        options.startTimeoutMs ?? 30_000,
      );
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`simulator exited early (${code}); stderr:\n${stderr.join('\n')}`));
      });
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
        if (!match) return;
        env[match[1]!] = match[2]!;
        if (match[1] === 'SIM_READY') {
          clearTimeout(timer);
          resolveReady();
        }
      });
    });
    const required = (name: string): string => {
      const value = env[name];
      if (value === undefined) throw new Error(`simulator did not print ${name}`);
      return value;
    };
    const controlUrl = required('SIM_CONTROL_URL');
    const adminToken = required('SIM_ADMIN_TOKEN');
    return {
      pid: child.pid!,
      env,
      webUrl: required('WEB_BASE_URL'),
      apiUrl: required('API_BASE_URL'),
      controlUrl,
      nextauthUrl: required('NEXTAUTH_URL'),
      serviceApiKey: required('SERVICE_API_KEY'),
      jwtSecret: required('API_JWT_SECRET'),
      adminToken,
      tenantIds: env.TENANT_IDS ? env.TENANT_IDS.split(',') : [],
      control: new SimControlClient(controlUrl, adminToken),
      stderr,
      stop: () => stopChild(child),
    };
  } catch (error) {
    await stopChild(child);
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
