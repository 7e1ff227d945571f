import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { SimControlClient } from './control-client';

/**
 * The simulator as a child process on ephemeral loopback ports, ready at its SIM_READY line and
 * stopped by pid: one launcher for the runner (the built CLI), the suite's tests and the
 * simulator's own tests (the CLI from source through tsx).
 */

export interface SimulatorProcess {
  pid: number;
  /** NAME=value lines it printed: WEB_BASE_URL, API_BASE_URL, SIM_CONTROL_URL, secrets, ... */
  env: Record<string, string>;
  /** Lines it wrote to stderr (for diagnosing a failed start or test). */
  stderr: string[];
  stop(): Promise<void>;
}

export interface SimulatorStart {
  /** Node arguments that run the CLI: the built `cli.js`, or `--import tsx src/cli.ts`. */
  nodeArgs: string[];
  profile: 'fast' | 'realistic';
  /** Faults JSON for `--faults`. */
  faults?: string;
  args?: string[];
  cwd?: string;
  startTimeoutMs?: number;
}

/** Settings the simulator takes secrets from when set: every start wants fresh random ones. */
const SECRET_VARIABLES = ['SERVICE_API_KEY', 'API_JWT_SECRET', 'SIM_ADMIN_TOKEN', 'NEXTAUTH_SECRET'];

export function simulatorChildEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of SECRET_VARIABLES) delete env[name];
  return env;
}

export async function startSimulatorProcess(start: SimulatorStart): Promise<SimulatorProcess> {
  const args = [
    ...start.nodeArgs,
    '--host',
    '127.0.0.1',
    '--web-port',
    '0',
    '--api-port',
    '0',
    '--control-port',
    '0',
    '--profile',
    start.profile,
    ...(start.faults ? ['--faults', start.faults] : []),
    ...(start.args ?? []),
  ];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: simulatorChildEnv(),
    ...(start.cwd ? { cwd: start.cwd } : {}),
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
        start.startTimeoutMs ?? 20_000,
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
  } catch (error) {
    await stopByPid(child);
    throw error;
  }
  return { pid: child.pid!, env, stderr, stop: () => stopByPid(child) };
}

/** SIGTERM by pid, SIGKILL after a grace period; resolves once the process is gone. */
export function stopByPid(child: ChildProcess, graceMs = 5_000): Promise<void> {
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

/** What a test needs of a started simulator: its URLs, secrets, tenants and control client. */
export interface SimulatorHandle extends SimulatorProcess {
  webUrl: string;
  apiUrl: string;
  controlUrl: string;
  nextauthUrl: string;
  serviceApiKey: string;
  jwtSecret: string;
  adminToken: string;
  tenantIds: string[];
  control: SimControlClient;
}

/** The handle of a started simulator; throws (the caller stops it) when a line is missing. */
export function simulatorHandle(started: SimulatorProcess): SimulatorHandle {
  const required = (name: string): string => {
    const value = started.env[name];
    if (value === undefined) throw new Error(`simulator did not print ${name}`);
    return value;
  };
  const controlUrl = required('SIM_CONTROL_URL');
  const adminToken = required('SIM_ADMIN_TOKEN');
  return {
    ...started,
    webUrl: required('WEB_BASE_URL'),
    apiUrl: required('API_BASE_URL'),
    controlUrl,
    nextauthUrl: required('NEXTAUTH_URL'),
    serviceApiKey: required('SERVICE_API_KEY'),
    jwtSecret: required('API_JWT_SECRET'),
    adminToken,
    tenantIds: started.env.TENANT_IDS ? started.env.TENANT_IDS.split(',') : [],
    control: new SimControlClient(controlUrl, adminToken),
  };
}
