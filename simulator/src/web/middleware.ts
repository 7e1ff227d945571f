import type { FastifyReply, FastifyRequest } from 'fastify';
import type { WebServices } from './services';
import { readMiddlewareSession } from './session';

export function pathnameOf(request: FastifyRequest): string {
  const url = request.raw.url ?? '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

export function searchOf(request: FastifyRequest): string {
  const url = request.raw.url ?? '/';
  const query = url.indexOf('?');
  return query === -1 ? '' : url.slice(query);
}

/** Paths the real middleware lets through without a session. */
export function isPublicPath(pathname: string): boolean {
  return (
    pathname === '/' ||
    pathname === '/landing.html' ||
    pathname.startsWith('/images/') ||
    pathname === '/login' ||
    pathname === '/signup' ||
    pathname.startsWith('/api/auth') ||
    pathname.startsWith('/api/webhooks') ||
    pathname.startsWith('/_next/static') ||
    pathname.startsWith('/_next/image') ||
    pathname === '/favicon.ico'
  );
}

/**
 * The real app's middleware, in its order: a protected path without a session gets 307 to the
 * login page on the NEXTAUTH_URL host, not the Host the request named (URL as text body); then
 * the per-user fixed-window limit on `/api/*` (auth routes are public and never limited), whose
 * 429 alone carries the rate-limit headers.
 */
export function createMiddleware(services: WebServices) {
  return async function middleware(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const pathname = pathnameOf(request);
    if (isPublicPath(pathname)) return;
    const session = await readMiddlewareSession(services, request);
    if (session.kind !== 'valid') {
      const login = new URL('/login', services.site());
      login.searchParams.append('callbackUrl', `${pathname}${searchOf(request)}`);
      const location = login.toString();
      await reply.code(307).header('location', location).type('text/plain; charset=utf-8').send(location);
      return;
    }
    request.webSession = session;
    if (pathname.startsWith('/api/')) {
      const verdict = services.limiter.hit(session.claims.userId);
      if (!verdict.ok) {
        services.ctx.stats.chat.rateLimited += 1;
        await reply
          .code(429)
          .headers({
            'retry-after': String(verdict.retryAfterSeconds),
            'x-ratelimit-limit': String(verdict.limit),
            'x-ratelimit-remaining': String(verdict.remaining),
          })
          .type('application/json')
          .send(JSON.stringify({ error: 'Too many requests' }));
      }
    }
  };
}
