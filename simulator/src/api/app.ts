import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { SimContext } from '../core/context';
import { familyFromConfig, routeNameFromConfig } from '../core/stats';
import { ApiAuthenticator, setCaller } from './auth';
import { registerModelRoutes } from './completions';
import { registerInboundRoutes } from './inbound';
import { registerTenantRoutes, sendError } from './tenants';
import { attachTerminal } from './terminal';

export const BODY_LIMIT_BYTES = 1024 * 1024;

const PUBLIC_PATHS = new Set(['/', '/health']);
/** Channel webhooks authenticate by their provider's secret, not the service key. */
const WEBHOOK = /^\/api\/channels\/(telegram|whatsapp)(\/|$)/;

function pathOf(request: FastifyRequest): string {
  const index = request.url.indexOf('?');
  return index === -1 ? request.url : request.url.slice(0, index);
}

function needsAuth(path: string): boolean {
  if (PUBLIC_PATHS.has(path) || WEBHOOK.test(path)) return false;
  return path.startsWith('/api/') || path.startsWith('/v1/');
}

/** The platform's Go API: service-key or HS256-JWT auth, LLM proxy, tenants, channels, terminal. */
export function buildApi(ctx: SimContext): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT_BYTES,
    forceCloseConnections: true,
    return503OnClosing: false,
  });
  const auth = new ApiAuthenticator(ctx.secrets.serviceApiKey, ctx.secrets.jwtSecret);

  ctx.stats.instrument(app, routeNameFromConfig('api'), familyFromConfig);

  // Handlers parse bodies themselves, whatever the content type, as Go's json.Decoder does.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  app.addHook('onRequest', async (request, reply) => {
    if (!needsAuth(pathOf(request))) return;
    const caller = await auth.identify(request.headers);
    setCaller(request, caller);
    if (caller.kind === 'none') return sendError(reply, 401, 'Unauthorized');
  });

  app.setErrorHandler((error: FastifyError, _request, reply) => {
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendError(reply, 413, 'request body too large');
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500)
      return sendError(reply, error.statusCode, 'bad request');
    process.stderr.write(`api error: ${error.stack ?? error.message}\n`);
    return sendError(reply, 500, 'internal error');
  });

  app.get('/health', { config: { statsName: 'api.health' } }, async (_request, reply) =>
    reply.type('application/json').send('{"status":"ok"}'),
  );
  app.get('/', { config: { statsName: 'api.root' } }, async (_request, reply) =>
    reply.type('text/plain; charset=utf-8').send('Hello from AgentSquads API'),
  );

  registerModelRoutes(app, ctx);
  registerTenantRoutes(app, ctx);
  registerInboundRoutes(app, ctx, auth);

  // Go's ServeMux with a catch-all "GET /": any other GET is the greeting, anything else 405.
  app.setNotFoundHandler(async (request, reply) => {
    if (request.method === 'GET' || request.method === 'HEAD')
      return reply.code(200).type('text/plain; charset=utf-8').send('Hello from AgentSquads API');
    return reply
      .code(405)
      .header('allow', 'GET, HEAD')
      .type('text/plain; charset=utf-8')
      .send('Method Not Allowed\n');
  });

  attachTerminal(app, ctx, auth);
  return app;
}
