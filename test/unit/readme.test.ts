import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { SCENARIO_AREAS } from '../../config/profiles';
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
