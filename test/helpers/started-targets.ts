import { existsSync, readFileSync } from 'node:fs';

/**
 * Load from a test goes only to servers that test started. Every server a test starts (the
 * simulator, fixture servers) registers its URL here; every Artillery or runner process a test
 * spawns is checked against the registry first, so a test that resolves a target it did not
 * start (a default port, a stray variable of the developer's shell) fails before sending anything.
 */

const started = new Set<string>();

/** Settings and flags that name where load goes. */
const TARGET_SETTINGS = ['WEB_BASE_URL', 'API_BASE_URL', 'NEXTAUTH_URL', 'SIM_CONTROL_URL'] as const;

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

export function registerStartedTarget(url: string): void {
  const origin = originOf(url);
  if (origin) started.add(origin);
}

export function forgetStartedTarget(url: string): void {
  const origin = originOf(url);
  if (origin) started.delete(origin);
}

/** Target URLs in an env file given to the runner with `--target <file>`. */
function urlsOfEnvFile(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(path)) return out;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const match = /^\s*(?:export\s+)?([A-Z0-9_]+)\s*=\s*["']?([^"'\s#]*)/.exec(line);
    if (match && (TARGET_SETTINGS as readonly string[]).includes(match[1]!)) out[match[1]!] = match[2]!;
  }
  return out;
}

/**
 * Throws unless every target named by `env` or by `-t` / `--target` in `args` belongs to a server
 * this test process started. Values that are not URLs (a deliberately malformed setting under
 * test) are left to the code under test, which must refuse them before sending anything.
 */
export function assertStartedTargets(
  env: Record<string, string | undefined>,
  args: readonly string[] = [],
): void {
  const named: Array<[string, string]> = [];
  for (const name of TARGET_SETTINGS) {
    const value = env[name];
    if (value) named.push([name, value]);
  }
  for (let i = 0; i < args.length - 1; i++) {
    const flag = args[i];
    const value = args[i + 1]!;
    if (flag === '-t' || (flag === '--target' && /^https?:/.test(value))) named.push([flag, value]);
    else if (flag === '--target' && value !== 'simulator')
      for (const [name, url] of Object.entries(urlsOfEnvFile(value))) named.push([`${value}: ${name}`, url]);
  }
  for (const [name, value] of named) {
    const origin = originOf(value);
    if (origin === undefined || !/^https?:$/.test(new URL(value).protocol)) continue;
    // A host under `.invalid` never resolves (RFC 2606): naming one is how a test shows that a
    // non-loopback target is refused, and no request can reach anything if it were not.
    if (new URL(value).hostname.endsWith('.invalid')) continue;
    if (!started.has(origin))
      throw new Error(
        `test target guard: ${name}=${value} is not a server this test started (started: ${[...started].join(', ') || 'none'})`,
      );
  }
}

/** The environment a spawned process inherits, less anything that names a platform. */
export function inheritedEnvWithoutTargets(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const name of TARGET_SETTINGS) delete env[name];
  return env;
}
