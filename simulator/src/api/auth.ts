import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { jwtVerify } from 'jose';

export type ApiCaller =
  | { kind: 'service-key' }
  | { kind: 'jwt'; admin: boolean; claims: Record<string, unknown> }
  | { kind: 'none' };

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Claims that mark an admin on the real API: isAdmin / is_admin true, or role(s) admin. */
export function claimsAreAdmin(claims: Record<string, unknown>): boolean {
  if (claims.isAdmin === true || claims.is_admin === true) return true;
  if (typeof claims.role === 'string' && claims.role.toLowerCase() === 'admin') return true;
  const roles = claims.roles;
  if (Array.isArray(roles)) return roles.some((r) => typeof r === 'string' && r.toLowerCase() === 'admin');
  if (typeof roles === 'string') return roles.split(/[\s,]+/).some((r) => r.toLowerCase() === 'admin');
  return false;
}

export class ApiAuthenticator {
  private readonly key: Uint8Array;

  constructor(
    private readonly serviceApiKey: string,
    jwtSecret: string,
  ) {
    this.key = new TextEncoder().encode(jwtSecret);
  }

  hasServiceKey(headers: FastifyRequest['headers']): boolean {
    const value = headers['x-service-api-key'];
    return typeof value === 'string' && value.trim() !== '' && safeEqual(value.trim(), this.serviceApiKey);
  }

  /** Service key first, then an HS256 Bearer JWT verified with the API's secret. */
  async identify(headers: FastifyRequest['headers']): Promise<ApiCaller> {
    if (this.hasServiceKey(headers)) return { kind: 'service-key' };
    const authorization = headers.authorization;
    if (typeof authorization !== 'string') return { kind: 'none' };
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) return { kind: 'none' };
    try {
      const { payload } = await jwtVerify(match[1]!, this.key, { algorithms: ['HS256'] });
      const claims = payload as Record<string, unknown>;
      return { kind: 'jwt', admin: claimsAreAdmin(claims), claims };
    } catch {
      return { kind: 'none' };
    }
  }
}

const callers = new WeakMap<FastifyRequest, ApiCaller>();

export function setCaller(request: FastifyRequest, caller: ApiCaller): void {
  callers.set(request, caller);
}

/** Who made the request, as the auth hook identified it. */
export function callerOf(request: FastifyRequest): ApiCaller {
  return callers.get(request) ?? { kind: 'none' };
}
