import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ROOT } from '../helpers/paths';
import {
  assertStartedTargets,
  forgetStartedTarget,
  inheritedEnvWithoutTargets,
  registerStartedTarget,
} from '../helpers/started-targets';

/**
 * Load from tests goes only to servers the tests started: the guard every spawned Artillery or
 * runner process passes through, and a scan that no test spawns one around it.
 */
describe('test target guard', () => {
  test('refuses a target no test started, by setting, -t and env file', () => {
    assert.throws(
      () => assertStartedTargets({ WEB_BASE_URL: 'http://localhost:3000' }),
      /WEB_BASE_URL=http:\/\/localhost:3000/,
    );
    assert.throws(() => assertStartedTargets({}, ['-t', 'http://127.0.0.1:8080']), /-t=/);
    const dir = mkdtempSync(join(tmpdir(), 'targets-'));
    try {
      const file = join(dir, 'platform.env');
      writeFileSync(file, 'API_BASE_URL=http://127.0.0.1:8080\nSERVICE_API_KEY=x\n');
      assert.throws(() => assertStartedTargets({}, ['--target', file]), /platform\.env: API_BASE_URL/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('accepts a started server until it is stopped', () => {
    registerStartedTarget('http://127.0.0.1:45678/');
    assert.doesNotThrow(() =>
      assertStartedTargets({ API_BASE_URL: 'http://127.0.0.1:45678' }, ['-t', 'http://127.0.0.1:45678/x']),
    );
    forgetStartedTarget('http://127.0.0.1:45678');
    assert.throws(() => assertStartedTargets({ API_BASE_URL: 'http://127.0.0.1:45678' }));
  });

  test('the shell of the developer does not leak a target into spawned processes', () => {
    const saved = process.env.WEB_BASE_URL;
    process.env.WEB_BASE_URL = 'http://localhost:3000';
    try {
      assert.equal(inheritedEnvWithoutTargets().WEB_BASE_URL, undefined);
    } finally {
      if (saved === undefined) delete process.env.WEB_BASE_URL;
      else process.env.WEB_BASE_URL = saved;
    }
  });

  test('no test spawns Artillery or the runner around the guarded helpers', () => {
    const offenders: string[] = [];
    for (const tier of ['unit', 'integration', 'slow']) {
      for (const name of readdirSync(join(ROOT, 'test', tier))) {
        if (!name.endsWith('.test.ts') || name === 'test-targets.test.ts') continue;
        const text = readFileSync(join(ROOT, 'test', tier, name), 'utf8');
        if (/import \{[^}]*\brunArtillery\b[^}]*\} from '\.\.\/\.\.\/scripts\/lib\/artillery-run'/.test(text))
          offenders.push(`${tier}/${name}: imports runArtillery unguarded (use test/helpers/artillery)`);
        if (/ARTILLERY_BIN/.test(text)) offenders.push(`${tier}/${name}: spawns Artillery directly`);
        if (/spawn\([^)]*run\.js/.test(text) && !/assertStartedTargets/.test(text))
          offenders.push(`${tier}/${name}: spawns the runner without assertStartedTargets`);
      }
    }
    assert.deepEqual(offenders, []);
  });
});
