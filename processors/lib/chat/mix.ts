import type { ChatBucket } from '../../../config/settings/chat';

/**
 * Picks message length buckets in the configured proportions without randomness (smooth weighted
 * round robin, as nginx balances upstreams): after n picks each bucket has been chosen
 * within one of n × its share, and the buckets are interleaved rather than bunched. A run's mix
 * therefore matches CHAT_MIX exactly instead of only on average, even in a short smoke run.
 */
export class BucketMix {
  private readonly current = new Map<ChatBucket, number>();
  private readonly total: number;

  constructor(private readonly weights: Record<ChatBucket, number>) {
    this.total = Object.values(weights).reduce((sum, w) => sum + w, 0);
    if (this.total <= 0) throw new Error('chat mix: at least one bucket needs a positive weight');
    for (const bucket of Object.keys(weights) as ChatBucket[]) this.current.set(bucket, 0);
  }

  next(): ChatBucket {
    let best: ChatBucket | undefined;
    let bestValue = Number.NEGATIVE_INFINITY;
    for (const [bucket, value] of this.current) {
      const raised = value + this.weights[bucket];
      this.current.set(bucket, raised);
      if (raised > bestValue) {
        best = bucket;
        bestValue = raised;
      }
    }
    this.current.set(best!, bestValue - this.total);
    return best!;
  }
}
