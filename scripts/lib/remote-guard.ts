import { isIP } from 'node:net';

/**
 * Load is only sent to loopback unless someone says otherwise on purpose: a load test pointed at a
 * production host by mistake is an outage. Allowed: LOADTEST_ALLOW_REMOTE=1 (everything) or the
 * host listed in LOADTEST_ALLOWED_HOSTS.
 */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || bare === '0:0:0:0:0:0:0:1' || bare.startsWith('::ffff:127.');
  return false;
}

export interface GuardInput {
  /** Setting name → URL, e.g. { WEB_BASE_URL: 'http://localhost:3000' }. */
  urls: Record<string, string>;
  allowRemote: boolean;
  allowedHosts: readonly string[];
}

/** Problems (one per refused URL setting), empty when every target may receive load. */
export function remoteTargetProblems(input: GuardInput): string[] {
  if (input.allowRemote) return [];
  const allowed = new Set(input.allowedHosts.map((h) => h.toLowerCase().replace(/^\[|\]$/g, '')));
  const problems: string[] = [];
  for (const [name, url] of Object.entries(input.urls)) {
    let host: string;
    try {
      host = new URL(url).hostname;
    } catch {
      continue; // malformed URLs are the schema's to report
    }
    const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
    if (isLoopbackHost(bare) || allowed.has(bare)) continue;
    problems.push(
      `${name}: host "${bare}" is not loopback; refusing to send load to a remote system by default ` +
        `(a load test can take it down). Set LOADTEST_ALLOW_REMOTE=1 or add "${bare}" to ` +
        'LOADTEST_ALLOWED_HOSTS if you own it and mean it.',
    );
  }
  return problems;
}
