import { SignJWT } from 'jose';
import type { AdminCredentials } from '../../../config/settings/container';

/** Lifetime of a locally signed admin token: short, so that a leaked one is worth little. */
const TOKEN_TTL_S = 300;
/** Re-sign this long before expiry so that no request carries a token that expires in flight. */
const RENEW_MARGIN_S = 60;

/**
 * Hands out the Bearer token for /api/admin/*: the given ADMIN_JWT as is, or an HS256 token signed
 * with API_JWT_SECRET and the configured admin claims, renewed before it expires.
 */
export class AdminTokenSource {
  private cached: { token: string; expiresAt: number } | undefined;

  constructor(
    private readonly credentials: AdminCredentials,
    private readonly nowSeconds: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  async token(): Promise<string> {
    if (this.credentials.kind === 'token') return this.credentials.token;
    const now = this.nowSeconds();
    if (this.cached && this.cached.expiresAt - RENEW_MARGIN_S > now) return this.cached.token;
    const expiresAt = now + TOKEN_TTL_S;
    const token = await new SignJWT(this.credentials.claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt(now)
      .setExpirationTime(expiresAt)
      .sign(new TextEncoder().encode(this.credentials.secret));
    this.cached = { token, expiresAt };
    return token;
  }
}
