import { cpus } from 'node:os';
import { type EventLoopUtilization, monitorEventLoopDelay, performance } from 'node:perf_hooks';

/**
 * Self-monitoring of the load generator. When the generator's own event loop lags or its CPU is
 * pegged, the latencies it records are its own queueing, not the platform's: a run like that is
 * invalid, and the `generator.*` checks (the report classes them as "generator saturated") say so.
 * The machine's CPU is measured beside it: a machine saturated by other work slows the generator
 * without its own process being busy, and the report says so rather than blaming the platform.
 *
 * One sampler per worker thread, on a timer from the first virtual user to the end of the run,
 * whatever the users do (succeed, fail, loop or wait): what the worker did while loading modules,
 * before the first user, is not load and is left out.
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
  /** Per sample: busy time of all cores of the machine, in percent of all of them. */
  machineCpuPercent: 'generator.machine_cpu_pct',
  samples: 'generator.samples',
} as const;

export const GENERATOR_EMITTED_METRICS: readonly string[] = Object.values(GENERATOR_METRICS);

export const SAMPLE_INTERVAL_MS = 250;

/** What the sampler needs of Artillery's scenario event emitter. */
export interface MetricSink {
  emit(type: 'counter' | 'histogram', name: string, value: number): unknown;
}

export interface HealthSample {
  lagMs: number;
  processCpuPercent: number;
  loopUtilizationPercent: number;
  machineCpuPercent: number;
}

interface CpuTimes {
  busy: number;
  total: number;
}

function machineTimes(): CpuTimes {
  let busy = 0;
  let total = 0;
  for (const cpu of cpus()) {
    const t = cpu.times;
    busy += t.user + t.nice + t.sys + t.irq;
    total += t.user + t.nice + t.sys + t.irq + t.idle;
  }
  return { busy, total };
}

/** Busy share of all cores between two readings, in percent; 0 when the counters did not move. */
export function machineCpuPercent(before: CpuTimes, after: CpuTimes): number {
  const total = after.total - before.total;
  if (total <= 0) return 0;
  return Math.min(100, Math.max(0, ((after.busy - before.busy) / total) * 100));
}

export class HealthSampler {
  private delay: ReturnType<typeof monitorEventLoopDelay> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastCpu = process.cpuUsage();
  private lastAt = process.hrtime.bigint();
  private lastElu: EventLoopUtilization = performance.eventLoopUtilization();
  private lastMachine = machineTimes();
  private sink: MetricSink | undefined;

  constructor(private readonly intervalMs = SAMPLE_INTERVAL_MS) {}

  get running(): boolean {
    return this.timer !== undefined;
  }

  /** Starts sampling into `sink` (idempotent: the first call wins, later ones are ignored). */
  start(sink: MetricSink): void {
    if (this.timer) return;
    this.sink = sink;
    this.delay = monitorEventLoopDelay({ resolution: 10 });
    this.delay.enable();
    this.resetWindow();
    this.timer = setInterval(() => this.emit(this.take()), this.intervalMs);
    // Never keep a worker alive just to sample it.
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.delay?.disable();
    this.delay = undefined;
  }

  private resetWindow(): void {
    this.lastCpu = process.cpuUsage();
    this.lastAt = process.hrtime.bigint();
    this.lastElu = performance.eventLoopUtilization();
    this.lastMachine = machineTimes();
    this.delay?.reset();
  }

  /** The window since the previous sample. */
  take(): HealthSample | undefined {
    if (!this.delay) return undefined;
    const now = process.hrtime.bigint();
    const elapsedMicros = Number(now - this.lastAt) / 1000;
    if (elapsedMicros <= 0) return undefined;
    const cpu = process.cpuUsage(this.lastCpu);
    const elu = performance.eventLoopUtilization(this.lastElu);
    const machine = machineTimes();
    // Percent of ONE core: above 100 means more than one core busy (main thread plus workers).
    const processCpuPercent = ((cpu.user + cpu.system) / elapsedMicros) * 100;
    const sample: HealthSample = {
      // No delay recorded yet (a window shorter than the resolution) reads as 0, not NaN.
      lagMs: this.delay.count > 0 ? this.delay.max / 1e6 : 0,
      processCpuPercent,
      loopUtilizationPercent: elu.utilization * 100,
      machineCpuPercent: machineCpuPercent(this.lastMachine, machine),
    };
    this.resetWindow();
    return sample;
  }

  private emit(sample: HealthSample | undefined): void {
    if (!sample || !this.sink) return;
    const sink = this.sink;
    sink.emit('counter', GENERATOR_METRICS.samples, 1);
    sink.emit('histogram', GENERATOR_METRICS.eventLoopLag, sample.lagMs);
    sink.emit(
      'histogram',
      GENERATOR_METRICS.cpuPercent,
      Math.max(sample.processCpuPercent, sample.loopUtilizationPercent),
    );
    sink.emit('histogram', GENERATOR_METRICS.processCpuPercent, sample.processCpuPercent);
    sink.emit('histogram', GENERATOR_METRICS.loopUtilizationPercent, sample.loopUtilizationPercent);
    sink.emit('histogram', GENERATOR_METRICS.machineCpuPercent, sample.machineCpuPercent);
  }
}
