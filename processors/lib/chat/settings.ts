import { PROFILE_NAMES, PROFILES, type ProfileName } from '../../../config/profiles';
import { chatSettings } from '../../../config/settings/chat';
import { commonSettings } from '../../../config/settings/common';
import { describeIssues } from '../../../config/settings/shared';

const schema = commonSettings.extend(chatSettings.shape);
export type ChatRunSettings = ReturnType<typeof schema.parse>;

let cached: ChatRunSettings | undefined;

/** Parses the environment once per worker; an empty variable counts as unset. Throws naming the setting. */
export function chatRunSettings(env: NodeJS.ProcessEnv = process.env): ChatRunSettings {
  if (cached) return cached;
  const present: Record<string, string> = {};
  for (const [name, value] of Object.entries(env))
    if (value !== undefined && value !== '') present[name] = value;
  const parsed = schema.safeParse(present);
  if (!parsed.success) throw new Error(`chat settings: ${describeIssues(parsed.error).join('; ')}`);
  cached = parsed.data;
  return cached;
}

const isProfile = (name: unknown): name is ProfileName =>
  typeof name === 'string' && (PROFILE_NAMES as readonly string[]).includes(name);

/** CHAT_DURATION, else the chat duration of the profile being run (Artillery environment), else load's. */
export function chatDurationMs(settings: ChatRunSettings, environment: unknown): number {
  if (settings.CHAT_DURATION !== undefined) return settings.CHAT_DURATION;
  const profile = isProfile(environment) ? environment : (settings.LOADTEST_PROFILE ?? 'load');
  return PROFILES[profile].chat.durationMs;
}
