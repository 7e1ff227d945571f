import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { formatDuration } from '../../config/duration';
import { type EnsureCondition, limitsOf } from '../../config/limits';
import { type LoadShape, loadShapeOf } from '../../config/load-shape';
import { PROFILE_NAMES, SCENARIO_AREAS } from '../../config/profiles';
import { settingNamesFor } from '../../config/settings/index';
import { ROOT } from '../helpers/paths';

/** The README is the user's manual: it must keep naming every setting, scenario and npm script. */
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

test('README documents every setting the suite reads', () => {
  const missing = settingNamesFor(SCENARIO_AREAS).filter((name) => !readme.includes(name));
  assert.deepEqual(missing, [], 'settings missing from README.md');
});

test('README names every scenario file', () => {
  const scenarios = readdirSync(join(ROOT, 'scenarios')).filter((f) => f.endsWith('.yml'));
  assert.ok(scenarios.length >= 6);
  const missing = scenarios.filter((file) => !readme.includes(`scenarios/${file}`));
  assert.deepEqual(missing, [], 'scenarios missing from README.md');
});

test('README names every npm script a user runs', () => {
  const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  // npm runs `prepare` itself; `start` and `test` are the two commands of the quick start.
  const userScripts = Object.keys(scripts).filter((name) => name !== 'prepare');
  const missing = userScripts.filter(
    (name) => !readme.includes(`npm run ${name}`) && !readme.includes(`npm ${name}`),
  );
  assert.deepEqual(missing, [], 'npm scripts missing from README.md');
});

const PROFILE_COLUMNS = [
  'signup-tenant-chat',
  'signup-browser',
  'chat-sessions',
  'terminal-ws',
  'container-provisioning',
  'llm-proxy',
] as const;

/** `5`, `50 × 10m`, `3 × 50`, `3 × 50, 15m`: users per step, steps, loop time, as the README writes them. */
function shapeCell(shape: LoadShape): string {
  const users = shape.steps > 1 ? `${shape.steps} × ${shape.usersPerStep}` : `${shape.usersPerStep}`;
  if (shape.loopDurationMs === undefined || shape.usersPerStep === 0) return users;
  return `${users}${shape.steps > 1 ? ', ' : ' × '}${formatDuration(shape.loopDurationMs)}`;
}

test("README's load profile table is the scenarios' YAML", () => {
  for (const profile of PROFILE_NAMES) {
    const row = readme.split('\n').find((line) => line.startsWith(`| \`${profile}\` |`));
    assert.ok(row, `profile row ${profile}`);
    const cells = row.split('|').map((c) => c.trim());
    PROFILE_COLUMNS.forEach((scenario, i) => {
      const shape = loadShapeOf(readFileSync(join(ROOT, 'scenarios', `${scenario}.yml`), 'utf8'), profile);
      assert.ok(shape.ok, `${scenario} ${profile}`);
      assert.equal(cells[3 + i], shapeCell(shape.shape), `${profile} / ${scenario}`);
    });
  }
});

test("README's gate table gives every limit the number its scenario's YAML holds", () => {
  const rows = readme.split('\n').filter((line) => line.startsWith('| `') && line.includes('_'));
  for (const file of readdirSync(join(ROOT, 'scenarios')).filter((f) => f.endsWith('.yml'))) {
    const script = parse(readFileSync(join(ROOT, 'scenarios', file), 'utf8')) as {
      config: { ensure?: { conditions?: EnsureCondition[] } };
    };
    for (const limit of limitsOf(script.config.ensure?.conditions ?? [], file.replace(/\.yml$/, ''))) {
      const row = rows.find((line) => line.split('|')[1]?.includes(`\`${limit.setting}\``));
      assert.ok(row, `${limit.setting} has a row in the gate table`);
      const [, names, values] = row.split('|');
      const index = names!.split('/').findIndex((n) => n.includes(`\`${limit.setting}\``));
      const value = values!.split('/')[index]?.trim();
      assert.equal(value, `\`${limit.value}\``, `${limit.setting} in ${file}`);
    }
  }
});
