import { z } from 'zod';
import type { ProfileName } from '../profiles';
import {
  durationMs,
  milliseconds,
  nonNegativeInt,
  optionalDurationMs,
  positiveInt,
  tenantIdList,
} from './shared';

/**
 * Terminal WebSocket stability (scenarios/terminal-ws.yml). Keys are environment variable names.
 * WS_VUS / WS_DURATION default to the profile's terminal shape (config/profiles.ts); WS_VUS=0
 * turns the scenario off. WS_RTT_P99_MS is read by the scenario's ensure check itself, whose
 * `(X or 1000)` repeats the default below (a test keeps the two equal).
 */
export const TERMINAL_DEFAULTS = { WS_RTT_P99_MS: 1000 } as const;

/** 15 s between commands, as a person at a terminal; the smoke profile's seconds-long sessions need 2 s to measure anything. */
export function commandIntervalDefaultMs(profile: ProfileName): number {
  return profile === 'smoke' ? 2_000 : 15_000;
}

export const terminalSettings = z.object({
  /** Sessions held in parallel; unset = the profile's terminal shape, 0 = off. */
  WS_VUS: z.coerce.number().int().min(0).max(10_000).optional(),
  /** How long each session is held; unset = the profile's terminal duration. */
  WS_DURATION: optionalDurationMs(),
  /** Tenants whose terminals are opened (round robin); default TENANT_IDS. */
  WS_TENANT_IDS: tenantIdList.optional(),
  /** Time between two `echo <nonce>` commands on one socket; unset = commandIntervalDefaultMs(profile). */
  WS_COMMAND_INTERVAL: optionalDurationMs(),
  /** A command whose nonce has not come back after this long is counted as a timeout. */
  WS_COMMAND_TIMEOUT: durationMs('10s'),
  /** Opening handshake limit (connect and each reconnect attempt). */
  WS_CONNECT_TIMEOUT: durationMs('10s'),
  /** First reconnect delay; doubles per failed attempt up to WS_RECONNECT_MAX_DELAY (±20% jitter). */
  WS_RECONNECT_BASE_DELAY: durationMs('250ms'),
  WS_RECONNECT_MAX_DELAY: durationMs('10s'),
  /** A session that needed more reconnects than this did not hold: it counts as failed. */
  WS_MAX_RECONNECTS: nonNegativeInt(3, 1_000_000),
  /** A session whose outage (close to reopen) lasted longer than this did not recover: failed. */
  WS_RECOVERY_TIMEOUT: durationMs('30s'),
  WS_TERMINAL_COLS: positiveInt(120, 1000),
  WS_TERMINAL_ROWS: positiveInt(40, 1000),
  /** Gate: terminal.rtt_ms p99 must stay below this. */
  WS_RTT_P99_MS: milliseconds(TERMINAL_DEFAULTS.WS_RTT_P99_MS),
});

export type TerminalSettings = z.infer<typeof terminalSettings>;
