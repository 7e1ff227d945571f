import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { z } from 'zod';
import { CpuQueue } from '../src/core/latency';
import { runCli, type SimulatorHandle, startSimulator } from './helpers/simulator';

/** The control API itself and every API-side fault mode, switched on and off while the simulator runs. */

let sim: SimulatorHandle;

before(async () => {
  sim = await startSimulator({ seedTenants: 3, args: ['--health-interval', '100ms'] });
});

after(async () => {
  await sim?.stop();
});

const hello = { model: 'openai/gpt-4.1-mini', messages: [{ role: 'user', content: 'hello' }] };

function completion(tenantId: string, body: Record<string, unknown> = hello): Promise<Response> {
  return fetch(`${sim.apiUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: {
      'x-service-api-key': sim.serviceApiKey,
      'x-tenant-id': tenantId,
      'content-type': 'application/json',
    },
    body: JSON.stringify(body),
  });
}

function inbound(tenantId: string): Promise<Response> {
  return fetch(`${sim.apiUrl}/api/channels/inbound`, {
    method: 'POST',
    headers: { 'x-service-api-key': sim.serviceApiKey, 'content-type': 'application/json' },
    body: JSON.stringify({ tenant_id: tenantId, content: 'hi', channel: 'web', metadata: {} }),
  });
}

function resume(tenantId: string): Promise<Response> {
  return fetch(`${sim.apiUrl}/api/tenants/${tenantId}/resume`, {
    method: 'POST',
    headers: { 'x-service-api-key': sim.serviceApiKey },
  });
}

async function statusOf(request: Promise<Response>): Promise<number> {
  const response = await request;
  await response.text();
  return response.status;
}

function serverTiming(response: Response): { upstream: number; app: number } {
  const match = /^upstream;dur=([\d.]+), app;dur=([\d.]+)$/.exec(response.headers.get('server-timing') ?? '');
  assert.ok(match, `Server-Timing: ${response.headers.get('server-timing')}`);
  return { upstream: Number(match[1]), app: Number(match[2]) };
}

const tenant = () => sim.tenantIds[0]!;

describe('control API', () => {
  test('needs the admin token (health does not)', async () => {
    const health = await fetch(`${sim.controlUrl}/health`);
    assert.equal(health.status, 200);
    await health.text();
    for (const authorization of [undefined, 'Bearer wrong', `Bearer ${sim.serviceApiKey}`]) {
      const response = await fetch(`${sim.controlUrl}/faults`, {
        headers: authorization ? { authorization } : {},
      });
      assert.equal(response.status, 401);
      await response.text();
    }
  });

  test('PUT replaces, PATCH merges (null switches one fault off), DELETE clears; bad bodies are 400', async () => {
    assert.deepEqual(await sim.control.setFaults({ llm: { appDelayMs: 5 } }), { llm: { appDelayMs: 5 } });
    assert.deepEqual(await sim.control.patchFaults({ routes: { llm: { delayMs: 1, errorRate: 0 } } }), {
      llm: { appDelayMs: 5 },
      routes: { llm: { delayMs: 1, errorRate: 0 } },
    });
    assert.deepEqual(
      await sim.control.patchFaults({ routes: { llm: { delayMs: null as unknown as number } } }),
      {
        llm: { appDelayMs: 5 },
        routes: { llm: { errorRate: 0 } },
      },
    );
    assert.deepEqual(await sim.control.clearFaults(), {});
    await assert.rejects(sim.control.patchFaults({ routes: { llm: { errorRate: 2 } } }), /400/);
    await assert.rejects(sim.control.setFaults({ nonsense: true } as never), /400/);
    assert.deepEqual(await sim.control.getFaults(), {});
  });

  test('latency: profile switch, time scale and single models at run time', async () => {
    const fast = await sim.control.getLatency();
    assert.equal(fast.profile, 'fast');
    const realistic = await sim.control.patchLatency({ profile: 'realistic' });
    assert.deepEqual(realistic.models.authCpu, { kind: 'lognormal', medianMs: 425, p99Ms: 600 });
    assert.equal(realistic.models.authCores, 1);
    assert.deepEqual(realistic.models.containerColdStart, { kind: 'uniform', minMs: 5000, maxMs: 25_000 });
    const scaled = await sim.control.patchLatency({ timeScale: 0.01 });
    assert.equal(scaled.timeScale, 0.01);
    const back = await sim.control.patchLatency({ profile: 'fast', timeScale: 1 });
    assert.deepEqual(back, fast);
    await assert.rejects(sim.control.patchLatency({ timeScale: -1 }), /400/);
  });

  test('tenants: seed, list, view, set credits', async () => {
    const { tenantIds } = await sim.control.seedTenants(2, 'control');
    assert.equal(tenantIds.length, 2);
    const view = await sim.control.tenant(tenantIds[0]!);
    assert.equal(view.creditsCents, 1000);
    assert.deepEqual(
      { ...view.container, startedAt: null },
      { state: 'running', running: true, health: 'healthy', startedAt: null },
    );
    const all = await sim.control.tenants();
    assert.ok(tenantIds.every((id) => all.tenants.some((t) => t.id === id)));
    assert.equal((await sim.control.setCredits(tenantIds[0]!, 0)).status, 'paused');
    assert.equal((await sim.control.setCredits(tenantIds[0]!, 50)).status, 'active');
    await assert.rejects(sim.control.tenant('00000000-0000-4000-8000-000000000000'), /404/);
  });

  test('stats reset starts the counters over', async () => {
    assert.equal(await statusOf(completion(tenant())), 200);
    assert.ok((await sim.control.stats()).llm.calls >= 1);
    await sim.control.resetStats();
    const stats = await sim.control.stats();
    assert.equal(stats.llm.calls, 0);
    assert.deepEqual(stats.routes, {});
  });
});

describe('route faults on the API, on and off at run time', () => {
  test('errorRate with errorStatus: llm 502 by default, inbound and containers with their error bodies', async () => {
    await sim.control.setFaults({ routes: { llm: { errorRate: 1 } } });
    const failed = await completion(tenant());
    assert.equal(failed.status, 502);
    z.object({ error: z.object({ message: z.string(), type: z.string() }) }).parse(await failed.json());
    await sim.control.setFaults({ routes: { llm: { errorRate: 1, errorStatus: 503 } } });
    assert.equal(await statusOf(completion(tenant())), 503);
    await sim.control.setFaults({ routes: { inbound: { errorRate: 1 }, containers: { errorRate: 1 } } });
    const inboundFailed = await inbound(tenant());
    assert.equal(inboundFailed.status, 500);
    assert.deepEqual(await inboundFailed.json(), { error: 'failed to route message' });
    const resumeFailed = await resume(tenant());
    assert.equal(resumeFailed.status, 500);
    assert.deepEqual(await resumeFailed.json(), { error: 'failed to resume tenant' });
    await sim.control.clearFaults();
    assert.equal(await statusOf(completion(tenant())), 200);
    assert.equal(await statusOf(inbound(tenant())), 200);
    assert.equal(await statusOf(resume(tenant())), 200);
    const faults = (await sim.control.stats()).faults;
    assert.ok((faults.llm?.errors ?? 0) >= 2 && (faults.inbound?.errors ?? 0) >= 1);
  });

  test('delayMs adds server-side latency while on', async () => {
    await sim.control.resetStats();
    await sim.control.setFaults({ routes: { llm: { delayMs: 300 } } });
    assert.equal(await statusOf(completion(tenant())), 200);
    const slow = (await sim.control.stats()).routes['api.completions']!.latencyMs.max;
    assert.ok(slow >= 290, `server time ${slow}`);
    await sim.control.clearFaults();
    await sim.control.resetStats();
    assert.equal(await statusOf(completion(tenant())), 200);
    const fast = (await sim.control.stats()).routes['api.completions']!.latencyMs.max;
    // Off again: the fast profile's ~2 ms call, far below the delayed one on any machine load.
    assert.ok(fast * 3 < slow, `server time ${fast} ms off, ${slow} ms on`);
  });

  test('malformed bodies of every kind while on, valid JSON when off', async () => {
    const kinds = ['html', 'truncated-json', 'wrong-content-type', 'empty', 'missing-usage'] as const;
    for (const kind of kinds) {
      await sim.control.setFaults({ routes: { llm: { malformedRate: 1, malformedKind: kind } } });
      const response = await completion(tenant());
      const text = await response.text();
      const type = response.headers.get('content-type') ?? '';
      if (kind === 'html') assert.match(type, /text\/html/);
      if (kind === 'wrong-content-type') assert.match(type, /text\/plain/);
      if (kind === 'missing-usage') {
        const body = JSON.parse(text) as Record<string, unknown>;
        assert.equal(body.object, 'chat.completion');
        assert.equal(body.usage, undefined);
      } else if (kind !== 'wrong-content-type') {
        assert.throws(() => JSON.parse(text), kind);
      }
    }
    await sim.control.clearFaults();
    const response = await completion(tenant());
    assert.ok((JSON.parse(await response.text()) as { usage?: unknown }).usage);
    assert.ok(((await sim.control.stats()).faults.llm?.malformed ?? 0) >= kinds.length);
  });

  test('resetRate destroys the connection without an answer while on', async () => {
    await sim.control.setFaults({ routes: { llm: { resetRate: 1 }, inbound: { resetRate: 1 } } });
    await assert.rejects(completion(tenant()));
    await assert.rejects(inbound(tenant()));
    await sim.control.clearFaults();
    assert.equal(await statusOf(completion(tenant())), 200);
  });

  test('slowBodyMs trickles the body after the headers while on', async () => {
    await sim.control.setFaults({ routes: { llm: { slowBodyMs: 400 } } });
    const started = Date.now();
    const response = await completion(tenant());
    const headersAt = Date.now() - started;
    const body = await response.text();
    const bodyAt = Date.now() - started;
    assert.ok(JSON.parse(body));
    assert.ok(bodyAt - headersAt >= 300, `headers ${headersAt} ms, body ${bodyAt} ms`);
    await sim.control.clearFaults();
    assert.ok(((await sim.control.stats()).faults.llm?.slowBodies ?? 0) >= 1);
  });
});

describe('LLM, credit and container faults, on and off at run time', () => {
  test('llm.appDelayMs shows as app time in Server-Timing, not as upstream', async () => {
    await sim.control.setFaults({ llm: { appDelayMs: 250 } });
    const slow = await completion(tenant());
    await slow.text();
    const timing = serverTiming(slow);
    assert.ok(timing.app >= 240, JSON.stringify(timing));
    // The delay is the proxy's own time: upstream stays the modelled ~2 ms, a small share of it.
    assert.ok(timing.upstream * 3 < timing.app, JSON.stringify(timing));
    await sim.control.clearFaults();
    const fast = await completion(tenant());
    await fast.text();
    assert.ok(serverTiming(fast).app * 3 < timing.app, JSON.stringify(serverTiming(fast)));
  });

  test('llm.bufferStreams answers stream: true with buffered JSON while on', async () => {
    await sim.control.setFaults({ llm: { bufferStreams: true } });
    const buffered = await completion(tenant(), { ...hello, stream: true });
    assert.match(buffered.headers.get('content-type') ?? '', /application\/json/);
    assert.equal(((await buffered.json()) as { object: string }).object, 'chat.completion');
    await sim.control.clearFaults();
    const streamed = await completion(tenant(), { ...hello, stream: true });
    assert.match(streamed.headers.get('content-type') ?? '', /text\/event-stream/);
    assert.match(await streamed.text(), /data: \[DONE\]\n\n$/);
  });

  test('credits.exhausted: 402 on LLM calls and resume, a routed 402 on inbound while on; served when off', async () => {
    const { tenantIds } = await sim.control.seedTenants(1, 'exhaust');
    const id = tenantIds[0]!;
    await sim.control.setFaults({ credits: { exhausted: true } });
    const refused = await completion(id);
    assert.equal(refused.status, 402);
    assert.deepEqual(await refused.json(), {
      error: { message: 'Insufficient credits', type: 'billing_error' },
    });
    assert.equal((await sim.control.tenant(id)).status, 'paused');
    // The channel router calls the proxy: its 402 comes back inside a 500.
    const routed = await inbound(id);
    assert.equal(routed.status, 500);
    assert.match(((await routed.json()) as { error: string }).error, /402.*Insufficient credits/);
    assert.equal(await statusOf(resume(id)), 402);
    await sim.control.clearFaults();
    assert.equal(await statusOf(completion(id)), 200);
  });

  test('containers.resumeFailRate fails resume calls with 500 while on', async () => {
    await sim.control.setFaults({ containers: { resumeFailRate: 1 } });
    const failed = await resume(tenant());
    assert.equal(failed.status, 500);
    assert.deepEqual(await failed.json(), { error: 'failed to resume tenant' });
    await sim.control.clearFaults();
    assert.equal(await statusOf(resume(tenant())), 200);
    assert.ok((await sim.control.stats()).containers.resumeFailures >= 1);
  });

  test('containers.coldStartMultiplier slows cold starts; unhealthyRate makes started containers unhealthy', async () => {
    const { tenantIds } = await sim.control.seedTenants(2, 'cold', { container: 'stopped' });
    await sim.control.resetStats();
    // fast profile: cold start 50-150 ms; x10 makes it 500-1500 ms.
    await sim.control.setFaults({ containers: { coldStartMultiplier: 10, unhealthyRate: 1 } });
    assert.equal(await statusOf(resume(tenantIds[0]!)), 200);
    const deadline = Date.now() + 5000;
    let view = await sim.control.tenant(tenantIds[0]!);
    while (view.container.health !== 'unhealthy' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      view = await sim.control.tenant(tenantIds[0]!);
    }
    assert.equal(view.container.health, 'unhealthy');
    assert.equal(view.container.running, true);
    const slow = (await sim.control.stats()).containers.coldStartMs;
    assert.ok(slow.max >= 450, JSON.stringify(slow));
    await sim.control.clearFaults();
    assert.equal(await statusOf(resume(tenantIds[1]!)), 200);
    let healthy = await sim.control.tenant(tenantIds[1]!);
    while (healthy.container.health !== 'healthy' && Date.now() < deadline + 3000) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      healthy = await sim.control.tenant(tenantIds[1]!);
    }
    assert.equal(healthy.container.health, 'healthy');
  });
});

describe('web auth faults (applied by the web app), on and off at run time', () => {
  async function callback(csrf: boolean): Promise<{ status: number; url: string }> {
    const csrfResponse = await fetch(`${sim.webUrl}/api/auth/csrf`);
    const { csrfToken } = (await csrfResponse.json()) as { csrfToken: string };
    const cookie = csrfResponse.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const response = await fetch(`${sim.webUrl}/api/auth/callback/credentials`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
      body: new URLSearchParams({
        csrfToken: csrf ? csrfToken : 'wrong',
        email: 'nobody@example.com',
        password: 'password-123',
        json: 'true',
      }),
      redirect: 'manual',
    });
    return { status: response.status, url: ((await response.json()) as { url: string }).url };
  }

  test('auth.csrfRefuse turns every callback into 200 csrf=true; off restores the 401', async () => {
    assert.equal((await callback(true)).status, 401);
    await sim.control.setFaults({ auth: { csrfRefuse: true } });
    const refused = await callback(true);
    assert.equal(refused.status, 200);
    assert.match(refused.url, /csrf=true/);
    await sim.control.clearFaults();
    assert.equal((await callback(true)).status, 401);
  });

  test('auth.extraCpuMs adds modelled CPU to every signup while on', async () => {
    const signup = (email: string) =>
      fetch(`${sim.webUrl}/api/auth/signup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: sim.webUrl },
        body: JSON.stringify({ email, password: 'password-123' }),
      });
    await sim.control.resetStats();
    await sim.control.setFaults({ auth: { extraCpuMs: 300 } });
    assert.equal(await statusOf(signup(`slow-${Date.now()}@example.com`)), 200);
    const slow = (await sim.control.stats()).routes['web.signup']!.latencyMs.max;
    assert.ok(slow >= 290, `signup server time ${slow}`);
    await sim.control.clearFaults();
    await sim.control.resetStats();
    assert.equal(await statusOf(signup(`fast-${Date.now()}@example.com`)), 200);
    const fast = (await sim.control.stats()).routes['web.signup']!.latencyMs.max;
    assert.ok(fast * 3 < slow, `signup server time ${fast} ms off, ${slow} ms on`);
  });
});

