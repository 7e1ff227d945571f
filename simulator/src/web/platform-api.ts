import type { SimContext } from '../core/context';

/** Writes "only logged" failures without flooding stderr when a load test fails them by the thousand. */
export class ThrottledLog {
  private count = 0;

  constructor(private readonly prefix: string) {}

  warn(message: string): void {
    this.count += 1;
    if (this.count <= 5 || this.count % 1000 === 0) {
      process.stderr.write(`${this.prefix}: ${message} (occurrence ${this.count})\n`);
    }
  }
}

export interface InboundRequest {
  tenant_id: string;
  content: string;
  channel: 'web';
  metadata: Record<string, string>;
}

const INBOUND_TIMEOUT_MS = 300_000;
const PROVISION_TIMEOUT_MS = 30_000;

/** The web app's calls to the platform API, over real HTTP and with the service key, like the real app. */
export class PlatformApiClient {
  private readonly provisionLog = new ThrottledLog('web: tenant provisioning failed');

  constructor(private readonly ctx: SimContext) {}

  private post(path: string, body: unknown, timeoutMs: number): Promise<Response> {
    return fetch(`${this.ctx.urls.api}${path}`, {
      method: 'POST',
      headers: {
        'x-service-api-key': this.ctx.secrets.serviceApiKey,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? null : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  }

  /**
   * Asks the API to start a new tenant's container: `/start`, then `/resume` only when `/start`
   * answers 404 (the real Go API answers 405 to unknown POST paths, so there it never resumes).
   * Failures are only logged: signup succeeds regardless.
   */
  async provisionTenant(tenantId: string): Promise<void> {
    const id = encodeURIComponent(tenantId);
    let path = `/api/tenants/${id}/start`;
    try {
      let response = await this.post(path, undefined, PROVISION_TIMEOUT_MS);
      if (response.status === 404) {
        await response.body?.cancel();
        path = `/api/tenants/${id}/resume`;
        response = await this.post(path, undefined, PROVISION_TIMEOUT_MS);
      }
      await response.text();
      if (!response.ok) this.provisionLog.warn(`${path} answered ${response.status}`);
    } catch (error) {
      this.provisionLog.warn(`${path}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /**
   * The web chat's call: the streaming route first (absent on the real API: 405), then the plain
   * inbound route. Throws when the API is unreachable or answers an error.
   */
  async inbound(request: InboundRequest): Promise<unknown> {
    let response = await this.post('/api/channels/inbound/stream', request, INBOUND_TIMEOUT_MS);
    if (!response.ok) {
      await response.body?.cancel();
      response = await this.post('/api/channels/inbound', request, INBOUND_TIMEOUT_MS);
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`inbound answered ${response.status}`);
    }
    return (await response.json()) as unknown;
  }
}
