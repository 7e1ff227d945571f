import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextTestEmail } from '../../processors/lib/web/accounts';

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
