import type { SimContext } from '../core/context';

/**
 * The usage_logs table as the admin routes aggregate it: every billed LLM call of a tenant, by
 * model, with the windows the admin view reports (today since UTC midnight, 24 h, 7 and 30 days).
 * Calls are bucketed per second, so a long load test costs memory per second of traffic, not per call.
 */

interface ModelUsage {
  inputTokens: number;
  outputTokens: number;
  revenueCents: number;
  lastUsedAt: Date;
}

interface TenantUsage {
  byModel: Map<string, ModelUsage>;
  /** [epoch second, tokens] in time order. */
  perSecond: [number, number][];
}

export interface UsageTotals {
  total_input_tokens: number;
  total_output_tokens: number;
  total_tokens: number;
  total_revenue_cents: number;
}

const DAY_S = 24 * 3600;

export class UsageLedger {
  private readonly tenants = new Map<string, TenantUsage>();

  record(tenantId: string, model: string, inputTokens: number, outputTokens: number, cents: number): void {
    const now = new Date();
    let usage = this.tenants.get(tenantId);
    if (!usage) {
      usage = { byModel: new Map(), perSecond: [] };
      this.tenants.set(tenantId, usage);
    }
    const entry = usage.byModel.get(model) ?? {
      inputTokens: 0,
      outputTokens: 0,
      revenueCents: 0,
      lastUsedAt: now,
    };
    entry.inputTokens += inputTokens;
    entry.outputTokens += outputTokens;
    entry.revenueCents += cents;
    entry.lastUsedAt = now;
    usage.byModel.set(model, entry);
    const second = Math.floor(now.getTime() / 1000);
    const last = usage.perSecond.at(-1);
    if (last && last[0] === second) last[1] += inputTokens + outputTokens;
    else usage.perSecond.push([second, inputTokens + outputTokens]);
  }

  totals(tenantId: string): UsageTotals {
    let input = 0;
    let output = 0;
    let revenue = 0;
    for (const entry of this.tenants.get(tenantId)?.byModel.values() ?? []) {
      input += entry.inputTokens;
      output += entry.outputTokens;
      revenue += entry.revenueCents;
    }
    return {
      total_input_tokens: input,
      total_output_tokens: output,
      total_tokens: input + output,
      total_revenue_cents: revenue,
    };
  }

  /** Tokens billed since `fromSecond` (epoch seconds, inclusive). */
  tokensSince(tenantId: string, fromSecond: number): number {
    let sum = 0;
    const buckets = this.tenants.get(tenantId)?.perSecond ?? [];
    for (let i = buckets.length - 1; i >= 0; i--) {
      const [second, tokens] = buckets[i]!;
      if (second < fromSecond) break;
      sum += tokens;
    }
    return sum;
  }

  /** GET /api/admin/tenants/{id} `usage`: totals, today/week/month and per model, most tokens first. */
  detail(tenantId: string, now = new Date()) {
    const nowS = Math.floor(now.getTime() / 1000);
    const midnight = Math.floor(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) / 1000);
    const byModel = [...(this.tenants.get(tenantId)?.byModel.entries() ?? [])]
      .sort((a, b) => b[1].inputTokens + b[1].outputTokens - (a[1].inputTokens + a[1].outputTokens))
      .map(([model, entry]) => ({
        model,
        input_tokens: entry.inputTokens,
        output_tokens: entry.outputTokens,
        total_tokens: entry.inputTokens + entry.outputTokens,
        revenue_cents: entry.revenueCents,
        last_used_at: entry.lastUsedAt,
      }));
    return {
      ...this.totals(tenantId),
      tokens_today: this.tokensSince(tenantId, midnight),
      tokens_week: this.tokensSince(tenantId, nowS - 7 * DAY_S),
      tokens_month: this.tokensSince(tenantId, nowS - 30 * DAY_S),
      by_model: byModel,
    };
  }

  /** GET /api/admin/tenants `usage`: totals and the last 24 h. */
  summary(tenantId: string, now = new Date()) {
    return {
      ...this.totals(tenantId),
      tokens_24h: this.tokensSince(tenantId, Math.floor(now.getTime() / 1000) - DAY_S),
    };
  }
}

const ledgers = new WeakMap<SimContext, UsageLedger>();

/** One ledger per simulator instance, beside its state. */
export function usageLedger(ctx: SimContext): UsageLedger {
  let ledger = ledgers.get(ctx);
  if (!ledger) {
    ledger = new UsageLedger();
    ledgers.set(ctx, ledger);
  }
  return ledger;
}
