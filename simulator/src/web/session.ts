import type { FastifyReply, FastifyRequest } from 'fastify';
import type { User } from '../core/state';
import { authCookieOptions } from './cookies';
import { resolveCsrf } from './csrf';
import type { WebServices } from './services';
import { type DecodedSession, SESSION_MAX_AGE_S, type SessionClaims } from './session-token';

declare module 'fastify' {
  interface FastifyRequest {
    /** The session as the middleware saw it (set for protected paths it let through). */
    webSession?: SessionLookup;
  }
}

export type SessionLookup =
  | { kind: 'none' }
  | { kind: 'invalid' }
  | { kind: 'valid'; claims: DecodedSession; user: User };

export function cookieOf(request: FastifyRequest, name: string): string | undefined {
  const value = request.cookies?.[name];
  return value === undefined || value === '' ? undefined : value;
}

/** What getServerSession sees: the session cookie of the deployment's cookie names, decrypted. */
export async function readSession(services: WebServices, request: FastifyRequest): Promise<SessionLookup> {
  const raw = cookieOf(request, services.cookieNames().sessionToken);
  if (!raw) return { kind: 'none' };
  const claims = await services.codec.decode(raw);
  const user = claims ? services.ctx.state.getUser(claims.userId) : undefined;
  return claims && user ? { kind: 'valid', claims, user } : { kind: 'invalid' };
}

/** getServerSession inside a protected route: the middleware has already decrypted the same cookie. */
export async function routeSession(services: WebServices, request: FastifyRequest): Promise<SessionLookup> {
  return request.webSession ?? readSession(services, request);
}

/**
 * What the middleware sees. A production build (secure cookie names) served over plain http never
 * accepts the session, so every protected route answers 307 to login even with a valid cookie:
 * the suite must be able to name that cause.
 */
export async function readMiddlewareSession(
  services: WebServices,
  request: FastifyRequest,
): Promise<SessionLookup> {
  if (services.ctx.cookieMode === 'secure' && request.protocol !== 'https') return { kind: 'none' };
  return readSession(services, request);
}

export function claimsFor(user: User): SessionClaims {
  return {
    name: null,
    email: user.email,
    picture: null,
    sub: user.id,
    userId: user.id,
    tenantId: user.tenantId,
    isAdmin: user.isAdmin,
  };
}

/** Encrypts a fresh session for `user` and sets its cookie; returns the new expiry. */
export async function issueSessionCookie(
  services: WebServices,
  reply: FastifyReply,
  user: User,
): Promise<Date> {
  const expires = new Date(Date.now() + SESSION_MAX_AGE_S * 1000);
  const token = await services.codec.encode(claimsFor(user));
  reply.setCookie(
    services.cookieNames().sessionToken,
    token,
    authCookieOptions(services.ctx.cookieMode, { expires }),
  );
  return expires;
}

export function clearSessionCookie(services: WebServices, reply: FastifyReply): void {
  reply.setCookie(
    services.cookieNames().sessionToken,
    '',
    authCookieOptions(services.ctx.cookieMode, { maxAge: 0 }),
  );
}

/** NextAuth's redirect callback: relative URLs and same-origin URLs pass, anything else is the site root. */
export function safeCallbackUrl(site: string, url: string): string {
  if (url.startsWith('/')) return `${site}${url}`;
  try {
    return new URL(url).origin === site ? url : site;
  } catch {
    return site;
  }
}

export interface AuthInit {
  csrfToken: string;
  csrfVerified: boolean;
  callbackUrl: string;
}

/**
 * What NextAuth does at the start of every /api/auth/* request: reuse or mint the CSRF token
 * (setting its cookie when new) and settle the callback URL from the request or its cookie
 * (setting the cookie when it changes).
 */
export function initAuthRequest(
  services: WebServices,
  request: FastifyRequest,
  reply: FastifyReply,
  body: Record<string, unknown> = {},
): AuthInit {
  const names = services.cookieNames();
  const mode = services.ctx.cookieMode;
  const csrf = resolveCsrf(
    services.ctx.secrets.nextauthSecret,
    cookieOf(request, names.csrfToken),
    body.csrfToken,
  );
  if (csrf.newCookieValue) reply.setCookie(names.csrfToken, csrf.newCookieValue, authCookieOptions(mode));

  const site = services.site();
  const query = (request.query ?? {}) as Record<string, unknown>;
  const param = typeof body.callbackUrl === 'string' ? body.callbackUrl : query.callbackUrl;
  const cookieValue = cookieOf(request, names.callbackUrl);
  let callbackUrl = site;
  if (typeof param === 'string' && param !== '') callbackUrl = safeCallbackUrl(site, param);
  else if (cookieValue) callbackUrl = safeCallbackUrl(site, cookieValue);
  if (callbackUrl !== cookieValue) reply.setCookie(names.callbackUrl, callbackUrl, authCookieOptions(mode));

  const refused = services.ctx.faults.live.auth?.csrfRefuse === true;
  return { csrfToken: csrf.token, csrfVerified: csrf.verified && !refused, callbackUrl };
}
