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
    return new EncryptJWT({ ...claims })
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
      .setIssuedAt(now)
      .setExpirationTime(now + maxAgeS)
      .setJti(randomUUID())
      .encrypt(await this.key);
  }

  /** The claims of a genuine, unexpired token; undefined for anything else (never throws). */
  async decode(token: string | undefined): Promise<DecodedSession | undefined> {
    if (!token) return undefined;
    try {
      const { payload } = await jwtDecrypt(token, await this.key, { clockTolerance: 15 });
      const parsed = claimsSchema.safeParse(payload);
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }
}
