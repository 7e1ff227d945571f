import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { VUEvents } from 'artillery';

/**
 * Self-monitoring of the load generator. When the generator's own event loop lags or its CPU is
 * pegged, the latencies it records are its own queueing, not the platform's: a run like that is
 * invalid, and the `generator.*` thresholds say so.
 *
 * A timer samples the worker thread's event-loop delay and the process CPU once per interval;
 * samples wait in a small queue until any hook of the scenario hands us its `events` emitter
 * (processor hooks are the only way to emit metrics from a worker), so a scenario calls
 * `reportGeneratorHealth(events)` from a per-iteration hook.
 */
export const GENERATOR_METRICS = {
  eventLoopLagP99: 'generator.event_loop_lag_ms',
  cpuPercent: 'generator.cpu_pct',
  samples: 'generator.samples',
} as const;

const SAMPLE_INTERVAL_MS = 1000;
const MAX_QUEUED = 600;

interface HealthSample {
  lagP99Ms: number;
  cpuPercent: number;
}

const queue: HealthSample[] = [];
let started = false;

function startSampling(): void {
  if (started) return;
  started = true;
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  let lastCpu = process.cpuUsage();
  let lastAt = process.hrtime.bigint();
  const timer = setInterval(() => {
    const now = process.hrtime.bigint();
    const cpu = process.cpuUsage(lastCpu);
    const elapsedMicros = Number(now - lastAt) / 1000;
    lastCpu = process.cpuUsage();
    lastAt = now;
    // Percent of ONE core: above 100 means more than one core busy (main thread plus workers).
    const cpuPercent = elapsedMicros > 0 ? ((cpu.user + cpu.system) / elapsedMicros) * 100 : 0;
    const lagP99Ms = delay.percentile(99) / 1e6;
    delay.reset();
    if (queue.length >= MAX_QUEUED) queue.shift();
    queue.push({ lagP99Ms, cpuPercent });
  }, SAMPLE_INTERVAL_MS);
  // Never keep a worker alive just to sample it.
  timer.unref();
}

/** Emits the queued generator samples through this VU's emitter. Cheap: call it on every iteration. */
export function reportGeneratorHealth(events: VUEvents): void {
  startSampling();
  // A zero counter makes the metric exist even in a run shorter than one sample interval.
  events.emit('counter', GENERATOR_METRICS.samples, queue.length);
  while (queue.length > 0) {
    const sample = queue.shift()!;
    events.emit('histogram', GENERATOR_METRICS.eventLoopLagP99, sample.lagP99Ms);
    events.emit('histogram', GENERATOR_METRICS.cpuPercent, sample.cpuPercent);
  }
}

startSampling();
