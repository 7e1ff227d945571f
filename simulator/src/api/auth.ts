import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { jwtVerify } from 'jose';

export type ApiCaller =
  | { kind: 'service-key' }
  | { kind: 'jwt'; claims: Record<string, unknown> }
  | { kind: 'none' };

/** golang-jwt with an HMAC key func: any of the HMAC algorithms verifies. */
const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'];

/** middleware/admin.go's roles that count as admin. */
const ADMIN_ROLES = new Set([
  'admin',
  'platform_admin',
  'platform-admin',
  'super_admin',
  'super-admin',
  'superadmin',
]);

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** toString of admin.go: strings as they are, numbers without decimals, booleans as words. */
function claimText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return value.toFixed(0);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return '';
}

/** boolClaim: true, a non-zero number, or "1"/"true"/"yes" in any case. */
function claimIsTrue(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'string') return ['1', 'true', 'yes'].includes(value.trim().toLowerCase());
  return false;
}

function firstText(claims: Record<string, unknown>, ...keys: string[]): string {
  for (const key of keys) {
    const text = claimText(claims[key]).trim();
    if (text !== '') return text;
  }
  return '';
}

const isAdminRole = (role: string) => ADMIN_ROLES.has(role.trim().toLowerCase());

/**
 * The real admin check (middleware/admin.go): is_admin/isAdmin true-ish, role an admin role, roles
 * (a list, or a comma-separated string) holding one, or the allow-listed email.
 */
export function claimsAreAdmin(claims: Record<string, unknown>): boolean {
  if (claimIsTrue(claims.is_admin) || claimIsTrue(claims.isAdmin)) return true;
  if (isAdminRole(firstText(claims, 'role'))) return true;
  const roles = claims.roles;
  if (Array.isArray(roles) && roles.some((role) => isAdminRole(claimText(role)))) return true;
  // The real middleware also admits one hard-coded personal email; the simulator does not copy a
  // person's address, and the suite never relies on it.
  return typeof roles === 'string' && roles.split(',').some(isAdminRole);
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

  private async verify(token: string): Promise<Record<string, unknown> | undefined> {
    if (token === '') return undefined;
    try {
      const { payload } = await jwtVerify(token, this.key, { algorithms: HMAC_ALGORITHMS });
      return payload as Record<string, unknown>;
    } catch {
      return undefined;
    }
  }

  /**
   * applyAuth: the service key, else the Authorization header with a leading "Bearer" cut off
   * (case-sensitive, so "bearer x" is refused and a bare token is accepted) verified as a JWT.
   */
  async identify(headers: FastifyRequest['headers']): Promise<ApiCaller> {
    if (this.hasServiceKey(headers)) return { kind: 'service-key' };
    const authorization = headers.authorization;
    if (typeof authorization !== 'string') return { kind: 'none' };
    const raw = authorization.startsWith('Bearer') ? authorization.slice('Bearer'.length) : authorization;
    const claims = await this.verify(raw.trim());
    return claims ? { kind: 'jwt', claims } : { kind: 'none' };
  }

  /**
   * ApplyAdmin, which reads the Authorization header on its own (whatever else authenticated the
   * request): scheme "Bearer" in any case, one space, then a JWT whose claims mark an admin.
   */
  async isAdmin(headers: FastifyRequest['headers']): Promise<boolean> {
    const header = headers.authorization?.trim() ?? '';
    const space = header.indexOf(' ');
    if (space === -1 || header.slice(0, space).toLowerCase() !== 'bearer') return false;
    const claims = await this.verify(header.slice(space + 1).trim());
    return claims !== undefined && claimsAreAdmin(claims);
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
