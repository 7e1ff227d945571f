import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildApi } from './api/app';
import { buildControl } from './control/app';
import { seedTenants } from './control/seed';
import { createContext, defaultOptions, type SimContext, type SimOptions } from './core/context';
import { buildWebApp } from './web/app';

export type { SimContext, SimOptions } from './core/context';

export interface RunningSimulator {
  ctx: SimContext;
  urls: SimContext['urls'];
  secrets: SimContext['secrets'];
  tenantIds: string[];
  close(): Promise<void>;
}

function originOf(app: FastifyInstance, host: string): string {
  const address = app.server.address() as AddressInfo;
  const printable = host.includes(':') ? `[${host}]` : host;
  return `http://${printable}:${address.port}`;
}

/** Starts web app, API and control API on loopback ports, seeds tenants, and fills ctx.urls. */
export async function startSimulator(overrides: Partial<SimOptions> = {}): Promise<RunningSimulator> {
  const options = defaultOptions(overrides);
  const ctx = createContext(options);
  const web = buildWebApp(ctx);
  const api = buildApi(ctx);
  const control = buildControl(ctx);
  const started: FastifyInstance[] = [];
  try {
    for (const [app, port] of [
      [web, options.webPort],
      [api, options.apiPort],
      [control, options.controlPort],
    ] as const) {
      await app.listen({ host: options.host, port });
      started.push(app);
    }
  } catch (error) {
    await Promise.allSettled(started.map((app) => app.close()));
    throw error;
  }
  ctx.urls.web = originOf(web, options.host);
  ctx.urls.nextauth = originOf(web, options.nextauthHost ?? options.host);
  ctx.urls.api = originOf(api, options.host);
  ctx.urls.control = originOf(control, options.host);
  const tenantIds = options.seedTenants > 0 ? seedTenants(ctx, options.seedTenants) : [];
  return {
    ctx,
    urls: ctx.urls,
    secrets: ctx.secrets,
    tenantIds,
    close: async () => {
      await Promise.allSettled([web.close(), api.close(), control.close()]);
    },
  };
}
