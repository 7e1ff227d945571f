import type { FastifyInstance } from 'fastify';
import { parseJsonBody } from '../body';
import { ONBOARDING_COOKIE, ONBOARDING_COOKIE_MAX_AGE_S } from '../cookies';
import { answerInjectedFailure, beginFaults, sendJson } from '../fault-response';
import { verifyMutationOrigin } from '../origin';
import { onboardingBodySchema } from '../schemas';
import type { WebServices } from '../services';
import { routeSession } from '../session';

const UNAUTHORIZED = { error: 'Unauthorized' };

export function registerOnboardingRoutes(app: FastifyInstance, services: WebServices): void {
  const { ctx } = services;
  const cookieOptions = (maxAge: number) => ({
    path: '/',
    httpOnly: false,
    sameSite: 'lax' as const,
    maxAge,
    ...(ctx.cookieMode === 'secure' ? { secure: true } : {}),
  });

  app.get('/api/onboarding', async (request, reply) => {
    const fault = await beginFaults(ctx, 'onboarding');
    const failed = answerInjectedFailure(request, reply, fault, { error: 'Internal error' });
    if (failed) return failed;
    const session = await routeSession(services, request);
    if (session.kind !== 'valid') return sendJson(request, reply, fault, 401, UNAUTHORIZED);
    return sendJson(request, reply, fault, 200, { onboardingCompleted: session.user.onboardingCompleted });
  });

  app.post('/api/onboarding', async (request, reply) => {
    const fault = await beginFaults(ctx, 'onboarding');
    const failed = answerInjectedFailure(request, reply, fault, { error: 'Internal error' });
    if (failed) return failed;
    const origin = verifyMutationOrigin(request, services.site());
    if (!origin.ok) return sendJson(request, reply, fault, 403, { error: origin.error });
    const session = await routeSession(services, request);
    if (session.kind !== 'valid') return sendJson(request, reply, fault, 401, UNAUTHORIZED);
    const body = parseJsonBody(request);
    if (!body.ok) return sendJson(request, reply, fault, 400, { error: 'Invalid JSON body' });
    const parsed = onboardingBodySchema.safeParse(body.value);
    if (!parsed.success) {
      return sendJson(request, reply, fault, 400, {
        error: 'Invalid request body',
        issues: parsed.error.issues,
      });
    }
    const completed = parsed.data.completed;
    session.user.onboardingCompleted = completed;
    if (completed) reply.setCookie(ONBOARDING_COOKIE, '1', cookieOptions(ONBOARDING_COOKIE_MAX_AGE_S));
    else reply.setCookie(ONBOARDING_COOKIE, '0', cookieOptions(0));
    return sendJson(request, reply, fault, 200, { ok: true, onboardingCompleted: completed });
  });
}
