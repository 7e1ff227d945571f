import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export interface CsrfState {
  token: string;
  /** Set when a new token was minted: the `<token>|<hash>` value for the csrf cookie. */
  newCookieValue?: string;
  /** True only for a POST whose body token equals the token in a genuine cookie. */
  verified: boolean;
}

function hashOf(token: string, secret: string): string {
  return createHash('sha256').update(`${token}${secret}`).digest('hex');
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * NextAuth's double-submit CSRF scheme: the cookie holds `token|sha256(token + secret)`; a cookie
 * whose hash does not match is ignored and a fresh token minted, exactly as NextAuth does.
 */
export function resolveCsrf(secret: string, cookieValue: string | undefined, bodyToken?: unknown): CsrfState {
  if (cookieValue) {
    const separator = cookieValue.indexOf('|');
    if (separator > 0) {
      const token = cookieValue.slice(0, separator);
      const hash = cookieValue.slice(separator + 1);
      if (sameText(hash, hashOf(token, secret))) {
        const verified = typeof bodyToken === 'string' && sameText(bodyToken, token);
        return { token, verified };
      }
    }
  }
  const token = randomBytes(32).toString('hex');
  return { token, newCookieValue: `${token}|${hashOf(token, secret)}`, verified: false };
}
