import { performance } from 'node:perf_hooks';
import type { APIRequestContext } from 'playwright-core';
import { classifyNetworkError } from '../http-errors';
import {
  cookieChanges,
  isLoopbackHost,
  type WebRequest,
  type WebResult,
  type WebTransport,
} from './http-client';

/**
 * The auth steps driven through a browser context's request API (`page.request`): its cookies are
 * the context's cookies, so the pages opened afterwards are logged in exactly as after a real
 * login. The real login page has no credentials form, so this is how a browser journey logs in.
 */
export class BrowserRequestTransport implements WebTransport {
  readonly origin: string;
  // Chromium treats loopback as a secure context, as WebClient does.
  readonly secureCookiesTravel: boolean;
  private readonly baseUrl: string;

  constructor(
    private readonly request: APIRequestContext,
    baseUrl: string,
    private readonly timeoutMs: number,
  ) {
    const url = new URL(baseUrl);
    this.baseUrl = url.origin + url.pathname.replace(/\/+$/, '');
    this.origin = url.origin;
    this.secureCookiesTravel = url.protocol === 'https:' || isLoopbackHost(url.hostname);
  }

  async send(request: WebRequest): Promise<WebResult> {
    const headers: Record<string, string> = { accept: 'application/json, text/plain, */*' };
    if (request.origin) headers.origin = this.origin;
    const started = performance.now();
    try {
      const response = await this.request.fetch(`${this.baseUrl}${request.path}`, {
        method: request.method,
        headers,
        ...(request.json !== undefined ? { data: request.json } : {}),
        ...(request.form ? { form: request.form } : {}),
        maxRedirects: 0,
        failOnStatusCode: false,
        timeout: this.timeoutMs,
      });
      const text = await response.text();
      const ms = performance.now() - started;
      const raw = response.headersArray();
      const headerBag = new Headers();
      for (const { name, value } of raw) headerBag.append(name, value);
      const setCookies = raw.filter((h) => h.name.toLowerCase() === 'set-cookie').map((h) => h.value);
      return {
        kind: 'answer',
        status: response.status(),
        headers: headerBag,
        text,
        ms,
        cookies: cookieChanges(setCookies),
      };
    } catch (error) {
      const ms = performance.now() - started;
      const message = error instanceof Error ? (error.message.split('\n')[0] ?? error.name) : String(error);
      const timedOut = /timeout/i.test(message) || classifyNetworkError(error) === 'timeout';
      return { kind: 'transport', cause: timedOut ? 'timeout' : 'connection_error', ms, message };
    }
  }
}
