import type { LatencySummary } from '../control-types';

const RESERVOIR_SIZE = 20_000;

/**
 * Exact count/mean/max plus percentiles from a uniform reservoir sample: exact up to 20 000
 * samples, an unbiased sample of the whole run after that.
 */
export class SampleSummary {
  private samples = new Float64Array(RESERVOIR_SIZE);
  private count = 0;
  private sum = 0;
  private max = 0;

  add(value: number): void {
    if (!Number.isFinite(value)) return;
    this.count += 1;
    this.sum += value;
    if (value > this.max) this.max = value;
    if (this.count <= RESERVOIR_SIZE) {
      this.samples[this.count - 1] = value;
    } else {
      const slot = Math.floor(Math.random() * this.count);
      if (slot < RESERVOIR_SIZE) this.samples[slot] = value;
    }
  }

  summary(): LatencySummary {
    if (this.count === 0) return { count: 0, mean: 0, p50: 0, p95: 0, p99: 0, max: 0 };
    const kept = this.samples.slice(0, Math.min(this.count, RESERVOIR_SIZE)).sort();
    const at = (q: number) => round(kept[Math.min(kept.length - 1, Math.ceil(q * kept.length) - 1)] ?? 0);
    return {
      count: this.count,
      mean: round(this.sum / this.count),
      p50: at(0.5),
      p95: at(0.95),
      p99: at(0.99),
      max: round(this.max),
    };
  }
}

const round = (value: number) => Math.round(value * 100) / 100;
