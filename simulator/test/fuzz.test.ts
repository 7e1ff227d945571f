import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { WebSocket } from 'ws';
import { type SimulatorHandle, startSimulator } from './helpers/simulator';

/**
 * The simulator under fuzzing: thousands of generated requests (methods, every contract path and
 * junk paths, header variants, bodies of every shape) and WebSocket frames. The simulator must stay
 * up, answer every request within a bound, and answer only what the contract allows for the route
 * (5xx only where docs/CONTRACT.md gives one). The random seed is fixed so a failure reproduces; the
 * failing request is printed.
 */

const SEED = Number(process.env.FUZZ_SEED ?? 20261129);
const HTTP_REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 10_000);
const CONCURRENCY = 24;
/** Nothing in the fast profile takes more than a few ms: 10 s means "hung", even on a loaded machine. */
const ANSWER_BOUND_MS = 10_000;
const ONE_MIB = 1024 * 1024;

type Server = 'web' | 'api';

interface FuzzRequest {
  server: Server;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
  /** What kind of body it is (for the failure message and the status rules). */
  bodyKind: string;
}

interface Credentials {
  tenantIds: string[];
  serviceApiKey: string;
  userJwt: string;
  adminJwt: string;
  foreignJwt: string;
  sessionCookie: string;
  csrfCookie: string;
}

// ---- generators ---------------------------------------------------------------------------------

const junkSegment = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9._~-]{0,24}$/),
  fc.constantFrom(
    '..',
    '.',
    '%2e%2e',
    '%zz',
    '%',
    '%00',
    '%ff%fe',
    '~',
    '%2F',
    'api',
    'v1',
    '_next',
    'admin',
  ),
  fc.string({ maxLength: 12 }).map((s) => encodeURIComponent(s)),
);

const junkPath = fc
  .array(junkSegment, { minLength: 0, maxLength: 6 })
  .chain((segments) =>
    fc
      .constantFrom('/', '//', '/api/', '/v1/', '/api/auth/', '/api/tenants/')
      .map((p) => p + segments.join('/')),
  );

