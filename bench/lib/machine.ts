import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem, type } from 'node:os';
import { resolve } from 'node:path';
import { ROOT } from '../../scripts/lib/paths';
import { round2 } from './percentiles';
import type { MachineInfo } from './results';

function packageVersion(name: string): string {
  try {
    const json = JSON.parse(readFileSync(resolve(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
      version?: string;
    };
    return json.version ?? 'unknown';
  } catch {
    return 'not installed';
  }
}

function wrkVersion(): string {
  // `wrk -v` prints its version line and usage, and exits 1.
  const run = spawnSync('wrk', ['-v'], { encoding: 'utf8' });
  if (run.error) return 'not installed';
  return /^wrk (\S+)/m.exec(`${run.stdout}${run.stderr}`)?.[1] ?? 'unknown';
}

export function describeMachine(): MachineInfo {
  const cpuList = cpus();
  return {
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    cores: cpuList.length,
    memoryGb: round2(totalmem() / 1024 ** 3),
    os: `${type()} ${release()}`,
    node: process.version,
    artillery: packageVersion('artillery'),
    wrk: wrkVersion(),
    autocannon: packageVersion('autocannon'),
    loadAverageAtStart: round2(loadavg()[0] ?? 0),
  };
}
