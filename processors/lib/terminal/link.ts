import WebSocket from 'ws';
import type { FailureCause } from '../metrics';
import { FrameClassifier, type FrameKind, frameBytes } from './frames';
import { NonceScanner } from './nonce-scanner';

export interface TerminalEndpoint {
  url: string;
  /** Auth and Origin headers; never logged (they carry the service key or a JWT). */
  headers: Record<string, string>;
  connectTimeoutMs: number;
}

export interface LinkObserver {
  onFrame(kind: FrameKind): void;
  onPing(): void;
}

export interface CloseInfo {
  code: number;
  /** performance.now() when the close was seen. */
  at: number;
  /** True when this client asked for the close (end of the session). */
  requested: boolean;
}

export type OpenResult =
  | { ok: true; link: TerminalLink; connectMs: number }
  | { ok: false; cause: FailureCause; status?: number; permanent: boolean };

export type OutputWait = 'seen' | 'timeout' | 'closed';

/** `{the API target as ws(s)}/api/tenants/{id}/terminal`. */
export function terminalUrl(apiBaseUrl: string, tenantId: string): string {
  const url = new URL(
    `${apiBaseUrl.replace(/\/+$/, '')}/api/tenants/${encodeURIComponent(tenantId)}/terminal`,
  );
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

/** The handshake answers that retrying cannot fix for a session that never got in. */
function causeOfStatus(status: number): { cause: FailureCause; permanent: boolean } {
  if (status === 401) return { cause: 'unauthorized', permanent: true };
  if (status === 403) return { cause: 'origin_refused', permanent: true };
  if (status === 404) return { cause: 'not_found', permanent: true };
  if (status === 429) return { cause: 'rate_limited', permanent: false };
  if (status >= 500) return { cause: 'server_error', permanent: false };
  return { cause: 'unexpected_status', permanent: false };
}

/** Opens the terminal socket; resolves (never rejects) with the link or the cause of failure. */
export function openTerminalSocket(endpoint: TerminalEndpoint, observer: LinkObserver): Promise<OpenResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const settle = (result: OpenResult) => {
      if (settled) return;
      settled = true;
      resolve(result);
    };
    const socket = new WebSocket(endpoint.url, {
      headers: endpoint.headers,
      handshakeTimeout: Math.max(1, Math.round(endpoint.connectTimeoutMs)),
      perMessageDeflate: false,
    });
    // ws emits 'error' for every failure and throws without a listener: keep one for the socket's life.
    socket.on('error', (error: Error) => {
      settle({
        ok: false,
        cause: /timed out/i.test(error.message) ? 'timeout' : 'connection_error',
        permanent: false,
      });
    });
    socket.once('unexpected-response', (request, response) => {
      const status = response.statusCode ?? 0;
      response.resume();
      request.destroy();
      settle({ ok: false, status, ...causeOfStatus(status) });
    });
    socket.once('open', () => {
      // Listeners go on before anything else runs, so the shell's first output is not missed.
      const link = new TerminalLink(socket, observer);
      settle({ ok: true, link, connectMs: performance.now() - started });
    });
  });
}

/** One open terminal socket: frame accounting, nonce waits, and an awaitable close. */
export class TerminalLink {
  readonly closed: Promise<CloseInfo>;
  private closeInfo: CloseInfo | undefined;
  private requestedClose = false;
  private readonly classifier = new FrameClassifier();
  private watcher: { scanner: NonceScanner; seen: () => void } | undefined;

  constructor(
    private readonly socket: WebSocket,
    observer: LinkObserver,
  ) {
    this.closed = new Promise((resolve) => {
      socket.once('close', (code: number) => {
        this.closeInfo = { code, at: performance.now(), requested: this.requestedClose };
        resolve(this.closeInfo);
      });
    });
    socket.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
      const bytes = frameBytes(data);
      const kind = this.classifier.classify(bytes, isBinary);
      observer.onFrame(kind);
      // Malformed output is still output: a partly damaged frame may carry the nonce.
      if (kind !== 'stray' && this.watcher?.scanner.push(bytes)) this.watcher.seen();
    });
    // ws answers pings itself (autoPong); the event only lets the session count them.
    socket.on('ping', () => observer.onPing());
  }

  get isOpen(): boolean {
    return this.closeInfo === undefined && this.socket.readyState === WebSocket.OPEN;
  }

  send(text: string): void {
    if (this.isOpen) this.socket.send(text);
  }

  /** Waits until `nonce` appears as command output, the timeout passes, or the socket closes. */
  waitForOutput(nonce: string, timeoutMs: number): Promise<OutputWait> {
    if (!this.isOpen) return Promise.resolve('closed');
    return new Promise((resolve) => {
      let done = false;
      const finish = (outcome: OutputWait) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (this.watcher === watcher) this.watcher = undefined;
        resolve(outcome);
      };
      const timer = setTimeout(() => finish('timeout'), Math.max(0, timeoutMs));
      const watcher = { scanner: new NonceScanner(nonce), seen: () => finish('seen') };
      this.watcher = watcher;
      void this.closed.then(() => finish('closed'));
    });
  }

  /** Sleeps up to `ms`; resolves early (false) when the socket closes meanwhile. */
  idle(ms: number): Promise<boolean> {
    if (!this.isOpen) return Promise.resolve(false);
    return new Promise((resolve) => {
      let done = false;
      const timer = setTimeout(
        () => {
          done = true;
          resolve(true);
        },
        Math.max(0, ms),
      );
      void this.closed.then(() => {
        if (done) return;
        clearTimeout(timer);
        resolve(false);
      });
    });
  }

  /** Closes normally (1000) at the end of a session; terminates if the server does not answer. */
  async close(graceMs = 2000): Promise<void> {
    if (this.closeInfo) return;
    this.requestedClose = true;
    this.socket.close(1000, 'session complete');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([this.closed, timedOut]);
    clearTimeout(timer);
    if (!this.closeInfo) this.socket.terminate();
  }
}
