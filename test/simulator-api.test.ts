import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { z } from 'zod';
import { type SimulatorHandle, startSimulator } from './helpers/simulator';

/** Contract tests for the simulator's API server: every API row and fact of CONTRACT.md. */

let sim: SimulatorHandle;

before(async () => {
  sim = await startSimulator({ seedTenants: 3, args: ['--health-interval', '200ms'] });
});

after(async () => {
  await sim?.stop();
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const openAiError = z.object({ error: z.object({ message: z.string(), type: z.string() }) });
const completion = z.object({
  id: z.string(),
  object: z.literal('chat.completion'),
  model: z.string(),
  choices: z
    .array(
      z.object({
        index: z.number(),
        message: z.object({ role: z.literal('assistant'), content: z.string().min(1) }),
        finish_reason: z.string(),
      }),
    )
    .length(1),
  usage: z.object({ prompt_tokens: z.number(), completion_tokens: z.number(), total_tokens: z.number() }),
});
const adminTenant = z.object({
  tenant: z.object({
    id: z.string(),
    container: z.object({
      state: z.enum(['none', 'stopped', 'starting', 'running']),
      running: z.boolean(),
      health: z.enum(['none', 'starting', 'healthy', 'unhealthy']),
      started_at: z.string().nullable(),
    }),
  }),
});

function jwt(claims: Record<string, unknown>, secret = sim.jwtSecret): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(secret));
}

const serviceKey = () => ({ 'x-service-api-key': sim.serviceApiKey });

async function api(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${sim.apiUrl}${path}`, init);
}

async function json(response: Response): Promise<unknown> {
  return JSON.parse(await response.text());
}

function completionRequest(tenantId: string, body: unknown, headers: Record<string, string> = {}) {
  return api('/v1/chat/completions', {
    method: 'POST',
    headers: { ...serviceKey(), 'x-tenant-id': tenantId, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

const hello = { model: 'openai/gpt-4.1-mini', messages: [{ role: 'user', content: 'hello' }] };

async function freshTenant(
  options: { container?: 'none' | 'stopped' | 'running'; creditsCents?: number } = {},
) {
  const { tenantIds } = await sim.control.seedTenants(1, 'api-test', options);
  return tenantIds[0]!;
}

async function adminGetTenant(id: string) {
  const token = await jwt({ sub: 'admin', isAdmin: true });
  const response = await api(`/api/admin/tenants/${id}`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(response.status, 200);
  return adminTenant.parse(await json(response)).tenant;
}

async function waitFor<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await probe();
  while (!done(value)) {
    if (Date.now() > deadline)
      throw new Error(`condition not met in ${timeoutMs} ms: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
    value = await probe();
  }
  return value;
}

