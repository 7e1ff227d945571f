import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';

export const ARTILLERY_BIN = resolve(__dirname, '..', '..', 'node_modules', 'artillery', 'bin', 'run');

/**
 * One verdict of the ensure plugin, as the suite's plugin writes it from the ensure plugin's
 * `checks` event to $LOADTEST_CHECKS_FILE (verdicts are not in the --output JSON).
 */
export interface EnsureVerdict {
  ok: boolean;
  /** The check's expression, e.g. `http.response_time.p99 < 200`. */
  check: string;
  /** False for `strict: false` conditions: a failure is reported but fails nothing. */
  strict: boolean;
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

const verdictFile = z.array(z.object({ check: z.string(), ok: z.boolean(), strict: z.boolean() }));

/** The verdicts the plugin wrote; none when the run stopped before ensure ran (refused, killed). */
export function readEnsureVerdicts(path: string): EnsureVerdict[] {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return [];
  }
  const parsed = verdictFile.safeParse(data);
  return parsed.success ? parsed.data : [];
}

/** Runs `artillery run` as a child process and collects its exit code, JSON output and verdicts. */
export function runArtillery(options: RunArtilleryOptions): Promise<ArtilleryRunResult> {
  const tempDir = mkdtempSync(join(tmpdir(), 'artillery-run-'));
  const outputPath = options.outputPath ?? join(tempDir, 'output.json');
  const checksPath = join(tempDir, 'checks.json');
  const args = [ARTILLERY_BIN, 'run', '--output', outputPath];
  if (options.environment) args.push('--environment', options.environment);
  if (options.overrides !== undefined) args.push('--overrides', JSON.stringify(options.overrides));
  args.push(...(options.extraArgs ?? []), options.scenario);

  const started = Date.now();
  const child = spawn(process.execPath, args, {
    env: {
      ...process.env,
      ...options.env,
      ARTILLERY_DISABLE_TELEMETRY: '1',
      LOADTEST_CHECKS_FILE: checksPath,
    },
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
      const ensure = readEnsureVerdicts(checksPath);
      rmSync(tempDir, { recursive: true, force: true });
      resolvePromise({
        exitCode,
        signal,
        timedOut,
        report,
        ensure,
        stdout,
        stderr,
        durationMs: Date.now() - started,
      });
    });
  });
}