describe('modelled CPU', () => {
  test('CpuQueue runs k jobs at a time and queues the rest', () => {
    const queue = new CpuQueue(2);
    const ends = Array.from({ length: 6 }, () => queue.reserve(100, 0).endAt);
    // Two cores, six 100 ms jobs arriving together: pairs end at 100, 200, 300 ms.
    assert.deepEqual(ends, [100, 100, 200, 200, 300, 300]);
    // A job arriving after the queue drained starts at once.
    assert.deepEqual(queue.reserve(50, 1000), { startAt: 1000, endAt: 1050 });
    // Down to one core: jobs already booked still end as booked; new ones queue on the core free first.
    queue.setCores(1);
    assert.deepEqual(
      [queue.reserve(10, 1000), queue.reserve(10, 1000)].map((job) => job.endAt),
      [1010, 1020],
    );
  });

  test('CpuQueue waits on timers and burns no CPU while jobs queue', async () => {
    const queue = new CpuQueue(1);
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    await Promise.all(Array.from({ length: 4 }, () => queue.run(100)));
    const wallMs = performance.now() - started;
    const cpuMs = (() => {
      const cpu = process.cpuUsage(cpuBefore);
      return (cpu.user + cpu.system) / 1000;
    })();
    // One core, four 100 ms jobs: the last ends no earlier than 400 ms, with the CPU idle meanwhile.
    assert.ok(wallMs >= 395, `wall ${wallMs} ms`);
    assert.ok(cpuMs < wallMs / 4, `cpu ${cpuMs} ms over ${wallMs} ms`);
  });
});

