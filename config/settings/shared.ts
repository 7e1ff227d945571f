import { z } from 'zod';
import { parseDurationMs } from '../duration';

/**
 * Building blocks for the per-area setting schemas (config/settings/<area>.ts). Each area module
 * exports a zod object schema over the raw environment (strings), so that the runner can check
 * every variable before any load is sent and the processors read the same parsed values.
 * Every schema key IS the environment variable name, so zod's issue path names the setting.
 */

export const durationMs = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      const ms = parseDurationMs(text);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `not a duration: "${text}" (use e.g. 200ms, 30s, 10m, 1h)` });
        return z.NEVER;
      }
      return ms;
    });

/**
 * An optional duration (unset: the profile decides). `positive` refuses 0 for settings where a
 * zero duration would make the scenario do nothing.
 */
export const optionalDurationMs = (options: { positive?: boolean } = {}) =>
  z
    .string()
    .optional()
    .transform((text, ctx) => {
      if (text === undefined) return undefined;
      const ms = parseDurationMs(text);
      if (ms === undefined || (options.positive && ms <= 0)) {
        const what = options.positive ? 'a positive duration' : 'a duration';
        ctx.addIssue({ code: 'custom', message: `not ${what}: "${text}" (use e.g. 200ms, 30s, 10m, 1h)` });
        return z.NEVER;
      }
      return ms;
    });

export const positiveInt = (fallback: number, max = 1_000_000) =>
  z.coerce.number().int().min(1).max(max).default(fallback);

export const nonNegativeInt = (fallback: number, max = 1_000_000) =>
  z.coerce.number().int().min(0).max(max).default(fallback);

export const milliseconds = (fallback: number) => z.coerce.number().finite().min(0).default(fallback);

export const booleanFlag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

/**
 * A platform URL. No default on purpose: a default port may have someone's real dev server
 * behind it, so load goes only where the user (or the runner's own simulator) pointed it.
 */
export const httpUrl = () =>
  z
    .string()
    .pipe(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL such as http://127.0.0.1:3000' }))
    .transform((url) => url.replace(/\/+$/, ''))
    .optional();

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Comma-separated tenant UUIDs; empty entries and non-UUIDs are errors, not silently dropped. */
export const tenantIdList = z.string().transform((text, ctx) => {
  const ids = text.split(',').map((s) => s.trim());
  const bad = ids.filter((id) => !UUID.test(id));
  if (ids.length === 0 || bad.length > 0) {
    ctx.addIssue({
      code: 'custom',
      message: `must be a comma-separated list of tenant UUIDs; bad entries: ${bad.map((b) => JSON.stringify(b)).join(', ') || '(none given)'}`,
    });
    return z.NEVER;
  }
  return ids;
});

/** Formats zod issues as `SETTING: message` lines, naming the environment variable. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.join('.') || '(settings)'}: ${issue.message}`);
}