const junkQuery = fc.oneof(
  { weight: 6, arbitrary: fc.constant('') },
  {
    weight: 1,
    arbitrary: fc
      .array(fc.tuple(junkSegment, junkSegment), { maxLength: 4 })
      .map((pairs) => `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom('?json=true', '?callbackUrl=http://evil.example', '?error=Configuration'),
  },
);

function tenantIdArb(creds: Credentials) {
  return fc.oneof(
    fc.constantFrom(...creds.tenantIds),
    fc.uuid().map(String),
    junkSegment.filter((s) => s.length > 0),
  );
}

function pathArb(server: Server, creds: Credentials) {
  const id = tenantIdArb(creds);
  const contract =
    server === 'web'
      ? fc.oneof(
          fc.constantFrom(
            '/api/auth/signup',
            '/api/auth/csrf',
            '/api/auth/callback/credentials',
            '/api/auth/session',
            '/api/auth/providers',
            '/api/auth/signin',
            '/api/auth/signin/google',
            '/api/auth/signout',
            '/api/auth/error',
            '/api/chat',
            '/api/onboarding',
            '/',
            '/login',
            '/signup',
            '/onboarding',
            '/dashboard',
            '/dashboard/chat',
            '/chat',
          ),
        )
      : fc.oneof(
          fc.constantFrom('/health', '/', '/v1/models', '/v1/chat/completions', '/api/channels/inbound'),
          id.map((t) => `/api/tenants/${t}/resume`),
          id.map((t) => `/api/tenants/${t}/start`),
          id.map((t) => `/api/tenants/${t}/terminal`),
          id.map((t) => `/api/admin/tenants/${t}`),
          id.map((t) => `/api/admin/tenants/${t}/suspend`),
          id.map((t) => `/api/admin/tenants/${t}/resume`),
        );
  return fc
    .tuple(fc.oneof({ weight: 4, arbitrary: contract }, { weight: 1, arbitrary: junkPath }), junkQuery)
    .map(([p, q]) => p + q);
}

const methodArb = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('GET', 'POST') },
  { weight: 3, arbitrary: fc.constantFrom('PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS') },
  // Not a method Node's parser knows: the HTTP layer itself must refuse it cleanly.
  { weight: 1, arbitrary: fc.constantFrom('PROPFIND', 'BREW', 'get') },
);

const contentTypeArb = fc.constantFrom(
  undefined,
  'application/json',
  'application/json; charset=utf-8',
  'application/x-www-form-urlencoded',
  'text/plain',
  'text/html',
  'multipart/form-data; boundary=xyz',
  'application/octet-stream',
  'application/json; charset=utf-16',
  ';;;',
  'application/*',
);

function originArb(sim: SimulatorHandle) {
  const web = new URL(sim.webUrl);
  return fc.constantFrom(
    undefined,
    sim.webUrl,
    `http://localhost:${web.port}`,
    'null',
    'http://evil.example',
    'http://',
    'not a url',
    `https://127.0.0.1:${web.port}`,
  );
}

function authArb(creds: Credentials) {
  return fc.constantFrom<Record<string, string>>(
    {},
    { 'x-service-api-key': creds.serviceApiKey },
    { 'x-service-api-key': `${creds.serviceApiKey}x` },
    { 'x-service-api-key': '' },
    { authorization: `Bearer ${creds.userJwt}` },
    { authorization: `Bearer ${creds.adminJwt}` },
    { authorization: `Bearer ${creds.foreignJwt}` },
    { authorization: 'Bearer' },
    { authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJpc0FkbWluIjp0cnVlfQ.' },
    { authorization: 'Basic dXNlcjpwYXNz' },
  );
}

function cookieArb(creds: Credentials) {
  return fc.constantFrom(
    undefined,
    creds.sessionCookie,
    `${creds.sessionCookie}; ${creds.csrfCookie}`,
    creds.csrfCookie,
    'next-auth.session-token=garbage',
    'next-auth.session-token=eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..a.b.c',
    'onboarding_complete=1',
    '=;;=;',
  );
}

const contractJson = (creds: Credentials) =>
  fc.oneof(
    fc.record(
      {
        email: fc.oneof(fc.emailAddress(), fc.string(), fc.integer()),
        password: fc.oneof(fc.string(), fc.constant(null)),
      },
      { requiredKeys: [] },
    ),
    fc.record(
      {
        message: fc.oneof(
          fc.string({ maxLength: 50 }),
          fc.string({ minLength: 3990, maxLength: 4010 }),
          fc.integer(),
        ),
        conversationId: fc.oneof(fc.uuid().map(String), fc.string()),
        enabledTools: fc.array(fc.string(), { maxLength: 25 }),
        stream: fc.oneof(fc.boolean(), fc.string()),
      },
      { requiredKeys: [] },
    ),
    fc.record(
      {
        model: fc.constantFrom('openai/gpt-4.1-mini', 'anthropic/claude-sonnet-4-6', 'nope', ''),
        messages: fc.array(
          fc.record({
            role: fc.constantFrom('user', 'system', 'x'),
            content: fc.oneof(fc.string(), fc.integer()),
          }),
          { maxLength: 3 },
        ),
        max_tokens: fc.oneof(fc.integer({ min: -5, max: 40 }), fc.double()),
        stream: fc.boolean(),
        extra: fc.string(),
      },
      { requiredKeys: ['model', 'messages'] },
    ),
    fc.record(
      {
        tenant_id: fc.oneof(fc.constantFrom(...creds.tenantIds), fc.string()),
        content: fc.string({ maxLength: 40 }),
        channel: fc.constantFrom('web', 'telegram', 'sms', ''),
        metadata: fc.oneof(fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }), fc.integer()),
      },
      { requiredKeys: [] },
    ),
    fc.record({ completed: fc.oneof(fc.boolean(), fc.string()) }, { requiredKeys: [] }),
    fc.record({
      csrfToken: fc.string(),
      email: fc.string(),
      password: fc.string(),
      json: fc.constantFrom('true', true),
    }),
  );

