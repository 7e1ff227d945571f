export interface RateLimitVerdict {
  ok: boolean;
  limit: number;
  remaining: number;
  retryAfterSeconds: number;
}

interface Bucket {
  count: number;
  resetAt: number;
}

/**
 * The real app's limiter: a fixed window per key that opens with the key's first request; every
 * request in the window counts, refused ones too.
 */
export class FixedWindowLimiter {
  private buckets = new Map<string, Bucket>();
  private lastSweep = 0;

  constructor(
    private readonly settings: () => { limit: number; windowMs: number },
    private readonly now: () => number = Date.now,
  ) {}

  hit(key: string): RateLimitVerdict {
    const { limit, windowMs } = this.settings();
    const now = this.now();
    this.sweep(now, windowMs);
    const bucket = this.buckets.get(key);
    if (!bucket || bucket.resetAt <= now) {
      this.buckets.set(key, { count: 1, resetAt: now + windowMs });
      return {
        ok: 1 <= limit,
        limit,
        remaining: Math.max(0, limit - 1),
        retryAfterSeconds: Math.ceil(windowMs / 1000),
      };
    }
    bucket.count += 1;
    return {
      ok: bucket.count <= limit,
      limit,
      remaining: Math.max(0, limit - bucket.count),
      retryAfterSeconds: Math.max(1, Math.ceil((bucket.resetAt - now) / 1000)),
    };
  }

  /** Expired windows are dropped now and then so that long runs with many users stay small. */
  private sweep(now: number, windowMs: number): void {
    if (now - this.lastSweep < Math.max(windowMs, 1000)) return;
    this.lastSweep = now;
    for (const [key, bucket] of this.buckets) if (bucket.resetAt <= now) this.buckets.delete(key);
  }
}
