import { performance } from 'node:perf_hooks';
import { CookieJar } from 'tough-cookie';
import { classifyNetworkError } from '../http-errors';
import {
  type CookieChange,
  cookieChanges,
  isLoopbackHost,
  type WebRequest,
  type WebResult,
  type WebTransport,
} from './transport';

/**
 * HTTP client of one web-app user: a real cookie jar (tough-cookie), the `Origin` the web app
 * checks, no automatic redirects (a 307 to login is an answer the suite must see), a per-request
 * timeout, and the time of each exchange up to the last byte of the body.
 *
 * Cookie names are never assumed: NextAuth names them `next-auth.*` over plain http and
 * `__Host-` / `__Secure-` in production builds; the jar handles both by the cookie rules.
 */

export {
  type CookieChange,
  cookieChanges,
  isLoopbackHost,
  type WebAnswer,
  type WebRequest,
  type WebResult,
  type WebTransport,
  type WebTransportFailure,
} from './transport';

export class WebClient implements WebTransport {
  readonly baseUrl: string;
  readonly origin: string;
  readonly jar = new CookieJar();
  /**
   * Browsers treat loopback as a secure context: they keep and send `Secure` cookies to
   * http://localhost. The jar gets the same view of loopback hosts, so a production build
   * (Secure cookies) run locally over plain http behaves for the suite as it does for a browser.
   */
  private readonly cookieUrlBase: string;

  constructor(
    baseUrl: string,
    private readonly timeoutMs: number,
  ) {
    const url = new URL(baseUrl);
    this.baseUrl = url.origin + url.pathname.replace(/\/+$/, '');
    this.origin = url.origin;
    this.cookieUrlBase =
      url.protocol === 'http:' && isLoopbackHost(url.hostname)
        ? this.baseUrl.replace(/^http:/, 'https:')
        : this.baseUrl;
  }

  get secureCookiesTravel(): boolean {
    return this.cookieUrlBase.startsWith('https:');
  }

  async send(request: WebRequest): Promise<WebResult> {
    const url = `${this.baseUrl}${request.path}`;
    const cookieUrl = `${this.cookieUrlBase}${request.path}`;
    const headers: Record<string, string> = { accept: 'application/json, text/plain, */*' };
    const cookie = await this.jar.getCookieString(cookieUrl);
    if (cookie) headers.cookie = cookie;
    if (request.origin) headers.origin = this.origin;
    let body: string | undefined;
    if (request.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(request.json);
    } else if (request.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(request.form).toString();
    }

    const started = performance.now();
    try {
      const response = await fetch(url, {
        method: request.method,
        headers,
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const text = await response.text();
      const ms = performance.now() - started;
      const cookies = await this.store(response.headers.getSetCookie(), cookieUrl);
      return { kind: 'answer', status: response.status, headers: response.headers, text, ms, cookies };
    } catch (error) {
      const ms = performance.now() - started;
      return {
        kind: 'transport',
        cause: classifyNetworkError(error) === 'timeout' ? 'timeout' : 'connection_error',
        ms,
        message: describeTransportError(error),
      };
    }
  }

  private async store(setCookies: string[], cookieUrl: string): Promise<CookieChange[]> {
    // A cookie the jar refuses (bad prefix, foreign domain) is dropped, as a browser would.
    for (const header of setCookies) await this.jar.setCookie(header, cookieUrl, { ignoreError: true });
    return cookieChanges(setCookies);
  }
}

function describeTransportError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as Error & { cause?: unknown }).cause;
  const code =
    cause && typeof cause === 'object' && 'code' in cause ? String((cause as { code: unknown }).code) : '';
  return code ? `${error.message} (${code})` : error.message;
}
