import { parseDurationMs } from '../../../config/duration';
import { chatSettings } from '../../../config/settings/chat';
import { commonSettings } from '../../../config/settings/common';
import { describeIssues } from '../../../config/settings/shared';

const schema = commonSettings.extend(chatSettings.shape);
export type ChatRunSettings = ReturnType<typeof schema.parse>;

let cached: ChatRunSettings | undefined;

/** Parses the environment once per worker; an empty variable counts as unset. Throws naming the setting. */
export function chatRunSettings(env: NodeJS.ProcessEnv = process.env): ChatRunSettings {
  if (cached && env === process.env) return cached;
  const present: Record<string, string> = {};
  for (const [name, value] of Object.entries(env))
    if (value !== undefined && value !== '') present[name] = value;
  const parsed = schema.safeParse(present);
  if (!parsed.success) throw new Error(`chat settings: ${describeIssues(parsed.error).join('; ')}`);
  if (env === process.env) cached = parsed.data;
  return parsed.data;
}

/**
 * How long users chat: CHAT_DURATION, else the `loopDuration` variable of the Artillery
 * environment being run (the scenario's YAML is the one source of load shapes).
 */
export function chatDurationMs(settings: ChatRunSettings, loopDuration: unknown): number {
  if (settings.CHAT_DURATION !== undefined) return settings.CHAT_DURATION;
  const ms =
    typeof loopDuration === 'string' || typeof loopDuration === 'number'
      ? parseDurationMs(String(loopDuration))
      : undefined;
  if (ms === undefined || ms <= 0)
    throw new Error(
      `chat-sessions: the scenario variable loopDuration must be a positive duration such as "8s" (got ${JSON.stringify(loopDuration)}); or set CHAT_DURATION`,
    );
  return ms;
}
