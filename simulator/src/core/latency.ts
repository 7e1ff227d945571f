import type { LatencyModel, LatencySettings } from '../control-types';

export type LatencyModelName = keyof Omit<LatencySettings['models'], 'authCores'>;

const Z_99 = 2.326_347_874;

/** Samples one duration in ms (unscaled) from a model; never negative. */
export function sampleModel(model: LatencyModel, random: () => number = Math.random): number {
  switch (model.kind) {
    case 'fixed':
      return Math.max(0, model.ms);
    case 'uniform':
      return Math.max(0, model.minMs + (model.maxMs - model.minMs) * random());
    case 'lognormal': {
      if (model.medianMs <= 0) return 0;
      const sigma = Math.log(Math.max(model.p99Ms, model.medianMs) / model.medianMs) / Z_99;
      return model.medianMs * Math.exp(sigma * standardNormal(random));
    }
  }
}

function standardNormal(random: () => number): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

const fixed = (ms: number): LatencyModel => ({ kind: 'fixed', ms });
const lognormal = (medianMs: number, p99Ms: number): LatencyModel => ({ kind: 'lognormal', medianMs, p99Ms });

/** Named profiles. `fast` keeps tests quick; `realistic` carries what a real deployment shows. */
export function profileSettings(profile: 'fast' | 'realistic', timeScale = 1): LatencySettings {
  if (profile === 'fast') {
    return {
      profile,
      timeScale,
      models: {
        authCpu: fixed(2),
        authCores: 2,
        authUnknownEmail: fixed(0),
        authCsrfFailure: fixed(0),
        chat: fixed(1),
        inbound: fixed(1),
        modelFirstToken: fixed(2),
        modelPerToken: fixed(0),
        proxyApp: fixed(0),
        containerColdStart: { kind: 'uniform', minMs: 50, maxMs: 150 },
        containerResumeCall: fixed(2),
      },
    };
  }
  return {
    profile,
    timeScale,
    models: {
      // bcrypt cost 12 measured on the real app on 2 vCPUs: ~425 ms median, up to ~600 ms. The
      // real hash is bcryptjs, pure JavaScript on the Next server's one main thread, so concurrent
      // signups and logins queue on ONE core whatever the machine has: 50 concurrent onboardings
      // measured there signup p50 10-17 s and p99 19-27 s, which one FIFO core reproduces.
      authCpu: lognormal(425, 600),
      authCores: 1,
      authUnknownEmail: lognormal(4, 15),
      authCsrfFailure: lognormal(20, 40),
      chat: lognormal(60, 250),
      inbound: lognormal(40, 150),
      modelFirstToken: lognormal(700, 3000),
      modelPerToken: lognormal(25, 60),
      proxyApp: lognormal(3, 15),
      containerColdStart: { kind: 'uniform', minMs: 5000, maxMs: 25_000 },
      containerResumeCall: lognormal(200, 800),
    },
  };
}

/**
 * A queue with k servers modelling k CPU cores: a job of cost c starts when a core is free and
 * finishes c ms later. Only timers are used, so the simulator burns no real CPU and never competes
 * with the load generator on the same machine, yet concurrent jobs queue exactly like bcrypt does.
 */
export class CpuQueue {
  private freeAt: number[];

  constructor(cores: number) {
    this.freeAt = new Array<number>(Math.max(1, Math.floor(cores))).fill(0);
  }

  setCores(cores: number): void {
    const k = Math.max(1, Math.floor(cores));
    if (k === this.freeAt.length) return;
    const sorted = [...this.freeAt].sort((a, b) => a - b);
    this.freeAt =
      k < sorted.length ? sorted.slice(0, k) : [...sorted, ...new Array<number>(k - sorted.length).fill(0)];
  }

  /** Books a job of `costMs` arriving at `now` on the core that frees first; returns when it ends. */
  reserve(costMs: number, now: number): { startAt: number; endAt: number } {
    let core = 0;
    for (let i = 1; i < this.freeAt.length; i++) if (this.freeAt[i]! < this.freeAt[core]!) core = i;
    const startAt = Math.max(now, this.freeAt[core]!);
    const endAt = startAt + Math.max(0, costMs);
    this.freeAt[core] = endAt;
    return { startAt, endAt };
  }

  run(costMs: number): Promise<void> {
    const now = performance.now();
    return sleep(this.reserve(costMs, now).endAt - now);
  }
}

export function sleep(ms: number): Promise<void> {
  if (!(ms > 0)) return Promise.resolve();
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class LatencyController {
  private current: LatencySettings;
  readonly authCpu: CpuQueue;

  constructor(settings: LatencySettings) {
    this.current = structuredClone(settings);
    this.authCpu = new CpuQueue(settings.models.authCores);
  }

  get(): LatencySettings {
    return structuredClone(this.current);
  }

  get timeScale(): number {
    return this.current.timeScale;
  }

  /** Merges a partial update; a profile switch loads that profile's models first. */
  patch(update: Partial<LatencySettings> & { models?: Partial<LatencySettings['models']> }): LatencySettings {
    let next = this.current;
    if (update.profile && update.profile !== next.profile)
      next = profileSettings(update.profile, next.timeScale);
    next = {
      profile: update.profile ?? next.profile,
      timeScale: update.timeScale ?? next.timeScale,
      models: { ...next.models, ...(update.models ?? {}) },
    };
    this.current = next;
    this.authCpu.setCores(next.models.authCores);
    return this.get();
  }

  /** A sample of the named model in ms, already multiplied by the time scale. */
  sampleMs(name: LatencyModelName): number {
    return sampleModel(this.current.models[name]) * this.current.timeScale;
  }

  /** Scales a modelled duration that is not one of the named models (e.g. health-check interval). */
  scale(ms: number): number {
    return ms * this.current.timeScale;
  }

  sleep(ms: number): Promise<void> {
    return sleep(ms);
  }
}
