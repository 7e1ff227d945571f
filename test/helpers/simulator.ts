import { launchSimulator, stopByPid } from '../../scripts/lib/simulator-process';
import { SimControlClient } from '../../simulator/src/control-client';
import { forgetStartedTarget, registerStartedTarget } from './started-targets';

export { stopByPid as stopChild };

export interface SimulatorHandle {
  pid: number;
  /** Every NAME=value line the simulator printed (WEB_BASE_URL, API_BASE_URL, SIM_CONTROL_URL, ...). */
  env: Record<string, string>;
  webUrl: string;
  apiUrl: string;
  controlUrl: string;
  serviceApiKey: string;
  jwtSecret: string;
  adminToken: string;
  tenantIds: string[];
  control: SimControlClient;
  /** Lines the simulator wrote to stderr (for diagnosing a failed test). */
  stderr: string[];
  stop(): Promise<void>;
}

export interface StartSimulatorOptions {
  profile?: 'fast' | 'realistic';
  seedTenants?: number;
  timeScale?: number;
  /** Extra CLI arguments, e.g. ['--cookie-mode', 'secure']. */
  args?: string[];
  startTimeoutMs?: number;
}

/**
 * Starts the bundled simulator (built, in dist/) the way the runner does: a child process on
 * ephemeral loopback ports, ready at its SIM_READY line; stop() kills it by pid.
 */
export async function startSimulator(options: StartSimulatorOptions = {}): Promise<SimulatorHandle> {
  const launched = await launchSimulator({
    profile: options.profile ?? 'fast',
    args: [
      ...(options.seedTenants ? ['--seed-tenants', String(options.seedTenants)] : []),
      ...(options.timeScale !== undefined ? ['--time-scale', String(options.timeScale)] : []),
      ...(options.args ?? []),
    ],
    startTimeoutMs: options.startTimeoutMs ?? 15_000,
  });
  const { env } = launched;
  const required = (name: string): string => {
    const value = env[name];
    if (value === undefined) throw new Error(`simulator did not print ${name}`);
    return value;
  };
  const urls = ['WEB_BASE_URL', 'API_BASE_URL', 'SIM_CONTROL_URL', 'NEXTAUTH_URL']
    .map((name) => env[name])
    .filter((url): url is string => url !== undefined);
  for (const url of urls) registerStartedTarget(url);
  const stop = async () => {
    for (const url of urls) forgetStartedTarget(url);
    await launched.stop();
  };
  try {
    const controlUrl = required('SIM_CONTROL_URL');
    const adminToken = required('SIM_ADMIN_TOKEN');
    return {
      pid: launched.pid,
      env,
      webUrl: required('WEB_BASE_URL'),
      apiUrl: required('API_BASE_URL'),
      controlUrl,
      serviceApiKey: required('SERVICE_API_KEY'),
      jwtSecret: required('API_JWT_SECRET'),
      adminToken,
      tenantIds: env.TENANT_IDS ? env.TENANT_IDS.split(',') : [],
      control: new SimControlClient(controlUrl, adminToken),
      stderr: launched.stderr,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
