import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ArtilleryReport } from '../../scripts/lib/artillery-run';
import { provisioningNotes } from '../../scripts/lib/report/notes';

const report = (counters: Record<string, number>): ArtilleryReport => ({
  aggregate: { counters, summaries: {} },
  intermediate: [],
});

test('tenants left without a container after onboarding are a named finding', () => {
  const [finding] = provisioningNotes(
    report({ 'onboarding.container_checks': 50, 'onboarding.tenants_without_container': 50 }),
  );
  assert.ok(finding?.important);
  assert.match(finding.text, /^Finding: 50 of 50 new tenants were left without a container/);
  assert.match(finding.text, /405/);
});

test('checked and provisioned: said plainly; not checked (no admin view): nothing claimed', () => {
  const [ok] = provisioningNotes(
    report({ 'onboarding.container_checks': 5, 'onboarding.tenants_without_container': 0 }),
  );
  assert.equal(ok?.important, false);
  assert.match(ok.text, /every onboarded tenant checked has a container \(5 checked/);
  assert.deepEqual(provisioningNotes(report({ 'onboarding.success': 5 })), []);
});
