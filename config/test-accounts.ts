/**
 * Every account the suite creates, by signup in a scenario or by the runner's tenant seeding, is
 * `loadtest+<run tag>-<n>[-<suffix>]@example.test`: `example.test` is a reserved domain (no mail
 * leaves), and one pattern lets docs/SAFETY.md clean a run up by its run id.
 */
export const TEST_ACCOUNT_DOMAIN = 'example.test';

/** The run id as it appears in an address: lower case, anything but letters, digits and `-` as `-`. */
export function accountTag(runId: string): string {
  return runId.toLowerCase().replace(/[^a-z0-9-]/g, '-');
}

export function testAccountEmail(tag: string, n: number, suffix?: string): string {
  return `loadtest+${tag}-${n}${suffix ? `-${suffix}` : ''}@${TEST_ACCOUNT_DOMAIN}`;
}
