/** Nearest-rank percentiles, the definition the simulator's ground truth uses (core/summary.ts). */
export interface Percentiles {
  count: number;
  mean: number;
  p50: number;
  p99: number;
  max: number;
}

export function percentiles(values: readonly number[]): Percentiles {
  if (values.length === 0) return { count: 0, mean: 0, p50: 0, p99: 0, max: 0 };
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return {
    count: sorted.length,
    mean: values.reduce((sum, v) => sum + v, 0) / values.length,
    p50: at(0.5),
    p99: at(0.99),
    max: sorted[sorted.length - 1]!,
  };
}

export const round2 = (value: number) => Math.round(value * 100) / 100;
