import { type EventLoopUtilization, monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { VUEvents } from 'artillery';

/**
 * Self-monitoring of the load generator. When the generator's own event loop lags or its CPU is
 * pegged, the latencies it records are its own queueing, not the platform's: a run like that is
 * invalid, and the `generator.*` checks (the report classes them as "generator saturated") say so.
 *
 * A timer samples the worker thread's event-loop delay and the process CPU once per interval:
 * the longest stall of the loop in the interval (a p99 of one second's timer ticks would hide a
 * single 400 ms block among ~60 ticks) and how much of a core the generator used or wanted;
 * samples wait in a small queue until any hook of the scenario hands us its `events` emitter
 * (processor hooks are the only way to emit metrics from a worker), so a scenario calls
 * `reportGeneratorHealth(events)` from a per-iteration hook.
 *
 * Checks every scenario carries (defaults: 250 ms, 90 % of one core):
 *   generator.event_loop_lag_ms.p99 < ({{ $env.GENERATOR_LAG_P99_MS }} or 250)
 *   generator.cpu_pct.p95 < ({{ $env.GENERATOR_CPU_P95_PCT }} or 90)
 */
export const GENERATOR_METRICS = {
  /** Per sample: the longest event-loop stall in the interval. */
  eventLoopLag: 'generator.event_loop_lag_ms',
  /**
   * Per sample: the larger of the process's CPU time per wall time and this worker's event-loop
   * utilization, in percent of one core. On a shared machine a thread that is busy all the time
   * may get far less than a core (its CPU time then understates it); the share of time its loop
   * was busy is what it wanted.
   */
  cpuPercent: 'generator.cpu_pct',
  processCpuPercent: 'generator.process_cpu_pct',
  loopUtilizationPercent: 'generator.event_loop_utilization_pct',
  samples: 'generator.samples',
} as const;

export const GENERATOR_EMITTED_METRICS: readonly string[] = Object.values(GENERATOR_METRICS);

const SAMPLE_INTERVAL_MS = 1000;
/**
 * The shortest window an early sample may cover: below it one busy millisecond of module loading
 * would read as a saturated core.
 */
const MIN_EARLY_WINDOW_MS = 100;
const MAX_QUEUED = 600;

interface HealthSample {
  /** The longest event-loop stall in the window, ms. */
  lagMs: number;
  processCpuPercent: number;
  loopUtilizationPercent: number;
}

const queue: HealthSample[] = [];
let delay: ReturnType<typeof monitorEventLoopDelay> | undefined;
let lastCpu = process.cpuUsage();
let lastAt = process.hrtime.bigint();
let lastElu: EventLoopUtilization = performance.eventLoopUtilization();
let emittedAny = false;
/** Whether load has started (the first report): what the worker did while loading is not load. */
let armed = false;

/** The window since the previous sample; undefined while it is shorter than `minWindowMs`. */
function takeSample(minWindowMs = 0): HealthSample | undefined {
  if (!delay) return undefined;
  const now = process.hrtime.bigint();
  const elapsedMicros = Number(now - lastAt) / 1000;
  if (elapsedMicros <= 0 || elapsedMicros < minWindowMs * 1000) return undefined;
  const cpu = process.cpuUsage(lastCpu);
  lastCpu = process.cpuUsage();
  lastAt = now;
  const elu = performance.eventLoopUtilization(lastElu);
  lastElu = performance.eventLoopUtilization();
  // Percent of ONE core: above 100 means more than one core busy (main thread plus workers).
  const processCpuPercent = ((cpu.user + cpu.system) / elapsedMicros) * 100;
  const loopUtilizationPercent = elu.utilization * 100;
  // No delay recorded yet (a window shorter than the resolution) reads as 0, not NaN.
  const worstMs = delay.count > 0 ? delay.max / 1e6 : 0;
  delay.reset();
  return { lagMs: worstMs, processCpuPercent, loopUtilizationPercent };
}

function enqueue(sample: HealthSample | undefined): void {
  if (!sample) return;
  if (queue.length >= MAX_QUEUED) queue.shift();
  queue.push(sample);
}

function startSampling(): void {
  if (delay) return;
  delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  lastCpu = process.cpuUsage();
  lastAt = process.hrtime.bigint();
  lastElu = performance.eventLoopUtilization();
  const timer = setInterval(() => enqueue(takeSample()), SAMPLE_INTERVAL_MS);
  // Never keep a worker alive just to sample it.
  timer.unref();
}

/** Emits the queued generator samples through this VU's emitter. Cheap: call it on every iteration. */
export function reportGeneratorHealth(events: VUEvents): void {
  startSampling();
  if (!armed) {
    // Module loading and engine start-up stall the loop before any user runs: not the run's fault.
    armed = true;
    queue.length = 0;
    takeSample();
  } else if (!emittedAny && queue.length === 0) {
    // A run shorter than one interval would otherwise end without the metrics its checks read
    // (and ensure fails a check on a metric that never appeared): sample what there is.
    enqueue(takeSample(MIN_EARLY_WINDOW_MS));
  }
  events.emit('counter', GENERATOR_METRICS.samples, queue.length);
  while (queue.length > 0) {
    const sample = queue.shift()!;
    events.emit('histogram', GENERATOR_METRICS.eventLoopLag, sample.lagMs);
    events.emit(
      'histogram',
      GENERATOR_METRICS.cpuPercent,
      Math.max(sample.processCpuPercent, sample.loopUtilizationPercent),
    );
    events.emit('histogram', GENERATOR_METRICS.processCpuPercent, sample.processCpuPercent);
    events.emit('histogram', GENERATOR_METRICS.loopUtilizationPercent, sample.loopUtilizationPercent);
    emittedAny = true;
  }
}

startSampling();