function bodyArb(creds: Credentials) {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant({ kind: 'none', body: undefined as Buffer | undefined }) },
    { weight: 3, arbitrary: fc.json({ maxDepth: 3 }).map((t) => ({ kind: 'json', body: Buffer.from(t) })) },
    {
      weight: 4,
      arbitrary: contractJson(creds).map((v) => ({
        kind: 'contract-json',
        body: Buffer.from(JSON.stringify(v)),
      })),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(contractJson(creds), fc.nat()).map(([v, cut]) => {
        const text = JSON.stringify(v);
        return { kind: 'truncated-json', body: Buffer.from(text.slice(0, cut % Math.max(1, text.length))) };
      }),
    },
    {
      weight: 2,
      arbitrary: fc.uint8Array({ maxLength: 2048 }).map((b) => ({ kind: 'binary', body: Buffer.from(b) })),
    },
    {
      weight: 1,
      arbitrary: fc
        .dictionary(
          fc.constantFrom('csrfToken', 'email', 'password', 'json', 'callbackUrl', 'x'),
          fc.string(),
        )
        .map((d) => ({ kind: 'form', body: Buffer.from(new URLSearchParams(d).toString()) })),
    },
  );
}

function requestArb(sim: SimulatorHandle, creds: Credentials): fc.Arbitrary<FuzzRequest> {
  const headersArb = fc
    .record({
      contentType: contentTypeArb,
      origin: originArb(sim),
      auth: authArb(creds),
      cookie: cookieArb(creds),
      tenant: fc.oneof(fc.constant(undefined), tenantIdArb(creds)),
    })
    .map(({ contentType, origin, auth, cookie, tenant }) => {
      const headers: Record<string, string> = { ...auth };
      if (contentType !== undefined) headers['content-type'] = contentType;
      if (origin !== undefined) headers.origin = origin;
      if (cookie !== undefined) headers.cookie = cookie;
      if (tenant !== undefined) headers['x-tenant-id'] = tenant;
      return headers;
    });
  return fc.constantFrom<Server>('web', 'api').chain((server) =>
    fc
      .record({ method: methodArb, path: pathArb(server, creds), headers: headersArb, body: bodyArb(creds) })
      .map(({ method, path, headers, body }) => ({
        server,
        method,
        path,
        headers,
        body: body.body,
        bodyKind: body.kind,
      })),
  );
}

// ---- what the contract allows -------------------------------------------------------------------

const pathOnly = (path: string) => path.split('?')[0]!;
/** Node's client upper-cases methods; both servers answer HEAD with their GET route (Go 1.22 mux, Fastify). */
const routeMethod = (method: string) => (method.toUpperCase() === 'HEAD' ? 'GET' : method.toUpperCase());
const has = (headers: Record<string, string>, name: string) => headers[name] !== undefined;

/** Node's HTTP layer: unknown methods and unparsable targets are refused before any route. */
const TRANSPORT = [400];

/** Statuses the web app (Next.js + NextAuth, CONTRACT.md "Web app") may answer to this request. */
export function allowedWebStatuses(request: FuzzRequest): Set<number> {
  const path = pathOnly(request.path);
  const method = routeMethod(request.method);
  // GET and POST reach the protected routes' handlers, never a 404. Other methods: Next.js
  // answers 405 (OPTIONS: 204) where the simulator still answers 404 on /api/onboarding and for
  // OPTIONS; tolerated, reported as a minor deviation.
  const protectedRoute =
    (path === '/api/chat' || path === '/api/onboarding') && (method === 'GET' || method === 'POST');
  const allowed = new Set<number>([...TRANSPORT, 405, ...(protectedRoute ? [] : [404])]);
  if ((request.body?.length ?? 0) > ONE_MIB) allowed.add(413);
  const add = (...statuses: number[]) => {
    for (const s of statuses) allowed.add(s);
  };
  if (path === '/api/auth/signup' && method === 'POST') add(200, 400, 403, 409);
  else if (path === '/api/auth/csrf' || path === '/api/auth/session' || path === '/api/auth/providers')
    add(200);
  else if (path === '/api/auth/callback/credentials') add(200, 302, 401);
  else if (path.startsWith('/api/auth/signin') || path === '/api/auth/signout') add(200, 302);
  // NextAuth's own error page: error=Configuration is its 500 page, AccessDenied/Verification 403.
  else if (path === '/api/auth/error') add(200, 302, 403, 500);
  else if (path === '/api/chat') add(200, 307, 400, 401, 403, 429);
  else if (path === '/api/onboarding') add(200, 307, 400, 401, 403, 429);
  else if (path.startsWith('/api/auth')) add(200);
  // Pages and every other path: the middleware's 307 to login, a page, or the 404 page.
  else add(200, 307, 429);
  return allowed;
}

