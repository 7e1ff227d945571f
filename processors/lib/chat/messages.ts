import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { CHAT_BUCKETS, type ChatBucket } from '../../../config/settings/chat';

/**
 * The chat payload (config/payloads/chat-messages.json): messages per length bucket. Lengths are
 * checked here so that a "long" message really is long, and none exceeds the web app's 4000.
 */
export const BUCKET_LENGTHS: Record<ChatBucket, { min: number; max: number }> = {
  short: { min: 1, max: 99 },
  medium: { min: 100, max: 999 },
  long: { min: 1000, max: 4000 },
};

const bucketMessages = (bucket: ChatBucket) => {
  const { min, max } = BUCKET_LENGTHS[bucket];
  return z
    .array(
      z.string().refine((m) => m.trim().length > 0 && m.length >= min && m.length <= max, {
        error: `every ${bucket} message must have ${min}-${max} characters`,
      }),
    )
    .min(1, { error: `needs at least one ${bucket} message` });
};

export const chatMessagesFile = z.object({
  short: bucketMessages('short'),
  medium: bucketMessages('medium'),
  long: bucketMessages('long'),
});

export type ChatMessages = z.infer<typeof chatMessagesFile>;

/** dist/processors/chat.js → config/payloads/chat-messages.json of the same checkout. */
export const DEFAULT_CHAT_MESSAGES_FILE = resolve(
  __dirname,
  '..',
  '..',
  'config',
  'payloads',
  'chat-messages.json',
);

export function loadChatMessages(path: string = DEFAULT_CHAT_MESSAGES_FILE): ChatMessages {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`chat messages: cannot read ${path}: ${(error as Error).message}`);
  }
  const parsed = chatMessagesFile.safeParse(json);
  if (!parsed.success)
    throw new Error(
      `chat messages ${path}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  return parsed.data;
}

/** Cycles through each bucket's messages so that every message of the payload gets used. */
export class MessagePicker {
  private readonly cursor: Record<ChatBucket, number> = { short: 0, medium: 0, long: 0 };

  constructor(private readonly messages: ChatMessages) {}

  next(bucket: ChatBucket): string {
    const list = this.messages[bucket];
    const message = list[this.cursor[bucket] % list.length]!;
    this.cursor[bucket] += 1;
    return message;
  }
}

export { CHAT_BUCKETS };