describe('realistic profile', () => {
  test('concurrent signups queue for one modelled core: the median waits for half, the last for all', async () => {
    // Unscaled, so that the queue (~21 s) dwarfs how long a busy machine takes to send 50 requests.
    const users = 50;
    const realistic = await startSimulator({ profile: 'realistic' });
    try {
      const run = `${Date.now()}`;
      const statuses = await Promise.all(
        Array.from({ length: users }, (_, i) =>
          statusOf(
            fetch(`${realistic.webUrl}/api/auth/signup`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', origin: realistic.webUrl },
              body: JSON.stringify({ email: `queue-${run}-${i}@example.com`, password: 'password-123' }),
            }),
          ),
        ),
      );
      assert.deepEqual(new Set(statuses), new Set([200]));
      const signup = (await realistic.control.stats()).routes['web.signup']!.latencyMs;
      const figures = JSON.stringify(signup);
      // bcrypt ~425 ms per signup: one core serves the 50 one after the other, so the last
      // answers after about 50 of them (two cores: about 25), and the median after about half.
      const perHashMs = 425;
      assert.ok(signup.p99 >= 0.8 * users * perHashMs, figures);
      assert.ok(signup.p50 / signup.p99 >= 0.35 && signup.p50 / signup.p99 <= 0.65, figures);
    } finally {
      await realistic.stop();
    }
  });

  test('cold starts follow the 5-25 s model scaled by --time-scale 0.01', async () => {
    const realistic = await startSimulator({ profile: 'realistic', timeScale: 0.01 });
    try {
      const { tenantIds } = await realistic.control.seedTenants(3, 'realistic', { container: 'stopped' });
      for (const id of tenantIds) {
        const response = await fetch(`${realistic.apiUrl}/api/tenants/${id}/resume`, {
          method: 'POST',
          headers: { 'x-service-api-key': realistic.serviceApiKey },
        });
        assert.equal(response.status, 200);
        await response.text();
      }
      const deadline = Date.now() + 5000;
      let stats = await realistic.control.stats();
      while (stats.containers.coldStarts < 3 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        stats = await realistic.control.stats();
      }
      const cold = stats.containers.coldStartMs;
      assert.equal(cold.count, 3);
      // 5-25 s x 0.01 = 50-250 ms: not shorter, and none near an unscaled start of 5 s or more.
      assert.ok(cold.p50 >= 45 && cold.max < 5000, JSON.stringify(cold));
    } finally {
      await realistic.stop();
    }
  });
});

