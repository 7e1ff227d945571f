/**
 * The API sends terminal output only as binary frames of what the TTY produced (never empty: the
 * bridge forwards only reads of n > 0 bytes); a text frame or an empty binary frame from the
 * server is a stray frame. Output that is not valid UTF-8 is malformed. A multi-byte character split across two
 * frames is not malformed, so one streaming decoder is kept per connection.
 */
export type FrameKind = 'output' | 'stray' | 'malformed';

export class FrameClassifier {
  private decoder = new TextDecoder('utf-8', { fatal: true });

  classify(data: Buffer, isBinary: boolean): FrameKind {
    if (!isBinary || data.length === 0) return 'stray';
    try {
      this.decoder.decode(data, { stream: true });
      return 'output';
    } catch {
      // A fatal decoder is unusable after an error; the next frame starts clean.
      this.decoder = new TextDecoder('utf-8', { fatal: true });
      return 'malformed';
    }
  }
}

/** Normalises the `data` argument of ws's 'message' event to one Buffer. */
export function frameBytes(data: Buffer | ArrayBuffer | Buffer[]): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
