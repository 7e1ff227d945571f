import fastifyCookie from '@fastify/cookie';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { RouteFamily } from '../control-types';
import { tolerateUnparsableContentType } from '../core/content-type';
import type { SimContext } from '../core/context';
import { createMiddleware, pathnameOf } from './middleware';
import { registerAuthRoutes } from './routes/auth';
import { registerChatRoutes } from './routes/chat';
import { registerOnboardingRoutes } from './routes/onboarding';
import { registerPageRoutes } from './routes/pages';
import { createWebServices } from './services';

const BODY_LIMIT_BYTES = 1024 * 1024;

const AUTH_ROUTE_NAMES: Record<string, string> = {
  '/api/auth/csrf': 'web.csrf',
  '/api/auth/signup': 'web.signup',
  '/api/auth/callback/credentials': 'web.callback',
  '/api/auth/session': 'web.session',
};

const PAGE_PATHS = new Set(['/', '/login', '/signup', '/onboarding', '/dashboard', '/dashboard/chat']);

export function webRouteName(request: FastifyRequest): string {
  const path = pathnameOf(request);
  if (path.startsWith('/api/auth')) return AUTH_ROUTE_NAMES[path] ?? 'web.auth';
  if (path === '/api/chat') return 'web.chat';
  if (path === '/api/onboarding') return 'web.onboarding';
  return PAGE_PATHS.has(path) ? 'web.pages' : 'web.other';
}

export function webRouteFamily(request: FastifyRequest): RouteFamily {
  const path = pathnameOf(request);
  if (path.startsWith('/api/auth')) return 'auth';
  if (path === '/api/chat') return 'chat';
  if (path === '/api/onboarding') return 'onboarding';
  return 'pages';
}

/** The Next.js/NextAuth web app stand-in: auth, chat, onboarding and the browser pages. */
export function buildWebApp(ctx: SimContext): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: BODY_LIMIT_BYTES, forceCloseConnections: true });
  ctx.stats.instrument(app, webRouteName, webRouteFamily);
  app.register(fastifyCookie);

  // Route handlers read the raw text themselves, as Next.js route handlers do with req.json().
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));
  tolerateUnparsableContentType(app);

  const services = createWebServices(ctx);
  app.addHook('preHandler', createMiddleware(services));

  app.setErrorHandler((error: FastifyError, _request, reply) => {
    const status = typeof error.statusCode === 'number' && error.statusCode >= 400 ? error.statusCode : 500;
    if (status >= 500) return reply.code(500).type('text/plain; charset=utf-8').send('Internal Server Error');
    return reply
      .code(status)
      .type('application/json')
      .send(JSON.stringify({ error: error.message }));
  });

  app.register(async (scope) => {
    registerAuthRoutes(scope, services);
    registerChatRoutes(scope, services);
    registerOnboardingRoutes(scope, services);
    registerPageRoutes(scope, services);
  });
  return app;
}
