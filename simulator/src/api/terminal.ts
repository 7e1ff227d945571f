import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { WebSocketServer } from 'ws';
import type { SimContext } from '../core/context';
import { sleep } from '../core/latency';
import type { Tenant } from '../core/state';
import type { ApiAuthenticator } from './auth';
import { pgUuid } from './go-json';
import { TerminalSession } from './terminal-session';

const TERMINAL_PATH = /^\/api\/tenants\/([^/]+)\/terminal$/;

function writeHttp(socket: Duplex, status: number, reason: string, contentType: string, body: string): void {
  if (socket.destroyed) return;
  const bytes = Buffer.from(body);
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: ${contentType}\r\nX-Content-Type-Options: nosniff\r\n` +
      `Content-Length: ${bytes.length}\r\nConnection: close\r\n\r\n${body}`,
  );
}

const text = (socket: Duplex, status: number, reason: string, body: string) =>
  writeHttp(socket, status, reason, 'text/plain; charset=utf-8', body);

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * Docker runs the container from the moment its start call returns; the simulator's cold start is
 * the app inside booting, so an exec (the shell) works during it.
 */
const dockerRunning = (tenant: Tenant) =>
  tenant.container.state === 'running' || tenant.container.state === 'starting';

/**
 * The web app's origin (WEB_BASE_URL) is the only Origin allowed, compared by scheme and host as
 * gorilla does.
 */
export function originAllowed(origin: string | undefined, webOrigin: string): boolean {
  if (!origin || origin.trim() === '' || origin === 'null') return false;
  try {
    const given = new URL(origin.trim());
    const allowed = new URL(webOrigin);
    return given.protocol === allowed.protocol && given.host.toLowerCase() === allowed.host.toLowerCase();
  } catch {
    return false;
  }
}

/**
 * `GET /api/tenants/{id}/terminal`: auth, container lookup, then the upgrade with gorilla's
 * Origin check. A plain GET (no upgrade) gets gorilla's 400 after the same checks.
 */
export function attachTerminal(app: FastifyInstance, ctx: SimContext, auth: ApiAuthenticator): void {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024, perMessageDeflate: false });
  const sockets = new Set<import('ws').WebSocket>();
  const sessionsByTenant = new Map<string, Set<TerminalSession>>();
  // Stopping the container (admin suspend, credits run out) kills the exec: the socket closes 1000.
  const stopWatch = ctx.containers.onStop((tenant) => {
    for (const session of sessionsByTenant.get(tenant.id) ?? []) session.execEnded();
  });

  app.get<{ Params: { id: string } }>(
    '/api/tenants/:id/terminal',
    { config: { statsName: 'api.terminal_http', family: 'terminal' } },
    async (request, reply) => {
      const uuid = pgUuid(request.params.id);
      const tenant = uuid ? ctx.state.getTenant(uuid) : undefined;
      if (!tenant || tenant.container.state === 'none')
        return reply.code(404).type('text/plain; charset=utf-8').send('tenant container not found\n');
      if (!dockerRunning(tenant))
        return reply.code(500).type('text/plain; charset=utf-8').send('failed to create exec\n');
      return reply.code(400).type('text/plain; charset=utf-8').send('Bad Request\n');
    },
  );

  app.server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    handleUpgrade(request, socket, head).catch(() => socket.destroy());
  });

  async function handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const started = performance.now();
    const record = (status: number | string) =>
      ctx.stats.recordRoute('api.terminal', status, performance.now() - started);
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const match = TERMINAL_PATH.exec(path);
    if (!match || request.method !== 'GET') {
      // Go's catch-all "GET /" answers an upgrade request elsewhere like any GET.
      text(socket, 200, 'OK', 'Hello from AgentSquads API\n');
      return;
    }
    const caller = await auth.identify(request.headers);
    if (caller.kind === 'none') {
      writeHttp(socket, 401, 'Unauthorized', 'application/json', '{"error":"Unauthorized"}\n');
      record(401);
      return;
    }
    const decision = ctx.faults.decide('terminal');
    await sleep(decision.delayMs);
    if (decision.kind === 'reset') {
      socket.destroy();
      record('reset');
      return;
    }
    if (decision.kind === 'error') {
      text(socket, decision.errorStatus, 'Error', 'internal error\n');
      record(decision.errorStatus);
      return;
    }
    const id = safeDecode(match[1] ?? '');
    const uuid = pgUuid(id);
    const tenant = uuid ? ctx.state.getTenant(uuid) : undefined;
    if (!tenant || tenant.container.state === 'none') {
      text(socket, 404, 'Not Found', 'tenant container not found\n');
      record(404);
      return;
    }
    if (!dockerRunning(tenant)) {
      text(socket, 500, 'Internal Server Error', 'failed to create exec\n');
      record(500);
      return;
    }
    if (!originAllowed(request.headers.origin, ctx.urls.web)) {
      text(socket, 403, 'Forbidden', 'Forbidden\n');
      record(403);
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      record(101);
      sockets.add(ws);
      const leave = ctx.stats.enter('terminal');
      const tenantSessions = sessionsByTenant.get(tenant.id) ?? new Set<TerminalSession>();
      sessionsByTenant.set(tenant.id, tenantSessions);
      const session: TerminalSession = new TerminalSession(ctx, ws, () => {
        sockets.delete(ws);
        tenantSessions.delete(session);
        if (tenantSessions.size === 0) sessionsByTenant.delete(tenant.id);
        leave();
      });
      tenantSessions.add(session);
    });
  }

  // Upgraded sockets are no longer the HTTP server's: end them before it waits for its connections.
  app.addHook('preClose', async () => {
    stopWatch();
    for (const ws of sockets) ws.terminate();
    wss.close();
  });
}
