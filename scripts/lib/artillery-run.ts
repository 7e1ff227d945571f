import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ARTILLERY_BIN = resolve(__dirname, '..', '..', 'node_modules', 'artillery', 'bin', 'run');

/** One `ok:` / `fail:` line of the ensure plugin (they are not in the --output JSON). */
export interface EnsureVerdict {
  ok: boolean;
  /** The check as Artillery prints it, e.g. `http.response_time.p99 < 200`. */
  check: string;
}

/** The subset of Artillery's --output JSON the suite reads. */
export interface ArtilleryReport {
  aggregate: ArtilleryPeriod;
  intermediate: ArtilleryPeriod[];
}

export interface ArtilleryPeriod {
  counters: Record<string, number>;
  rates?: Record<string, number>;
  summaries: Record<string, ArtillerySummary>;
  histograms?: Record<string, ArtillerySummary>;
  firstCounterAt?: number;
  lastCounterAt?: number;
  firstMetricAt?: number;
  lastMetricAt?: number;
  period?: number | string;
}

export interface ArtillerySummary {
  min: number;
  max: number;
  count: number;
  mean: number;
  p50: number;
  median: number;
  p75: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
}

export interface RunArtilleryOptions {
  scenario: string;
  /** Artillery environment (`-e`), i.e. the load profile. */
  environment?: string;
  /** Added to the current environment; ARTILLERY_DISABLE_TELEMETRY is always set. */
  env?: Record<string, string | undefined>;
  /** `--overrides` JSON. */
  overrides?: unknown;
  /** Where to write the --output JSON; a temp file (deleted afterwards) when absent. */
  outputPath?: string;
  /** Hard stop: the run is killed (by pid) after this long. */
  timeoutMs?: number;
  /** Called with each stdout line as it arrives (progress display). */
  onLine?: (line: string) => void;
  extraArgs?: string[];
  /** Stops the run early (Ctrl-C): SIGINT so Artillery can still write its report, SIGKILL after a grace period. */
  signal?: AbortSignal;
}

export interface ArtilleryRunResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  report: ArtilleryReport | undefined;
  ensure: EnsureVerdict[];
  stdout: string;
  stderr: string;
  durationMs: number;
}

export function parseEnsureVerdicts(stdout: string): EnsureVerdict[] {
  const verdicts: EnsureVerdict[] = [];
  const lines = stdout.split('\n');
  // Artillery prints the Checks block once; read from the last one in case of repeats.
  const start = lines.lastIndexOf('Checks:');
  if (start < 0) return verdicts;
  for (const line of lines.slice(start + 1)) {
    const match = /^(ok|fail): (.+)$/.exec(line.trim());
    if (match) verdicts.push({ ok: match[1] === 'ok', check: match[2]! });
  }
  return verdicts;
}

/** Runs `artillery run` as a child process and collects its exit code, JSON output and verdicts. */
export function runArtillery(options: RunArtilleryOptions): Promise<ArtilleryRunResult> {
  const tempDir = options.outputPath ? undefined : mkdtempSync(join(tmpdir(), 'artillery-run-'));
  const outputPath = options.outputPath ?? join(tempDir!, 'output.json');
  const args = [ARTILLERY_BIN, 'run', '--output', outputPath];
  if (options.environment) args.push('--environment', options.environment);
  if (options.overrides !== undefined) args.push('--overrides', JSON.stringify(options.overrides));
  args.push(...(options.extraArgs ?? []), options.scenario);

  const started = Date.now();
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...options.env, ARTILLERY_DISABLE_TELEMETRY: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let pending = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    stdout += text;
    if (!options.onLine) return;
    pending += text;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) options.onLine(line);
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });

  let timedOut = false;
  const timer =
    options.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
        }, options.timeoutMs);

  let abortKill: NodeJS.Timeout | undefined;
  const onAbort = () => {
    if (child.pid === undefined || child.exitCode !== null) return;
    try {
      process.kill(child.pid, 'SIGINT');
    } catch {
      return;
    }
    abortKill = setTimeout(() => {
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
    }, 15_000);
  };
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });

  return new Promise((resolvePromise, reject) => {
    child.once('error', reject);
    child.once('close', (exitCode, signal) => {
      if (timer) clearTimeout(timer);
      if (abortKill) clearTimeout(abortKill);
      options.signal?.removeEventListener('abort', onAbort);
      let report: ArtilleryReport | undefined;
      try {
        report = JSON.parse(readFileSync(outputPath, 'utf8')) as ArtilleryReport;
      } catch {
        report = undefined;
      }
      if (tempDir) rmSync(tempDir, { recursive: true, force: true });
      resolvePromise({
        exitCode,
        signal,
        timedOut,
        report,
        ensure: parseEnsureVerdicts(stdout),
        stdout,
        stderr,
        durationMs: Date.now() - started,
      });
    });
  });
}
