import type { FastifyRequest } from 'fastify';

export type OriginVerdict = { ok: true } | { ok: false; error: 'Missing Origin header' | 'Invalid Origin' };

function originOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  try {
    const origin = new URL(value).origin;
    // `Origin: null` (sandboxed frames, privacy redirects) parses to the opaque origin "null".
    return origin === 'null' ? undefined : origin;
  } catch {
    return undefined;
  }
}

/** The origin the request was addressed to, as Next.js builds `request.url` from the Host header. */
export function requestOrigin(request: FastifyRequest): string | undefined {
  const host = request.headers.host;
  return host ? originOf(`${request.protocol}://${host}`) : undefined;
}

/**
 * Mutation guard of the real app: `Origin` must equal the NEXTAUTH_URL origin or the request's own
 * origin; a missing, unparsable or `null` Origin counts as missing.
 */
export function verifyMutationOrigin(request: FastifyRequest, nextauthUrl: string): OriginVerdict {
  const header = request.headers.origin;
  const origin = originOf(Array.isArray(header) ? header[0] : header);
  if (!origin) return { ok: false, error: 'Missing Origin header' };
  const configured = originOf(nextauthUrl);
  const allowed = new Set([configured, loopbackAlias(configured), requestOrigin(request)]);
  return allowed.has(origin) ? { ok: true } : { ok: false, error: 'Invalid Origin' };
}

/**
 * The real app runs with NEXTAUTH_URL=http://localhost:3000, so locally both loopback names pass
 * whichever one the client dials; the simulator listens on 127.0.0.1 and keeps that property.
 */
function loopbackAlias(origin: string | undefined): string | undefined {
  if (!origin) return undefined;
  const url = new URL(origin);
  if (url.hostname === '127.0.0.1') url.hostname = 'localhost';
  else if (url.hostname === 'localhost') url.hostname = '127.0.0.1';
  else return undefined;
  return url.origin;
}
