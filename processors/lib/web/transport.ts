/**
 * What the auth and chat judgements read of a web-app answer, whoever sent the request: Artillery's
 * HTTP engine (scenario hooks) or a browser context's request API (the browser journey). Cookie
 * names are never assumed: NextAuth names them `next-auth.*` over plain http and `__Host-` /
 * `__Secure-` in production builds, so only what a Set-Cookie header says is used.
 */

export interface CookieChange {
  name: string;
  secure: boolean;
  /** The answer deleted the cookie (Max-Age<=0 or an expiry in the past). */
  cleared: boolean;
}

export interface WebAnswer {
  kind: 'answer';
  status: number;
  headers: Headers;
  text: string;
  /** Request sent to body fully read. */
  ms: number;
  cookies: CookieChange[];
}

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\]|::1)$/i;

/** Browsers treat loopback as a secure context: `Secure` cookies travel to http://localhost. */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK.test(hostname);
}

/**
 * Set-Cookie headers as the changes they make (name, Secure, deletion), without their values.
 * RFC 6265 §5.2: the name is what precedes the first `=` of the first pair; attributes are
 * case-insensitive; Max-Age wins over Expires.
 */
export function cookieChanges(setCookies: readonly string[], now = Date.now()): CookieChange[] {
  const changes: CookieChange[] = [];
  for (const header of setCookies) {
    const [pair = '', ...attributes] = header.split(';');
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const name = pair.slice(0, eq).trim();
    if (!name) continue;
    let secure = false;
    let maxAge: number | undefined;
    let expires: number | undefined;
    for (const attribute of attributes) {
      const [rawKey = '', ...rest] = attribute.split('=');
      const key = rawKey.trim().toLowerCase();
      const value = rest.join('=').trim();
      if (key === 'secure') secure = true;
      else if (key === 'max-age' && /^-?\d+$/.test(value)) maxAge = Number(value);
      else if (key === 'expires') {
        const at = Date.parse(value);
        if (!Number.isNaN(at)) expires = at;
      }
    }
    const cleared = maxAge !== undefined ? maxAge <= 0 : expires !== undefined && expires <= now;
    changes.push({ name, secure, cleared });
  }
  return changes;
}
