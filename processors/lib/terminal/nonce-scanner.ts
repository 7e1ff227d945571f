/** What a TTY echoes back of the typed command line before the command's own output. */
const TYPED_PREFIX = 'echo ';

/**
 * Finds a command's nonce in raw TTY output that may arrive split across frames. A TTY echoes the
 * typed line (`echo <nonce>`) before the shell runs it, so an occurrence right after "echo " is the
 * echo of the input and does not count: only the command's output ends the round trip.
 */
export class NonceScanner {
  private pending = '';

  constructor(private readonly nonce: string) {}

  /** Feeds a chunk of output; true once the nonce has appeared as command output. */
  push(chunk: Buffer): boolean {
    // latin1 maps every byte to one character: split or invalid UTF-8 cannot hide an ASCII nonce.
    this.pending += chunk.toString('latin1');
    let from = 0;
    let keepFrom = 0;
    for (;;) {
      const at = this.pending.indexOf(this.nonce, from);
      if (at < 0) break;
      if (this.pending.slice(Math.max(0, at - TYPED_PREFIX.length), at) !== TYPED_PREFIX) return true;
      from = at + 1;
      keepFrom = at + this.nonce.length;
    }
    // A later occurrence ends after the current end, so only its start and "echo " prefix can be
    // here already; never keep part of an occurrence already judged to be the typed echo.
    const tail = this.pending.length - (this.nonce.length - 1) - TYPED_PREFIX.length;
    this.pending = this.pending.slice(Math.max(0, tail, keepFrom));
    return false;
  }
}
