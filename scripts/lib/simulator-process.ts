import { existsSync } from 'node:fs';
import { type SimulatorProcess, startSimulatorProcess, stopByPid } from '../../simulator/src/process';
import { SIMULATOR_CLI } from './paths';

export { type SimulatorProcess, stopByPid };

export interface SimulatorLaunch {
  profile: 'fast' | 'realistic';
  /** Faults JSON for `--faults` (already checked to be a JSON object). */
  faults?: string;
  args: string[];
  startTimeoutMs?: number;
}

/**
 * Starts the built simulator (dist/simulator/cli.js) on ephemeral loopback ports and waits for
 * SIM_READY. The caller must call stop() (by pid) on every path out.
 */
export async function launchSimulator(launch: SimulatorLaunch): Promise<SimulatorProcess> {
  if (!existsSync(SIMULATOR_CLI))
    throw new Error(`simulator not built: ${SIMULATOR_CLI} (run npm run build)`);
  return startSimulatorProcess({ nodeArgs: [SIMULATOR_CLI], ...launch });
}
