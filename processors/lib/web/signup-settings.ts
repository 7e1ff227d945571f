import { z } from 'zod';
import { commonSettings } from '../../../config/settings/common';
import { describeIssues } from '../../../config/settings/shared';
import { signupSettings } from '../../../config/settings/signup';

/**
 * The settings the signup processors read, parsed once per worker from the environment the runner
 * (or the user) gave Artillery. A bad value stops the VU with a message naming the variable.
 */
const schema = z.object({
  WEB_BASE_URL: commonSettings.shape.WEB_BASE_URL,
  API_BASE_URL: commonSettings.shape.API_BASE_URL,
  ADMIN_JWT: commonSettings.shape.ADMIN_JWT,
  API_JWT_SECRET: commonSettings.shape.API_JWT_SECRET,
  LOADTEST_RUN_ID: commonSettings.shape.LOADTEST_RUN_ID,
  ...signupSettings.shape,
});

export type SignupRunSettings = z.infer<typeof schema>;

let cached: SignupRunSettings | undefined;

export function signupRunSettings(env: NodeJS.ProcessEnv = process.env): SignupRunSettings {
  if (cached && env === process.env) return cached;
  // An empty variable is "not set", as in the runner's own check.
  const present: Record<string, string> = {};
  for (const [name, value] of Object.entries(env))
    if (value !== undefined && value !== '') present[name] = value;
  const parsed = schema.safeParse(present);
  if (!parsed.success) throw new Error(`invalid signup settings: ${describeIssues(parsed.error).join('; ')}`);
  if (env === process.env) cached = parsed.data;
  return parsed.data;
}
