import type { VUEvents } from 'artillery';
import { SignJWT } from 'jose';
import { WebSocket } from 'ws';
import { z } from 'zod';
import { booleanFlag } from '../../config/settings/shared';

/**
 * Tenant-isolation probes (opt-in: ISOLATION_PROBES=true). With tenant A's credentials the
 * scenario tries tenant B's data; any success is a security failure, counted as
 * `security.isolation_breach`, and the scenarios carry a zero-tolerance check on it:
 *
 *   security.isolation_breach == 0
 *
 * Chat: user A (its own session, its own tenant) posts into user B's conversationId. Accepted
 * into B's conversation = breach; refused, or answered in a new conversation of A's = isolated.
 * Terminal: a token scoped to tenant A = the first of the scenario's tenants (an HS256 JWT with A's
 * id in `tenant_id`/`tenantId`/`sub`, signed with API_JWT_SECRET, or ISOLATION_TENANT_TOKEN, which
 * must then be a token of that first tenant) opens tenant B's (the second one's) terminal.
 * Upgraded = breach; 401/403/404 = isolated. The real API (apps/api security.go) accepts any JWT
 * signed with the secret for every tenant and terminal.go never compares the path's tenant with
 * the token: against it this probe reports a breach, which is the truth about that API.
 *
 * A probe that gets no verdict (transport error, timeout) is `security.isolation_inconclusive`.
 * Nothing here prints a token, a cookie or a message body.
 */

export const ISOLATION_METRICS = {
  probes: 'security.isolation_probes',
  breach: 'security.isolation_breach',
  refused: 'security.isolation_refused',
  inconclusive: 'security.isolation_inconclusive',
} as const;

export const ISOLATION_EMITTED_METRICS: readonly string[] = [
  ...Object.values(ISOLATION_METRICS),
  'security.isolation_breach.*',
];

const PROBE_TIMEOUT_MS = 10_000;

/** ISOLATION_PROBES: off unless explicitly switched on (a probe is an attack, even a polite one). */
export function isolationProbesEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const parsed = booleanFlag(false).safeParse(env.ISOLATION_PROBES?.trim().toLowerCase() || undefined);
  return parsed.success && parsed.data;
}

/** Zero counters first: the check must find its metric even in a run where no probe fired. */
export function emitZeroIsolationCounters(events: VUEvents): void {
  for (const name of Object.values(ISOLATION_METRICS)) events.emit('counter', name, 0);
}

let breachPrinted = 0;
function recordVerdict(events: VUEvents, surface: 'chat' | 'terminal', verdict: ProbeVerdict): void {
  events.emit('counter', ISOLATION_METRICS.probes, 1);
  if (verdict.kind === 'breach') {
    events.emit('counter', ISOLATION_METRICS.breach, 1);
    events.emit('counter', `${ISOLATION_METRICS.breach}.${surface}`, 1);
    if (breachPrinted++ < 3) console.error(`[isolation] BREACH (${surface}): ${verdict.detail}`);
  } else if (verdict.kind === 'refused') events.emit('counter', ISOLATION_METRICS.refused, 1);
  else events.emit('counter', ISOLATION_METRICS.inconclusive, 1);
}

export type ProbeVerdict =
  | { kind: 'breach'; detail: string }
  | { kind: 'refused'; status?: number }
  | { kind: 'inconclusive'; detail: string };

// ---- chat -------------------------------------------------------------------------------------

/** What the chat probe needs to know of one answer to /api/chat. */
export type ChatProbeAnswer =
  | { ok: true; conversationId: string }
  | { ok: false; status?: number; cause: string };

/** The chat client's outcome, reduced to what the probe needs. */
export function toChatProbeAnswer(
  outcome: { ok: true; conversationId: string } | { ok: false; status?: number | undefined; cause: string },
): ChatProbeAnswer {
  if (outcome.ok) return { ok: true, conversationId: outcome.conversationId };
  return outcome.status === undefined
    ? { ok: false, cause: outcome.cause }
    : { ok: false, status: outcome.status, cause: outcome.cause };
}

/** What the probe posts: plainly a probe, should a tenant ever see it. */
export const ISOLATION_PROBE_MESSAGE =
  'loadtest isolation probe: this message must not reach this conversation';

/** Conversations of this worker's users, by owner (one user = one tenant on the platform). */
const conversations = new Map<string, string>();
const probedOwners = new Set<string>();

/** A user's conversation, once the platform has named it (the probes' targets). */
export function registerConversation(owner: string, conversationId: string): void {
  conversations.set(owner, conversationId);
}

/** Another user's conversation (so another tenant's), or undefined when this user is alone. */
function foreignConversation(owner: string): string | undefined {
  for (const [other, id] of conversations) if (other !== owner) return id;
  return undefined;
}

/** Classifies the answer to a post into someone else's conversation. */
export function chatProbeVerdict(foreignId: string, answer: ChatProbeAnswer): ProbeVerdict {
  if (answer.ok) {
    if (answer.conversationId.toLowerCase() === foreignId.toLowerCase())
      return { kind: 'breach', detail: "another tenant's conversation accepted the message" };
    // The foreign id was ignored: a new conversation of the sender's own, nothing of B's touched.
    return { kind: 'refused', status: 200 };
  }
  if (answer.status === undefined || answer.cause === 'timeout' || answer.cause === 'connection_error')
    return { kind: 'inconclusive', detail: answer.cause };
  if (answer.status === 429) return { kind: 'inconclusive', detail: 'rate limited' };
  return { kind: 'refused', status: answer.status };
}

