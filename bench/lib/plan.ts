import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadShapeOf } from '../../config/load-shape';
import { ROOT } from '../../scripts/lib/paths';

/** Users in flight of a scenario's load profile, from its YAML (the one source of load shapes). */
function loadUsers(scenario: string): number {
  const shape = loadShapeOf(readFileSync(join(ROOT, 'scenarios', `${scenario}.yml`), 'utf8'), 'load');
  if (!shape.ok) throw new Error(`scenarios/${scenario}.yml: ${shape.problem}`);
  return shape.shape.usersPerStep;
}

/**
 * How long and how hard each figure loads the machine. The full bench is bounded to a few
 * minutes on two cores; --quick proves the harness end to end in seconds per figure (its numbers
 * are too short to quote).
 */
export interface BenchPlan {
  quick: boolean;
  llmUsers: number;
  chatUsers: number;
  /** The scenarios' default think times (LLM_THINK_TIME, CHAT_THINK_TIME). */
  llmThinkMs: number;
  chatThinkMs: number;
  fidelitySeconds: number;
  /** Ceiling steps above the fidelity run's users (which is the first level). */
  ceilingLevels: number[];
  ceilingSeconds: number;
  ceilingToleranceMs: number;
  costSeconds: number;
  capacitySeconds: number;
  /** Back-to-back wrk before measuring a route: the simulator's JIT and caches warm, not measured. */
  warmupSeconds: number;
  /** wrk at the target LLM load, simulator and bare server each. */
  targetLoadSeconds: number;
  capacityConnections: number;
  soakSessions: number;
  soakIntervalMs: number;
  soakSeconds: number;
  /** Full: `npm start` itself; quick: the runner alone on one shortened scenario. */
  smoke: { command: string; argv: string[]; env: Record<string, string> };
}

export function benchPlan(quick: boolean): BenchPlan {
  return {
    quick,
    llmUsers: loadUsers('llm-proxy'),
    chatUsers: loadUsers('chat-sessions'),
    llmThinkMs: 200,
    chatThinkMs: 1000,
    fidelitySeconds: quick ? 3 : 12,
    ceilingLevels: quick ? [200] : [200, 400, 800, 1600, 3200],
    ceilingSeconds: quick ? 3 : 8,
    ceilingToleranceMs: 5,
    costSeconds: quick ? 3 : 15,
    capacitySeconds: quick ? 2 : 4,
    warmupSeconds: quick ? 1 : 3,
    targetLoadSeconds: quick ? 3 : 10,
    capacityConnections: 64,
    soakSessions: quick ? 20 : 100,
    soakIntervalMs: 100,
    soakSeconds: quick ? 6 : 20,
    smoke: quick
      ? {
          command:
            'LLM_DURATION=2s node dist/scripts/run.js --profile smoke --scenario llm-proxy --no-report',
          argv: ['dist/scripts/run.js', '--profile', 'smoke', '--scenario', 'llm-proxy', '--no-report'],
          env: { LLM_DURATION: '2s' },
        }
      : { command: 'npm start', argv: [], env: {} },
  };
}
