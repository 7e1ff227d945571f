import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseAuthBody } from '../body';
import { answerInjectedFailure, beginFaults, sendJson, sendRedirect, sendText } from '../fault-response';
import type { WebServices } from '../services';
import { clearSessionCookie, initAuthRequest } from '../session';

/** Error pages NextAuth shows inline on the sign-in page instead of its own error page. */
const SIGNIN_PAGE_ERRORS = new Set([
  'Signin',
  'OAuthSignin',
  'OAuthCallback',
  'OAuthCreateAccount',
  'EmailCreateAccount',
  'Callback',
  'OAuthAccountNotLinked',
  'EmailSignin',
  'CredentialsSignin',
  'SessionRequired',
]);

const ERROR_PAGE_STATUS: Record<string, number> = {
  Configuration: 500,
  AccessDenied: 403,
  Verification: 403,
};

/** The NextAuth endpoints a browser meets around sign-in: providers, sign-in/-out, error page. */
export function registerAuthSideRoutes(app: FastifyInstance, services: WebServices): void {
  const { ctx } = services;
  const authUrl = () => `${services.site()}/api/auth`;
  const guarded = async (request: FastifyRequest, reply: FastifyReply) => {
    const fault = await beginFaults(ctx, 'auth');
    return {
      fault,
      failed: answerInjectedFailure(request, reply, fault, { error: 'Internal Server Error' }),
    };
  };

  app.get('/api/auth/providers', async (request, reply) => {
    const { fault, failed } = await guarded(request, reply);
    if (failed) return failed;
    const provider = (id: string, name: string, type: string) => ({
      id,
      name,
      type,
      signinUrl: `${authUrl()}/signin/${id}`,
      callbackUrl: `${authUrl()}/callback/${id}`,
    });
    return sendJson(request, reply, fault, 200, {
      google: provider('google', 'Google', 'oauth'),
      credentials: provider('credentials', 'Email', 'credentials'),
    });
  });

  app.get('/api/auth/signin', async (request, reply) => {
    const { fault, failed } = await guarded(request, reply);
    if (failed) return failed;
    const init = initAuthRequest(services, request, reply);
    const query = request.query as Record<string, string | undefined>;
    const login = new URL('/login', services.site());
    login.searchParams.set('callbackUrl', init.callbackUrl);
    if (query.error) login.searchParams.set('error', query.error);
    return sendRedirect(reply, fault, 302, login.toString());
  });

  // No identity provider exists in the simulation: a genuine Google sign-in ends on the error page.
  app.post<{ Params: { provider: string } }>('/api/auth/signin/:provider', async (request, reply) => {
    const { fault, failed } = await guarded(request, reply);
    if (failed) return failed;
    const body = parseAuthBody(request);
    const init = initAuthRequest(services, request, reply, body);
    const url = init.csrfVerified ? `${authUrl()}/error?error=OAuthSignin` : `${authUrl()}/signin?csrf=true`;
    if (body.json === 'true') return sendJson(request, reply, fault, 200, { url });
    return sendRedirect(reply, fault, 302, url);
  });

  app.post('/api/auth/signout', async (request, reply) => {
    const { fault, failed } = await guarded(request, reply);
    if (failed) return failed;
    const body = parseAuthBody(request);
    const init = initAuthRequest(services, request, reply, body);
    let url = `${authUrl()}/signout?csrf=true`;
    if (init.csrfVerified) {
      clearSessionCookie(services, reply);
      url = init.callbackUrl;
    }
    if (body.json === 'true') return sendJson(request, reply, fault, 200, { url });
    return sendRedirect(reply, fault, 302, url);
  });

  app.get('/api/auth/error', async (request, reply) => {
    const { fault, failed } = await guarded(request, reply);
    if (failed) return failed;
    const error = (request.query as Record<string, string | undefined>).error ?? 'Default';
    if (SIGNIN_PAGE_ERRORS.has(error)) {
      return sendRedirect(reply, fault, 302, `${authUrl()}/signin?error=${encodeURIComponent(error)}`);
    }
    const html =
      '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Error</title></head>' +
      '<body><div class="error"><h1>Error</h1><p>Unable to sign in.</p></div></body></html>';
    return sendText(reply, fault, ERROR_PAGE_STATUS[error] ?? 200, 'text/html; charset=utf-8', html);
  });
}
