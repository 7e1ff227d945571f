import { randomBytes } from 'node:crypto';
import type { Faults, LatencySettings } from '../control-types';
import { ContainerManager } from './containers';
import { FaultController } from './faults';
import { LatencyController, profileSettings } from './latency';
import { SimState } from './state';
import { StatsRecorder } from './stats';

export interface SimOptions {
  host: string;
  /**
   * The host NEXTAUTH_URL names (a loopback name; default: `host`). The real app builds every
   * redirect and callback URL on NEXTAUTH_URL, whatever Host the request was addressed to.
   */
  nextauthHost?: string;
  webPort: number;
  apiPort: number;
  controlPort: number;
  profile: 'fast' | 'realistic';
  timeScale: number;
  seedTenants: number;
  cookieMode: 'dev' | 'secure';
  faults: Faults;
  /** Web rate limit: requests per user per fixed window. */
  rateLimit: number;
  rateLimitWindowMs: number;
  /** Terminal keepalive: server ping interval and the pong deadline. */
  pingIntervalMs: number;
  pongTimeoutMs: number;
  /** Container health-check interval before time scaling (real platform: 30 s). */
  healthCheckIntervalMs: number;
  /** Explicit secrets (flag/env); random per start otherwise. */
  secrets: Partial<SimContext['secrets']>;
  /** Overrides the latency profile's models (merged over the profile). */
  latency?: Partial<LatencySettings['models']>;
}

export interface SimContext {
  options: SimOptions;
  secrets: { serviceApiKey: string; jwtSecret: string; nextauthSecret: string; adminToken: string };
  /**
   * Filled once the servers listen: `web` is the address the web app serves (WEB_BASE_URL),
   * `nextauth` the NEXTAUTH_URL origin (same port, possibly another loopback name).
   */
  urls: { web: string; nextauth: string; api: string; control: string };
  state: SimState;
  latency: LatencyController;
  faults: FaultController;
  stats: StatsRecorder;
  containers: ContainerManager;
  cookieMode: 'dev' | 'secure';
  rateLimit: { limit: number; windowMs: number };
}

export function defaultOptions(overrides: Partial<SimOptions> = {}): SimOptions {
  const profile = overrides.profile ?? 'fast';
  return {
    host: '127.0.0.1',
    webPort: 3000,
    apiPort: 8080,
    controlPort: 0,
    timeScale: 1,
    seedTenants: 0,
    cookieMode: 'dev',
    faults: {},
    rateLimit: 60,
    rateLimitWindowMs: 60_000,
    pingIntervalMs: 30_000,
    pongTimeoutMs: 60_000,
    healthCheckIntervalMs: profile === 'fast' ? 50 : 30_000,
    secrets: {},
    ...overrides,
    profile,
  };
}

const secret = (bytes: number) => randomBytes(bytes).toString('hex');

export function createContext(options: SimOptions): SimContext {
  const stats = new StatsRecorder();
  const latencySettings = profileSettings(options.profile, options.timeScale);
  if (options.latency) latencySettings.models = { ...latencySettings.models, ...options.latency };
  const latency = new LatencyController(latencySettings);
  const faults = new FaultController(stats, options.faults);
  return {
    options,
    secrets: {
      serviceApiKey: options.secrets.serviceApiKey ?? `sk_sim_${secret(24)}`,
      jwtSecret: options.secrets.jwtSecret ?? secret(32),
      nextauthSecret: options.secrets.nextauthSecret ?? secret(32),
      adminToken: options.secrets.adminToken ?? `sim_admin_${secret(24)}`,
    },
    urls: { web: '', nextauth: '', api: '', control: '' },
    state: new SimState(),
    latency,
    faults,
    stats,
    containers: new ContainerManager(latency, faults, stats, options.healthCheckIntervalMs),
    cookieMode: options.cookieMode,
    rateLimit: { limit: options.rateLimit, windowMs: options.rateLimitWindowMs },
  };
}
