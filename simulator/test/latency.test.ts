import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CpuQueue, profileSettings, sampleModel } from '../src/core/latency';

/** A small seeded generator (mulberry32), so the modelled queue is the same on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const nearestRank = (values: number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
};

interface Onboardings {
  signup: { p50: number; p99: number };
  login: { p50: number; p99: number };
}

/**
 * N onboardings arriving within one second (as a load phase of `arrivalCount: N, duration: 1`
 * sends them), each a signup hash and, once it answers, a login compare, served first come first
 * served by the realistic profile's auth queue. Pure arithmetic on the queue's bookings: no timers.
 */
function modelOnboardings(users: number, seed: number, cores?: number): Onboardings {
  const { models } = profileSettings('realistic');
  const random = seeded(seed);
  const queue = new CpuQueue(cores ?? models.authCores);
  type Job = { at: number; kind: 'signup' | 'login' };
  const pending: Job[] = Array.from({ length: users }, (_, i) => ({
    at: (1000 * i) / users,
    kind: 'signup',
  }));
  const signups: number[] = [];
  const logins: number[] = [];
  // The csrf round trip between a signup's answer and the login it leads to.
  const csrfGapMs = 5;
  while (pending.length > 0) {
    pending.sort((a, b) => a.at - b.at);
    const job = pending.shift()!;
    const { endAt } = queue.reserve(sampleModel(models.authCpu, random), job.at);
    if (job.kind === 'signup') {
      signups.push(endAt - job.at);
      pending.push({ at: endAt + csrfGapMs, kind: 'login' });
    } else {
      logins.push(endAt - job.at);
    }
  }
  return {
    signup: { p50: nearestRank(signups, 0.5), p99: nearestRank(signups, 0.99) },
    login: { p50: nearestRank(logins, 0.5), p99: nearestRank(logins, 0.99) },
  };
}

describe('realistic auth cost', () => {
  test('queues on one core, as bcryptjs on the web server main thread does', () => {
    assert.equal(profileSettings('realistic').models.authCores, 1);
  });

  test('50 concurrent onboardings land in the range measured on the real app (signup p50 10-17 s, p99 19-27 s)', () => {
    const runs = Array.from({ length: 50 }, (_, i) => modelOnboardings(50, i + 1));
    const mean = (pick: (run: Onboardings) => number) =>
      runs.reduce((sum, run) => sum + pick(run), 0) / runs.length;
    const p50 = mean((run) => run.signup.p50);
    const p99 = mean((run) => run.signup.p99);
    assert.ok(p50 >= 10_000 && p50 <= 17_000, `mean signup p50 ${p50} ms`);
    assert.ok(p99 >= 19_000 && p99 <= 27_000, `mean signup p99 ${p99} ms`);
    for (const [i, { signup, login }] of runs.entries()) {
      const figures = JSON.stringify({ seed: i + 1, signup, login });
      // One queue served in arrival order: the median signup waits for half the others, the last for all.
      assert.ok(signup.p99 / signup.p50 >= 1.7 && signup.p99 / signup.p50 <= 2.4, figures);
      // Logins come after their signup and wait behind the signups still queued.
      assert.ok(login.p50 >= signup.p50, figures);
    }
  });

  test('two modelled cores would halve the queue and miss the measured range', () => {
    const { signup } = modelOnboardings(50, 1, 2);
    assert.ok(signup.p50 < 10_000 && signup.p99 < 19_000, JSON.stringify(signup));
  });
});
