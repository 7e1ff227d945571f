/**
 * Durations on the command line are written the way people write them: `200ms`, `30s`, `10m`,
 * `1h`, or a bare number of seconds (the suite's settings use the same form). The package keeps
 * its own parser so it depends on nothing outside itself.
 */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/;

/** Parses a duration in ms; undefined for anything that is not a non-negative duration. */
export function parseDurationMs(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  const value = Number(match[1]);
  const unit = match[2] ?? 's';
  const ms = value * (UNIT_MS[unit] ?? Number.NaN);
  return Number.isFinite(ms) ? Math.round(ms) : undefined;
}
