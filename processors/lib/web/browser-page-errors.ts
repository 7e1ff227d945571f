import type { Page } from 'playwright-core';

/**
 * What went wrong inside the page while the journey waited on it: a page whose scripts are blocked
 * by its Content-Security-Policy, that throws, or whose requests fail renders but never becomes
 * interactive, and the journey then times out on a control that does nothing. Those errors are the
 * cause, not the timeout; they are collected here from the moment the watcher is attached.
 */
export const PAGE_ERROR_KINDS = [
  'csp_violation',
  'uncaught_exception',
  'console_error',
  'request_failed',
] as const;
export type PageErrorKind = (typeof PAGE_ERROR_KINDS)[number];

export interface PageError {
  kind: PageErrorKind;
  /** Diagnostic text: directive, message or method and path; never a query string or a body. */
  text: string;
}

const REPORT_CSP_BINDING = '__loadtestReportCspViolation';
/** Chromium also logs each CSP violation as a console error: the violation event already counts it. */
const CSP_CONSOLE_TEXT = /Content Security Policy/i;
/** Chromium asks for it on its own; an app without one is not a page that failed. */
const BROWSER_OWN_REQUEST = '/favicon.ico';
/** Navigations away cancel requests in flight: not a failure of the page. */
const ABORTED = 'net::ERR_ABORTED';

function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url.slice(0, 80);
  }
}

/** Listens to the page's errors; `onError` sees each one as it happens (to count it). */
export async function watchPageErrors(page: Page, onError: (error: PageError) => void): Promise<PageError[]> {
  const errors: PageError[] = [];
  const record = (kind: PageErrorKind, text: string) => {
    const error = { kind, text: text.slice(0, 200) };
    errors.push(error);
    onError(error);
  };
  // The binding and the init script run outside the page's CSP, so they see what it blocks.
  await page.exposeFunction(REPORT_CSP_BINDING, (text: unknown) => record('csp_violation', String(text)));
  await page.addInitScript((binding: string) => {
    addEventListener('securitypolicyviolation', (event) => {
      const report = (globalThis as unknown as Record<string, (text: string) => void>)[binding];
      report?.(`${event.effectiveDirective} blocked ${event.blockedURI || 'inline'}`);
    });
  }, REPORT_CSP_BINDING);
  page.on('pageerror', (error) => record('uncaught_exception', error.message.split('\n')[0] ?? error.name));
  page.on('console', (message) => {
    if (message.type() !== 'error' || CSP_CONSOLE_TEXT.test(message.text())) return;
    if (pathOf(message.location().url) === BROWSER_OWN_REQUEST) return;
    record('console_error', `${message.text().split('\n')[0] ?? ''} (${pathOf(message.location().url)})`);
  });
  page.on('requestfailed', (request) => {
    const failure = request.failure()?.errorText ?? 'failed';
    if (failure !== ABORTED)
      record('request_failed', `${request.method()} ${pathOf(request.url())}: ${failure}`);
  });
  return errors;
}
