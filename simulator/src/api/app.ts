import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import { tolerateUnparsableContentType } from '../core/content-type';
import type { SimContext } from '../core/context';
import { familyFromConfig, routeNameFromConfig } from '../core/stats';
import { registerAdminTenantRoutes } from './admin-tenants';
import { ApiAuthenticator, setCaller } from './auth';
import { BODY_TOO_LARGE, readLimitedBody } from './body-limit';
import { registerModelRoutes } from './completions';
import { sendError } from './go-json';
import { registerInboundRoutes } from './inbound';
import { registerTenantRoutes } from './tenants';
import { attachTerminal } from './terminal';

export const BODY_LIMIT_BYTES = 1024 * 1024;

const PUBLIC_PATHS = new Set(['/', '/health']);
/** Channel webhooks authenticate by their provider's secret, not the service key (exact paths only). */
const WEBHOOKS = new Set(['/api/channels/telegram/webhook', '/api/channels/whatsapp/webhook']);

function pathOf(request: FastifyRequest): string {
  const index = request.url.indexOf('?');
  return index === -1 ? request.url : request.url.slice(0, index);
}

function needsAuth(path: string): boolean {
  if (PUBLIC_PATHS.has(path) || WEBHOOKS.has(path)) return false;
  return path.startsWith('/api/') || path.startsWith('/v1/');
}

/** middleware/admin.go guards every path under /api/admin, mounted or not. */
const isAdminPath = (path: string) => path === '/api/admin' || path.startsWith('/api/admin/');

/** The platform's Go API: service-key or HMAC-JWT auth, LLM proxy, tenants, admin, channels, terminal. */
export function buildApi(ctx: SimContext): FastifyInstance {
  const app = Fastify({
    logger: false,
    forceCloseConnections: true,
    return503OnClosing: false,
  });
  const auth = new ApiAuthenticator(ctx.secrets.serviceApiKey, ctx.secrets.jwtSecret);

  ctx.stats.instrument(app, routeNameFromConfig('api'), familyFromConfig);

  // Handlers parse bodies themselves, whatever the content type, as Go's json.Decoder does. Over
  // 1 MiB, http.MaxBytesReader makes the handler's decode fail (its own 400) and closes the
  // connection; a route that never reads the body answers as usual.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => {
    readLimitedBody(payload, BODY_LIMIT_BYTES).then(
      (body) => done(null, body),
      (error: Error) => done(error, undefined),
    );
  });
  app.addHook('preHandler', async (request, reply) => {
    if (request.body === BODY_TOO_LARGE) reply.header('connection', 'close');
  });
  tolerateUnparsableContentType(app);

  // Outermost applyAuth (401), then ApplyAdmin on /api/admin (403), then the routes.
  app.addHook('onRequest', async (request, reply) => {
    const path = pathOf(request);
    if (!needsAuth(path)) return;
    const caller = await auth.identify(request.headers);
    setCaller(request, caller);
    if (caller.kind === 'none') return sendError(reply, 401, 'Unauthorized');
    if (isAdminPath(path) && !(await auth.isAdmin(request.headers)))
      return sendError(reply, 403, 'forbidden');
  });

  app.setErrorHandler((error: FastifyError, _request, reply) => {
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500)
      return sendError(reply, error.statusCode, 'bad request');
    process.stderr.write(`api error: ${error.stack ?? error.message}\n`);
    return sendError(reply, 500, 'internal error');
  });

  app.get('/health', { config: { statsName: 'api.health' } }, async (_request, reply) =>
    reply.type('application/json').send('{"status":"ok"}\n'),
  );
  // fmt.Fprintln: the greeting ends with a newline.
  const greeting = 'Hello from AgentSquads API\n';
  app.get('/', { config: { statsName: 'api.root' } }, async (_request, reply) =>
    reply.type('text/plain; charset=utf-8').send(greeting),
  );

  registerModelRoutes(app, ctx);
  registerTenantRoutes(app, ctx);
  registerAdminTenantRoutes(app, ctx);
  registerInboundRoutes(app, ctx, auth);

  // Go's ServeMux with a catch-all "GET /": any other GET is the greeting, anything else 405.
  app.setNotFoundHandler(async (request, reply) => {
    if (request.method === 'GET' || request.method === 'HEAD')
      return reply.code(200).type('text/plain; charset=utf-8').send(greeting);
    return reply
      .code(405)
      .header('allow', 'GET, HEAD')
      .type('text/plain; charset=utf-8')
      .send('Method Not Allowed\n');
  });

  attachTerminal(app, ctx, auth);
  return app;
}