/** Statuses the API (Go net/http, CONTRACT.md "API") may answer to this request. */
export function allowedApiStatuses(request: FuzzRequest): Set<number> {
  const path = pathOnly(request.path);
  const method = routeMethod(request.method);
  const allowed = new Set<number>(TRANSPORT);
  const add = (...statuses: number[]) => {
    for (const s of statuses) allowed.add(s);
  };
  if ((request.body?.length ?? 0) > ONE_MIB) add(413);
  const isPublic = path === '/' || path === '/health';
  const protectedPath = !isPublic && (path.startsWith('/api/') || path.startsWith('/v1/'));
  const credentialed = has(request.headers, 'x-service-api-key') || has(request.headers, 'authorization');
  // Every protected path: 401 without valid credentials (decided before routing).
  if (protectedPath) add(401);
  if (protectedPath && !credentialed) return allowed;
  // Go's catch-all: any other GET is the greeting, any other method 405.
  add(200, 405);
  if (path === '/v1/chat/completions' && method === 'POST') {
    // 500 `billing error`: the proxy's balance lookup for a tenant that does not exist (as resume).
    add(400, 402, 500);
  } else if (/^\/api\/tenants\/[^/]+\/resume$/.test(path) && method === 'POST') add(402, 500, 503);
  else if (/^\/api\/tenants\/[^/]+\/start$/.test(path) && method === 'POST') add(404);
  else if (/^\/api\/tenants\/[^/]+\/terminal$/.test(path) && method === 'GET') {
    // Not an upgrade: gorilla's 400 after the container lookup (404; 500 `failed to create exec`).
    add(400, 403, 404, 500);
  } else if (path === '/api/admin' || path.startsWith('/api/admin/')) add(403, 404, 500);
  else if (path === '/api/channels/inbound' && method === 'POST') {
    // 500 `create conversation: tenant not found`: the router's insert fails for an unknown tenant.
    add(400, 500);
  }
  return allowed;
}

// ---- sending --------------------------------------------------------------------------------------

interface Answer {
  status: number | 'reset' | 'hang';
  ms: number;
  detail?: string;
}

function sendOnce(
  agent: http.Agent,
  base: string,
  request: FuzzRequest,
): Promise<Answer & { reused: boolean }> {
  const url = new URL(base);
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    let reused = false;
    const done = (answer: Answer) => {
      if (settled) return;
      settled = true;
      resolve({ ...answer, reused });
    };
    let req: http.ClientRequest;
    try {
      req = http.request({
        host: url.hostname,
        port: url.port,
        method: request.method,
        path: request.path,
        agent,
        headers: {
          ...request.headers,
          ...(request.body ? { 'content-length': String(request.body.length) } : {}),
        },
      });
    } catch (error) {
      // The client library refused to build it (e.g. an invalid header): not a server answer.
      done({ status: 'reset', ms: 0, detail: `client refused: ${(error as Error).message}` });
      return;
    }
    req.on('socket', () => {
      reused = req.reusedSocket;
    });
    req.setTimeout(ANSWER_BOUND_MS, () => {
      done({ status: 'hang', ms: performance.now() - started });
      req.destroy();
    });
    req.on('response', (response) => {
      response.on('data', () => undefined);
      response.on('end', () => done({ status: response.statusCode ?? 0, ms: performance.now() - started }));
      response.on('error', (error) =>
        done({ status: 'reset', ms: performance.now() - started, detail: error.message }),
      );
    });
    req.on('error', (error) =>
      done({ status: 'reset', ms: performance.now() - started, detail: error.message }),
    );
    if (request.body) req.end(request.body);
    else req.end();
  });
}

/**
 * A keep-alive socket the server closed after its previous answer (e.g. after a 413 or a parse
 * error) can race with the next request written on it: Node's documented remedy is to retry a
 * request that failed on a reused socket, once, on a fresh connection. A reset on a fresh
 * connection is the server's doing and counts.
 */
async function send(
  agent: http.Agent,
  fresh: http.Agent,
  base: string,
  request: FuzzRequest,
): Promise<Answer> {
  const first = await sendOnce(agent, base, request);
  if (first.status !== 'reset' || !first.reused) return first;
  return sendOnce(fresh, base, request);
}

async function runPool<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const item = items[next++]!;
        await work(item);
      }
    }),
  );
}

