import type { SimContext } from '../core/context';
import { type AuthCookieNames, authCookieNames } from './cookies';
import { PlatformApiClient } from './platform-api';
import { FixedWindowLimiter } from './rate-limit';
import { SessionTokenCodec } from './session-token';

/** Everything the web routes share, built once per web app. */
export interface WebServices {
  ctx: SimContext;
  codec: SessionTokenCodec;
  limiter: FixedWindowLimiter;
  api: PlatformApiClient;
  cookieNames(): AuthCookieNames;
  /** NEXTAUTH_URL's origin: the site root every redirect and callback URL is built on. */
  site(): string;
}

export function createWebServices(ctx: SimContext): WebServices {
  return {
    ctx,
    codec: new SessionTokenCodec(ctx.secrets.nextauthSecret),
    limiter: new FixedWindowLimiter(() => ctx.rateLimit),
    api: new PlatformApiClient(ctx),
    cookieNames: () => authCookieNames(ctx.cookieMode),
    site: () => new URL(ctx.urls.nextauth).origin,
  };
}
