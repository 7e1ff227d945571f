import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { GENERATOR_EMITTED_METRICS } from '../../../plugins/artillery-plugin-agentteams/src/health';
import { metricsOf } from '../report/thresholds';
import type { ScriptValidator } from './artillery-schema';
import { EmittableMetrics } from './metrics';
import { Script, type ScriptShape } from './script-shape';

/** Hook names that refer to processor functions, wherever they appear in a script. */
const FUNCTION_KEYS = [
  'function',
  'beforeRequest',
  'afterResponse',
  'beforeScenario',
  'afterScenario',
  'whileTrue',
  'testFunction',
  'flowFunction',
] as const;
const HTTP_METHODS = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options'];

/** Every processor function name a script refers to, with where it was found. */
export function referencedFunctions(node: unknown, path = ''): { name: string; at: string }[] {
  const found: { name: string; at: string }[] = [];
  if (Array.isArray(node)) {
    node.forEach((item, i) => {
      found.push(...referencedFunctions(item, `${path}[${i}]`));
    });
  } else if (typeof node === 'object' && node !== null) {
    for (const [key, value] of Object.entries(node)) {
      const at = path ? `${path}.${key}` : key;
      if ((FUNCTION_KEYS as readonly string[]).includes(key)) {
        const names = Array.isArray(value) ? value : [value];
        for (const name of names) if (typeof name === 'string') found.push({ name, at });
        continue;
      }
      found.push(...referencedFunctions(value, at));
    }
  }
  return found;
}

/** HTTP steps without `name:` (metric names per endpoint rely on it). */
function unnamedRequests(node: unknown, path = ''): string[] {
  const found: string[] = [];
  if (Array.isArray(node)) {
    node.forEach((item, i) => {
      found.push(...unnamedRequests(item, `${path}[${i}]`));
    });
  } else if (typeof node === 'object' && node !== null) {
    for (const [key, value] of Object.entries(node)) {
      const at = path ? `${path}.${key}` : key;
      if (HTTP_METHODS.includes(key) && typeof value === 'object' && value !== null && 'url' in value) {
        if (!('name' in value) || typeof value.name !== 'string') found.push(at);
      } else found.push(...unnamedRequests(value, at));
    }
  }
  return found;
}

function loadProcessor(file: string): { exports: Record<string, unknown> } | { error: string } {
  try {
    const required: unknown = createRequire(file)(file);
    if (typeof required !== 'object' && typeof required !== 'function') return { error: 'exports nothing' };
    return { exports: (required ?? {}) as Record<string, unknown> };
  } catch (error) {
    return { error: (error as Error).message.split('\n')[0]! };
  }
}

function payloadPaths(config: ScriptShape['config']): string[] {
  const paths: string[] = [];
  const collect = (payload: unknown) => {
    for (const p of Array.isArray(payload) ? payload : [payload])
      if (typeof p === 'object' && p !== null && 'path' in p && typeof p.path === 'string')
        paths.push(p.path);
  };
  collect(config.payload);
  for (const env of Object.values(config.environments ?? {})) collect((env as { payload?: unknown }).payload);
  return paths;
}

function mergedWithEnvironment(script: ScriptShape, name: string): unknown {
  const { environments, ...config } = script.config;
  return { ...script, config: { ...config, ...(environments?.[name] ?? {}) } };
}

export interface ValidationResult {
  file: string;
  problems: string[];
}

/** Everything `npm run validate` checks for one scenario file, offline. */
export function validateScenarioFile(
  file: string,
  text: string,
  artilleryValidate: ScriptValidator | undefined,
): ValidationResult {
  const problems: string[] = [];
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0)
    return { file, problems: doc.errors.map((e) => `YAML: ${e.message.split('\n')[0]}`) };
  const raw: unknown = doc.toJS();
  const shaped = Script.safeParse(raw);
  if (!shaped.success) {
    return {
      file,
      problems: shaped.error.issues.map((i) => `script shape: ${i.path.join('.') || '(root)'}: ${i.message}`),
    };
  }
  const script = shaped.data;

  // Artillery's own checks, on the script as each environment (profile) makes it.
  if (artilleryValidate) {
    const envNames = Object.keys(script.config.environments ?? {});
    for (const env of ['', ...envNames]) {
      const error = artilleryValidate(env ? mergedWithEnvironment(script, env) : raw);
      if (error) problems.push(`Artillery schema${env ? ` (-e ${env})` : ''}: ${error}`);
    }
  }

  if (script.config.ensure && !(script.config.plugins && 'ensure' in script.config.plugins))
    problems.push('config.ensure: thresholds only run with `config.plugins.ensure: {}`');
  for (const at of unnamedRequests(script.scenarios)) problems.push(`${at}: HTTP request without name:`);

  const base = dirname(file);
  for (const payload of payloadPaths(script.config)) {
    if (!existsSync(resolve(base, payload))) problems.push(`payload: file not found: ${payload}`);
  }

  // Processor functions and the metrics the processor declares.
  let declared: readonly string[] | undefined;
  const references = referencedFunctions({
    scenarios: script.scenarios,
    before: raw && (raw as { before?: unknown }).before,
    after: (raw as { after?: unknown }).after,
  });
  if (script.config.processor) {
    const processorFile = resolve(base, script.config.processor);
    if (!existsSync(processorFile)) {
      problems.push(`config.processor: ${script.config.processor} not found (run npm run build?)`);
    } else {
      const loaded = loadProcessor(processorFile);
      if ('error' in loaded)
        problems.push(`config.processor: could not load ${script.config.processor}: ${loaded.error}`);
      else {
        for (const ref of references)
          if (typeof loaded.exports[ref.name] !== 'function')
            problems.push(
              `${ref.at}: processor function "${ref.name}" is not exported by ${script.config.processor}`,
            );
        const emitted = loaded.exports.EMITTED_METRICS;
        if (Array.isArray(emitted) && emitted.every((m) => typeof m === 'string'))
          declared = emitted as string[];
      }
    }
  } else {
    for (const ref of references) problems.push(`${ref.at}: "${ref.name}" needs config.processor`);
  }

  // The suite's plugin samples the generator in every worker: its metrics exist in every run of a
  // scenario that lists it.
  const pluginMetrics =
    script.config.plugins && 'agentteams' in script.config.plugins ? GENERATOR_EMITTED_METRICS : [];
  const emittable = new EmittableMetrics([...(declared ?? []), ...pluginMetrics]);
  const ensure = script.config.ensure;
  const checks = [
    ...(ensure?.thresholds ?? []).map((t) => ({ at: 'threshold', metrics: Object.keys(t) })),
    ...(ensure?.conditions ?? []).map((c) => ({
      at: `condition "${c.expression}"`,
      // A `{{ $env.X }}` template becomes a value before ensure evaluates the expression.
      metrics: metricsOf(c.expression.replace(/\{\{[^}]*\}\}/g, '0')),
    })),
  ];
  if (declared === undefined && script.config.processor) {
    const custom = [...new Set(checks.flatMap((c) => c.metrics).filter((m) => !emittable.canEmit(m)))];
    if (custom.length > 0)
      problems.push(
        `config.processor: ${script.config.processor} exports no EMITTED_METRICS (docs/DESIGN.md, Metrics), so the checks on ${custom.join(', ')} cannot be verified`,
      );
    return { file, problems };
  }
  for (const check of checks)
    for (const metric of check.metrics)
      if (!emittable.canEmit(metric))
        problems.push(
          `ensure ${check.at}: metric "${metric}" is not emitted by Artillery nor declared in the processor's EMITTED_METRICS`,
        );
  return { file, problems };
}
