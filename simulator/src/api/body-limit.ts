import type { Readable } from 'node:stream';

/** Stands for a body over the limit: handlers that decode it fail as Go's decoder does on MaxBytesReader. */
export const BODY_TOO_LARGE: unique symbol = Symbol('body too large');

/**
 * Reads a request body as text up to `limit` bytes. Beyond it the rest is drained and dropped and
 * the result is BODY_TOO_LARGE, so the route decides what a body it cannot read means.
 */
export function readLimitedBody(payload: Readable, limit: number): Promise<string | typeof BODY_TOO_LARGE> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    payload.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        tooLarge = true;
        chunks.length = 0;
      } else if (!tooLarge) chunks.push(chunk);
    });
    payload.on('end', () => resolve(tooLarge ? BODY_TOO_LARGE : Buffer.concat(chunks).toString('utf8')));
    payload.on('error', reject);
  });
}
