import { z } from 'zod';
import { MALFORMED_KINDS, ROUTE_FAMILIES } from '../control-types';

const rate = z.number().min(0).max(1);
const ms = z.number().min(0).max(3_600_000);

/** `null` switches a single fault off in a PATCH. */
const routeFault = z.strictObject({
  errorRate: rate.nullish(),
  errorStatus: z.number().int().min(400).max(599).nullish(),
  delayMs: ms.nullish(),
  malformedRate: rate.nullish(),
  malformedKind: z.enum(MALFORMED_KINDS).nullish(),
  resetRate: rate.nullish(),
  slowBodyMs: ms.nullish(),
});

export const faultsSchema = z.strictObject({
  routes: z.partialRecord(z.enum(ROUTE_FAMILIES), routeFault.nullish()).nullish(),
  llm: z.strictObject({ appDelayMs: ms.nullish(), bufferStreams: z.boolean().nullish() }).nullish(),
  auth: z.strictObject({ csrfRefuse: z.boolean().nullish(), extraCpuMs: ms.nullish() }).nullish(),
  credits: z.strictObject({ exhausted: z.boolean().nullish() }).nullish(),
  containers: z
    .strictObject({
      coldStartMultiplier: z.number().min(0).max(1000).nullish(),
      resumeFailRate: rate.nullish(),
      unhealthyRate: rate.nullish(),
    })
    .nullish(),
  pages: z.strictObject({ blockScripts: z.boolean().nullish() }).nullish(),
  terminal: z
    .strictObject({
      dropAfterMs: ms.nullish(),
      dropCode: z.number().int().min(0).max(4999).nullish(),
      strayFrameIntervalMs: z.number().min(1).max(3_600_000).nullish(),
      malformedFrameRate: rate.nullish(),
      echoDelayMs: ms.nullish(),
    })
    .nullish(),
});

const latencyModel = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('fixed'), ms }),
  z.strictObject({ kind: z.literal('uniform'), minMs: ms, maxMs: ms }).refine((m) => m.maxMs >= m.minMs, {
    message: 'maxMs must be >= minMs',
  }),
  z
    .strictObject({ kind: z.literal('lognormal'), medianMs: ms, p99Ms: ms })
    .refine((m) => m.p99Ms >= m.medianMs, {
      message: 'p99Ms must be >= medianMs',
    }),
]);

export const latencyPatchSchema = z.strictObject({
  profile: z.enum(['fast', 'realistic']).optional(),
  timeScale: z.number().positive().max(1000).optional(),
  models: z
    .strictObject({
      authCpu: latencyModel.optional(),
      authCores: z.number().int().min(1).max(256).optional(),
      authUnknownEmail: latencyModel.optional(),
      authCsrfFailure: latencyModel.optional(),
      chat: latencyModel.optional(),
      inbound: latencyModel.optional(),
      modelFirstToken: latencyModel.optional(),
      modelPerToken: latencyModel.optional(),
      proxyApp: latencyModel.optional(),
      containerColdStart: latencyModel.optional(),
      containerResumeCall: latencyModel.optional(),
    })
    .optional(),
});

export const seedSchema = z.strictObject({
  count: z.number().int().min(1).max(100_000),
  tag: z.string().max(100).optional(),
  container: z.enum(['none', 'stopped', 'running']).optional(),
  creditsCents: z.number().int().min(-1_000_000_000).max(1_000_000_000).optional(),
});

export const creditsSchema = z.strictObject({
  cents: z.number().int().min(-1_000_000_000).max(1_000_000_000),
});
