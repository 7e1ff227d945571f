import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Faults, MalformedKind, RouteFamily, RouteFault } from '../control-types';
import type { StatsRecorder } from './stats';

export interface FaultDecision {
  kind: 'none' | 'error' | 'malformed' | 'reset';
  /** Added latency before the route answers (already counted). */
  delayMs: number;
  /** Trickle the body over this many ms (0: send at once). */
  slowBodyMs: number;
  malformedKind: MalformedKind;
  errorStatus: number;
}

const NO_FAULT: FaultDecision = {
  kind: 'none',
  delayMs: 0,
  slowBodyMs: 0,
  malformedKind: 'html',
  errorStatus: 500,
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep merge where `null` deletes a key, so a PATCH can switch a single fault off. */
function deepMerge(base: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null || value === undefined) delete out[key];
    else if (isRecord(value) && isRecord(out[key]))
      out[key] = deepMerge(out[key] as Record<string, unknown>, value);
    else out[key] = structuredClone(value);
  }
  return out;
}

/** The faults currently switched on; every change takes effect on the next request. */
export class FaultController {
  private current: Faults;
  private listeners = new Set<() => void>();

  constructor(
    private readonly stats: StatsRecorder,
    initial: Faults = {},
  ) {
    this.current = structuredClone(initial);
  }

  get(): Faults {
    return structuredClone(this.current);
  }

  /** Long-lived things (terminal sockets) re-read their faults when they change. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): Faults {
    for (const listener of this.listeners) listener();
    return this.get();
  }

  set(faults: Faults): Faults {
    this.current = structuredClone(faults);
    return this.changed();
  }

  patch(faults: Faults): Faults {
    this.current = deepMerge(
      this.current as Record<string, unknown>,
      faults as Record<string, unknown>,
    ) as Faults;
    return this.changed();
  }

  clear(): Faults {
    this.current = {};
    return this.changed();
  }

  /** Live view (not a copy) for hot paths that only read. */
  get live(): Faults {
    return this.current;
  }

  route(family: RouteFamily): RouteFault {
    return this.current.routes?.[family] ?? {};
  }

  /** Rolls the dice for one request of `family` and counts what was injected. */
  decide(family: RouteFamily): FaultDecision {
    const fault = this.current.routes?.[family];
    if (!fault) return NO_FAULT;
    const delayMs = Math.max(0, fault.delayMs ?? 0);
    const slowBodyMs = Math.max(0, fault.slowBodyMs ?? 0);
    if (delayMs > 0) this.stats.countFault(family, 'delayed');
    const base: FaultDecision = {
      ...NO_FAULT,
      delayMs,
      slowBodyMs,
      malformedKind: fault.malformedKind ?? 'html',
      errorStatus: fault.errorStatus ?? 500,
    };
    if (roll(fault.resetRate)) {
      this.stats.countFault(family, 'resets');
      return { ...base, kind: 'reset' };
    }
    if (roll(fault.errorRate)) {
      this.stats.countFault(family, 'errors');
      return { ...base, kind: 'error' };
    }
    if (roll(fault.malformedRate)) {
      this.stats.countFault(family, 'malformed');
      return { ...base, kind: 'malformed' };
    }
    if (slowBodyMs > 0) this.stats.countFault(family, 'slowBodies');
    return base;
  }
}

/** The CSP header of the `pages.blockScripts` fault: no script of the page may run. */
export const BLOCK_SCRIPTS_CSP = "script-src 'none'";

/** The Content-Security-Policy pages are served with under the current faults, if any. */
export function pageCsp(faults: Faults): string | undefined {
  return faults.pages?.blockScripts ? BLOCK_SCRIPTS_CSP : undefined;
}

export function roll(rate: number | undefined): boolean {
  return rate !== undefined && rate > 0 && Math.random() < rate;
}

/** Destroys the connection without an answer, as a crashed upstream or proxy does. */
export function resetConnection(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  reply.hijack();
  request.raw.socket.destroy();
  return reply;
}

/**
 * Answers with a broken body of the given kind. `missing-usage` needs route knowledge (the LLM
 * proxy handles it itself); elsewhere it degrades to truncated JSON.
 */
export function sendMalformed(reply: FastifyReply, kind: MalformedKind, validBody?: string): FastifyReply {
  switch (kind) {
    case 'html':
      return reply
        .code(502)
        .type('text/html; charset=utf-8')
        .send(
          '<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>',
        );
    case 'wrong-content-type':
      return reply
        .code(200)
        .type('text/plain; charset=utf-8')
        .send(validBody ?? '{"ok":true}');
    case 'empty':
      return reply.code(200).type('application/json').send('');
    default: {
      const body = validBody ?? '{"id":"x","object":"chat.completion","choices":[{"index":0}]}';
      return reply
        .code(200)
        .type('application/json')
        .send(body.slice(0, Math.max(1, Math.floor(body.length / 2))));
    }
  }
}

/** Sends `body` with headers first and the bytes trickled over `overMs`. */
export function sendSlowly(reply: FastifyReply, body: string, overMs: number): FastifyReply {
  const bytes = Buffer.from(body);
  const pieces = Math.max(1, Math.min(10, bytes.length));
  const size = Math.ceil(bytes.length / pieces);
  let index = 0;
  const stream = new Readable({
    read() {
      if (index >= pieces) {
        this.push(null);
        return;
      }
      const chunk = bytes.subarray(index * size, (index + 1) * size);
      index += 1;
      if (index === 1) this.push(chunk);
      else setTimeout(() => this.push(chunk), overMs / pieces);
    },
  });
  reply.header('content-length', bytes.length);
  return reply.send(stream);
}

/**
 * Applies a decision's delay and sends a JSON body honouring reset/malformed/slow-body.
 * `error` is for the caller: it knows its contract's error body.
 */
export async function sendJsonWithFaults(
  request: FastifyRequest,
  reply: FastifyReply,
  decision: FaultDecision,
  status: number,
  payload: unknown,
): Promise<FastifyReply> {
  const body = JSON.stringify(payload);
  if (decision.kind === 'reset') return resetConnection(request, reply);
  if (decision.kind === 'malformed') return sendMalformed(reply, decision.malformedKind, body);
  reply.code(status).type('application/json');
  if (decision.slowBodyMs > 0) return sendSlowly(reply, body, decision.slowBodyMs);
  return reply.send(body);
}
