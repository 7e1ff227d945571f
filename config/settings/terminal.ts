import { z } from 'zod';
import { durationMs, nonNegativeInt, optionalDurationMs, positiveInt, tenantIdList } from './shared';

/**
 * Terminal WebSocket stability (scenarios/terminal-ws.yml). Keys are environment variable names.
 * Users, session length and command interval per profile are the YAML's (`environments`,
 * `variables.loopDuration` / `variables.commandInterval`); the settings below override them.
 */
export const terminalSettings = z.object({
  /** Runner setting: sessions per step, applied by the runner as `--overrides` (0 = off). */
  WS_VUS: z.coerce.number().int().min(0).max(10_000).optional(),
  /** How long each session is held; unset = the YAML's `loopDuration` of the profile. */
  WS_DURATION: optionalDurationMs({ positive: true }),
  /** Tenants whose terminals are opened (round robin); default TENANT_IDS. */
  WS_TENANT_IDS: tenantIdList.optional(),
  /** Time between two `echo <nonce>` commands on one socket; unset = the YAML's `commandInterval`. */
  WS_COMMAND_INTERVAL: optionalDurationMs({ positive: true }),
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
  /** Limit: terminal.rtt_ms p99 (ms); unset = the number in the scenario's check. */
  WS_RTT_P99_MS: z.coerce.number().finite().min(0).optional(),
  /** Limit: sessions completed per session started, percent; unset = the number in the scenario's check. */
  WS_SUCCESS_RATE_MIN_PCT: z.coerce.number().finite().min(0).max(100).optional(),
});

export type TerminalSettings = z.infer<typeof terminalSettings>;
