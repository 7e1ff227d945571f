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

/** Cost of one call in cents: provider price plus markup, rounded up, at least 1 cent. */
export function costCents(model: ModelEntry, promptTokens: number, completionTokens: number): number {
  const raw =
    ((promptTokens * model.inputCentsPerM + completionTokens * model.outputCentsPerM) / 1_000_000) *
    (1 + model.markupPct / 100);
  return Math.max(1, Math.ceil(raw));
}
