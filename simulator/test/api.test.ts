import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
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
/** tenantContainerSnapshot of routes/admin.go: `{"state":"not_provisioned"}` or docker's view. */
const containerView = z.union([
  z.strictObject({ state: z.literal('not_provisioned') }),
  z.strictObject({
    id: z.string().regex(/^[0-9a-f]{64}$/),
    state: z.enum(['running', 'stopped']),
    running: z.boolean(),
    health: z.enum(['starting', 'healthy', 'unhealthy', 'unknown']),
    started_at: z.string().nullable(),
    memory_mb: z.literal(0),
    cpu_pct: z.literal(0),
  }),
]);
const usageTotals = {
  total_input_tokens: z.number(),
  total_output_tokens: z.number(),
  total_tokens: z.number(),
  total_revenue_cents: z.number(),
};
const adminTenant = z.object({
  tenant: z.strictObject({
    id: z.string(),
    user_id: z.string().regex(UUID),
    email: z.string().nullable(),
    status: z.enum(['active', 'paused', 'suspended']),
    container_id: z.string().nullable(),
    container: containerView,
    credits_balance_cents: z.number(),
    created_at: z.string(),
    config: z.strictObject({ policies: z.array(z.unknown()), channels: z.array(z.unknown()) }),
    usage: z.strictObject({
      ...usageTotals,
      tokens_today: z.number(),
      tokens_week: z.number(),
      tokens_month: z.number(),
      by_model: z.array(
        z.strictObject({
          model: z.string(),
          input_tokens: z.number(),
          output_tokens: z.number(),
          total_tokens: z.number(),
          revenue_cents: z.number(),
          last_used_at: z.string().nullable(),
        }),
      ),
    }),
  }),
});

function dockerState(container: z.infer<typeof containerView>) {
  if (container.state === 'not_provisioned') return { state: container.state };
  return { state: container.state, running: container.running, health: container.health };
}

/** Go's encoder: map keys sorted at every level, and a newline after the value. */
function assertGoEncoded(text: string): void {
  assert.ok(text.endsWith('}\n'), JSON.stringify(text.slice(-20)));
  const check = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(check);
    else if (value !== null && typeof value === 'object') {
      const keys = Object.keys(value);
      assert.deepEqual(keys, [...keys].sort(), `keys in Go's order: ${keys.join(',')}`);
      Object.values(value).forEach(check);
    }
  };
  check(JSON.parse(text));
}

function jwt(claims: Record<string, unknown>, secret = sim.jwtSecret, alg = 'HS256'): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg })
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

async function adminHeaders(): Promise<Record<string, string>> {
  return { authorization: `Bearer ${await jwt({ sub: 'admin', isAdmin: true })}` };
}

