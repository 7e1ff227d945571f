import { parseArgs } from 'node:util';
import { faultsSchema } from './control/schemas';
import type { Faults } from './control-types';
import type { SimOptions } from './core/context';
import { parseDurationMs } from './core/duration';
import { startSimulator } from './index';

class UsageError extends Error {}

const USAGE = `usage: simulator [--host 127.0.0.1] [--nextauth-host localhost] [--web-port 3000] [--api-port 8080]
  [--control-port 8099]
  [--profile fast|realistic] [--time-scale F] [--seed-tenants N] [--cookie-mode dev|secure]
  [--faults '<Faults JSON>'] [--rate-limit N] [--rate-limit-window 60s]
  [--ping-interval 30s] [--pong-timeout 60s] [--health-interval 30s]
  [--service-api-key K] [--jwt-secret S] [--admin-token T] [--nextauth-secret S]
Secrets default to SERVICE_API_KEY, API_JWT_SECRET, SIM_ADMIN_TOKEN, NEXTAUTH_SECRET from the
environment, else random per start.`;

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

function integer(flag: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isInteger(value) || value < min || value > max)
    throw new UsageError(`--${flag}: expected an integer from ${min} to ${max}, got "${text}"`);
  return value;
}

function duration(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDurationMs(text);
  if (ms === undefined || ms <= 0)
    throw new UsageError(`--${flag}: expected a duration like 30s or 500ms, got "${text}"`);
  return ms;
}

function oneOf<T extends string>(
  flag: string,
  text: string | undefined,
  values: readonly T[],
): T | undefined {
  if (text === undefined) return undefined;
  if (!(values as readonly string[]).includes(text))
    throw new UsageError(`--${flag}: expected one of ${values.join('|')}, got "${text}"`);
  return text as T;
}

