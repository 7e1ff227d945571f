import type { FailureCause } from './metrics';

/** A few examples per cause are enough to diagnose a run; thousands would drown the console. */
const PRINTED_PER_CAUSE = 3;

/**
 * Prints why a step failed, at most a few times per step and cause. Callers pass statuses and
 * error texts only, never credentials.
 */
export function createFailureExplainer(
  scenario: string,
): (step: string, cause: FailureCause, detail: string) => void {
  const printed = new Map<string, number>();
  return (step, cause, detail) => {
    const key = `${step}.${cause}`;
    const seen = printed.get(key) ?? 0;
    if (seen >= PRINTED_PER_CAUSE) return;
    printed.set(key, seen + 1);
    console.error(`[${scenario}] ${step} failed (${cause}): ${detail}`);
  };
}
