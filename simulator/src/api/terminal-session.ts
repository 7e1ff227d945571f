import type { WebSocket } from 'ws';
import type { SimContext } from '../core/context';
import { roll } from '../core/faults';
import { FakeShell } from './fake-shell';

export const MAX_OUTPUT_FRAME_BYTES = 4096;
const INVALID_UTF8 = Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1]);

interface ResizeMessage {
  type: 'resize';
  cols: number;
  rows: number;
}

/** A TTY size field as Go decodes it into a uint: absent/null is 0; anything but a whole number >= 0 fails. */
function uintField(value: unknown): number | undefined {
  if (value === undefined || value === null) return 0;
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined;
}

/**
 * The resize message as the real bridge reads it: json.Unmarshal into {type, cols, rows} (keys
 * matched case-insensitively) must succeed and type be "resize". A text frame that fails to decode
 * (say cols as a string or negative) is not a resize: it goes to the shell's stdin like any input.
 */
function asResize(data: Buffer): ResizeMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(data.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const fields: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) fields[key.toLowerCase()] = field;
  const type = fields.type ?? '';
  if (typeof type !== 'string') return undefined;
  const cols = uintField(fields.cols);
  const rows = uintField(fields.rows);
  if (cols === undefined || rows === undefined || type !== 'resize') return undefined;
  return { type: 'resize', cols, rows };
}

/**
 * One terminal connection: the fake shell behind a TTY, the server's keepalive (ping every
 * interval, drop without pong), and the terminal faults, re-read whenever they change.
 */
export class TerminalSession {
  private readonly shell = new FakeShell();
  private readonly openedAt = performance.now();
  private pingTimer: NodeJS.Timeout | undefined;
  private pongDeadline: NodeJS.Timeout | undefined;
  private dropTimer: NodeJS.Timeout | undefined;
  private strayTimer: NodeJS.Timeout | undefined;
  private straySeq = 0;
  private droppedByServer = false;
  private closed = false;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly ctx: SimContext,
    private readonly ws: WebSocket,
    private readonly onClosed: () => void,
  ) {
    const stats = ctx.stats;
    stats.terminal.connectionsOpened += 1;
    stats.terminalOpen += 1;
    this.unsubscribe = ctx.faults.onChange(() => this.applyFaults());
    ws.on('message', (data, isBinary) => this.onMessage(toBuffer(data), isBinary));
    ws.on('pong', () => this.armPongDeadline());
    ws.on('error', () => undefined);
    ws.on('close', (code) => this.onClose(code));
    this.pingTimer = setInterval(() => {
      if (ws.readyState === ws.OPEN) ws.ping();
    }, ctx.options.pingIntervalMs);
    this.armPongDeadline();
    this.applyFaults();
    this.write(this.shell.banner());
  }

  /** As gorilla's read deadline: it only moves when a pong arrives. */
  private armPongDeadline(): void {
    clearTimeout(this.pongDeadline);
    this.pongDeadline = setTimeout(() => this.drop(), this.ctx.options.pongTimeoutMs);
  }

  private applyFaults(): void {
    if (this.closed) return;
    const faults = this.ctx.faults.live.terminal ?? {};
    clearTimeout(this.dropTimer);
    this.dropTimer = undefined;
    if (faults.dropAfterMs !== undefined) {
      const remaining = faults.dropAfterMs - (performance.now() - this.openedAt);
      this.dropTimer = setTimeout(() => this.drop(faults.dropCode), Math.max(0, remaining));
    }
    clearInterval(this.strayTimer);
    this.strayTimer = undefined;
    if (faults.strayFrameIntervalMs !== undefined && faults.strayFrameIntervalMs > 0) {
      this.strayTimer = setInterval(() => this.sendStray(), faults.strayFrameIntervalMs);
    }
  }

  /** A frame the client did not ask for: alternately a text frame and an empty binary frame. */
  private sendStray(): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.straySeq += 1;
    if (this.straySeq % 2 === 1) this.ws.send(JSON.stringify({ type: 'sim-stray', seq: this.straySeq }));
    else this.ws.send(Buffer.alloc(0), { binary: true });
    this.ctx.stats.terminal.strayFramesSent += 1;
  }

  /** Server-side drop: a close code when one is configured, else an abrupt end (1006 at the client). */
  private drop(code?: number): void {
    if (this.closed) return;
    this.droppedByServer = true;
    if (code && code >= 1000 && code !== 1005 && code !== 1006) {
      try {
        this.ws.close(code, 'simulated drop');
        // A client that never answers the close handshake is cut off.
        setTimeout(() => this.ws.terminate(), 2000).unref();
        return;
      } catch {
        // Codes ws refuses to send fall through to an abrupt end.
      }
    }
    this.ws.terminate();
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (!isBinary) {
      const resize = asResize(data);
      if (resize) {
        if (resize.cols > 0 && resize.rows > 0) {
          this.shell.cols = Math.floor(resize.cols);
          this.shell.rows = Math.floor(resize.rows);
        }
        this.ctx.stats.terminal.resizes += 1;
        return;
      }
    }
    const { echo, lines } = this.shell.input(data.toString('utf8'));
    if (echo) this.write(echo);
    if (lines.length === 0) return;
    const echoDelay = this.ctx.faults.live.terminal?.echoDelayMs ?? 0;
    const runLines = () => {
      for (const line of lines) {
        if (this.closed) return;
        const event = this.shell.run(line);
        if (line.trim() !== '') this.ctx.stats.terminal.commandsExecuted += 1;
        if (event.kind === 'exit') {
          this.write('exit\r\n');
          this.ws.close(1000, 'exec exited');
          return;
        }
        this.write(event.text);
      }
    };
    if (echoDelay > 0) setTimeout(runLines, echoDelay);
    else runLines();
  }

  /** The container stopped under the shell: the exec ends, as when the shell exits. */
  execEnded(): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return;
    this.ws.close(1000, 'exec exited');
  }

  /** TTY output as binary frames of at most 4096 bytes. */
  private write(text: string): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    const bytes = Buffer.from(text, 'utf8');
    const malformedRate = this.ctx.faults.live.terminal?.malformedFrameRate;
    for (let offset = 0; offset < bytes.length; offset += MAX_OUTPUT_FRAME_BYTES) {
      let frame = bytes.subarray(offset, offset + MAX_OUTPUT_FRAME_BYTES);
      if (roll(malformedRate)) {
        frame = INVALID_UTF8;
        this.ctx.stats.terminal.malformedFramesSent += 1;
      }
      this.ws.send(frame, { binary: true });
    }
  }

  private onClose(code: number): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.pingTimer);
    clearTimeout(this.pongDeadline);
    clearTimeout(this.dropTimer);
    clearInterval(this.strayTimer);
    this.unsubscribe();
    this.ctx.stats.terminalOpen -= 1;
    this.ctx.stats.recordTerminalClose(code, this.droppedByServer);
    this.onClosed();
  }
}

function toBuffer(data: Buffer | ArrayBuffer | Buffer[]): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
