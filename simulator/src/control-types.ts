/**
 * The simulator's control API (SIM_CONTROL_URL, `Authorization: Bearer <SIM_ADMIN_TOKEN>`):
 * fault injection, latency models and ground truth. It lives on its own port so that the web app
 * and API servers answer exactly as the real platform does on every path.
 *
 *   GET    /health                  -> 200 {"status":"ok"}  (no token needed)
 *   GET    /faults                  -> Faults (current)
 *   PUT    /faults     Faults       -> replaces all faults, answers the new Faults
 *   PATCH  /faults     Faults       -> deep-merges into the current faults
 *   DELETE /faults                  -> clears every fault
 *   GET    /latency                 -> LatencySettings
 *   PATCH  /latency    Partial<LatencySettings> -> merges (profile switch, time scale, single models)
 *   GET    /stats                   -> SimStats (ground truth since start or last reset)
 *   POST   /stats/reset             -> 204
 *   POST   /tenants    SeedTenantsRequest -> {tenantIds: string[]} seeded: credits 1000, container running
 *   GET    /tenants                 -> {tenants: TenantView[]}
 *   GET    /tenants/:id             -> TenantView
 *   PUT    /tenants/:id/credits {cents} -> TenantView
 *
 * Every value here is optional; an absent value means "no fault". Rates are fractions 0..1.
 */

/** Route families faults and stats are grouped by. */
export const ROUTE_FAMILIES = [
  'auth',
  'chat',
  'onboarding',
  'pages',
  'llm',
  'inbound',
  'containers',
  'terminal',
] as const;
export type RouteFamily = (typeof ROUTE_FAMILIES)[number];

export const MALFORMED_KINDS = [
  'html',
  'truncated-json',
  'wrong-content-type',
  'empty',
  'missing-usage',
] as const;
export type MalformedKind = (typeof MALFORMED_KINDS)[number];

export interface RouteFault {
  /** Fraction of requests answered with `errorStatus` and the contract's error body for the route. */
  errorRate?: number;
  /** Status for injected errors (default 500). */
  errorStatus?: number;
  /** Added latency in ms before the route answers (not scaled by timeScale). */
  delayMs?: number;
  /** Fraction of answers replaced by a malformed body of `malformedKind`. */
  malformedRate?: number;
  malformedKind?: MalformedKind;
  /** Fraction of requests whose connection is destroyed without an answer. */
  resetRate?: number;
  /** The body is trickled out over this many ms (headers first). */
  slowBodyMs?: number;
}

export interface Faults {
  routes?: Partial<Record<RouteFamily, RouteFault>>;
  llm?: {
    /** Proxy overhead added by the "app" (shows as `app;dur=` in Server-Timing, not as upstream). */
    appDelayMs?: number;
    /** Answer `stream: true` requests with buffered JSON, as the real proxy does. */
    bufferStreams?: boolean;
  };
  auth?: {
    /** Every CSRF check fails: callback answers 200 {url: ...signin?csrf=true}, no session cookie. */
    csrfRefuse?: boolean;
    /** Extra ms of modelled CPU per signup/login (queued like bcrypt). */
    extraCpuMs?: number;
  };
  credits?: {
    /** Every tenant's balance is treated as 0: LLM calls get 402 and the tenant is paused. */
    exhausted?: boolean;
  };
  containers?: {
    /** Multiplies the cold-start model. */
    coldStartMultiplier?: number;
    /** Fraction of resume calls answered 500 {"error":"failed to resume tenant"}. */
    resumeFailRate?: number;
    /** Fraction of started containers that come up with health "unhealthy". */
    unhealthyRate?: number;
  };
  pages?: {
    /**
     * Serve the pages with a Content-Security-Policy that blocks their own scripts, as the real
     * app's CSP does to `next dev`'s runtime: the page renders but never becomes interactive.
     */
    blockScripts?: boolean;
  };
  terminal?: {
    /** Close every terminal socket this many ms after it opens (with `dropCode`). */
    dropAfterMs?: number;
    /** Close code used for drops (default 1006-style abrupt termination when 0 or absent). */
    dropCode?: number;
    /** Send an unsolicited binary/text frame every this many ms. */
    strayFrameIntervalMs?: number;
    /** Fraction of output frames replaced by malformed bytes / invalid UTF-8. */
    malformedFrameRate?: number;
    /** Delay before the shell answers an input line. */
    echoDelayMs?: number;
  };
}

export type LatencyModel =
  | { kind: 'fixed'; ms: number }
  | { kind: 'uniform'; minMs: number; maxMs: number }
  | { kind: 'lognormal'; medianMs: number; p99Ms: number };

export interface LatencySettings {
  profile: 'fast' | 'realistic';
  /** Multiplies every modelled duration (cold starts included); 0.01 makes a 20 s start 200 ms. */
  timeScale: number;
  models: {
    /** Modelled CPU cost of one bcrypt(12) hash. */
    authCpu: LatencyModel;
    /** Number of modelled CPU cores auth work queues for. */
    authCores: number;
    /** Unknown-email login and CSRF failure paths. */
    authUnknownEmail: LatencyModel;
    authCsrfFailure: LatencyModel;
    chat: LatencyModel;
    inbound: LatencyModel;
    /** Model time to first token and per further output token. */
    modelFirstToken: LatencyModel;
    modelPerToken: LatencyModel;
    /** Proxy's own time (Server-Timing app). */
    proxyApp: LatencyModel;
    containerColdStart: LatencyModel;
    containerResumeCall: LatencyModel;
  };
}

export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface RouteStats {
  count: number;
  status: Record<string, number>;
  /** Server-side time from request received to response finished, ms. */
  latencyMs: LatencySummary;
}

export interface SimStats {
  startedAt: string;
  uptimeMs: number;
  /** Keyed by route name, e.g. `web.signup`, `api.completions`, `api.terminal`. */
  routes: Record<string, RouteStats>;
  inFlight: Record<RouteFamily, { current: number; max: number }>;
  llm: {
    calls: number;
    promptTokens: number;
    completionTokens: number;
    totalTokens: number;
    centsBilled: number;
    paymentRequired: number;
    streamed: number;
    /** Server-side measured app (proxy) time, ms. */
    appMs: LatencySummary;
    upstreamMs: LatencySummary;
  };
  terminal: {
    connectionsOpened: number;
    open: number;
    closesByCode: Record<string, number>;
    drops: number;
    strayFramesSent: number;
    malformedFramesSent: number;
    commandsExecuted: number;
    resizes: number;
  };
  containers: {
    resumeCalls: number;
    coldStarts: number;
    coldStartMs: LatencySummary;
    resumeFailures: number;
  };
  accounts: { users: number; tenants: number; signups: number; logins: number; loginFailures: number };
  chat: { messages: number; conversations: number; rateLimited: number };
  faults: Record<
    string,
    { errors: number; malformed: number; resets: number; delayed: number; slowBodies: number }
  >;
}

export interface TenantView {
  id: string;
  email: string | null;
  status: 'active' | 'paused';
  creditsCents: number;
  createdAt: string;
  container: {
    state: 'none' | 'stopped' | 'starting' | 'running';
    running: boolean;
    health: 'none' | 'starting' | 'healthy' | 'unhealthy';
    startedAt: string | null;
  };
}

/** Body of POST /tenants. Defaults: container 'running' and healthy (as after an admin resume), 1000 cents. */
export interface SeedTenantsRequest {
  count: number;
  tag?: string;
  /** 'none' is a tenant as right after signup; 'stopped' as after an admin suspend. */
  container?: 'none' | 'stopped' | 'running';
  creditsCents?: number;
}
