import type { SimContext } from '../core/context';
import type { Tenant } from '../core/state';
import { pauseIfDrained } from './tenant-status';
import { usageLedger } from './usage-ledger';

/**
 * BillUsage then the post-billing check, as the real proxy runs them after every upstream answer:
 * a usage log row, the balance debited, and at a balance <= 0 the tenant paused with its container
 * stopped. Returns the balance after billing.
 */
export function billCall(
  ctx: SimContext,
  tenant: Tenant,
  modelId: string,
  inputTokens: number,
  outputTokens: number,
  cents: number,
): number {
  const balance = ctx.state.bill(tenant, cents);
  usageLedger(ctx).record(tenant.id, modelId, inputTokens, outputTokens, cents);
  pauseIfDrained(ctx, tenant);
  return balance;
}
