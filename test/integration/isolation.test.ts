import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import type { VUEvents } from 'artillery';
import {
  type ChatProbeAnswer,
  chatProbeVerdict,
  emitZeroIsolationCounters,
  ISOLATION_METRICS,
  probeChatIsolation,
  probeTerminalIsolation,
  registerConversation,
} from '../../processors/lib/isolation';
import { counter, explain, runArtillery, verdict } from '../helpers/artillery';
import { scenarioPath } from '../helpers/paths';
import { type SimulatorHandle, startSimulator } from '../helpers/simulator';

/**
 * Tenant-isolation probes (processors/lib/isolation.ts, opt-in ISOLATION_PROBES=true): with tenant
 * A's credentials try tenant B's conversation and terminal; any success is
 * `security.isolation_breach`, which a zero-tolerance check fails.
 *
 * The simulator isolates conversations by tenant (as the real channel router does: conversation
 * looked up by id AND tenant), so the chat probe finds no breach. Neither it nor the real API
 * scopes tokens to a tenant (apps/api security.go accepts any JWT signed with API_JWT_SECRET for
 * every path, and the terminal handler takes the tenant from the path alone): the terminal probe
 * reports a breach against both, and that failing check is the test that the probe can fail.
 */

const BREACH_CHECK = 'security.isolation_breach == 0';
const TERMINAL_BREACH_CHECK = 'not (terminal.sessions.started > 0) or security.isolation_breach == 0';

class RecordingEvents implements VUEvents {
  readonly counters = new Map<string, number>();
  emit(type: 'counter' | 'histogram' | 'rate', name: string, value?: number): void {
    if (type === 'counter') this.counters.set(name, (this.counters.get(name) ?? 0) + (value ?? 1));
  }
  get(name: string): number {
    return this.counters.get(name) ?? 0;
  }
}

function setCookies(response: Response): string[] {
  return response.headers.getSetCookie().map((c) => c.split(';')[0]!);
}

