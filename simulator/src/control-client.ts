import type { Faults, LatencySettings, SeedTenantsRequest, SimStats, TenantView } from './control-types';

/** Typed client for the simulator's control API, used by tests, the runner and benchmarks. */
export type LatencyPatch = Partial<Omit<LatencySettings, 'models'>> & {
  models?: Partial<LatencySettings['models']>;
};

export class SimControlClient {
  constructor(
    private readonly baseUrl: string,
    private readonly adminToken: string,
  ) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.adminToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? null : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`simulator control ${method} ${path}: ${response.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  getFaults = () => this.call<Faults>('GET', '/faults');
  setFaults = (faults: Faults) => this.call<Faults>('PUT', '/faults', faults);
  patchFaults = (faults: Faults) => this.call<Faults>('PATCH', '/faults', faults);
  clearFaults = () => this.call<Faults>('DELETE', '/faults');
  getLatency = () => this.call<LatencySettings>('GET', '/latency');
  /** The server merges partial settings, single models included. */
  patchLatency = (settings: LatencyPatch) => this.call<LatencySettings>('PATCH', '/latency', settings);
  stats = () => this.call<SimStats>('GET', '/stats');
  resetStats = () => this.call<void>('POST', '/stats/reset');
  seedTenants = (count: number, tag?: string, options: Omit<SeedTenantsRequest, 'count' | 'tag'> = {}) =>
    this.call<{ tenantIds: string[] }>('POST', '/tenants', { count, ...(tag ? { tag } : {}), ...options });
  tenants = () => this.call<{ tenants: TenantView[] }>('GET', '/tenants');
  tenant = (id: string) => this.call<TenantView>('GET', `/tenants/${encodeURIComponent(id)}`);
  setCredits = (id: string, cents: number) =>
    this.call<TenantView>('PUT', `/tenants/${encodeURIComponent(id)}/credits`, { cents });
}