function faults(text: string | undefined): Faults | undefined {
  if (text === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UsageError('--faults: not valid JSON');
  }
  const parsed = faultsSchema.safeParse(json);
  if (!parsed.success)
    throw new UsageError(
      `--faults: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  return JSON.parse(JSON.stringify(parsed.data, (_k, v) => (v === null ? undefined : v))) as Faults;
}

export function parseCli(argv: string[], env: NodeJS.ProcessEnv): Partial<SimOptions> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      host: { type: 'string' },
      'nextauth-host': { type: 'string' },
      'web-port': { type: 'string' },
      'api-port': { type: 'string' },
      'control-port': { type: 'string' },
      profile: { type: 'string' },
      'time-scale': { type: 'string' },
      'seed-tenants': { type: 'string' },
      'cookie-mode': { type: 'string' },
      faults: { type: 'string' },
      'rate-limit': { type: 'string' },
      'rate-limit-window': { type: 'string' },
      'ping-interval': { type: 'string' },
      'pong-timeout': { type: 'string' },
      'health-interval': { type: 'string' },
      'service-api-key': { type: 'string' },
      'jwt-secret': { type: 'string' },
      'admin-token': { type: 'string' },
      'nextauth-secret': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) throw new UsageError('');
  const host = values.host ?? '127.0.0.1';
  // The simulator is a local instrument: it never listens beyond loopback.
  if (!LOOPBACK.has(host)) throw new UsageError(`--host: only loopback addresses are allowed, got "${host}"`);
  let timeScale: number | undefined;
  if (values['time-scale'] !== undefined) {
    timeScale = Number(values['time-scale']);
    if (!Number.isFinite(timeScale) || timeScale <= 0 || timeScale > 1000)
      throw new UsageError(`--time-scale: expected a number > 0 and <= 1000, got "${values['time-scale']}"`);
  }
  const secret = (flag: string, value: string | undefined, envName: string) => {
    const chosen = value ?? env[envName];
    if (chosen !== undefined && chosen.trim().length < 8)
      throw new UsageError(`--${flag} / ${envName}: at least 8 characters`);
    return chosen;
  };
  const nextauthHost = values['nextauth-host'];
  if (nextauthHost !== undefined && !LOOPBACK.has(nextauthHost))
    throw new UsageError(`--nextauth-host: only loopback names are allowed, got "${nextauthHost}"`);
  const options: Partial<SimOptions> = { host };
  if (nextauthHost !== undefined) options.nextauthHost = nextauthHost;
  const set = <K extends keyof SimOptions>(key: K, value: SimOptions[K] | undefined) => {
    if (value !== undefined) options[key] = value;
  };
  set('webPort', integer('web-port', values['web-port'], 0, 65535));
  set('apiPort', integer('api-port', values['api-port'], 0, 65535));
  set('controlPort', integer('control-port', values['control-port'], 0, 65535) ?? 8099);
  set('profile', oneOf('profile', values.profile, ['fast', 'realistic'] as const));
  set('timeScale', timeScale);
  set('seedTenants', integer('seed-tenants', values['seed-tenants'], 0, 100_000));
  set('cookieMode', oneOf('cookie-mode', values['cookie-mode'], ['dev', 'secure'] as const));
  set('faults', faults(values.faults));
  set('rateLimit', integer('rate-limit', values['rate-limit'], 1, 1_000_000));
  set('rateLimitWindowMs', duration('rate-limit-window', values['rate-limit-window']));
  set('pingIntervalMs', duration('ping-interval', values['ping-interval']));
  set('pongTimeoutMs', duration('pong-timeout', values['pong-timeout']));
  set('healthCheckIntervalMs', duration('health-interval', values['health-interval']));
  const secrets: SimOptions['secrets'] = {};
  const serviceApiKey = secret('service-api-key', values['service-api-key'], 'SERVICE_API_KEY');
  const jwtSecret = secret('jwt-secret', values['jwt-secret'], 'API_JWT_SECRET');
  const adminToken = secret('admin-token', values['admin-token'], 'SIM_ADMIN_TOKEN');
  const nextauthSecret = secret('nextauth-secret', values['nextauth-secret'], 'NEXTAUTH_SECRET');
  if (serviceApiKey) secrets.serviceApiKey = serviceApiKey;
  if (jwtSecret) secrets.jwtSecret = jwtSecret;
  if (adminToken) secrets.adminToken = adminToken;
  if (nextauthSecret) secrets.nextauthSecret = nextauthSecret;
  options.secrets = secrets;
  return options;
}

async function main(): Promise<void> {
  let options: Partial<SimOptions>;
  try {
    options = parseCli(process.argv.slice(2), process.env);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${message ? `simulator: ${message}\n` : ''}${USAGE}\n`);
    process.exit(2);
  }
  // A bug in one handler must not take the whole target down mid-run.
  process.on('uncaughtException', (error) =>
    process.stderr.write(`simulator: uncaught ${error.stack ?? error}\n`),
  );
  process.on('unhandledRejection', (error) =>
    process.stderr.write(`simulator: unhandled ${String(error)}\n`),
  );
  const sim = await startSimulator(options);
  const lines = [
    `WEB_BASE_URL=${sim.urls.web}`,
    `API_BASE_URL=${sim.urls.api}`,
    `SIM_CONTROL_URL=${sim.urls.control}`,
    `NEXTAUTH_URL=${sim.urls.nextauth}`,
    `SERVICE_API_KEY=${sim.secrets.serviceApiKey}`,
    `API_JWT_SECRET=${sim.secrets.jwtSecret}`,
    `SIM_ADMIN_TOKEN=${sim.secrets.adminToken}`,
    `SIM_PROFILE=${sim.ctx.options.profile}`,
    ...(sim.tenantIds.length > 0 ? [`TENANT_IDS=${sim.tenantIds.join(',')}`] : []),
    'SIM_READY=1',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  let closing = false;
  const shutdown = () => {
    if (closing) return;
    closing = true;
    sim.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `simulator: failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
