import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import {
  BROWSER_JOURNEYS,
  type LoadShape,
  PROFILE_NAMES,
  PROFILES,
  type ProfileName,
} from '../../config/profiles';
import { SCENARIOS } from '../../scripts/lib/scenarios';
import { ROOT } from '../fixtures/run-cli';

/**
 * config/profiles.ts is the source of truth for load shapes; every scenario YAML carries them as
 * Artillery environments. This keeps the two from drifting apart.
 */

interface Phase {
  arrivalCount?: number | string;
  arrivalRate?: number | string;
  duration?: number | string;
  pause?: number;
}

/** Users one arrival phase brings: its count, or rate x duration when the count is an $env template. */
function usersOf(phase: Phase): number {
  if (typeof phase.arrivalCount === 'number') return phase.arrivalCount;
  return Number(phase.arrivalRate) * Number(phase.duration);
}

const files = readdirSync(join(ROOT, 'scenarios')).filter((f) => f.endsWith('.yml'));

describe('scenario environments match config/profiles.ts', () => {
  test('there are scenarios to check', () => {
    assert.ok(files.length > 0);
  });

  for (const file of files) {
    const name = file.replace(/\.yml$/, '');
    test(name, () => {
      const entry = SCENARIOS.find((s) => s.name === name);
      assert.ok(entry, `${file} is registered in scripts/lib/scenarios.ts`);
      const script = parse(readFileSync(join(ROOT, 'scenarios', file), 'utf8')) as {
        config: { phases: Phase[]; environments: Record<string, { phases: Phase[] }> };
      };
      const environments = script.config.environments;
      assert.deepEqual(
        Object.keys(environments).sort(),
        [...PROFILE_NAMES].sort(),
        'one environment per profile',
      );
      assert.deepEqual(
        script.config.phases,
        environments.load!.phases,
        'top-level phases are the load profile',
      );

      for (const profile of PROFILE_NAMES) {
        const shape: LoadShape = entry.browser
          ? { vus: BROWSER_JOURNEYS[profile as ProfileName], steps: 1, durationMs: 0 }
          : PROFILES[profile][entry.area];
        const phases = environments[profile]!.phases;
        const arrivals = phases.filter((p) => p.arrivalCount !== undefined || p.arrivalRate !== undefined);
        assert.equal(arrivals.length, shape.steps, `${profile}: one arrival phase per step`);
        for (const phase of arrivals) {
          assert.equal(usersOf(phase), shape.vus, `${profile}: ${shape.vus} users per step`);
          assert.equal(Number(phase.duration), 1, `${profile}: users arrive within one second`);
        }
        if (shape.steps > 1 && shape.durationMs > 0) {
          const pauses = phases.filter((p) => p.pause !== undefined);
          assert.equal(pauses.length, shape.steps - 1, `${profile}: a hold between steps`);
          for (const pause of pauses)
            assert.equal(
              (pause.pause! + 1) * 1000,
              shape.durationMs / shape.steps,
              `${profile}: steps evenly spaced`,
            );
        }
      }
    });
  }

  test('every registered scenario has its YAML', () => {
    for (const entry of SCENARIOS) assert.ok(files.includes(`${entry.name}.yml`), entry.name);
  });
});
