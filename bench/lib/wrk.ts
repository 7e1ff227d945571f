import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { z } from 'zod';
import { ROOT } from '../../scripts/lib/paths';

/** wrk (C, epoll) as the reference load generator: its own figures, parsed from the Lua report line. */

export const WRK_LUA_DIR = resolve(ROOT, 'bench', 'wrk');

const WrkReport = z.object({
  requests: z.number(),
  durationUs: z.number(),
  bytes: z.number(),
  errors: z.object({
    connect: z.number(),
    read: z.number(),
    write: z.number(),
    status: z.number(),
    timeout: z.number(),
  }),
  latencyUs: z.object({
    min: z.number(),
    mean: z.number(),
    p50: z.number(),
    p90: z.number(),
    p99: z.number(),
    max: z.number(),
  }),
});

export interface WrkResult {
  requests: number;
  requestsPerSecond: number;
  /** Failed requests: socket errors, timeouts and answers with a status of 400 or more. */
  errors: number;
  latencyMs: { mean: number; p50: number; p90: number; p99: number; max: number };
  /** The command as a person would type it (secrets as $VARIABLES). */
  command: string;
}

export interface WrkOptions {
  url: string;
  /** The URL as the command shows it, e.g. `$API_BASE_URL/v1/chat/completions`. */
  shownUrl?: string;
  /** Lua script in bench/wrk/, e.g. `completions.lua`. */
  script: string;
  connections: number;
  threads?: number;
  durationSeconds: number;
  /** Think time after each answer (wrk's Lua `delay()`); 0 = back to back. */
  delayMs?: number;
  /** Spread the connections' first requests over this long (Artillery's users arrive over 1 s). */
  rampMs?: number;
  /** WRK_* variables for the script (secrets: passed in the environment only). */
  env: Record<string, string>;
  /** How the command shows each WRK_* value (secrets as $VARIABLES); `$NAME` by default. */
  shownEnv?: Record<string, string>;
  timeoutMs?: number;
}

/** How the commands show the scripts' secrets. */
export const LLM_SHOWN_ENV = { WRK_SERVICE_API_KEY: '$SERVICE_API_KEY', WRK_TENANT_ID: '<tenant id>' };
export const CHAT_SHOWN_ENV = { WRK_COOKIE: "'<session cookie>'", WRK_ORIGIN: '$WEB_BASE_URL' };

export function wrkCommand(options: WrkOptions): string {
  const vars = [
    `WRK_LUA_DIR=bench/wrk`,
    ...Object.keys(options.env).map((name) => `${name}=${options.shownEnv?.[name] ?? `$${name}`}`),
  ];
  if (options.delayMs) vars.push(`WRK_DELAY_MS=${options.delayMs}`);
  if (options.rampMs) vars.push(`WRK_RAMP_MS=${options.rampMs} WRK_CONNECTIONS=${options.connections}`);
  return `${vars.join(' ')} wrk -t${options.threads ?? 1} -c${options.connections} -d${options.durationSeconds}s --latency -s bench/wrk/${options.script} ${options.shownUrl ?? options.url}`;
}

export function runWrk(options: WrkOptions): Promise<WrkResult> {
  const args = [
    `-t${options.threads ?? 1}`,
    `-c${options.connections}`,
    `-d${options.durationSeconds}s`,
    '--timeout',
    '10s',
    '-s',
    resolve(WRK_LUA_DIR, options.script),
    options.url,
  ];
  const child = spawn('wrk', args, {
    env: {
      ...process.env,
      ...options.env,
      WRK_LUA_DIR,
      WRK_DELAY_MS: String(options.delayMs ?? 0),
      WRK_RAMP_MS: String(options.rampMs ?? 0),
      // Per thread: each wrk thread has its own Lua state and its share of the connections.
      WRK_CONNECTIONS: String(Math.ceil(options.connections / (options.threads ?? 1))),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const killer = setTimeout(
    () => {
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
    },
    options.timeoutMs ?? options.durationSeconds * 1000 + 20_000,
  );
  return new Promise((resolveResult, reject) => {
    child.once('error', (error) => {
      clearTimeout(killer);
      reject(new Error(`wrk could not start (${error.message}); install it: apt-get install -y wrk`));
    });
    child.once('close', (code) => {
      clearTimeout(killer);
      const line = stdout.split('\n').find((l) => l.startsWith('BENCH_JSON '));
      if (code !== 0 || !line) {
        reject(new Error(`wrk exited ${code} without a report: ${stderr.trim() || stdout.trim()}`));
        return;
      }
      const parsed = WrkReport.safeParse(JSON.parse(line.slice('BENCH_JSON '.length)));
      if (!parsed.success) {
        reject(new Error(`wrk report unreadable: ${parsed.error.message}`));
        return;
      }
      const r = parsed.data;
      const e = r.errors;
      resolveResult({
        requests: r.requests,
        requestsPerSecond: r.requests / (r.durationUs / 1e6),
        errors: e.connect + e.read + e.write + e.status + e.timeout,
        latencyMs: {
          mean: r.latencyUs.mean / 1000,
          p50: r.latencyUs.p50 / 1000,
          p90: r.latencyUs.p90 / 1000,
          p99: r.latencyUs.p99 / 1000,
          max: r.latencyUs.max / 1000,
        },
        command: wrkCommand(options),
      });
    });
  });
}
