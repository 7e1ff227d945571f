import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ONBOARDING_COOKIE } from '../cookies';
import { answerInjectedFailure, beginFaults, sendRedirect, sendText } from '../fault-response';
import { addressedOrigin } from '../middleware';
import { chatPage } from '../pages/chat-page';
import { landingPage, loginPage, notFoundPage, onboardingPage, serverErrorPage } from '../pages/html';
import type { WebServices } from '../services';
import { cookieOf, readMiddlewareSession } from '../session';

const HTML = 'text/html; charset=utf-8';

/**
 * The browser pages. Protected pages have passed the middleware (307 to login without a session);
 * a logged-in user who has not finished onboarding is sent to /onboarding from every page.
 */
export function registerPageRoutes(app: FastifyInstance, services: WebServices): void {
  const { ctx } = services;

  async function needsOnboarding(request: FastifyRequest): Promise<boolean> {
    const session = request.webSession ?? (await readMiddlewareSession(services, request));
    if (session.kind !== 'valid') return false;
    return !session.user.onboardingCompleted && cookieOf(request, ONBOARDING_COOKIE) !== '1';
  }

  function page(
    url: string,
    render: (request: FastifyRequest, reply: FastifyReply) => string | { redirect: string },
  ) {
    app.get(url, async (request, reply) => {
      const fault = await beginFaults(ctx, 'pages');
      const failed = answerInjectedFailure(request, reply, fault, serverErrorPage(), HTML);
      if (failed) return failed;
      const origin = addressedOrigin(request, services.site());
      if (url !== '/onboarding' && (await needsOnboarding(request))) {
        return sendRedirect(reply, fault, 307, `${origin}/onboarding`);
      }
      const result = render(request, reply);
      if (typeof result === 'string') return sendText(reply, fault, 200, HTML, result);
      return sendRedirect(reply, fault, 307, `${origin}${result.redirect}`);
    });
  }

  page('/', () => landingPage());
  page('/login', () => loginPage());
  page('/onboarding', () => onboardingPage());
  page('/dashboard', () => ({ redirect: '/dashboard/chat' }));
  page('/dashboard/chat', () => chatPage());

  // /signup no longer has a page of its own.
  app.get('/signup', async (request, reply) => {
    const fault = await beginFaults(ctx, 'pages');
    const failed = answerInjectedFailure(request, reply, fault, serverErrorPage(), HTML);
    if (failed) return failed;
    return sendRedirect(reply, fault, 307, `${addressedOrigin(request, services.site())}/login`);
  });

  app.setNotFoundHandler(async (_request, reply) => reply.code(404).type(HTML).send(notFoundPage()));
}
