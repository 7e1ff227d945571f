import { parseArgs } from 'node:util';
import { z } from 'zod';
import { PROFILE_NAMES, type ProfileName } from '../../config/profiles';

/** Command line of `npm start` / `npm run loadtest -- ...`, checked before anything starts. */
export interface RunOptions {
  profile: ProfileName | undefined;
  scenarios: string[] | undefined;
  parallel: boolean;
  /** 'simulator' or the path of an env file describing a real platform. */
  target: string | undefined;
  out: string | undefined;
  seedTenants: number | undefined;
  simProfile: 'fast' | 'realistic';
  simFaults: string | undefined;
  report: boolean;
}

export const USAGE = `usage: run [--profile smoke|load|soak|stress] [--scenario a,b|path.yml] [--parallel]
           [--target simulator|<env file>] [--out results/<run-id>] [--seed-tenants N]
           [--sim-profile fast|realistic] [--sim-faults '<Faults JSON>'] [--no-report]`;

const OptionsSchema = z.object({
  '--profile': z.enum(PROFILE_NAMES, { error: `must be one of ${PROFILE_NAMES.join(', ')}` }).optional(),
  '--scenario': z
    .string()
    .transform((s) => s.split(',').map((x) => x.trim()))
    .refine((list) => list.every((x) => x.length > 0), { error: 'empty scenario name in the list' })
    .optional(),
  // Unset: the shell's WEB_BASE_URL / API_BASE_URL when they name a platform, else the simulator.
  '--target': z.string().min(1, { error: 'must be "simulator" or an env file path' }).optional(),
  '--out': z.string().min(1).optional(),
  '--seed-tenants': z
    .string()
    .regex(/^\d+$/, { error: 'must be a whole number of tenants' })
    .transform(Number)
    .pipe(z.number().int().min(1, { error: 'must be at least 1' }).max(500, { error: 'must be at most 500' }))
    .optional(),
  '--sim-profile': z.enum(['fast', 'realistic'], { error: 'must be fast or realistic' }).default('fast'),
  '--sim-faults': z
    .string()
    .refine(
      (text) => {
        try {
          const value: unknown = JSON.parse(text);
          return typeof value === 'object' && value !== null && !Array.isArray(value);
        } catch {
          return false;
        }
      },
      { error: 'must be a JSON object of simulator faults' },
    )
    .optional(),
});

export type OptionsResult = { ok: true; options: RunOptions } | { ok: false; problems: string[] };

export function parseRunOptions(argv: string[]): OptionsResult {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        profile: { type: 'string' },
        scenario: { type: 'string' },
        parallel: { type: 'boolean' },
        sequential: { type: 'boolean' },
        target: { type: 'string' },
        out: { type: 'string' },
        'seed-tenants': { type: 'string' },
        'sim-profile': { type: 'string' },
        'sim-faults': { type: 'string' },
        'no-report': { type: 'boolean' },
      },
    }).values;
  } catch (error) {
    return { ok: false, problems: [`command line: ${(error as Error).message}`, USAGE] };
  }
  const prefixed: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(values)) prefixed[`--${name}`] = value;
  const parsed = OptionsSchema.safeParse(prefixed);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`),
    };
  }
  const o = parsed.data;
  return {
    ok: true,
    options: {
      profile: o['--profile'],
      scenarios: o['--scenario'],
      // --sequential wins so that `npm start -- --sequential` can undo the script's --parallel.
      parallel: values.parallel === true && values.sequential !== true,
      target: o['--target'],
      out: o['--out'],
      seedTenants: o['--seed-tenants'],
      simProfile: o['--sim-profile'],
      simFaults: o['--sim-faults'],
      report: values['no-report'] !== true,
    },
  };
}
