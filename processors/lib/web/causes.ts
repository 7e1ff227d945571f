import { classifyStatus } from '../http-errors';
import type { FailureCause } from '../metrics';

/**
 * Status → failure cause for web-app answers that no step-specific rule explains. Step modules
 * (auth, chat) decide the contract's own outcomes first (409 conflict, CSRF refusal, 307 to
 * login...) and fall back to the suite-wide mapping.
 */
export function causeOfStatus(status: number, body?: string): FailureCause {
  return classifyStatus(status, body) ?? 'unexpected_status';
}

/** The web app's two `Origin` refusals (signup, chat): 403 with one of these texts. */
export function isOriginRefusal(status: number, error: string | undefined): boolean {
  return status === 403 && error !== undefined && /origin/i.test(error);
}

/** A redirect to the login page: NextAuth's middleware answer to a session it does not accept. */
export function isLoginRedirect(status: number, location: string | null): boolean {
  if (status < 300 || status >= 400 || !location) return false;
  try {
    return new URL(location, 'http://placeholder').pathname.replace(/\/+$/, '') === '/login';
  } catch {
    return false;
  }
}

/** `Retry-After` in ms (seconds or an HTTP date); undefined when absent or unreadable. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