/**
 * Once per user (when ISOLATION_PROBES is on and another user's conversation is known): posts one
 * message into that conversation through `send`, the user's own session.
 */
export async function probeChatIsolation(
  events: VUEvents,
  owner: string,
  send: (conversationId: string) => Promise<ChatProbeAnswer>,
): Promise<ProbeVerdict | undefined> {
  if (!isolationProbesEnabled() || probedOwners.has(owner)) return undefined;
  const foreignId = foreignConversation(owner);
  if (!foreignId) return undefined;
  probedOwners.add(owner);
  let verdict: ProbeVerdict;
  try {
    verdict = chatProbeVerdict(foreignId, await send(foreignId));
  } catch (error) {
    verdict = { kind: 'inconclusive', detail: (error as Error).message };
  }
  recordVerdict(events, 'chat', verdict);
  return verdict;
}

// ---- terminal ---------------------------------------------------------------------------------

export interface TerminalProbeTarget {
  apiBaseUrl: string;
  webOrigin: string;
  /** The tenant whose token is used. */
  ownTenantId: string;
  /** The tenant whose terminal is tried. */
  foreignTenantId: string;
  /** A token of tenant A's as given (ISOLATION_TENANT_TOKEN); else one is minted from jwtSecret. */
  tenantToken?: string;
  jwtSecret?: string;
}

/** An HS256 token carrying tenant A's id in every claim a tenant-aware API would read. */
export async function mintTenantToken(secret: string, tenantId: string): Promise<string> {
  return new SignJWT({ tenant_id: tenantId, tenantId, role: 'user' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(tenantId)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(secret));
}

function foreignTerminalUrl(apiBaseUrl: string, tenantId: string): string {
  const url = new URL(`/api/tenants/${encodeURIComponent(tenantId)}/terminal`, apiBaseUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

/** Tries to open tenant B's terminal with tenant A's token; closes at once if it opens. */
export function tryForeignTerminal(url: string, headers: Record<string, string>): Promise<ProbeVerdict> {
  return new Promise((resolve) => {
    let settled = false;
    const ws = new WebSocket(url, { headers, handshakeTimeout: PROBE_TIMEOUT_MS });
    const done = (verdict: ProbeVerdict) => {
      if (settled) return;
      settled = true;
      resolve(verdict);
    };
    ws.on('open', () => {
      done({ kind: 'breach', detail: "a token scoped to one tenant opened another tenant's terminal" });
      ws.close(1000);
    });
    ws.on('unexpected-response', (_request, response) => {
      response.resume();
      const status = response.statusCode ?? 0;
      done(
        status >= 400 && status < 500 && status !== 429
          ? { kind: 'refused', status }
          : { kind: 'inconclusive', detail: `upgrade answered ${status}` },
      );
      ws.terminate();
    });
    // Stray frames or a close after a breach must never reach the worker as an uncaught error.
    ws.on('error', (error) => done({ kind: 'inconclusive', detail: error.message }));
    ws.on('close', () => done({ kind: 'inconclusive', detail: 'closed before a verdict' }));
  });
}

const tokenSettings = z.object({
  ISOLATION_TENANT_TOKEN: z.string().trim().min(1).optional(),
  API_JWT_SECRET: z.string().trim().min(1).optional(),
});

/** Where the terminal probe gets tenant A's token: ISOLATION_TENANT_TOKEN, else minted from API_JWT_SECRET. */
export function terminalTokenSource(env: NodeJS.ProcessEnv = process.env): {
  tenantToken?: string;
  jwtSecret?: string;
} {
  const parsed = tokenSettings.safeParse({
    ISOLATION_TENANT_TOKEN: env.ISOLATION_TENANT_TOKEN || undefined,
    API_JWT_SECRET: env.API_JWT_SECRET || undefined,
  });
  if (!parsed.success) return {};
  return {
    ...(parsed.data.ISOLATION_TENANT_TOKEN ? { tenantToken: parsed.data.ISOLATION_TENANT_TOKEN } : {}),
    ...(parsed.data.API_JWT_SECRET ? { jwtSecret: parsed.data.API_JWT_SECRET } : {}),
  };
}

let terminalProbed = false;

/**
 * Once per worker (when ISOLATION_PROBES is on and there are two tenants and a token source): the
 * terminal probe. Returns undefined when it did not run.
 */
export async function probeTerminalIsolation(
  events: VUEvents,
  target: TerminalProbeTarget,
): Promise<ProbeVerdict | undefined> {
  if (!isolationProbesEnabled() || terminalProbed) return undefined;
  if (target.ownTenantId === target.foreignTenantId) return undefined;
  terminalProbed = true;
  let token = target.tenantToken;
  if (!token && target.jwtSecret) token = await mintTenantToken(target.jwtSecret, target.ownTenantId);
  if (!token) {
    recordVerdict(events, 'terminal', {
      kind: 'inconclusive',
      detail: 'no tenant-scoped token: set API_JWT_SECRET or ISOLATION_TENANT_TOKEN',
    });
    return undefined;
  }
  const verdict = await tryForeignTerminal(foreignTerminalUrl(target.apiBaseUrl, target.foreignTenantId), {
    Origin: target.webOrigin,
    Authorization: `Bearer ${token}`,
  });
  recordVerdict(events, 'terminal', verdict);
  return verdict;
}