/** A user of the web app with a session: signup, csrf, credentials callback. */
async function webUser(sim: SimulatorHandle): Promise<{ cookie: string }> {
  const email = `loadtest+isolation-${randomUUID().slice(0, 8)}@example.test`;
  const password = randomUUID();
  const signup = await fetch(`${sim.webUrl}/api/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: sim.webUrl },
    body: JSON.stringify({ email, password }),
  });
  assert.equal(signup.status, 200);
  const csrf = await fetch(`${sim.webUrl}/api/auth/csrf`);
  const { csrfToken } = (await csrf.json()) as { csrfToken: string };
  const callback = await fetch(`${sim.webUrl}/api/auth/callback/credentials`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: setCookies(csrf).join('; ') },
    body: new URLSearchParams({
      csrfToken,
      email,
      password,
      callbackUrl: sim.webUrl,
      json: 'true',
    }).toString(),
  });
  const session = setCookies(callback).find((c) => c.includes('session-token'));
  assert.ok(session, 'logged in');
  return { cookie: session };
}

async function chat(sim: SimulatorHandle, cookie: string, conversationId?: string): Promise<ChatProbeAnswer> {
  const response = await fetch(`${sim.webUrl}/api/chat`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: sim.webUrl, cookie },
    body: JSON.stringify({ message: 'hello', ...(conversationId ? { conversationId } : {}) }),
    redirect: 'manual',
  });
  const text = await response.text();
  if (response.status !== 200) return { ok: false, status: response.status, cause: 'refused' };
  const body = JSON.parse(text) as { conversationId: string };
  return { ok: true, conversationId: body.conversationId };
}

describe('isolation probes (library, against the simulator)', () => {
  let sim: SimulatorHandle;
  const saved = process.env.ISOLATION_PROBES;

  before(async () => {
    sim = await startSimulator({ seedTenants: 2 });
  });
  after(async () => {
    await sim?.stop();
  });
  beforeEach(() => {
    process.env.ISOLATION_PROBES = 'true';
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.ISOLATION_PROBES;
    else process.env.ISOLATION_PROBES = saved;
  });

  it('classifies chat answers: accepted into the foreign conversation is a breach, nothing else', () => {
    const foreign = randomUUID();
    assert.equal(
      chatProbeVerdict(foreign, { ok: true, conversationId: foreign.toUpperCase() }).kind,
      'breach',
    );
    assert.equal(chatProbeVerdict(foreign, { ok: true, conversationId: randomUUID() }).kind, 'refused');
    assert.equal(
      chatProbeVerdict(foreign, { ok: false, status: 500, cause: 'server_error' }).kind,
      'refused',
    );
    assert.equal(chatProbeVerdict(foreign, { ok: false, cause: 'timeout' }).kind, 'inconclusive');
    assert.equal(
      chatProbeVerdict(foreign, { ok: false, status: 429, cause: 'rate_limited' }).kind,
      'inconclusive',
    );
  });

  it("chat: user A posting into user B's conversation is refused by the simulator", async () => {
    const a = await webUser(sim);
    const b = await webUser(sim);
    const own = await chat(sim, a.cookie);
    const theirs = await chat(sim, b.cookie);
    assert.ok(own.ok && theirs.ok);
    registerConversation('user-a', own.conversationId);
    registerConversation('user-b', theirs.conversationId);
    const events = new RecordingEvents();
    emitZeroIsolationCounters(events);
    const result = await probeChatIsolation(events, 'user-a', (id) => chat(sim, a.cookie, id));
    assert.equal(result?.kind, 'refused', JSON.stringify(result));
    assert.equal(events.get(ISOLATION_METRICS.probes), 1);
    assert.equal(events.get(ISOLATION_METRICS.breach), 0);
    // Once per user: a second call sends nothing.
    assert.equal(await probeChatIsolation(events, 'user-a', (id) => chat(sim, a.cookie, id)), undefined);
    assert.equal(events.get(ISOLATION_METRICS.probes), 1);
  });

  it("terminal: a token scoped to tenant A opens tenant B's terminal (no tenant scoping): a breach", async () => {
    const events = new RecordingEvents();
    const [a, b] = sim.tenantIds as [string, string];
    const result = await probeTerminalIsolation(events, {
      apiBaseUrl: sim.apiUrl,
      webOrigin: sim.webUrl,
      ownTenantId: a,
      foreignTenantId: b,
      jwtSecret: sim.jwtSecret,
    });
    assert.equal(result?.kind, 'breach', JSON.stringify(result));
    assert.equal(events.get(ISOLATION_METRICS.breach), 1);
    assert.equal(events.get(`${ISOLATION_METRICS.breach}.terminal`), 1);
  });

  it('off unless ISOLATION_PROBES=true: nothing is sent', async () => {
    process.env.ISOLATION_PROBES = 'false';
    const events = new RecordingEvents();
    const before = (await sim.control.stats()).routes['api.terminal']?.count ?? 0;
    const result = await probeChatIsolation(events, 'user-z', async () => {
      throw new Error('must not be called');
    });
    assert.equal(result, undefined);
    assert.equal(events.get(ISOLATION_METRICS.probes), 0);
    assert.equal((await sim.control.stats()).routes['api.terminal']?.count ?? 0, before);
  });
});

describe('isolation probes in the scenarios (ISOLATION_PROBES=true)', () => {
  it("chat-sessions: users probe each other's conversations, none breaks through, the check passes", async () => {
    const sim = await startSimulator({ args: ['--rate-limit', '100000'] });
    try {
      const result = await runArtillery({
        scenario: scenarioPath('chat-sessions'),
        environment: 'smoke',
        timeoutMs: 90_000,
        env: {
          WEB_BASE_URL: sim.webUrl,
          API_BASE_URL: sim.apiUrl,
          LOADTEST_RUN_ID: `isolation-${randomUUID().slice(0, 6)}`,
          CHAT_DURATION: '4s',
          CHAT_THINK_TIME: '100ms',
          ISOLATION_PROBES: 'true',
        },
      });
      assert.ok(counter(result, ISOLATION_METRICS.probes) >= 2, `probes ran\n${explain(result)}`);
      assert.equal(counter(result, ISOLATION_METRICS.breach), 0);
      assert.equal(verdict(result, BREACH_CHECK)?.ok, true, explain(result));
    } finally {
      await sim.stop();
    }
  });

  it("terminal-ws: tenant A's token opens tenant B's terminal: breach counted, the check fails by name", async () => {
    const sim = await startSimulator({ seedTenants: 2 });
    try {
      const env = {
        API_BASE_URL: sim.apiUrl,
        WEB_BASE_URL: sim.webUrl,
        SERVICE_API_KEY: sim.serviceApiKey,
        API_JWT_SECRET: sim.jwtSecret,
        TENANT_IDS: sim.tenantIds.join(','),
        WS_TENANT_IDS: undefined,
        API_BEARER_TOKEN: undefined,
        WS_DURATION: '2s',
        WS_COMMAND_INTERVAL: '300ms',
      };
      const probed = await runArtillery({
        scenario: scenarioPath('terminal-ws'),
        environment: 'smoke',
        timeoutMs: 90_000,
        env: { ...env, ISOLATION_PROBES: 'true' },
      });
      assert.ok(counter(probed, ISOLATION_METRICS.breach) >= 1, explain(probed));
      assert.equal(probed.exitCode, 1, explain(probed));
      assert.equal(verdict(probed, TERMINAL_BREACH_CHECK)?.ok, false, explain(probed));

      const off = await runArtillery({
        scenario: scenarioPath('terminal-ws'),
        environment: 'smoke',
        timeoutMs: 90_000,
        env: { ...env, ISOLATION_PROBES: undefined },
      });
      assert.equal(counter(off, ISOLATION_METRICS.probes), 0, 'no probe without ISOLATION_PROBES');
      assert.equal(verdict(off, TERMINAL_BREACH_CHECK)?.ok, true, explain(off));
    } finally {
      await sim.stop();
    }
  });
});
