import type { SimContext } from '../core/context';
import { sleep } from '../core/latency';

const WORDS =
  'the agent reviewed your request and prepared a short answer with the steps that matter most for this task'.split(
    ' ',
  );

/** Rough token count (~4 characters a token, plus per-message overhead), as tokenizers give. */
export function countPromptTokens(messages: readonly { content: string }[]): number {
  return messages.reduce((sum, message) => sum + Math.ceil(message.content.length / 4) + 4, 3);
}

export function completionTokenTarget(ctx: SimContext, maxTokens: number | null | undefined): number {
  const sampled =
    ctx.latency.get().profile === 'realistic'
      ? 40 + Math.floor(Math.random() * 220)
      : 8 + Math.floor(Math.random() * 24);
  return Math.max(1, Math.min(sampled, maxTokens && maxTokens > 0 ? maxTokens : sampled));
}

export function tokenText(index: number): string {
  return `${index === 0 ? '' : ' '}${WORDS[index % WORDS.length]}`;
}

export interface ModelAnswer {
  content: string;
  completionTokens: number;
  upstreamMs: number;
}

/**
 * One modelled upstream call: time to first token plus a per-token time for the rest. `onToken`
 * receives tokens as they are "generated" (for SSE); without it the whole time is one sleep.
 */
export async function runModel(
  ctx: SimContext,
  completionTokens: number,
  onToken?: (text: string, index: number) => boolean | Promise<boolean>,
): Promise<ModelAnswer> {
  const started = performance.now();
  let content = '';
  if (!onToken) {
    let total = ctx.latency.sampleMs('modelFirstToken');
    for (let i = 1; i < completionTokens; i++) total += ctx.latency.sampleMs('modelPerToken');
    await sleep(total);
    for (let i = 0; i < completionTokens; i++) content += tokenText(i);
    return { content, completionTokens, upstreamMs: performance.now() - started };
  }
  // Tokens are due at absolute times from the start, so timer lag on a busy machine does not
  // accumulate over hundreds of tokens; a token whose time has passed goes out at once.
  let dueMs = ctx.latency.sampleMs('modelFirstToken');
  for (let i = 0; i < completionTokens; i++) {
    if (i > 0) dueMs += ctx.latency.sampleMs('modelPerToken');
    const waitMs = started + dueMs - performance.now();
    if (waitMs >= 1) await sleep(waitMs);
    const text = tokenText(i);
    content += text;
    if (!(await onToken(text, i)))
      return { content, completionTokens: i + 1, upstreamMs: performance.now() - started };
  }
  return { content, completionTokens, upstreamMs: performance.now() - started };
}
