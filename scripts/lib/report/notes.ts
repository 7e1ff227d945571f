import type { ArtilleryReport } from '../artillery-run';

/**
 * Sentences a reader needs before the tables: what refused work (rate limit, credits) means for the
 * verdicts. Plain text; markdown and HTML render it their way.
 */
export interface ScenarioNote {
  /** Says why checks failed or figures look as they do (shown prominently). */
  important: boolean;
  text: string;
}

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));

/**
 * Rate limiting, stated for every area that counts it (`<area>.rate_limited`, waits in
 * `<area>.retry_after_ms`) and always for chat, whose users wait Retry-After and send again.
 */
export function rateLimitNotes(report: ArtilleryReport | undefined, area: string): ScenarioNote[] {
  if (!report) return [];
  const { counters, summaries } = report.aggregate;
  const areas = Object.keys(counters)
    .map((name) => /^([a-z_]+)\.rate_limited$/.exec(name)?.[1])
    .filter((a): a is string => a !== undefined);
  if (area === 'chat' && !areas.includes('chat')) areas.push('chat');
  return areas.map((a) => {
    const limited = counters[`${a}.rate_limited`] ?? 0;
    if (limited === 0) return { important: false, text: `${a}: not rate limited (${a}.rate_limited = 0).` };
    const wait = summaries[`${a}.retry_after_ms`];
    const waited = wait
      ? `; the users waited Retry-After before sending again (${a}.retry_after_ms p95 ${fmt(wait.p95)} ms, max ${fmt(wait.max)} ms)`
      : '';
    return {
      important: true,
      text: `${a}: rate limited, not a latency failure: ${fmt(limited)} requests answered 429 (${a}.rate_limited)${waited}. The waits are not in the latency figures, and rate-limited requests are left out of the success rate.`,
    };
  });
}

/** Requests refused for lack of credits (`*.credits_exhausted` causes, HTTP 402). */
export function creditNotes(report: ArtilleryReport | undefined): ScenarioNote[] {
  if (!report) return [];
  const counters = report.aggregate.counters;
  const names = Object.keys(counters).filter(
    (n) => (/\.credits_exhausted$/.test(n) || n === 'http.codes.402') && (counters[n] ?? 0) > 0,
  );
  if (names.length === 0) return [];
  const refused = Math.max(...names.map((n) => counters[n] ?? 0));
  return [
    {
      important: true,
      text: `Credit exhaustion: ${fmt(refused)} requests refused because the tenant ran out of credits (${names
        .map((n) => `${n} = ${fmt(counters[n]!)}`)
        .join(
          ', ',
        )}). Every LLM call costs at least 1 cent and a new tenant on the platform has 1000 cents, so a tenant under load runs dry in seconds: a finding about the credit model (top up or seed tenants with more credits), not a latency or proxy failure. The runner seeds simulator tenants with enough credits (see the manifest's seeding).`,
    },
  ];
}

/**
 * New tenants left without a container after onboarding (`onboarding.tenants_without_container`,
 * read from the admin tenant view). The real web app posts /api/tenants/{id}/start after signup;
 * the API answers 405 and the web app falls back to /resume only on 404, so signup answers 200 and
 * the tenant never gets a container. A finding about the platform, not a failed onboarding.
 */
export function provisioningNotes(report: ArtilleryReport | undefined): ScenarioNote[] {
  if (!report) return [];
  const counters = report.aggregate.counters;
  const checked = counters['onboarding.container_checks'];
  if (checked === undefined) return [];
  const without = counters['onboarding.tenants_without_container'] ?? 0;
  const unreadable = counters['onboarding.container_check_failures'] ?? 0;
  const unread =
    unreadable > 0
      ? ` The admin tenant view could not be read for ${fmt(unreadable)} (onboarding.container_check_failures).`
      : '';
  if (without === 0)
    return [
      {
        important: false,
        text: `Provisioning: every onboarded tenant checked has a container (${fmt(checked)} checked in the admin tenant view).${unread}`,
      },
    ];
  return [
    {
      important: true,
      text: `Finding: ${fmt(without)} of ${fmt(checked)} new tenants were left without a container after onboarding (onboarding.tenants_without_container; admin tenant view: not provisioned). Signup answered 200, yet no container was started: the web app posts /api/tenants/{id}/start, the API answers 405 and the web app falls back to /resume only on 404. The onboarding counts as done for the user; the tenant's first terminal or agent work will find no container.${unread}`,
    },
  ];
}

export function scenarioNotes(report: ArtilleryReport | undefined, area: string): ScenarioNote[] {
  return [...creditNotes(report), ...rateLimitNotes(report, area), ...provisioningNotes(report)];
}