function describeRequest(request: FuzzRequest): string {
  const body = request.body
    ? `${request.bodyKind} ${request.body.length} bytes: ${JSON.stringify(request.body.subarray(0, 120).toString('latin1'))}`
    : 'no body';
  return `${request.server} ${request.method} ${request.path} ${JSON.stringify(request.headers)} ${body}`;
}

// ---- session for the deeper web paths ------------------------------------------------------------

function setCookies(response: Response): string[] {
  return response.headers.getSetCookie().map((c) => c.split(';')[0]!);
}

async function logIn(sim: SimulatorHandle): Promise<{ session: string; csrf: string }> {
  const email = `fuzz+${randomUUID()}@example.test`;
  const password = `Fz-${randomUUID()}`;
  const signup = await fetch(`${sim.webUrl}/api/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: sim.webUrl },
    body: JSON.stringify({ email, password }),
  });
  assert.equal(signup.status, 200, 'fuzz user signup');
  const csrfResponse = await fetch(`${sim.webUrl}/api/auth/csrf`);
  const { csrfToken } = (await csrfResponse.json()) as { csrfToken: string };
  const csrf = setCookies(csrfResponse).find((c) => c.includes('csrf-token'))!;
  const callback = await fetch(`${sim.webUrl}/api/auth/callback/credentials`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: csrf },
    body: new URLSearchParams({
      csrfToken,
      email,
      password,
      callbackUrl: sim.webUrl,
      json: 'true',
    }).toString(),
  });
  assert.equal(callback.status, 200, 'fuzz user login');
  const session = setCookies(callback).find((c) => c.includes('session-token'));
  assert.ok(session, 'fuzz user got a session cookie');
  return { session, csrf };
}

async function jwt(secret: string, claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(secret));
}

// ---- WebSocket fuzzing -------------------------------------------------------------------------

/** A client frame built by hand, so that it can be wrong in every way a parser must survive. */
function rawFrame(
  opcode: number,
  payload: Buffer,
  options: { fin?: boolean; rsv?: number; mask?: boolean },
): Buffer {
  const mask = options.mask ?? true;
  const first = ((options.fin ?? true) ? 0x80 : 0) | ((options.rsv ?? 0) << 4) | (opcode & 0x0f);
  let header: Buffer;
  if (payload.length < 126) header = Buffer.from([first, (mask ? 0x80 : 0) | payload.length]);
  else if (payload.length < 65536) {
    header = Buffer.alloc(4);
    header[0] = first;
    header[1] = (mask ? 0x80 : 0) | 126;
    header.writeUInt16BE(payload.length, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = first;
    header[1] = (mask ? 0x80 : 0) | 127;
    header.writeBigUInt64BE(BigInt(payload.length), 2);
  }
  if (!mask) return Buffer.concat([header, payload]);
  const key = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.from(payload.map((b, i) => b ^ key[i % 4]!));
  return Buffer.concat([header, key, masked]);
}

const wsFrameArb = fc.oneof(
  fc.uint8Array({ maxLength: 512 }).map((b) => ({ kind: 'binary' as const, data: Buffer.from(b) })),
  fc.string({ maxLength: 200 }).map((s) => ({ kind: 'text' as const, data: Buffer.from(s) })),
  fc
    .record({
      type: fc.constantFrom('resize', 'Resize', 'input', 1),
      cols: fc.oneof(fc.integer({ min: -10, max: 100_000 }), fc.string(), fc.double()),
      rows: fc.oneof(fc.integer({ min: -10, max: 100_000 }), fc.constant(null)),
    })
    .map((v) => ({ kind: 'text' as const, data: Buffer.from(JSON.stringify(v)) })),
  fc
    .constantFrom('echo hi\n', 'exit\n', '\x03', '\x04', 'cat /dev/urandom\n', '{"type":"resize"')
    .map((s) => ({
      kind: 'text' as const,
      data: Buffer.from(s),
    })),
  // Invalid UTF-8 in a text frame: the server must close with 1007, not fall over.
  fc.constant({ kind: 'text' as const, data: Buffer.from([0xc3, 0x28, 0xff, 0xfe]) }),
);

/** Raw byte sequences after a valid handshake: reserved bits, unknown opcodes, unmasked, fragments, lies. */
const malformedFrameArb = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => Buffer.from(b)),
  fc
    .record({
      opcode: fc.constantFrom(0x0, 0x3, 0x7, 0xb, 0xf, 0x8, 0x9, 0xa),
      rsv: fc.integer({ min: 0, max: 7 }),
      fin: fc.boolean(),
      mask: fc.boolean(),
      payload: fc.uint8Array({ maxLength: 200 }),
    })
    .map((f) => rawFrame(f.opcode, Buffer.from(f.payload), f)),
  // A length field promising far more than ever comes (and more than maxPayload).
  fc.constant(Buffer.from([0x82, 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4])),
  // A control frame longer than 125 bytes.
  fc.constant(rawFrame(0x9, Buffer.alloc(200, 1), {})),
);

interface WsTally {
  frames: number;
  opened: number;
  refused: number;
  closeCodes: Map<number, number>;
}

function fuzzSocket(
  sim: SimulatorHandle,
  tenantId: string,
  frames: Array<{ kind: 'binary' | 'text'; data: Buffer }>,
  tally: WsTally,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const url = `${sim.apiUrl.replace(/^http/, 'ws')}/api/tenants/${tenantId}/terminal`;
    const ws = new WebSocket(url, {
      headers: { 'x-service-api-key': sim.serviceApiKey, origin: sim.webUrl },
    });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`terminal socket hung (${frames.length} frames)`));
    }, ANSWER_BOUND_MS);
    ws.on('error', () => undefined);
    ws.on('unexpected-response', (_req, res) => {
      tally.refused += 1;
      clearTimeout(timer);
      res.resume();
      reject(new Error(`terminal upgrade refused with ${res.statusCode}`));
    });
    ws.on('open', () => {
      tally.opened += 1;
      for (const frame of frames) {
        if (ws.readyState !== WebSocket.OPEN) break;
        ws.send(frame.data, { binary: frame.kind === 'binary' });
        tally.frames += 1;
      }
      setTimeout(() => ws.close(1000), 20);
    });
    ws.on('close', (code) => {
      clearTimeout(timer);
      tally.closeCodes.set(code, (tally.closeCodes.get(code) ?? 0) + 1);
      resolve();
    });
  });
}

/** Upgrades by hand, then writes malformed frame bytes; resolves with what came back (or the close). */
function malformedSocket(sim: SimulatorHandle, tenantId: string, garbage: Buffer[]): Promise<string> {
  const api = new URL(sim.apiUrl);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(api.port), api.hostname);
    let received = Buffer.alloc(0);
    let upgraded = false;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('server neither answered nor closed a socket sending malformed frames'));
    }, ANSWER_BOUND_MS);
    socket.on('error', () => undefined);
    socket.on('connect', () => {
      socket.write(
        `GET /api/tenants/${tenantId}/terminal HTTP/1.1\r\nHost: ${api.host}\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n` +
          `Origin: ${sim.webUrl}\r\nX-Service-API-Key: ${sim.serviceApiKey}\r\n\r\n`,
      );
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (!upgraded && received.includes('\r\n\r\n')) {
        upgraded = received.subarray(0, 12).toString() === 'HTTP/1.1 101';
        if (!upgraded) return;
        for (const bytes of garbage) socket.write(bytes);
        // If the server tolerated all of it, end politely; it must still close.
        socket.end();
      }
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(upgraded ? 'upgraded' : received.subarray(0, 12).toString());
    });
  });
}

/** Upgrade requests that are wrong at the HTTP level: every one must get an answer or a close. */
function brokenUpgrade(sim: SimulatorHandle, raw: string): Promise<string> {
  const api = new URL(sim.apiUrl);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(api.port), api.hostname);
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer to a broken upgrade: ${JSON.stringify(raw.slice(0, 200))}`));
    }, ANSWER_BOUND_MS);
    socket.on('error', () => undefined);
    socket.on('connect', () => socket.end(raw));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(received.split('\r\n')[0] ?? '');
    });
  });
}

