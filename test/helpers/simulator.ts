import { launchSimulator, stopByPid } from '../../scripts/lib/simulator-process';
import { type SimulatorHandle, simulatorHandle } from '../../simulator/src/process';
import { forgetStartedTarget, registerStartedTarget } from './started-targets';

export { type SimulatorHandle, stopByPid as stopChild };

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
 * ephemeral loopback ports, ready at its SIM_READY line; stop() kills it by pid. Its URLs are
 * registered as targets this test started (test/helpers/started-targets.ts) until it stops.
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
  const urls = ['WEB_BASE_URL', 'API_BASE_URL', 'SIM_CONTROL_URL', 'NEXTAUTH_URL']
    .map((name) => launched.env[name])
    .filter((url): url is string => url !== undefined);
  for (const url of urls) registerStartedTarget(url);
  const stop = async () => {
    for (const url of urls) forgetStartedTarget(url);
    await launched.stop();
  };
  try {
    return { ...simulatorHandle(launched), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
