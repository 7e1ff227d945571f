/**
 * Incremental Server-Sent Events decoder (WHATWG "event stream interpretation"), fed with the raw
 * body bytes as they arrive so that each event can be timestamped when its bytes land. Handles
 * \n, \r\n and \r line ends, multi-byte UTF-8 split across chunks, comments and multi-line data.
 */

export interface SseEvent {
  /** `event:` field; "message" when absent. */
  type: string;
  /** `data:` lines joined with "\n". */
  data: string;
}

export class SseDecoder {
  private readonly utf8 = new TextDecoder('utf-8');
  private buffer = '';
  private dataLines: string[] = [];
  private eventType = '';
  private hasData = false;
  /** A "\r" ended the previous chunk: a following "\n" belongs to the same line end. */
  private pendingCr = false;

  /** Decodes a chunk and returns the events it completed. */
  push(chunk: Uint8Array | string): SseEvent[] {
    let text = typeof chunk === 'string' ? chunk : this.utf8.decode(chunk, { stream: true });
    if (this.pendingCr && text.startsWith('\n')) text = text.slice(1);
    this.pendingCr = false;
    this.buffer += text;
    return this.drainLines();
  }

  /**
   * Ends the stream. Per the spec an event not terminated by a blank line is discarded; whether
   * that happened is reported, since for an LLM stream it means the body was cut off.
   */
  end(): { events: SseEvent[]; unterminated: boolean } {
    const tail = this.utf8.decode();
    const events = tail ? this.push(tail) : [];
    const unterminated = this.buffer.trim().length > 0 || this.hasData;
    this.buffer = '';
    this.dataLines = [];
    this.hasData = false;
    this.eventType = '';
    return { events, unterminated };
  }

  private drainLines(): SseEvent[] {
    const events: SseEvent[] = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      if (!match) break;
      // A lone "\r" at the very end may be the first half of "\r\n" split across chunks.
      if (match[0] === '\r' && match.index === this.buffer.length - 1) {
        this.pendingCr = true;
        const line = this.buffer.slice(0, match.index);
        this.buffer = '';
        const event = this.processLine(line);
        if (event) events.push(event);
        break;
      }
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      const event = this.processLine(line);
      if (event) events.push(event);
    }
    return events;
  }

  private processLine(line: string): SseEvent | undefined {
    if (line === '') {
      if (!this.hasData) {
        this.eventType = '';
        return undefined;
      }
      const event: SseEvent = { type: this.eventType || 'message', data: this.dataLines.join('\n') };
      this.dataLines = [];
      this.hasData = false;
      this.eventType = '';
      return event;
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') {
      this.dataLines.push(value);
      this.hasData = true;
    } else if (field === 'event') this.eventType = value;
    return undefined;
  }
}