describe('command line', () => {
  test('invalid flags exit 2 with a message naming the flag', async () => {
    const cases = [
      [['--web-port', 'abc'], '--web-port'],
      [['--profile', 'slow'], '--profile'],
      [['--time-scale', '0'], '--time-scale'],
      [['--faults', '{"routes":{"llm":{"errorRate":5}}}'], '--faults'],
      [['--ping-interval', 'soon'], '--ping-interval'],
      [['--host', '0.0.0.0'], '--host'],
      [['--nextauth-host', 'example.com'], '--nextauth-host'],
    ] as const;
    const runs = await Promise.all(cases.map(([args]) => runCli([...args])));
    for (const [i, [args, flag]] of cases.entries()) {
      const run = runs[i]!;
      assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.ok(run.stderr.includes(flag), run.stderr);
    }
  });

  test('--faults at start is in effect at once and can be switched off at run time', async () => {
    const faulty = await startSimulator({
      seedTenants: 1,
      args: ['--faults', JSON.stringify({ routes: { llm: { errorRate: 1, errorStatus: 504 } } })],
    });
    try {
      const call = () =>
        fetch(`${faulty.apiUrl}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'x-service-api-key': faulty.serviceApiKey, 'x-tenant-id': faulty.tenantIds[0]! },
          body: JSON.stringify(hello),
        });
      assert.equal(await statusOf(call()), 504);
      await faulty.control.clearFaults();
      assert.equal(await statusOf(call()), 200);
      for (const name of [
        'WEB_BASE_URL',
        'API_BASE_URL',
        'SIM_CONTROL_URL',
        'NEXTAUTH_URL',
        'SIM_ADMIN_TOKEN',
      ])
        assert.ok(faulty.env[name], name);
    } finally {
      await faulty.stop();
    }
  });
});
