import type { FastifyInstance } from 'fastify';

const MEDIA_TYPE = /^\s*[\w!#$%&'*+.^`|~-]+\/[\w!#$%&'*+.^`|~-]+\s*(;.*)?$/;

/**
 * Next.js route handlers (`req.json()`) and Go's json.Decoder read the body whatever Content-Type
 * says; Fastify would refuse a header it cannot parse with 415 before the route. Such a header is
 * read as "some bytes" so the route decides, as on the real platform.
 */
export function tolerateUnparsableContentType(app: FastifyInstance): void {
  app.addHook('onRequest', async (request) => {
    const type = request.headers['content-type'];
    if (type !== undefined && !MEDIA_TYPE.test(type))
      request.headers['content-type'] = 'application/octet-stream';
  });
}
