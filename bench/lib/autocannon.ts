import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { type Percentiles, percentiles } from './percentiles';

/**
 * autocannon as a second reference generator, at the same load as an Artillery run: `users`
 * connections, each at the per-user request rate Artillery achieved.
 *
 * autocannon has no think time; its rate limit lets each connection send its quota back to back
 * at the start of every second, and one instance starts all its connections together, so N
 * connections of one instance would arrive as one burst of N requests each second (queueing in
 * the server, not a fair reference). Hence one single-connection instance per user, started
 * evenly over the first second, as Artillery's users arrive.
 *
 * Latency comes from the per-response times autocannon emits (hrtime, fractional ms): its own
 * histogram floors to whole milliseconds, too coarse for differences of a few ms.
 */

export interface AutocannonLoad {
  url: string;
  method: 'POST' | 'GET';
  headers: Record<string, string>;
  body?: string;
  users: number;
  /** Requests per second of one user (Artillery's achieved rate / users). */
  ratePerUser: number;
  durationSeconds: number;
}

export interface AutocannonOutcome {
  requests: number;
  requestsPerSecond: number;
  errors: number;
  latencyMs: Percentiles;
}

/**
 * autocannon lets a connection send while its count this second is below the rate, so a
 * fractional rate is rounded up (1.2 sends 2 a second); and it cannot pace below one a second.
 */
function connectionRate(ratePerUser: number): number {
  return Math.max(1, Math.round(ratePerUser));
}

export async function runAutocannon(load: AutocannonLoad): Promise<AutocannonOutcome> {
  const okTimes: number[] = [];
  let requests = 0;
  let errors = 0;
  let failure: Error | undefined;
  const runs: Promise<void>[] = [];
  const spacingMs = 1000 / load.users;
  for (let i = 0; i < load.users; i++) {
    const instance = autocannon({
      url: load.url,
      method: load.method,
      headers: load.headers,
      ...(load.body === undefined ? {} : { body: load.body }),
      connections: 1,
      connectionRate: connectionRate(load.ratePerUser),
      // Its correction assumes a fixed schedule this load does not have (and takes 1/rate as ms).
      ignoreCoordinatedOmission: true,
      duration: load.durationSeconds,
      timeout: 10,
    });
    instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
      requests += 1;
      if (status >= 200 && status < 300) okTimes.push(ms);
      else errors += 1;
    });
    instance.on('reqError', () => {
      errors += 1;
    });
    // Caught at once: a rejection waiting for the loop to finish would be unhandled.
    runs.push(
      instance.then(
        () => undefined,
        (error: unknown) => {
          failure ??= error instanceof Error ? error : new Error(String(error));
        },
      ),
    );
    if (failure) break;
    await sleep(spacingMs);
  }
  await Promise.all(runs);
  if (failure) throw new Error(`autocannon: ${failure.message}`);
  return {
    requests,
    requestsPerSecond: requests / load.durationSeconds,
    errors,
    latencyMs: percentiles(okTimes),
  };
}

/** The equivalent command line (secrets as $VARIABLES), for the record. */
export function autocannonCommand(load: AutocannonLoad, shownUrl: string, shownHeaders: string[]): string {
  const headers = shownHeaders.map((h) => `-H '${h}'`).join(' ');
  const body = load.body === undefined ? '' : ` -b '${load.body}'`;
  return `${load.users} x (autocannon -c 1 -r ${connectionRate(load.ratePerUser)} -C -d ${load.durationSeconds} -m ${load.method} ${headers}${body} ${shownUrl}) started ${Math.round(1000 / load.users)} ms apart`;
}
