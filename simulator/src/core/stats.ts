import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ROUTE_FAMILIES, type RouteFamily, type SimStats } from '../control-types';
import { SampleSummary } from './summary';

interface RouteRecord {
  count: number;
  status: Record<string, number>;
  latency: SampleSummary;
}

type FaultCounters = SimStats['faults'][string];

function emptyInFlight(): SimStats['inFlight'] {
  const entries = ROUTE_FAMILIES.map((family) => [family, { current: 0, max: 0 }] as const);
  return Object.fromEntries(entries) as SimStats['inFlight'];
}

/** Ground truth the control API reports, so benchmarks can compare the load generator's view. */
export class StatsRecorder {
  private startedAt = new Date();
  private routes = new Map<string, RouteRecord>();
  private inFlight = emptyInFlight();
  llm = this.freshLlm();
  terminal = this.freshTerminal();
  containers = this.freshContainers();
  accounts = { users: 0, tenants: 0, signups: 0, logins: 0, loginFailures: 0 };
  chat = { messages: 0, conversations: 0, rateLimited: 0 };
  private faults = new Map<string, FaultCounters>();
  private llmApp = new SampleSummary();
  private llmUpstream = new SampleSummary();
  private coldStart = new SampleSummary();

  private freshLlm() {
    return {
      calls: 0,
      promptTokens: 0,
      completionTokens: 0,
      totalTokens: 0,
      centsBilled: 0,
      paymentRequired: 0,
      streamed: 0,
    };
  }

  private freshTerminal(): Omit<SimStats['terminal'], 'open'> {
    return {
      connectionsOpened: 0,
      closesByCode: {},
      drops: 0,
      strayFramesSent: 0,
      malformedFramesSent: 0,
      commandsExecuted: 0,
      resizes: 0,
    };
  }

  private freshContainers() {
    return { resumeCalls: 0, coldStarts: 0, resumeFailures: 0 };
  }

  /** Sockets open right now survive a reset: they are state, not history. */
  terminalOpen = 0;

  reset(): void {
    this.startedAt = new Date();
    this.routes.clear();
    for (const family of ROUTE_FAMILIES) {
      const entry = this.inFlight[family];
      entry.max = entry.current;
    }
    this.llm = this.freshLlm();
    this.terminal = this.freshTerminal();
    this.containers = this.freshContainers();
    this.accounts = { ...this.accounts, signups: 0, logins: 0, loginFailures: 0 };
    this.chat = { messages: 0, conversations: 0, rateLimited: 0 };
    this.faults.clear();
    this.llmApp = new SampleSummary();
    this.llmUpstream = new SampleSummary();
    this.coldStart = new SampleSummary();
  }

  recordRoute(route: string, status: number | string, ms: number): void {
    let record = this.routes.get(route);
    if (!record) {
      record = { count: 0, status: {}, latency: new SampleSummary() };
      this.routes.set(route, record);
    }
    record.count += 1;
    const key = String(status);
    record.status[key] = (record.status[key] ?? 0) + 1;
    record.latency.add(ms);
  }

  /** Marks one request of `family` in flight; the returned function ends it (idempotent). */
  enter(family: RouteFamily): () => void {
    const entry = this.inFlight[family];
    entry.current += 1;
    if (entry.current > entry.max) entry.max = entry.current;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      entry.current -= 1;
    };
  }

  countFault(family: string, what: keyof FaultCounters): void {
    let counters = this.faults.get(family);
    if (!counters) {
      counters = { errors: 0, malformed: 0, resets: 0, delayed: 0, slowBodies: 0 };
      this.faults.set(family, counters);
    }
    counters[what] += 1;
  }

  recordLlm(call: {
    promptTokens: number;
    completionTokens: number;
    cents: number;
    appMs: number;
    upstreamMs: number;
    streamed: boolean;
  }): void {
    this.llm.calls += 1;
    this.llm.promptTokens += call.promptTokens;
    this.llm.completionTokens += call.completionTokens;
    this.llm.totalTokens += call.promptTokens + call.completionTokens;
    this.llm.centsBilled += call.cents;
    if (call.streamed) this.llm.streamed += 1;
    this.llmApp.add(call.appMs);
    this.llmUpstream.add(call.upstreamMs);
  }

  recordColdStart(ms: number): void {
    this.containers.coldStarts += 1;
    this.coldStart.add(ms);
  }

  recordTerminalClose(code: number, dropped: boolean): void {
    const key = String(code);
    this.terminal.closesByCode[key] = (this.terminal.closesByCode[key] ?? 0) + 1;
    if (dropped) this.terminal.drops += 1;
  }

  /**
   * Records every request of a Fastify app: server time from onRequest to the response's end
   * (finished or aborted), status, and in-flight per family. Requests without a route name
   * (unknown paths) are recorded under `<prefix>.other`.
   */
  instrument(
    app: FastifyInstance,
    routeNameOf: (request: FastifyRequest) => string | undefined,
    familyOf: (request: FastifyRequest) => RouteFamily | undefined,
  ): void {
    app.addHook('onRequest', async (request, reply) => {
      const started = performance.now();
      const family = familyOf(request);
      const leave = family ? this.enter(family) : undefined;
      reply.raw.once('close', () => {
        leave?.();
        const name = routeNameOf(request);
        if (!name) return;
        const status = reply.raw.writableFinished ? reply.raw.statusCode : 'reset';
        this.recordRoute(name, status, performance.now() - started);
      });
    });
  }

  snapshot(users: number, tenants: number): SimStats {
    const routes: SimStats['routes'] = {};
    for (const [name, record] of [...this.routes.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      routes[name] = {
        count: record.count,
        status: { ...record.status },
        latencyMs: record.latency.summary(),
      };
    }
    return {
      startedAt: this.startedAt.toISOString(),
      uptimeMs: Date.now() - this.startedAt.getTime(),
      routes,
      inFlight: structuredClone(this.inFlight),
      llm: { ...this.llm, appMs: this.llmApp.summary(), upstreamMs: this.llmUpstream.summary() },
      terminal: {
        ...this.terminal,
        closesByCode: { ...this.terminal.closesByCode },
        open: this.terminalOpen,
      },
      containers: { ...this.containers, coldStartMs: this.coldStart.summary() },
      accounts: { ...this.accounts, users, tenants },
      chat: { ...this.chat },
      faults: Object.fromEntries([...this.faults.entries()].map(([k, v]) => [k, { ...v }])),
    };
  }
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Route name in SimStats.routes, e.g. `api.completions`. */
    statsName?: string;
    family?: RouteFamily;
  }
}

/** Reads the route name set with `config: { statsName }`; unknown paths go to `<prefix>.other`. */
export function routeNameFromConfig(prefix: string): (request: FastifyRequest) => string {
  return (request) => request.routeOptions.config?.statsName ?? `${prefix}.other`;
}

export function familyFromConfig(request: FastifyRequest): RouteFamily | undefined {
  return request.routeOptions.config?.family;
}
