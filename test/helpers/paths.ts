import { resolve } from 'node:path';

export const ROOT = resolve(__dirname, '..', '..');
export const DIST = resolve(ROOT, 'dist');
export const ARTILLERY_BIN = resolve(ROOT, 'node_modules', 'artillery', 'bin', 'run');
export const SIMULATOR_CLI = resolve(DIST, 'simulator', 'cli.js');
export const scenarioPath = (name: string) =>
  resolve(ROOT, 'scenarios', name.endsWith('.yml') ? name : `${name}.yml`);
