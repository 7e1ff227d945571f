import type { CookieSerializeOptions } from '@fastify/cookie';

export type CookieMode = 'dev' | 'secure';

export interface AuthCookieNames {
  csrfToken: string;
  callbackUrl: string;
  sessionToken: string;
}

/**
 * NextAuth 4 picks its cookie names by deployment: plain names over http, `__Host-`/`__Secure-`
 * prefixed (and Secure) names in a production build. The suite must cope with both.
 */
export function authCookieNames(mode: CookieMode): AuthCookieNames {
  if (mode === 'secure') {
    return {
      csrfToken: '__Host-next-auth.csrf-token',
      callbackUrl: '__Secure-next-auth.callback-url',
      sessionToken: '__Secure-next-auth.session-token',
    };
  }
  return {
    csrfToken: 'next-auth.csrf-token',
    callbackUrl: 'next-auth.callback-url',
    sessionToken: 'next-auth.session-token',
  };
}

/**
 * The attributes NextAuth gives every auth cookie: Path=/, HttpOnly, SameSite=Lax (+Secure), with
 * values URL-encoded as Next.js serializes them (`|` becomes `%7C`).
 */
export function authCookieOptions(
  mode: CookieMode,
  extra: CookieSerializeOptions = {},
): CookieSerializeOptions {
  return {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    encode: encodeURIComponent,
    ...(mode === 'secure' ? { secure: true } : {}),
    ...extra,
  };
}

/** The app's own onboarding cookie: readable by page scripts, kept a year. */
export const ONBOARDING_COOKIE = 'onboarding_complete';
export const ONBOARDING_COOKIE_MAX_AGE_S = 60 * 60 * 24 * 365;
