import { z } from 'zod';

/**
 * The subset of Artillery's script format this suite relies on, stricter than Artillery where a
 * mistake would silently change a run (ensure without the plugin never gates anything).
 */
const Phase = z.looseObject({
  duration: z.union([z.number(), z.string()]).optional(),
  arrivalRate: z.union([z.number(), z.string()]).optional(),
  arrivalCount: z.union([z.number(), z.string()]).optional(),
  rampTo: z.union([z.number(), z.string()]).optional(),
  maxVusers: z.union([z.number(), z.string()]).optional(),
  pause: z.union([z.number(), z.string()]).optional(),
  name: z.string().optional(),
});

const Threshold = z
  .record(z.string(), z.union([z.number(), z.string()]))
  .refine((o) => Object.keys(o).length === 1, { error: 'each threshold is one `metric: limit` pair' });
const Condition = z.looseObject({ expression: z.string().min(1), strict: z.boolean().optional() });
export const Ensure = z.looseObject({
  thresholds: z.array(Threshold).optional(),
  conditions: z.array(Condition).optional(),
});

const Payload = z.looseObject({ path: z.string().min(1) });

export const Config = z.looseObject({
  target: z.string().optional(),
  processor: z.string().optional(),
  phases: z.array(Phase).optional(),
  environments: z.record(z.string(), z.looseObject({ phases: z.array(Phase).optional() })).optional(),
  payload: z.union([Payload, z.array(Payload)]).optional(),
  plugins: z.record(z.string(), z.unknown()).optional(),
  ensure: Ensure.optional(),
});

export const Script = z.looseObject({
  config: Config,
  scenarios: z
    .array(z.looseObject({ flow: z.array(z.unknown()).optional(), name: z.string().optional() }))
    .min(1),
});

export type ScriptShape = z.infer<typeof Script>;
