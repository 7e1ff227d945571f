import type { FastifyInstance } from 'fastify';
import type { User } from '../../core/state';
import { parseAuthBody, parseJsonBody } from '../body';
import { answerInjectedFailure, beginFaults, sendJson, sendRedirect } from '../fault-response';
import { verifyMutationOrigin } from '../origin';
import { hashPassword, verifyPassword } from '../password';
import { credentialsSchema, signupBodySchema } from '../schemas';
import type { WebServices } from '../services';
import { clearSessionCookie, initAuthRequest, issueSessionCookie, readSession } from '../session';
import { registerAuthSideRoutes } from './auth-side';

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

  registerAuthSideRoutes(app, services);
}
