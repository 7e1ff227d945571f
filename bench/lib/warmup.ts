import type { ChatLogin } from './target';
import { runWrk } from './wrk';

/**
 * Back-to-back traffic on a route before it is measured, not recorded: the first seconds of a
 * Node server are JIT compilation (the simulator's chat route answers at a third of its later
 * rate), and whichever generator ran first would otherwise pay for it.
 */
export async function warmUp(
  url: string,
  script: 'completions.lua' | 'chat.lua',
  env: Record<string, string>,
  seconds: number,
) {
  await runWrk({ url, script, connections: 16, durationSeconds: seconds, env });
}

export function chatEnv(login: ChatLogin): Record<string, string> {
  return { WRK_COOKIE: login.cookie, WRK_ORIGIN: login.origin };
}
