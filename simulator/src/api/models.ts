export interface ModelEntry {
  id: string;
  provider: 'openai' | 'anthropic' | 'google';
  /** Provider cost in cents per million tokens, before the platform's markup. */
  inputCentsPerM: number;
  outputCentsPerM: number;
  markupPct: number;
}

/** The enabled models, with ids in the real registry's `<provider>/<model>` style. */
export const MODELS: readonly ModelEntry[] = [
  { id: 'openai/gpt-4.1', provider: 'openai', inputCentsPerM: 200, outputCentsPerM: 800, markupPct: 20 },
  { id: 'openai/gpt-4.1-mini', provider: 'openai', inputCentsPerM: 40, outputCentsPerM: 160, markupPct: 20 },
  { id: 'openai/gpt-4o-mini', provider: 'openai', inputCentsPerM: 15, outputCentsPerM: 60, markupPct: 20 },
  {
    id: 'anthropic/claude-sonnet-4-6',
    provider: 'anthropic',
    inputCentsPerM: 300,
    outputCentsPerM: 1500,
    markupPct: 20,
  },
  {
    id: 'anthropic/claude-haiku-4-5',
    provider: 'anthropic',
    inputCentsPerM: 100,
    outputCentsPerM: 500,
    markupPct: 20,
  },
  {
    id: 'google/gemini-2.5-flash',
    provider: 'google',
    inputCentsPerM: 30,
    outputCentsPerM: 250,
    markupPct: 20,
  },
];

const BY_ID = new Map(MODELS.map((model) => [model.id, model]));

export const DEFAULT_MODEL_ID = 'openai/gpt-4.1-mini';

export function findModel(id: string): ModelEntry | undefined {
  return BY_ID.get(id);
}

/**
 * CalcCostCents: provider price in whole cents (integer division), then the markup (integer
 * division again), and at least 1 cent for a call that used any token.
 */
export function costCents(model: ModelEntry, promptTokens: number, completionTokens: number): number {
  const base = Math.floor(
    (promptTokens * model.inputCentsPerM + completionTokens * model.outputCentsPerM) / 1_000_000,
  );
  const total = Math.floor((base * (100 + model.markupPct)) / 100);
  return total < 1 && (promptTokens > 0 || completionTokens > 0) ? 1 : total;
}

/**
 * The model name the provider is called with, which is what the answer's `model` carries
 * (resolveProviderModelID): the registry id without its `<provider>/` prefix.
 */
export function upstreamModelId(model: ModelEntry): string {
  const prefix = `${model.provider}/`;
  if (model.id.startsWith(prefix)) return model.id.slice(prefix.length);
  const slash = model.id.indexOf('/');
  return slash > 0 && slash < model.id.length - 1 ? model.id.slice(slash + 1) : model.id;
}