describe('public routes and fallback', () => {
  test('GET /health answers {"status":"ok"} without auth', async () => {
    const response = await api('/health');
    assert.equal(response.status, 200);
    assert.deepEqual(await json(response), { status: 'ok' });
  });

  test('any other GET is the greeting, any other POST is 405 with Allow: GET, HEAD', async () => {
    for (const path of ['/', '/nothing/here']) {
      const response = await api(path);
      assert.equal(response.status, 200);
      assert.equal(await response.text(), 'Hello from AgentSquads API');
    }
    const post = await api('/nothing/here', { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    await post.text();
  });

  test('the web chat streaming route does not exist on the API: 405', async () => {
    const response = await api('/api/channels/inbound/stream', {
      method: 'POST',
      headers: { ...serviceKey(), 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(response.status, 405);
    await response.text();
  });
});

describe('API auth', () => {
  test('no credentials, a wrong key or a JWT with the wrong secret: 401 {"error":"Unauthorized"}', async () => {
    const badJwt = await jwt({ sub: 'x' }, 'not-the-secret-at-all');
    const attempts: Record<string, string>[] = [
      {},
      { 'x-service-api-key': 'wrong' },
      { authorization: `Bearer ${badJwt}` },
    ];
    for (const headers of attempts) {
      for (const [method, path] of [
        ['GET', '/v1/models'],
        ['POST', `/api/tenants/${sim.tenantIds[0]}/resume`],
        ['GET', `/api/admin/tenants/${sim.tenantIds[0]}`],
      ] as const) {
        const response = await api(path, { method, headers });
        assert.equal(response.status, 401, `${method} ${path}`);
        assert.deepEqual(await json(response), { error: 'Unauthorized' });
      }
    }
  });

  test('service key and HS256 JWT both authenticate', async () => {
    const viaKey = await api('/v1/models', { headers: serviceKey() });
    assert.equal(viaKey.status, 200);
    await viaKey.text();
    const token = await jwt({ sub: 'user-1' });
    const viaJwt = await api('/v1/models', { headers: { authorization: `Bearer ${token}` } });
    assert.equal(viaJwt.status, 200);
    await viaJwt.text();
  });

  test('admin routes need admin claims: service key or a plain JWT get 403 {"error":"forbidden"}', async () => {
    const plain = await jwt({ sub: 'user-1', role: 'member' });
    for (const headers of [serviceKey(), { authorization: `Bearer ${plain}` }]) {
      const response = await api(`/api/admin/tenants/${sim.tenantIds[0]}`, { headers });
      assert.equal(response.status, 403);
      assert.deepEqual(await json(response), { error: 'forbidden' });
    }
    for (const claims of [
      { isAdmin: true },
      { is_admin: true },
      { role: 'admin' },
      { roles: ['user', 'admin'] },
    ]) {
      const token = await jwt({ sub: 'admin', ...claims });
      const response = await api(`/api/admin/tenants/${sim.tenantIds[0]}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(response.status, 200, JSON.stringify(claims));
      await response.text();
    }
  });
});

describe('LLM proxy', () => {
  test('GET /v1/models lists models with the real id style', async () => {
    const response = await api('/v1/models', { headers: serviceKey() });
    const body = z
      .object({
        object: z.literal('list'),
        data: z.array(z.object({ id: z.string(), object: z.literal('model'), owned_by: z.string() })),
      })
      .parse(await json(response));
    const ids = body.data.map((m) => m.id);
    assert.ok(ids.includes('openai/gpt-4.1-mini'));
    assert.ok(ids.includes('anthropic/claude-sonnet-4-6'));
    for (const model of body.data) assert.equal(model.id.split('/')[0], model.owned_by);
  });

  test('a completion answers the OpenAI shape with usage and Server-Timing upstream/app', async () => {
    const response = await completionRequest(sim.tenantIds[0]!, hello);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /application\/json/);
    assert.match(
      response.headers.get('server-timing') ?? '',
      /^upstream;dur=\d+(\.\d+)?, app;dur=\d+(\.\d+)?$/,
    );
    const body = completion.parse(await json(response));
    assert.equal(body.model, 'openai/gpt-4.1-mini');
    assert.equal(body.usage.total_tokens, body.usage.prompt_tokens + body.usage.completion_tokens);
  });

  test('missing X-Tenant-ID: 401 in the OpenAI error shape', async () => {
    const response = await api('/v1/chat/completions', {
      method: 'POST',
      headers: { ...serviceKey(), 'content-type': 'application/json' },
      body: JSON.stringify(hello),
    });
    assert.equal(response.status, 401);
    openAiError.parse(await json(response));
  });

  test('strict JSON: unknown fields, wrong types, bad JSON and 0 or 101 messages are 400', async () => {
    const bodies: unknown[] = [
      { ...hello, stream_options: { include_usage: true } },
      { ...hello, messages: [{ role: 'user', content: 'x', name: 'n' }] },
      { ...hello, temperature: 'hot' },
      { ...hello, messages: [{ role: 'user', content: [{ type: 'text', text: 'x' }] }] },
      '{"model":',
      { ...hello, messages: [] },
      { ...hello, messages: Array.from({ length: 101 }, () => ({ role: 'user', content: 'x' })) },
    ];
    for (const body of bodies) {
      const response = await completionRequest(sim.tenantIds[0]!, body);
      assert.equal(response.status, 400, JSON.stringify(body).slice(0, 80));
      assert.equal(openAiError.parse(await json(response)).error.type, 'invalid_request_error');
    }
    const hundred = await completionRequest(sim.tenantIds[0]!, {
      ...hello,
      messages: Array.from({ length: 100 }, () => ({ role: 'user', content: 'x' })),
    });
    assert.equal(hundred.status, 200);
    await hundred.text();
  });

  test('unknown model: 400 "model not found: X"', async () => {
    const response = await completionRequest(sim.tenantIds[0]!, { ...hello, model: 'openai/gpt-9' });
    assert.equal(response.status, 400);
    assert.equal(openAiError.parse(await json(response)).error.message, 'model not found: openai/gpt-9');
  });

  test('billing: a new tenant has 1000 cents, every call costs at least 1 cent', async () => {
    const id = await freshTenant();
    assert.equal((await sim.control.tenant(id)).creditsCents, 1000);
    for (let i = 0; i < 3; i++) {
      const response = await completionRequest(id, hello);
      assert.equal(response.status, 200);
      await response.text();
    }
    assert.ok((await sim.control.tenant(id)).creditsCents <= 997);
  });

  test('balance <= 0 pauses the tenant and the next call gets 402 billing_error', async () => {
    const id = await freshTenant({ creditsCents: 1 });
    const before = (await sim.control.stats()).llm.paymentRequired;
    const last = await completionRequest(id, hello);
    assert.equal(last.status, 200);
    await last.text();
    const drained = await sim.control.tenant(id);
    assert.ok(drained.creditsCents <= 0);
    assert.equal(drained.status, 'paused');
    const refused = await completionRequest(id, hello);
    assert.equal(refused.status, 402);
    assert.deepEqual(await json(refused), {
      error: { message: 'Insufficient credits', type: 'billing_error' },
    });
    assert.equal((await sim.control.stats()).llm.paymentRequired, before + 1);
  });

  test('stream: true answers SSE chunks, usage in the last chunk, then data: [DONE]', async () => {
    const response = await completionRequest(sim.tenantIds[1]!, { ...hello, stream: true, max_tokens: 5 });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    // Headers leave before the answer: upstream here is the time to the first token.
    assert.match(response.headers.get('server-timing') ?? '', /^upstream;dur=[\d.]+, app;dur=[\d.]+$/);
    const events = (await response.text())
      .split('\n\n')
      .filter((e) => e.trim() !== '')
      .map((e) => e.replace(/^data: /, ''));
    assert.equal(events.at(-1), '[DONE]');
    const chunks = events.slice(0, -1).map((e) =>
      z
        .object({
          object: z.literal('chat.completion.chunk'),
          choices: z.array(z.object({ delta: z.object({ content: z.string().optional() }) })),
          usage: z.object({ completion_tokens: z.number(), total_tokens: z.number() }).optional(),
        })
        .parse(JSON.parse(e)),
    );
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    assert.ok(text.length > 0);
    assert.equal(chunks.at(-1)?.usage?.completion_tokens, 5);
    assert.ok(chunks.slice(0, -1).every((c) => c.usage === undefined));
  });
});

describe('body limit', () => {
  test('bodies over 1 MiB are refused with 413, just under is read', async () => {
    const big = JSON.stringify({ ...hello, messages: [{ role: 'user', content: 'x'.repeat(1024 * 1024) }] });
    const refused = await completionRequest(sim.tenantIds[2]!, big);
    assert.equal(refused.status, 413);
    await refused.text();
    const fits = JSON.stringify({ ...hello, messages: [{ role: 'user', content: 'x'.repeat(1000 * 1000) }] });
    const accepted = await completionRequest(sim.tenantIds[2]!, fits);
    assert.equal(accepted.status, 200);
    await accepted.text();
  });
});

describe('tenant resume and containers', () => {
  const resume = (id: string) => api(`/api/tenants/${id}/resume`, { method: 'POST', headers: serviceKey() });
  const admin = async (method: string, path: string) =>
    api(path, { method, headers: { authorization: `Bearer ${await jwt({ sub: 'a', isAdmin: true })}` } });

  test('resuming a running container is a no-op answering {"status":"active"}', async () => {
    const id = await freshTenant();
    const before = await adminGetTenant(id);
    const response = await resume(id);
    assert.equal(response.status, 200);
    assert.deepEqual(await json(response), { status: 'active' });
    const after = await adminGetTenant(id);
    assert.equal(after.container.started_at, before.container.started_at);
    assert.equal(after.container.state, 'running');
  });

  test('no container: 500 failed to resume tenant; non-UUID or unknown id: 500 billing error', async () => {
    const id = await freshTenant({ container: 'none' });
    const none = await resume(id);
    assert.equal(none.status, 500);
    assert.deepEqual(await json(none), { error: 'failed to resume tenant' });
    for (const bad of ['not-a-uuid', '00000000-0000-4000-8000-000000000000']) {
      const response = await resume(bad);
      assert.equal(response.status, 500);
      assert.deepEqual(await json(response), { error: 'billing error' });
    }
  });

  test('no credits: 402 {"error":"insufficient credits"}', async () => {
    const id = await freshTenant({ container: 'stopped', creditsCents: 0 });
    const response = await resume(id);
    assert.equal(response.status, 402);
    assert.deepEqual(await json(response), { error: 'insufficient credits' });
  });

  test('a stopped container: 200 once the start call returns, readiness shows later on the admin route', async () => {
    const id = await freshTenant({ container: 'stopped' });
    const stopped = await adminGetTenant(id);
    assert.deepEqual(stopped.container, {
      state: 'stopped',
      running: false,
      health: 'none',
      started_at: null,
    });
    const response = await resume(id);
    assert.equal(response.status, 200);
    assert.deepEqual(await json(response), { status: 'active' });
    const starting = await adminGetTenant(id);
    assert.equal(starting.container.state, 'starting');
    assert.equal(starting.container.running, false);
    assert.ok(starting.container.started_at);
    const running = await waitFor(
      () => adminGetTenant(id),
      (t) => t.container.running,
    );
    assert.equal(running.container.state, 'running');
    const healthy = await waitFor(
      () => adminGetTenant(id),
      (t) => t.container.health === 'healthy',
    );
    assert.equal(healthy.container.running, true);
    assert.ok((await sim.control.stats()).containers.coldStarts >= 1);
  });

  test('admin suspend stops the container; admin resume starts it (start) or creates it (create)', async () => {
    const id = await freshTenant();
    const suspend = await admin('POST', `/api/admin/tenants/${id}/suspend`);
    assert.equal(suspend.status, 200);
    await suspend.text();
    assert.equal((await adminGetTenant(id)).container.state, 'stopped');
    const restart = await admin('POST', `/api/admin/tenants/${id}/resume`);
    assert.equal(restart.status, 200);
    assert.deepEqual(await json(restart), { tenant_id: id, status: 'active', restart_mode: 'start' });
    await waitFor(
      () => adminGetTenant(id),
      (t) => t.container.health === 'healthy',
    );

    const bare = await freshTenant({ container: 'none' });
    assert.equal((await adminGetTenant(bare)).container.state, 'none');
    const create = await admin('POST', `/api/admin/tenants/${bare}/resume`);
    assert.equal(create.status, 200);
    assert.deepEqual(await json(create), { tenant_id: bare, status: 'active', restart_mode: 'create' });
    const ready = await waitFor(
      () => adminGetTenant(bare),
      (t) => t.container.health === 'healthy',
    );
    assert.equal(ready.container.running, true);
    // Once created, the tenant route resumes it too.
    const again = await resume(bare);
    assert.equal(again.status, 200);
    await again.text();
  });

  test('admin routes answer 404 for an unknown tenant', async () => {
    const response = await admin('GET', '/api/admin/tenants/00000000-0000-4000-8000-000000000000');
    assert.equal(response.status, 404);
    await response.text();
  });
});

describe('channels inbound', () => {
  const inbound = (body: unknown, headers: Record<string, string> = serviceKey()) =>
    api('/api/channels/inbound', {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const answer = z.object({
    tenant_id: z.string(),
    content: z.string().min(1),
    channel: z.literal('web'),
    conversation_id: z.string().regex(UUID),
  });

  test('runs two billed LLM calls and answers {tenant_id, content, channel, conversation_id}', async () => {
    const id = await freshTenant();
    const before = (await sim.control.stats()).llm.calls;
    const response = await inbound({ tenant_id: id, content: 'hi', channel: 'web', metadata: {} });
    assert.equal(response.status, 200);
    const first = answer.parse(await json(response));
    assert.equal(first.tenant_id, id);
    assert.equal((await sim.control.stats()).llm.calls - before, 2);
    assert.ok((await sim.control.tenant(id)).creditsCents <= 998);
    const next = await inbound({
      tenant_id: id,
      content: 'and then?',
      channel: 'web',
      metadata: { conversation_id: first.conversation_id },
    });
    assert.equal(answer.parse(await json(next)).conversation_id, first.conversation_id);
  });

  test('conversation id by either metadata key; an unknown one is 400; an unknown tenant 500', async () => {
    const id = await freshTenant();
    const first = answer.parse(await json(await inbound({ tenantId: id, content: ' hi ', channel: 'web' })));
    const again = await inbound({
      tenant_id: id,
      content: 'more',
      channel: 'web',
      metadata: { conversationId: first.conversation_id },
    });
    assert.equal(answer.parse(await json(again)).conversation_id, first.conversation_id);
    const foreign = await inbound({
      tenant_id: sim.tenantIds[2]!,
      content: 'x',
      channel: 'web',
      metadata: { conversation_id: first.conversation_id },
    });
    assert.equal(foreign.status, 400);
    assert.deepEqual(await json(foreign), { error: 'conversation not found' });
    const unknown = await inbound({
      tenant_id: '00000000-0000-4000-8000-000000000000',
      content: 'x',
      channel: 'web',
      metadata: {},
    });
    assert.equal(unknown.status, 500);
    await unknown.text();
  });

  test('service key only, strict JSON, valid channel', async () => {
    const id = sim.tenantIds[2]!;
    const token = await jwt({ sub: 'u' });
    const viaJwt = await inbound(
      { tenant_id: id, content: 'hi', channel: 'web', metadata: {} },
      { authorization: `Bearer ${token}` },
    );
    assert.equal(viaJwt.status, 401);
    await viaJwt.text();
    for (const [body, error] of [
      [{ tenant_id: id, content: 'hi', channel: 'web', metadata: {}, extra: 1 }, 'invalid JSON body'],
      [{ tenant_id: id, content: 'hi', channel: 'web', metadata: { n: 1 } }, 'invalid JSON body'],
      ['{"tenant_id":', 'invalid JSON body'],
      [{ tenant_id: id, content: 'hi', channel: 'fax', metadata: {} }, 'unsupported channel: fax'],
      [{ tenant_id: ' ', content: 'hi', channel: 'web' }, 'tenant id is required'],
      [{ tenant_id: id, content: '  ', channel: 'web' }, 'content is required'],
    ] as const) {
      const response = await inbound(body);
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.deepEqual(await json(response), { error });
    }
  });
});

describe('bad requests', () => {
  test('arbitrary bodies never get a 5xx, a crash or a hang, and the server stays up', async () => {
    const body = fc.oneof(
      fc.json(),
      fc.string(),
      fc.record({ model: fc.constant('openai/gpt-4.1-mini'), messages: fc.anything() }),
      // A valid channel with an unknown tenant is a 500 on the real router too, so channels stay invalid.
      fc.record({
        tenant_id: fc.anything(),
        content: fc.anything(),
        channel: fc.string().filter((c) => !['web', 'telegram', 'whatsapp'].includes(c.trim().toLowerCase())),
        metadata: fc.anything(),
      }),
    );
    await fc.assert(
      fc.asyncProperty(
        body,
        fc.constantFrom('/v1/chat/completions', '/api/channels/inbound'),
        async (value, path) => {
          const response = await api(path, {
            method: 'POST',
            headers: {
              ...serviceKey(),
              'x-tenant-id': sim.tenantIds[2]!,
              'content-type': 'application/json',
            },
            body: typeof value === 'string' ? value : JSON.stringify(value),
            signal: AbortSignal.timeout(5000),
          });
          await response.text();
          // A body that happens to be valid may succeed; nothing may be a server error.
          assert.ok(response.status < 500, `${path} ${response.status}`);
        },
      ),
      { numRuns: 150 },
    );
    const health = await api('/health');
    assert.equal(health.status, 200);
    await health.text();
  });
});

describe('ground truth', () => {
  test('per-route stats and in-flight counts: 20 concurrent completions are seen in flight', async () => {
    await sim.control.patchLatency({
      models: { ...(await sim.control.getLatency()).models, modelFirstToken: { kind: 'fixed', ms: 400 } },
    });
    try {
      await sim.control.resetStats();
      const calls = Array.from({ length: 20 }, () => completionRequest(sim.tenantIds[2]!, hello));
      const mid = await waitFor(
        () => sim.control.stats(),
        (s) => s.inFlight.llm.current === 20,
        3000,
      );
      assert.equal(mid.inFlight.llm.max, 20);
      const responses = await Promise.all(calls);
      for (const r of responses) await r.text();
      const stats = await sim.control.stats();
      assert.equal(stats.inFlight.llm.current, 0);
      assert.equal(stats.routes['api.completions']?.status['200'], 20);
      const latency = stats.routes['api.completions']!.latencyMs;
      assert.ok(latency.p50 >= 390 && latency.p99 >= latency.p50, JSON.stringify(latency));
      assert.ok(stats.llm.upstreamMs.p50 >= 390);
      assert.equal(stats.llm.calls, 20);
      assert.equal(stats.llm.totalTokens, stats.llm.promptTokens + stats.llm.completionTokens);
      assert.ok(stats.llm.centsBilled >= 20);
    } finally {
      await sim.control.patchLatency({ profile: 'fast' });
    }
  });
});
