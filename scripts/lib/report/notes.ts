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

export function scenarioNotes(report: ArtilleryReport | undefined, area: string): ScenarioNote[] {
  return [...creditNotes(report), ...rateLimitNotes(report, area)];
}
