import { z } from 'zod';
import type { ScenarioArea } from '../profiles';
import { chatSettings } from './chat';
import { commonSettings, isSecretSetting } from './common';
import { containerSettings } from './container';
import { llmSettings } from './llm';
import { describeIssues } from './shared';
import { signupSettings } from './signup';
import { terminalSettings } from './terminal';

/**
 * Every setting of the suite in one place: the common ones plus each area's schema
 * (config/settings/<area>.ts). The runner checks the union for the scenarios it is about to run
 * before any load is sent.
 */

type SettingsShape = Record<string, z.ZodType>;

/** Area schemas, added here as the area modules land; an area without one has only common settings. */
export const AREA_SETTINGS: Partial<Record<ScenarioArea, z.ZodObject<SettingsShape>>> = {
  llm: llmSettings,
  chat: chatSettings,
  signup: signupSettings,
  terminal: terminalSettings,
  container: containerSettings,
};

export function settingsSchemaFor(areas: readonly ScenarioArea[]): z.ZodObject<SettingsShape> {
  let shape: SettingsShape = { ...commonSettings.shape };
  for (const area of new Set(areas)) {
    const schema = AREA_SETTINGS[area];
    if (schema) shape = { ...shape, ...schema.shape };
  }
  return z.object(shape);
}

/** Names of every setting the given areas read (for manifests and documentation). */
export function settingNamesFor(areas: readonly ScenarioArea[]): string[] {
  return Object.keys(settingsSchemaFor(areas).shape).sort();
}

export type SettingsCheck =
  | { ok: true; settings: Record<string, unknown> }
  | { ok: false; problems: string[] };

export function checkSettings(
  env: Record<string, string | undefined>,
  areas: readonly ScenarioArea[],
): SettingsCheck {
  // An empty variable is "not set": shells and env files write `NAME=` to unset.
  const present: Record<string, string> = {};
  for (const [name, value] of Object.entries(env))
    if (value !== undefined && value !== '') present[name] = value;
  const parsed = settingsSchemaFor(areas).safeParse(present);
  if (parsed.success) return { ok: true, settings: parsed.data };
  return { ok: false, problems: describeIssues(parsed.error) };
}

/** Settings as they may be written to a manifest: secrets reduced to whether they were set. */
export function publicSettings(settings: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(settings)) {
    if (value === undefined) continue;
    out[name] = isSecretSetting(name) ? '(set, redacted)' : value;
  }
  return out;
}

export { commonSettings, isSecretSetting };
