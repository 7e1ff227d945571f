import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { SIMULATOR_CLI } from './paths';

export interface SimulatorProcess {
  pid: number;
  /** NAME=value lines it printed: WEB_BASE_URL, API_BASE_URL, SIM_CONTROL_URL, secrets, ... */
  env: Record<string, string>;
  stderr: string[];
  stop(): Promise<void>;
}

export interface SimulatorLaunch {
  profile: 'fast' | 'realistic';
  /** Faults JSON for `--faults` (already checked to be a JSON object). */
  faults?: string;
  args: string[];
  startTimeoutMs?: number;
}

/**
 * Starts the bundled simulator on ephemeral loopback ports and waits for SIM_READY. The caller
 * must call stop() (by pid: SIGTERM, then SIGKILL after a grace period) on every path out.
 */
export async function launchSimulator(launch: SimulatorLaunch): Promise<SimulatorProcess> {
  if (!existsSync(SIMULATOR_CLI))
    throw new Error(`simulator not built: ${SIMULATOR_CLI} (run npm run build)`);
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
    launch.profile,
    ...(launch.faults ? ['--faults', launch.faults] : []),
    ...launch.args,
  ];
  // The simulator takes secrets from these variables when set; a run's secrets are fresh per start.
  const childEnv = { ...process.env };
  for (const name of ['SERVICE_API_KEY', 'API_JWT_SECRET', 'SIM_ADMIN_TOKEN', 'NEXTAUTH_SECRET'])
    delete childEnv[name];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv });
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    if (stderr.length < 500) stderr.push(line);
  });
  const env: Record<string, string> = {};
  try {
    await new Promise<void>((resolveReady, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`simulator not ready in time; stderr:\n${stderr.join('\n')}`)),
        launch.startTimeoutMs ?? 20_000,
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