// ---- the tests ------------------------------------------------------------------------------------

describe('simulator under fuzzing', () => {
  let sim: SimulatorHandle;
  let creds: Credentials;

  before(async () => {
    // A high rate limit keeps the session's /api/* requests from turning into 429s after 60.
    sim = await startSimulator({ seedTenants: 3, args: ['--rate-limit', '1000000'] });
    const { session, csrf } = await logIn(sim);
    creds = {
      tenantIds: sim.tenantIds,
      serviceApiKey: sim.serviceApiKey,
      userJwt: await jwt(sim.jwtSecret, { sub: 'fuzz-user', tenant_id: sim.tenantIds[0] }),
      adminJwt: await jwt(sim.jwtSecret, { sub: 'fuzz-admin', isAdmin: true }),
      foreignJwt: await jwt('not-the-secret-0123456789abcdef', { sub: 'x', isAdmin: true }),
      sessionCookie: session,
      csrfCookie: csrf,
    };
  });

  after(async () => {
    await sim?.stop();
  });

  it(`answers ${HTTP_REQUESTS} generated requests within the contract, in time, and stays up`, async () => {
    const requests = fc.sample(requestArb(sim, creds), { numRuns: HTTP_REQUESTS, seed: SEED });
    // A few bodies over the API's 1 MiB limit, at routes that read bodies.
    const big = Buffer.alloc(ONE_MIB + 4096, 0x61);
    for (const [server, path] of [
      ['api', '/v1/chat/completions'],
      ['api', '/api/channels/inbound'],
      ['api', `/api/tenants/${sim.tenantIds[0]}/resume`],
      ['web', '/api/auth/signup'],
      ['web', '/api/chat'],
      ['web', '/api/auth/callback/credentials'],
    ] as const) {
      requests.push({
        server,
        method: 'POST',
        path,
        headers: {
          'content-type': 'application/json',
          'x-service-api-key': sim.serviceApiKey,
          origin: sim.webUrl,
          cookie: creds.sessionCookie,
        },
        body: big,
        bodyKind: 'over-1MiB',
      });
    }

    const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const fresh = new http.Agent({ keepAlive: false });
    const violations: string[] = [];
    const statuses = new Map<string, number>();
    let slowest = 0;
    try {
      await runPool(requests, CONCURRENCY, async (request) => {
        const answer = await send(agent, fresh, request.server === 'web' ? sim.webUrl : sim.apiUrl, request);
        slowest = Math.max(slowest, answer.ms);
        const key = `${request.server} ${answer.status}`;
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
        if (answer.status === 'hang') {
          violations.push(`no answer within ${ANSWER_BOUND_MS} ms: ${describeRequest(request)}`);
          return;
        }
        if (answer.status === 'reset') {
          // The server may drop a connection whose request it could not parse (Node's 400 path),
          // but never one it accepted.
          if (answer.detail?.startsWith('client refused')) return;
          violations.push(`connection reset (${answer.detail}): ${describeRequest(request)}`);
          return;
        }
        const allowed = request.server === 'web' ? allowedWebStatuses(request) : allowedApiStatuses(request);
        if (!allowed.has(answer.status))
          violations.push(
            `${answer.status} not in the contract's [${[...allowed].sort().join(', ')}]: ${describeRequest(request)}`,
          );
      });
    } finally {
      agent.destroy();
      fresh.destroy();
    }

    const distribution = [...statuses.entries()]
      .sort()
      .map(([k, n]) => `${k}: ${n}`)
      .join(', ');
    assert.deepEqual(
      violations.slice(0, 15),
      [],
      `${violations.length} of ${requests.length} answers broke the contract (seed ${SEED}); statuses: ${distribution}`,
    );
    // The generator must actually reach the routes' inner answers, not only auth refusals.
    for (const expected of [
      'web 200',
      'web 307',
      'web 400',
      'web 403',
      'api 200',
      'api 400',
      'api 401',
      'api 405',
    ])
      assert.ok((statuses.get(expected) ?? 0) > 0, `no "${expected}" among the answers: ${distribution}`);
    assert.ok(slowest < ANSWER_BOUND_MS);

    const health = await fetch(`${sim.apiUrl}/health`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
    assert.equal((await fetch(`${sim.webUrl}/api/auth/csrf`)).status, 200, 'web app still serving');
    process.kill(sim.pid, 0);
    const crashes = sim.stderr.filter((line) => /uncaught|unhandled|api error/i.test(line));
    assert.deepEqual(crashes.slice(0, 5), [], 'handler errors on the simulator stderr');
  });

  it('reads the body of a request with a malformed Content-Type, as Next.js and Go do (no 415)', async () => {
    for (const type of [';;;', 'foo', 'a/b/c']) {
      const web = await fetch(`${sim.webUrl}/api/auth/signup`, {
        method: 'POST',
        headers: { 'content-type': type, origin: sim.webUrl },
        body: '{}',
      });
      assert.equal(web.status, 400, `web signup with Content-Type ${JSON.stringify(type)}`);
      const api = await fetch(`${sim.apiUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: {
          'content-type': type,
          'x-service-api-key': sim.serviceApiKey,
          'x-tenant-id': sim.tenantIds[0]!,
        },
        body: '{}',
      });
      assert.equal(api.status, 400, `API completions with Content-Type ${JSON.stringify(type)}`);
    }
  });

  it('survives random and malformed terminal frames and broken upgrades, then still serves a terminal', async () => {
    const tally: WsTally = { frames: 0, opened: 0, refused: 0, closeCodes: new Map() };
    const sessions = fc.sample(fc.array(wsFrameArb, { minLength: 5, maxLength: 30 }), {
      numRuns: 120,
      seed: SEED,
    });
    await runPool(
      sessions.map((frames, i) => ({ frames, tenant: sim.tenantIds[i % sim.tenantIds.length]! })),
      8,
      ({ frames, tenant }) => fuzzSocket(sim, tenant, frames, tally),
    );
    assert.equal(tally.refused, 0);
    assert.equal(tally.opened, sessions.length);
    assert.ok(tally.frames >= 1000, `only ${tally.frames} frames sent`);

    const malformed = fc.sample(fc.array(malformedFrameArb, { minLength: 1, maxLength: 6 }), {
      numRuns: 150,
      seed: SEED + 1,
    });
    const outcomes = new Map<string, number>();
    await runPool(malformed, 8, async (garbage) => {
      const outcome = await malformedSocket(sim, sim.tenantIds[0]!, garbage);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    });
    assert.equal(outcomes.get('upgraded'), malformed.length, `upgrades: ${JSON.stringify([...outcomes])}`);

    const tenant = sim.tenantIds[0]!;
    const host = new URL(sim.apiUrl).host;
    const key = `X-Service-API-Key: ${sim.serviceApiKey}\r\nOrigin: ${sim.webUrl}\r\n`;
    const broken = [
      `GET /api/tenants/${tenant}/terminal HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n${key}\r\n`,
      `GET /api/tenants/${tenant}/terminal HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: x\r\nSec-WebSocket-Version: 99\r\n${key}\r\n`,
      `GET /api/tenants/${tenant}/terminal HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      `GET /api/tenants/%zz/terminal HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${key}\r\n`,
      `POST /api/tenants/${tenant}/terminal HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n${key}Content-Length: 5\r\n\r\nhello`,
      'GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
      '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03',
      'GARBAGE\r\n\r\n',
    ];
    for (const raw of broken) {
      const statusLine = await brokenUpgrade(sim, raw);
      assert.doesNotMatch(
        statusLine,
        /^HTTP\/1\.1 5/,
        `5xx to a broken upgrade: ${JSON.stringify(raw.slice(0, 80))}`,
      );
    }

    // Still alive and still a working terminal after all of it.
    assert.equal((await fetch(`${sim.apiUrl}/health`)).status, 200);
    const echoed = await new Promise<string>((resolve, reject) => {
      const ws = new WebSocket(`${sim.apiUrl.replace(/^http/, 'ws')}/api/tenants/${tenant}/terminal`, {
        headers: { 'x-service-api-key': sim.serviceApiKey, origin: sim.webUrl },
      });
      let output = '';
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error(`no echo; output so far ${JSON.stringify(output)}`));
      }, ANSWER_BOUND_MS);
      ws.on('open', () => ws.send('echo fuzz-survived-42\n'));
      ws.on('message', (data: Buffer) => {
        output += data.toString();
        // The echo of the typed line, then the command's output on a line of its own.
        if (/\nfuzz-survived-42\r?\n/.test(output)) {
          clearTimeout(timer);
          ws.close();
          resolve(output);
        }
      });
      ws.on('error', reject);
    });
    assert.match(echoed, /fuzz-survived-42/);
    const crashes = sim.stderr.filter((line) => /uncaught|unhandled|api error/i.test(line));
    assert.deepEqual(crashes.slice(0, 5), []);
  });
});
