import type { FailureCause } from '../metrics';
import { causeOfStatus, isLoginRedirect, isOriginRefusal, retryAfterMs } from './causes';
import { ChatAnswer, errorText, parseJson } from './schemas';
import type { WebAnswer } from './transport';

/**
 * POST /api/chat (docs/CONTRACT.md): one message of a logged-in user. A chat counts only
 * with an assistant message and a conversationId; every other answer is a cause. Nothing here
 * emits metrics: each scenario names its own.
 */

export type ChatOutcome =
  | { ok: true; status: number; conversationId: string; content: string; ms: number }
  | {
      ok: false;
      cause: FailureCause;
      status?: number;
      ms: number;
      /** From `Retry-After` on a 429: how long the web app asked the user to wait. */
      retryAfterMs?: number;
      detail: string;
    };

export const SESSION_REJECTED_EXPLANATION =
  'the web app answered /api/chat with a redirect to /login although /api/auth/session accepted the ' +
  'session: a production build (Secure cookie names) served over plain http rejects every protected ' +
  'route. Serve it over https (or run a dev build) — this is not a latency or capacity problem.';

/** The verdict on one /api/chat answer, however it was obtained (Artillery's engine or a browser page). */
export function classifyChatAnswer(result: WebAnswer): ChatOutcome {
  const { status, ms } = result;
  const error = errorText(result.text);
  const fail = (cause: FailureCause, extra: Partial<{ retryAfterMs: number }> = {}): ChatOutcome => ({
    ok: false,
    cause,
    status,
    ms,
    detail: `chat: ${status}${error ? ` ${JSON.stringify(error)}` : ''}`,
    ...extra,
  });

  if (status === 200) {
    const parsed = parseJson(result.text, ChatAnswer);
    if (!parsed.ok)
      return { ok: false, cause: 'malformed_body', status, ms, detail: `chat: ${parsed.problem}` };
    return {
      ok: true,
      status,
      conversationId: parsed.value.conversationId,
      content: parsed.value.message.content,
      ms,
    };
  }
  if (isLoginRedirect(status, result.headers.get('location')))
    return {
      ok: false,
      cause: 'session_rejected',
      status,
      ms,
      detail: `chat: ${SESSION_REJECTED_EXPLANATION}`,
    };
  if (status === 429) {
    const wait = retryAfterMs(result.headers.get('retry-after'));
    return fail('rate_limited', wait === undefined ? {} : { retryAfterMs: wait });
  }
  if (isOriginRefusal(status, error)) return fail('origin_refused');
  // The contract's 401 on /api/chat is a session the web app knows but without a tenant.
  if (status === 401) return fail('no_tenant');
  if ((status === 500 || status === 502) && error !== undefined) return fail('chat_failed');
  return fail(causeOfStatus(status, result.text));
}
