import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { User } from '../../core/state';
import { parseAuthBody, parseJsonBody } from '../body';
import { answerInjectedFailure, beginFaults, sendJson, sendRedirect, sendText } from '../fault-response';
import { verifyMutationOrigin } from '../origin';
import { hashPassword, verifyPassword } from '../password';
import { credentialsSchema, signupBodySchema } from '../schemas';
import type { WebServices } from '../services';
import { clearSessionCookie, initAuthRequest, issueSessionCookie, readSession } from '../session';

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

export function registerAuthRoutes(app: FastifyInstance, services: WebServices): void {
  const { ctx } = services;
  const authUrl = () => `${services.site()}/api/auth`;

  /** One bcrypt(12) hash or compare: modelled CPU work queued on the modelled cores. */
  const bcryptWork = () =>
    ctx.latency.authCpu.run(
      ctx.latency.sampleMs('authCpu') + Math.max(0, ctx.faults.live.auth?.extraCpuMs ?? 0),
    );

  /** The credentials provider: cheap refusals first, bcrypt only for a known email. */
  async function authorize(body: Record<string, unknown>): Promise<User | undefined> {
    const parsed = credentialsSchema.safeParse({ email: body.email, password: body.password });
    const user = parsed.success ? ctx.state.findUserByEmail(parsed.data.email) : undefined;
    if (!parsed.success || !user) {
      await ctx.latency.sleep(ctx.latency.sampleMs('authUnknownEmail'));
      return undefined;
    }
    await bcryptWork();
    return verifyPassword(parsed.data.password, user.passwordHash) ? user : undefined;
  }

  app.post('/api/auth/signup', async (request, reply) => {
    const fault = await beginFaults(ctx, 'auth');
    const failed = answerInjectedFailure(request, reply, fault, { error: 'Signup failed' });
    if (failed) return failed;
    const origin = verifyMutationOrigin(request, services.site());
    if (!origin.ok) return sendJson(request, reply, fault, 403, { error: origin.error });
    const body = parseJsonBody(request);
    if (!body.ok) return sendJson(request, reply, fault, 400, { error: 'Invalid JSON body' });
    const parsed = signupBodySchema.safeParse(body.value);
    if (!parsed.success) {
      return sendJson(request, reply, fault, 400, {
        error: 'Invalid request body',
        issues: parsed.error.issues,
      });
    }
    // The hash comes before the duplicate check, so a 409 costs as much as a signup.
    await bcryptWork();
    const passwordHash = hashPassword(parsed.data.password);
    if (ctx.state.findUserByEmail(parsed.data.email)) {
      return sendJson(request, reply, fault, 409, { error: 'An account with that email already exists' });
    }
    const { tenant } = ctx.state.createUserWithTenant(parsed.data.email, passwordHash);
    ctx.stats.accounts.signups += 1;
    await services.api.provisionTenant(tenant.id);
    return sendJson(request, reply, fault, 200, { ok: true });
  });

  app.get('/api/auth/csrf', async (request, reply) => {
    const fault = await beginFaults(ctx, 'auth');
    const failed = answerInjectedFailure(request, reply, fault, { error: 'Internal Server Error' });
    if (failed) return failed;
    const init = initAuthRequest(services, request, reply);
    return sendJson(request, reply, fault, 200, { csrfToken: init.csrfToken });
  });

  app.post('/api/auth/callback/credentials', async (request, reply) => {
    const fault = await beginFaults(ctx, 'auth');
    const failed = answerInjectedFailure(request, reply, fault, {
      url: `${authUrl()}/error?error=Configuration`,
    });
    if (failed) return failed;
    const body = parseAuthBody(request);
    const init = initAuthRequest(services, request, reply, body);
    let status: number;
    let url: string;
    if (!init.csrfVerified) {
      await ctx.latency.sleep(ctx.latency.sampleMs('authCsrfFailure'));
      status = 200;
      url = `${authUrl()}/signin?csrf=true`;
    } else {
      const user = await authorize(body);
      if (user) {
        await issueSessionCookie(services, reply, user);
        ctx.stats.accounts.logins += 1;
        status = 200;
        url = init.callbackUrl;
      } else {
        ctx.stats.accounts.loginFailures += 1;
        status = 401;
        url = `${authUrl()}/error?error=CredentialsSignin&provider=credentials`;
      }
    }
    // Only a body field `json` equal to the string "true" selects JSON answers.
    if (body.json === 'true') return sendJson(request, reply, fault, status, { url });
    return sendRedirect(reply, fault, 302, url);
  });

  app.get('/api/auth/session', async (request, reply) => {
    const fault = await beginFaults(ctx, 'auth');
    const failed = answerInjectedFailure(request, reply, fault, { error: 'Internal Server Error' });
    if (failed) return failed;
    initAuthRequest(services, request, reply);
    const session = await readSession(services, request);
    if (session.kind === 'invalid') clearSessionCookie(services, reply);
    if (session.kind !== 'valid') return sendJson(request, reply, fault, 200, {});
    const { user } = session;
    const expires = await issueSessionCookie(services, reply, user);
    return sendJson(request, reply, fault, 200, {
      user: {
        name: null,
        email: user.email,
        image: null,
        id: user.id,
        tenantId: user.tenantId,
        isAdmin: user.isAdmin,
        onboardingCompleted: user.onboardingCompleted,
      },
      expires: expires.toISOString(),
    });
  });

  registerAuthSideRoutes(app, services, authUrl);
}

/** The NextAuth endpoints a browser meets around sign-in: providers, sign-in/-out, error page. */
function registerAuthSideRoutes(app: FastifyInstance, services: WebServices, authUrl: () => string): void {
  const { ctx } = services;
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