async function adminGetTenant(id: string) {
  const response = await api(`/api/admin/tenants/${id}`, { headers: await adminHeaders() });
  assert.equal(response.status, 200);
  const text = await response.text();
  assertGoEncoded(text);
  return adminTenant.parse(JSON.parse(text)).tenant;
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
      // fmt.Fprintln: with a newline.
      assert.equal(await response.text(), 'Hello from AgentSquads API\n');
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
    const path = `/api/admin/tenants/${sim.tenantIds[0]}`;
    const plain = await jwt({ sub: 'user-1', role: 'member' });
    for (const headers of [serviceKey(), { authorization: `Bearer ${plain}` }]) {
      const response = await api(path, { headers });
      assert.equal(response.status, 403);
      assert.equal(await response.text(), '{"error":"forbidden"}\n');
    }
    // middleware/admin.go: boolClaim, isAdminRole, roles as a list or a comma-separated string, the allowlist.
    const admins: Record<string, unknown>[] = [
      { isAdmin: true },
      { is_admin: true },
      { is_admin: 'true' },
      { isAdmin: '1' },
      { is_admin: ' YES ' },
      { is_admin: 1 },
      { role: 'admin' },
      { role: 'Platform_Admin' },
      { role: 'super-admin' },
      { role: 'superadmin' },
      { roles: ['user', 'admin'] },
      { roles: ['super_admin'] },
      { roles: 'user, platform-admin' },
    ];
    for (const claims of admins) {
      const token = await jwt({ sub: 'admin', ...claims });
      const response = await api(path, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(response.status, 200, JSON.stringify(claims));
      await response.text();
    }
    const notAdmins: Record<string, unknown>[] = [
      { is_admin: 'no' },
      { isAdmin: 0 },
      { isAdmin: false, role: 'owner' },
      { roles: 'user admin' },
      { roles: [1, 'member'] },
      { email: 'someone@example.com' },
    ];
    for (const claims of notAdmins) {
      const token = await jwt({ sub: 'x', ...claims });
      const response = await api(path, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(response.status, 403, JSON.stringify(claims));
      await response.text();
    }
  });

  test('the admin check reads the Bearer JWT even when the service key authenticated the request', async () => {
    const path = `/api/admin/tenants/${sim.tenantIds[0]}`;
    const token = await jwt({ sub: 'admin', role: 'admin' });
    const both = await api(path, { headers: { ...serviceKey(), authorization: `Bearer ${token}` } });
    assert.equal(both.status, 200);
    await both.text();
    // ApplyAdmin matches the scheme case-insensitively; applyAuth cuts only "Bearer", so a lower-case
    // scheme needs the service key to get past the outer check.
    const lower = await api(path, { headers: { ...serviceKey(), authorization: `bearer ${token}` } });
    assert.equal(lower.status, 200);
    await lower.text();
    const lowerAlone = await api(path, { headers: { authorization: `bearer ${token}` } });
    assert.equal(lowerAlone.status, 401);
    await lowerAlone.text();
  });

  test('JWTs: any HMAC algorithm verifies; a bare token without "Bearer" is taken as is', async () => {
    for (const alg of ['HS384', 'HS512']) {
      const token = await jwt({ sub: 'u' }, sim.jwtSecret, alg);
      const response = await api('/v1/models', { headers: { authorization: `Bearer ${token}` } });
      assert.equal(response.status, 200, alg);
      await response.text();
    }
    const bare = await api('/v1/models', { headers: { authorization: await jwt({ sub: 'u' }) } });
    assert.equal(bare.status, 200);
    await bare.text();
  });

  test('every path under /api/admin is guarded, mounted or not; webhooks are public by exact path only', async () => {
    const plain = { authorization: `Bearer ${await jwt({ sub: 'u' })}` };
    const guarded = await api('/api/admin/nothing', { headers: plain });
    assert.equal(guarded.status, 403);
    await guarded.text();
    const greeted = await api('/api/admin/nothing', { headers: await adminHeaders() });
    assert.equal(greeted.status, 200);
    assert.equal(await greeted.text(), 'Hello from AgentSquads API\n');
    const webhook = await api('/api/channels/telegram/webhook');
    assert.equal(webhook.status, 200);
    await webhook.text();
    const notWebhook = await api('/api/channels/telegram');
    assert.equal(notWebhook.status, 401);
    assert.equal(await notWebhook.text(), '{"error":"Unauthorized"}\n');
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
    // The provider's model name (resolveProviderModelID): the registry id without its prefix.
    assert.equal(body.model, 'gpt-4.1-mini');
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

  test('validation in the real order, with its messages', async () => {
    const id = sim.tenantIds[0]!;
    const cases: [unknown, string][] = [
      [{ ...hello, model: '  ' }, 'model is required'],
      ['null', 'model is required'],
      [{ ...hello, messages: [] }, 'messages are required'],
      [{ ...hello, messages: null }, 'messages are required'],
      [
        { ...hello, messages: Array.from({ length: 101 }, () => ({ role: 'user', content: 'x' })) },
        'too many messages',
      ],
      [{ ...hello, messages: [{ role: 'user', content: '  ' }] }, 'messages must include role and content'],
      [{ ...hello, messages: [{ content: 'x' }] }, 'messages must include role and content'],
      [{ ...hello, messages: [null] }, 'messages must include role and content'],
      [{ ...hello, model: ' openai/gpt-9 ' }, 'model not found: openai/gpt-9'],
      ['{"model":"openai/gpt-4.1-mini"} {}', 'invalid request body'],
    ];
    for (const [body, message] of cases) {
      const response = await completionRequest(id, body);
      assert.equal(response.status, 400, JSON.stringify(body).slice(0, 80));
      const text = await response.text();
      assert.equal(text, `${JSON.stringify({ error: { message, type: 'invalid_request_error' } })}\n`);
    }
    // Go's decoder matches field names case-insensitively: these are known fields, not unknown ones.
    const folded = await completionRequest(id, {
      Model: 'openai/gpt-4.1-mini',
      MESSAGES: [{ Role: 'user', CONTENT: 'hi' }],
    });
    assert.equal(folded.status, 200);
    await folded.text();
  });

  test('X-Tenant-ID: blank is 401 missing; non-UUID 500 billing error; unknown tenant 402', async () => {
    // HTTP trims header values (Go's textproto as Node's parser): a blank one is a missing one.
    const blank = await completionRequest('  ', hello);
    assert.equal(blank.status, 401);
    assert.equal(openAiError.parse(await json(blank)).error.message, 'missing X-Tenant-ID header');
    const padded = await completionRequest(` ${sim.tenantIds[0]!.toUpperCase()} `, hello);
    assert.equal(padded.status, 200);
    await padded.text();
    const notUuid = await completionRequest('tenant-1', hello);
    assert.equal(notUuid.status, 500);
    assert.deepEqual(await json(notUuid), {
      error: { message: 'billing error', type: 'invalid_request_error' },
    });
    // No credits row: CheckCredits reads a balance of 0.
    const unknown = await completionRequest('00000000-0000-4000-8000-000000000000', hello);
    assert.equal(unknown.status, 402);
    assert.deepEqual(await json(unknown), {
      error: { message: 'Insufficient credits', type: 'billing_error' },
    });
  });

  test('the Content-Type is never parsed: a malformed one reaches the handler (no 415)', async () => {
    for (const type of [';;;', 'foo', 'a/b/c']) {
      const response = await completionRequest(sim.tenantIds[0]!, hello, { 'content-type': type });
      assert.equal(response.status, 200, type);
      await response.text();
    }
  });

  test("error text is escaped as Go's encoder does (<, >, &)", async () => {
    const response = await completionRequest(sim.tenantIds[0]!, { ...hello, model: '<b>&' });
    assert.equal(response.status, 400);
    assert.equal(
      await response.text(),
      '{"error":{"message":"model not found: \\u003cb\\u003e\\u0026","type":"invalid_request_error"}}\n',
    );
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
    // PauseTenant also stops the tenant's container.
    const view = await adminGetTenant(id);
    assert.equal(view.status, 'paused');
    assert.deepEqual(dockerState(view.container), { state: 'stopped', running: false, health: 'unhealthy' });
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
  test("bodies over 1 MiB fail the handler's decode (its 400) and close the connection; just under is read", async () => {
    const big = JSON.stringify({ ...hello, messages: [{ role: 'user', content: 'x'.repeat(1024 * 1024) }] });
    const refused = await completionRequest(sim.tenantIds[2]!, big);
    assert.equal(refused.status, 400);
    assert.equal(refused.headers.get('connection'), 'close');
    assert.equal(openAiError.parse(await json(refused)).error.message, 'invalid request body');
    // A route that never reads its body answers as usual.
    const resumed = await api(`/api/tenants/${sim.tenantIds[2]}/resume`, {
      method: 'POST',
      headers: serviceKey(),
      body: big,
    });
    assert.equal(resumed.status, 200);
    await resumed.text();
    const fits = JSON.stringify({ ...hello, messages: [{ role: 'user', content: 'x'.repeat(1000 * 1000) }] });
    const accepted = await completionRequest(sim.tenantIds[2]!, fits);
    assert.equal(accepted.status, 200);
    await accepted.text();
  });
});

describe('tenant resume and containers', () => {
  const resume = (id: string) => api(`/api/tenants/${id}/resume`, { method: 'POST', headers: serviceKey() });
  const admin = async (method: string, path: string, body?: unknown) =>
    api(path, {
      method,
      headers: { ...(await adminHeaders()), 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });

  test('resuming a running container is a no-op answering {"status":"active"}', async () => {
    const id = await freshTenant();
    const before = await adminGetTenant(id);
    const response = await resume(id);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), '{"status":"active"}\n');
    const after = await adminGetTenant(id);
    assert.deepEqual(after.container, before.container);
    assert.deepEqual(dockerState(after.container), { state: 'running', running: true, health: 'healthy' });
  });

  test('non-UUID id: 500 billing error; unknown tenant: 402 (no credits row); no container: 500, status set active first', async () => {
    const notUuid = await resume('not-a-uuid');
    assert.equal(notUuid.status, 500);
    assert.equal(await notUuid.text(), '{"error":"billing error"}\n');
    const unknown = await resume('00000000-0000-4000-8000-000000000000');
    assert.equal(unknown.status, 402);
    assert.deepEqual(await json(unknown), { error: 'insufficient credits' });

    const id = await freshTenant({ container: 'none' });
    const suspend = await admin('POST', `/api/admin/tenants/${id}/suspend`);
    assert.equal(suspend.status, 200);
    await suspend.text();
    assert.equal((await adminGetTenant(id)).status, 'suspended');
    const none = await resume(id);
    assert.equal(none.status, 500);
    assert.deepEqual(await json(none), { error: 'failed to resume tenant' });
    // ResumeTenant updates the status before it tries the container.
    assert.equal((await adminGetTenant(id)).status, 'active');
  });

  test('no credits: 402 {"error":"insufficient credits"}', async () => {
    const id = await freshTenant({ container: 'stopped', creditsCents: 0 });
    const response = await resume(id);
    assert.equal(response.status, 402);
    assert.deepEqual(await json(response), { error: 'insufficient credits' });
  });

  test('a stopped container: 200 once the start call returns; docker shows it running, health starting, then healthy', async () => {
    const id = await freshTenant({ container: 'stopped' });
    const stopped = await adminGetTenant(id);
    assert.deepEqual(dockerState(stopped.container), {
      state: 'stopped',
      running: false,
      health: 'unhealthy',
    });
    assert.equal(stopped.container_id, (stopped.container as { id: string }).id);
    const response = await resume(id);
    assert.equal(response.status, 200);
    assert.deepEqual(await json(response), { status: 'active' });
    // Never a "starting" state: the cold start is the time the health check says "starting".
    const starting = await adminGetTenant(id);
    assert.deepEqual(dockerState(starting.container), {
      state: 'running',
      running: true,
      health: 'starting',
    });
    assert.ok((starting.container as { started_at: string | null }).started_at);
    const healthy = await waitFor(
      () => adminGetTenant(id),
      (t) => dockerState(t.container).health === 'healthy',
    );
    assert.equal(dockerState(healthy.container).state, 'running');
    assert.ok((await sim.control.stats()).containers.coldStarts >= 1);
  });

  test('admin suspend: exact body, status "suspended" on the wire (paused in the control view), container stopped keeping started_at', async () => {
    const id = await freshTenant();
    const startedAt = ((await adminGetTenant(id)).container as { started_at: string | null }).started_at;
    assert.ok(startedAt);
    const suspend = await admin('POST', `/api/admin/tenants/${id}/suspend`);
    assert.equal(suspend.status, 200);
    assert.equal(await suspend.text(), `{"status":"suspended","tenant_id":"${id}"}\n`);
    const view = await adminGetTenant(id);
    assert.equal(view.status, 'suspended');
    assert.deepEqual(dockerState(view.container), { state: 'stopped', running: false, health: 'unhealthy' });
    assert.equal((view.container as { started_at: string | null }).started_at, startedAt);
    assert.equal((await sim.control.tenant(id)).status, 'paused');

    const restart = await admin('POST', `/api/admin/tenants/${id}/resume`);
    assert.equal(restart.status, 200);
    assert.equal(await restart.text(), `{"restart_mode":"start","status":"active","tenant_id":"${id}"}\n`);
    assert.equal((await adminGetTenant(id)).status, 'active');
    await waitFor(
      () => adminGetTenant(id),
      (t) => dockerState(t.container).health === 'healthy',
    );
  });

  test('no container: {"state":"not_provisioned"}; admin resume creates one (restart_mode "create")', async () => {
    const bare = await freshTenant({ container: 'none' });
    const before = await adminGetTenant(bare);
    assert.deepEqual(before.container, { state: 'not_provisioned' });
    assert.equal(before.container_id, null);
    // Suspending a tenant without a container works all the same.
    const suspend = await admin('POST', `/api/admin/tenants/${bare}/suspend`);
    assert.equal(suspend.status, 200);
    await suspend.text();
    const create = await admin('POST', `/api/admin/tenants/${bare}/resume`);
    assert.equal(create.status, 200);
    assert.deepEqual(await json(create), { tenant_id: bare, status: 'active', restart_mode: 'create' });
    const ready = await waitFor(
      () => adminGetTenant(bare),
      (t) => dockerState(t.container).health === 'healthy',
    );
    assert.equal(dockerState(ready.container).running, true);
    // Once created, the tenant route resumes it too.
    const again = await resume(bare);
    assert.equal(again.status, 200);
    await again.text();
  });

  test('admin tenant routes: path id echoed, blank 400, non-UUID 500 (the uuid query fails), unknown 404', async () => {
    const id = await freshTenant();
    const upper = await admin('GET', `/api/admin/tenants/${id.toUpperCase()}`);
    assert.equal(upper.status, 200);
    assert.equal(adminTenant.parse(await json(upper)).tenant.id, id.toUpperCase());
    const cases: [string, string, number, string][] = [
      ['GET', '/api/admin/tenants/%20', 400, 'missing tenant id'],
      ['GET', '/api/admin/tenants/nope', 500, 'failed to load tenant'],
      ['POST', '/api/admin/tenants/nope/suspend', 500, 'failed to verify tenant'],
      ['POST', '/api/admin/tenants/nope/resume', 500, 'failed to verify tenant'],
      ['GET', '/api/admin/tenants/00000000-0000-4000-8000-000000000000', 404, 'tenant not found'],
      ['POST', '/api/admin/tenants/00000000-0000-4000-8000-000000000000/suspend', 404, 'tenant not found'],
      ['POST', '/api/admin/tenants/00000000-0000-4000-8000-000000000000/resume', 404, 'tenant not found'],
    ];
    for (const [method, path, status, error] of cases) {
      const response = await admin(method, path);
      assert.equal(response.status, status, `${method} ${path}`);
      assert.equal(await response.text(), `${JSON.stringify({ error })}\n`, `${method} ${path}`);
    }
  });

  test('admin view: user, usage from billed calls (totals, windows, by model) and the list route', async () => {
    const id = await freshTenant();
    const call = await completionRequest(id, hello);
    const usage = completion.parse(await json(call)).usage;
    const billed = 1000 - (await sim.control.tenant(id)).creditsCents;
    const view = await adminGetTenant(id);
    assert.equal(view.credits_balance_cents, 1000 - billed);
    assert.deepEqual(
      { ...view.usage, by_model: view.usage.by_model.map((m) => ({ ...m, last_used_at: null })) },
      {
        total_input_tokens: usage.prompt_tokens,
        total_output_tokens: usage.completion_tokens,
        total_tokens: usage.total_tokens,
        total_revenue_cents: billed,
        tokens_today: usage.total_tokens,
        tokens_week: usage.total_tokens,
        tokens_month: usage.total_tokens,
        by_model: [
          {
            model: 'openai/gpt-4.1-mini',
            input_tokens: usage.prompt_tokens,
            output_tokens: usage.completion_tokens,
            total_tokens: usage.total_tokens,
            revenue_cents: billed,
            last_used_at: null,
          },
        ],
      },
    );
    const list = await admin('GET', '/api/admin/tenants');
    assert.equal(list.status, 200);
    const text = await list.text();
    assertGoEncoded(text);
    const listed = z
      .object({
        tenants: z.array(
          z.object({ id: z.string(), usage: z.strictObject({ ...usageTotals, tokens_24h: z.number() }) }),
        ),
      })
      .parse(JSON.parse(text))
      .tenants.find((t) => t.id === id);
    assert.equal(listed?.usage.tokens_24h, usage.total_tokens);
  });

  test('admin credits: strict {amount, reason}; the balance moves, the status does not', async () => {
    const id = await freshTenant({ creditsCents: 0 });
    for (const [body, error] of [
      [{ amount: 5, reason: 'x', extra: 1 }, 'invalid JSON body'],
      [{ amount: 1.5, reason: 'x' }, 'invalid JSON body'],
      ['', 'invalid JSON body'],
      [{ amount: 0, reason: 'x' }, 'amount must be non-zero'],
      [{ amount: 5, reason: '  ' }, 'reason is required'],
    ] as const) {
      const response = await admin('POST', `/api/admin/tenants/${id}/credits`, body);
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.deepEqual(await json(response), { error });
    }
    const response = await admin('POST', `/api/admin/tenants/${id}/credits`, {
      amount: 250,
      Reason: ' refund ',
    });
    assert.equal(response.status, 200);
    const text = await response.text();
    assertGoEncoded(text);
    const body = z
      .strictObject({
        tenant_id: z.literal(id),
        amount: z.literal(250),
        reason: z.literal('refund'),
        balance_cents: z.literal(250),
        updated_at: z.string(),
      })
      .parse(JSON.parse(text));
    assert.ok(Date.parse(body.updated_at) > 0);
    assert.equal((await adminGetTenant(id)).status, 'paused');
  });
});

describe('terminal and the container under it', () => {
  /** A terminal socket that collects the TTY output and resolves once the shell prompt shows `needle`. */
  async function openTerminal(tenantId: string) {
    const ws = new WebSocket(`${sim.apiUrl.replace(/^http/, 'ws')}/api/tenants/${tenantId}/terminal`, {
      headers: { ...serviceKey(), origin: sim.webUrl },
    });
    const chunks: Buffer[] = [];
    ws.on('message', (data, isBinary) => {
      if (isBinary) chunks.push(data as Buffer);
    });
    // Bounded, so that a socket the server never closes fails the test instead of hanging it.
    const closed = new Promise<{ code: number; reason: string }>((resolve, reject) => {
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
      setTimeout(() => reject(new Error('terminal not closed within 5 s')), 5000).unref();
    });
    closed.catch(() => ws.terminate());
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_request, response) =>
        reject(new Error(`terminal refused: ${response.statusCode}`)),
      );
      ws.once('error', reject);
    });
    const output = () => Buffer.concat(chunks).toString('utf8');
    const waitForOutput = (needle: string) =>
      waitFor(
        async () => output(),
        (text) => text.includes(needle),
        3000,
      );
    return { ws, closed, output, waitForOutput };
  }

  test('an admin suspend stops the container under an open shell: the socket closes 1000 "exec exited"', async () => {
    const id = await freshTenant();
    const terminal = await openTerminal(id);
    terminal.ws.send('echo before\r');
    await terminal.waitForOutput('before');
    const suspend = await api(`/api/admin/tenants/${id}/suspend`, {
      method: 'POST',
      headers: await adminHeaders(),
    });
    assert.equal(suspend.status, 200);
    await suspend.text();
    assert.deepEqual(await terminal.closed, { code: 1000, reason: 'exec exited' });
  });

  test('during a cold start docker already runs the container: the shell opens', async () => {
    const id = await freshTenant({ container: 'stopped' });
    await sim.control.setFaults({ containers: { coldStartMultiplier: 40 } });
    try {
      const resumed = await api(`/api/tenants/${id}/resume`, { method: 'POST', headers: serviceKey() });
      assert.equal(resumed.status, 200);
      await resumed.text();
      assert.equal((await sim.control.tenant(id)).container.state, 'starting');
      const terminal = await openTerminal(id);
      terminal.ws.send('echo cold\r');
      await terminal.waitForOutput('cold');
      terminal.ws.close();
      await terminal.closed;
    } finally {
      await sim.control.clearFaults();
    }
  });

  test('a text frame that does not decode as a resize (cols as a string, negative rows) goes to stdin', async () => {
    const terminal = await openTerminal(sim.tenantIds[1]!);
    terminal.ws.send('{"type":"resize","cols":"80","rows":24}');
    terminal.ws.send('\r');
    await terminal.waitForOutput('"cols":"80"');
    terminal.ws.send('{"TYPE":"resize","Cols":132,"ROWS":50}');
    terminal.ws.send('stty size\r');
    await terminal.waitForOutput('50 132');
    terminal.ws.send('{"type":"resize","cols":100,"rows":-1}\r');
    await terminal.waitForOutput('"rows":-1');
    terminal.ws.close();
    await terminal.closed;
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

  test("the router's database errors: a non-UUID conversation or tenant, an unknown tenant (500); keys in any case", async () => {
    const id = await freshTenant();
    const cases: [unknown, number, string][] = [
      [
        { tenant_id: id, content: 'x', channel: 'web', metadata: { conversation_id: 'c-1' } },
        500,
        'query conversation: pq: invalid input syntax for type uuid: "c-1"',
      ],
      [
        { tenant_id: 'tenant-1', content: 'x', channel: 'web' },
        500,
        'create conversation: pq: invalid input syntax for type uuid: "tenant-1"',
      ],
      [
        { tenant_id: '00000000-0000-4000-8000-000000000000', content: 'x', channel: 'web' },
        500,
        'create conversation: pq: insert or update on table "conversations" violates foreign key constraint "conversations_tenant_id_fkey"',
      ],
      [
        {
          tenant_id: '00000000-0000-4000-8000-000000000000',
          content: 'x',
          channel: 'web',
          metadata: { ' conversation_id ': '00000000-0000-4000-8000-000000000001' },
        },
        400,
        'conversation not found',
      ],
    ];
    for (const [body, status, error] of cases) {
      const response = await inbound(body);
      assert.equal(response.status, status, JSON.stringify(body));
      assert.equal(await response.text(), `${JSON.stringify({ error })}\n`);
    }
    const folded = await inbound({ TENANT_ID: ` ${id.toUpperCase()} `, Content: 'hi', CHANNEL: 'web' });
    assert.equal(folded.status, 200);
    const text = await folded.text();
    assert.ok(text.endsWith('}\n'));
    // The router answers with the tenant id as it was given (trimmed), in OutboundMessage's field order.
    const body = answer.parse(JSON.parse(text));
    assert.equal(body.tenant_id, id.toUpperCase());
    assert.deepEqual(Object.keys(JSON.parse(text)), ['tenant_id', 'content', 'channel', 'conversation_id']);
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

describe('provisioning after web signup', () => {
  test('the web app posts /start, the API answers 405 and no /resume follows: the admin view shows the tenant not provisioned', async () => {
    const emails = Array.from({ length: 3 }, (_, i) => `unprovisioned-${Date.now()}-${i}@example.com`);
    for (const email of emails) {
      const signup = await fetch(`${sim.webUrl}/api/auth/signup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: sim.webUrl },
        body: JSON.stringify({ email, password: 'password-123' }),
      });
      assert.equal(signup.status, 200, 'signup answers 200 although provisioning failed');
      await signup.text();
    }
    const list = await api('/api/admin/tenants', { headers: await adminHeaders() });
    assert.equal(list.status, 200);
    const listed = z
      .object({ tenants: z.array(z.object({ id: z.string(), email: z.string().nullable() })) })
      .parse(await list.json())
      .tenants.filter((t) => t.email !== null && emails.includes(t.email));
    assert.equal(listed.length, emails.length);
    for (const { id } of listed) {
      const tenant = await adminGetTenant(id);
      // What an onboarding check counts as "left without a container".
      assert.deepEqual(tenant.container, { state: 'not_provisioned' });
      assert.equal(tenant.container_id, null);
      assert.equal(tenant.status, 'active');
      assert.equal(tenant.credits_balance_cents, 1000);
      const view = await sim.control.tenant(id);
      assert.equal(view.container.state, 'none');
    }
    // The web app logs the failure, as the real one does; the signup still succeeded.
    const logged = await waitFor(
      async () =>
        sim.stderr.filter((line) => /tenant provisioning failed: .*\/start answered 405/.test(line)),
      (lines) => lines.length >= 1,
    );
    assert.ok(logged.length >= 1);
    const start = await api(`/api/tenants/${listed[0]!.id}/start`, { method: 'POST', headers: serviceKey() });
    assert.equal(start.status, 405);
    assert.equal(start.headers.get('allow'), 'GET, HEAD');
    await start.text();
  });
});
