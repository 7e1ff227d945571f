/**
 * The load shapes of the suite, in one place (like quickpizza's load options). Scenario YAML
 * carries them as Artillery environments (`-e smoke|load|soak|stress`) so that a plain
 * `artillery run -e load scenarios/x.yml` works; a test checks the YAML agrees with this module.
 *
 * Concurrency is held with the arrivalCount + deadline-loop pattern: `vus` users arrive within
 * one second and each loops until the run's deadline (`durationMs` after the start), so exactly
 * `vus` are in flight. Stress ramps in steps: each step adds `vus` users that loop to the end.
 */
export const PROFILE_NAMES = ['smoke', 'load', 'soak', 'stress'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

export const SCENARIO_AREAS = ['signup', 'chat', 'terminal', 'container', 'llm'] as const;
export type ScenarioArea = (typeof SCENARIO_AREAS)[number];

export interface LoadShape {
  /** Users in flight (per ramp step for stress). */
  vus: number;
  /** How long each user loops; 0 for one-shot flows (signup: one onboarding per user). */
  durationMs: number;
  /** Stress only: number of ramp steps, each adding `vus` users; 1 elsewhere. */
  steps: number;
}

const s = 1000;
const m = 60 * s;

export const PROFILES: Record<ProfileName, Record<ScenarioArea, LoadShape>> = {
  // CI and `npm start`: seconds, few users; every code path and every threshold exercised.
  smoke: {
    signup: { vus: 5, durationMs: 0, steps: 1 },
    chat: { vus: 5, durationMs: 8 * s, steps: 1 },
    terminal: { vus: 3, durationMs: 8 * s, steps: 1 },
    container: { vus: 2, durationMs: 8 * s, steps: 1 },
    llm: { vus: 10, durationMs: 8 * s, steps: 1 },
  },
  // The seed's figures: 50 onboardings, 50 chat sessions, 10 container users, 100 LLM users, 10 minutes.
  load: {
    signup: { vus: 50, durationMs: 0, steps: 1 },
    chat: { vus: 50, durationMs: 10 * m, steps: 1 },
    terminal: { vus: 0, durationMs: 10 * m, steps: 1 },
    container: { vus: 10, durationMs: 10 * m, steps: 1 },
    llm: { vus: 100, durationMs: 10 * m, steps: 1 },
  },
  // Terminal stability: 50 sockets for 60 minutes, chat alongside.
  soak: {
    signup: { vus: 10, durationMs: 0, steps: 1 },
    chat: { vus: 50, durationMs: 60 * m, steps: 1 },
    terminal: { vus: 50, durationMs: 60 * m, steps: 1 },
    container: { vus: 2, durationMs: 60 * m, steps: 1 },
    llm: { vus: 20, durationMs: 60 * m, steps: 1 },
  },
  // Ramp to 3x the load profile in three steps of the load profile's users.
  stress: {
    signup: { vus: 50, durationMs: 0, steps: 3 },
    chat: { vus: 50, durationMs: 15 * m, steps: 3 },
    terminal: { vus: 50, durationMs: 15 * m, steps: 3 },
    container: { vus: 10, durationMs: 15 * m, steps: 3 },
    llm: { vus: 100, durationMs: 15 * m, steps: 3 },
  },
};

/**
 * Real-browser journeys (scenarios/signup-browser.yml, Artillery's Playwright engine) per profile:
 * each is a whole Chromium, so they stay few whatever the profile; the HTTP signup scenario
 * carries the signup load.
 */
export const BROWSER_JOURNEYS: Record<ProfileName, number> = { smoke: 1, load: 2, soak: 2, stress: 2 };
