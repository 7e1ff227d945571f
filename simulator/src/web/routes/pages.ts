import type { FastifyInstance, FastifyRequest } from 'fastify';
import { pageCsp } from '../../core/faults';
import { ONBOARDING_COOKIE } from '../cookies';
import { answerInjectedFailure, beginFaults, sendRedirect, sendText } from '../fault-response';
import { chatPage } from '../pages/chat-page';
import { landingPage, loginPage, notFoundPage, serverErrorPage } from '../pages/html';
import { onboardingPage } from '../pages/onboarding-page';
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

  // The pages are static shells: rendered once, served many times.
  const serverError = serverErrorPage();

  /** A page answers its HTML, or a redirect given as `{ redirect: path }`. */
  function page(url: string, content: string | { redirect: string }) {
    app.get(url, async (request, reply) => {
      const fault = await beginFaults(ctx, 'pages');
      const failed = answerInjectedFailure(request, reply, fault, serverError, HTML);
      if (failed) return failed;
      // Redirects name NEXTAUTH_URL's host, whatever Host the request was addressed to.
      const origin = services.site();
      if (url !== '/onboarding' && (await needsOnboarding(request))) {
        return sendRedirect(reply, fault, 307, `${origin}/onboarding`);
      }
      const csp = pageCsp(ctx.faults.live);
      if (csp) reply.header('content-security-policy', csp);
      if (typeof content === 'string') return sendText(reply, fault, 200, HTML, content);
      return sendRedirect(reply, fault, 307, `${origin}${content.redirect}`);
    });
  }

  page('/', landingPage());
  page('/login', loginPage());
  page('/onboarding', onboardingPage());
  page('/dashboard', { redirect: '/dashboard/chat' });
  page('/dashboard/chat', chatPage());

  // Signup moved into the login flow: the old page address only redirects, before anything else.
  app.get('/signup', async (request, reply) => {
    const fault = await beginFaults(ctx, 'pages');
    const failed = answerInjectedFailure(request, reply, fault, serverError, HTML);
    if (failed) return failed;
    return sendRedirect(reply, fault, 307, `${services.site()}/login`);
  });

  const notFound = notFoundPage();
  app.setNotFoundHandler(async (_request, reply) => reply.code(404).type(HTML).send(notFound));
}
