import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { accountTag, TEST_ACCOUNT_DOMAIN, testAccountEmail } from '../../config/test-accounts';
import { nextTestEmail } from '../../processors/lib/web/accounts';
import { ROOT } from '../helpers/paths';

/** Test e-mail addresses: `loadtest+<run>-<n>@example.test`, the scenario part of <run> when known. */

const EMAIL = /^loadtest\+([a-z0-9._-]+)-(\d+)@example\.test$/;

describe('test account addresses', () => {
  it('carry LOADTEST_SCENARIO after the run id, so scenarios started by hand with one id never collide', () => {
    const chat = nextTestEmail('Run-42', { LOADTEST_SCENARIO: 'chat-sessions' });
    const signup = nextTestEmail('Run-42', { LOADTEST_SCENARIO: 'signup-tenant-chat' });
    assert.match(chat, EMAIL);
    assert.ok(chat.startsWith('loadtest+run-42-chat-sessions-'), chat);
    assert.ok(signup.startsWith('loadtest+run-42-signup-tenant-chat-'), signup);
    // The run's own prefix still finds the accounts of every scenario of the run.
    for (const email of [chat, signup]) assert.ok(email.startsWith('loadtest+run-42-'), email);
  });

  it('leave the run id alone without a scenario, and reduce a scenario name to what a local part allows', () => {
    assert.match(nextTestEmail('run-42', {}), /^loadtest\+run-42-\d+@example\.test$/);
    assert.match(
      nextTestEmail('run-42', { LOADTEST_SCENARIO: '!!!' }),
      /^loadtest\+run-42-\d+@example\.test$/,
    );
    const odd = nextTestEmail(undefined, {
      LOADTEST_RUN_ID: 'abc',
      LOADTEST_SCENARIO: ' Signup Tenant Chat, with a name far too long ',
    });
    assert.match(odd, EMAIL);
    assert.ok(odd.startsWith('loadtest+abc-signup-tenant-chat-with-'), odd);
  });

  it('never repeat within a process', () => {
    const env = { LOADTEST_RUN_ID: 'same', LOADTEST_SCENARIO: 'chat-sessions' };
    const emails = Array.from({ length: 50 }, () => nextTestEmail(undefined, env));
    assert.equal(new Set(emails).size, emails.length);
  });
});

describe('every account the suite creates is found by the cleanup in docs/SAFETY.md', () => {
  it('scenario signups and the runner seeding share one pattern, the one SAFETY.md deletes by', () => {
    const safety = readFileSync(join(ROOT, 'docs', 'SAFETY.md'), 'utf8');
    const cleanup = /LIKE 'loadtest\+<run id>-%@([a-z.]+)'/.exec(safety);
    assert.ok(cleanup, 'SAFETY.md has the DELETE pattern');
    assert.equal(cleanup[1], TEST_ACCOUNT_DOMAIN);
    const seeded = testAccountEmail(accountTag('Run-42'), 3, 'a1b2c3');
    const signedUp = nextTestEmail('Run-42');
    for (const email of [seeded, signedUp]) {
      assert.ok(email.startsWith('loadtest+run-42-'), email);
      assert.ok(email.endsWith(`@${TEST_ACCOUNT_DOMAIN}`), email);
    }
    // The runner's seeding builds its addresses with the shared helper, not a copy of the pattern.
    const seeder = readFileSync(join(ROOT, 'scripts', 'lib', 'signup-seeder.ts'), 'utf8');
    assert.match(seeder, /testAccountEmail\(/);
    assert.doesNotMatch(seeder, /@example\./);
  });
});
