import { hkdfSync, randomUUID } from 'node:crypto';
import { EncryptJWT, jwtDecrypt } from 'jose';
import { z } from 'zod';

/** Sessions last 8 hours and are re-issued on every session read. */
export const SESSION_MAX_AGE_S = 8 * 60 * 60;

export interface SessionClaims {
  name: string | null;
  email: string;
  picture: string | null;
  sub: string;
  userId: string;
  tenantId: string;
  isAdmin: boolean;
}

const claimsSchema = z.object({
  name: z.string().nullable().optional(),
  email: z.string(),
  picture: z.string().nullable().optional(),
  sub: z.string(),
  userId: z.string(),
  tenantId: z.string().optional(),
  isAdmin: z.boolean().optional(),
});

export type DecodedSession = z.infer<typeof claimsSchema>;

/**
 * The session cookie as NextAuth 4 makes it: a JWE (dir + A256GCM) whose key is derived from
 * NEXTAUTH_SECRET with HKDF-SHA256 and the info "NextAuth.js Generated Encryption Key".
 */
export class SessionTokenCodec {
  // Imported once: handing jose raw bytes would re-import the key on every call, which dominates
  // the cost of a session read under load.
  private readonly key: Promise<CryptoKey>;

  constructor(secret: string) {
    const raw = new Uint8Array(hkdfSync('sha256', secret, '', 'NextAuth.js Generated Encryption Key', 32));
    this.key = crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']);
  }

  async encode(claims: SessionClaims, maxAgeS = SESSION_MAX_AGE_S): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const token = await new EncryptJWT({ ...claims })
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
      .setIssuedAt(now)
      .setExpirationTime(now + maxAgeS)
      .setJti(randomUUID())
      .encrypt(await this.key);
    this.remember(token, { ...claims }, now + maxAgeS);
    return token;
  }

  /** The claims of a genuine, unexpired token; undefined for anything else (never throws). */
  async decode(token: string | undefined): Promise<DecodedSession | undefined> {
    if (!token) return undefined;
    const known = this.issued.get(token);
    if (known) return known.expiresAtS + CLOCK_TOLERANCE_S >= Date.now() / 1000 ? known.claims : undefined;
    try {
      const { payload } = await jwtDecrypt(token, await this.key, { clockTolerance: CLOCK_TOLERANCE_S });
      const parsed = claimsSchema.safeParse(payload);
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Tokens are immutable, so a token this codec minted decodes to the claims it was minted with:
   * remembering the most recent ones spares the AES-GCM decryption on every request of a session,
   * which would otherwise make the simulator, not the platform model, the bottleneck.
   */
  private remember(token: string, claims: DecodedSession, expiresAtS: number): void {
    this.issued.set(token, { claims, expiresAtS });
    if (this.issued.size > ISSUED_TOKENS_KEPT) {
      const oldest = this.issued.keys().next().value;
      if (oldest !== undefined) this.issued.delete(oldest);
    }
  }

  private readonly issued = new Map<string, { claims: DecodedSession; expiresAtS: number }>();
}

const CLOCK_TOLERANCE_S = 15;
const ISSUED_TOKENS_KEPT = 20_000;
