import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { SimControlClient } from '../../simulator/src/control-client';
import { SIMULATOR_CLI } from './paths';

export interface SimulatorHandle {
  pid: number;
  /** Every NAME=value line the simulator printed (WEB_BASE_URL, API_BASE_URL, SIM_CONTROL_URL, ...). */
  env: Record<string, string>;
  webUrl: string;
  apiUrl: string;
  controlUrl: string;
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

/**
 * Starts the bundled simulator (built, in dist/) as a child process on ephemeral loopback ports
 * and waits for its SIM_READY line. stop() kills it by pid and waits for the exit.
 */
export async function startSimulator(options: StartSimulatorOptions = {}): Promise<SimulatorHandle> {
  const args = [
    SIMULATOR_CLI,
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
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
  const env: Record<string, string> = {};

  await new Promise<void>((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`simulator did not become ready in time; stderr:\n${stderr.join('\n')}`));
    }, options.startTimeoutMs ?? 15_000);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`simulator exited early (${code}); stderr:\n${stderr.join('\n')}`));
    };
    child.once('exit', onExit);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
      if (!match) return;
      env[match[1]!] = match[2]!;
      if (match[1] === 'SIM_READY') {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolvePromise();
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
    serviceApiKey: required('SERVICE_API_KEY'),
    jwtSecret: required('API_JWT_SECRET'),
    adminToken,
    tenantIds: env.TENANT_IDS ? env.TENANT_IDS.split(',') : [],
    control: new SimControlClient(controlUrl, adminToken),
    stderr,
    stop: () => stopChild(child),
  };
}

/** Sends SIGTERM to the child's pid, SIGKILL after a grace period, and waits for it to exit. */
export function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined)
    return Promise.resolve();
  return new Promise((resolvePromise) => {
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    }, graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolvePromise();
    });
    process.kill(child.pid!, 'SIGTERM');
  });
}
