import { spawn } from 'node:child_process';
import { ROOT } from '../../scripts/lib/paths';

/** A command of the suite run as a person would run it, timed, stopped by its pid on a deadline. */

export interface ChildRun {
  pid: number;
  done: Promise<{ exitCode: number | null; wallSeconds: number; output: string }>;
}

/**
 * Variables the bench sets for its own runs; none may leak into a command measured as a user
 * would run it (they would change its load).
 */
const BENCH_ONLY = /^(LLM|CHAT|WS|CONTAINER|SIGNUP|BROWSER)_|^(WEB|API)_BASE_URL$/;

export function startChild(
  command: string,
  args: string[],
  options: { env?: Record<string, string>; timeoutMs: number },
): ChildRun {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env))
    if (value !== undefined && !BENCH_ONLY.test(name)) env[name] = value;
  const started = Date.now();
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...env, ...options.env, ARTILLERY_DISABLE_TELEMETRY: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so that the deadline can stop npm and everything it started.
    detached: true,
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${command}`);
  const timer = setTimeout(() => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }, options.timeoutMs);
  const done = new Promise<{ exitCode: number | null; wallSeconds: number; output: string }>(
    (resolveDone, reject) => {
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.once('close', (exitCode) => {
        clearTimeout(timer);
        resolveDone({ exitCode, wallSeconds: (Date.now() - started) / 1000, output });
      });
    },
  );
  return { pid, done };
}
