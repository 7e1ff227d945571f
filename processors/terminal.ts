import type { VUContext, VUEvents } from 'artillery';
import { GENERATOR_EMITTED_METRICS, reportGeneratorHealth } from './lib/generator-health';
import {
  emitZeroIsolationCounters,
  ISOLATION_EMITTED_METRICS,
  probeTerminalIsolation,
  terminalTokenSource,
} from './lib/isolation';
import { count } from './lib/metrics';
import { terminalUrl } from './lib/terminal/link';
import { TERMINAL_METRICS as M, TERMINAL_EMITTED_METRICS } from './lib/terminal/metric-names';
import { emitSessionStart, holdSession } from './lib/terminal/session';
import {
  commandIntervalMs,
  runProfile,
  sessionDurationMs,
  type TerminalRunSettings,
  terminalHeaders,
  terminalRunSettings,
  terminalTenantIds,
} from './lib/terminal/settings';

export const EMITTED_METRICS: readonly string[] = [
  ...TERMINAL_EMITTED_METRICS,
  ...GENERATOR_EMITTED_METRICS,
  ...ISOLATION_EMITTED_METRICS,
];

/** Spreads sessions over the tenants in order, so each tenant gets an equal share of sockets. */
let nextTenant = 0;
/** Every session of the run ends together, the profile's duration after the first one started. */
let runDeadline: number | undefined;

/**
 * One virtual user = one terminal session held for WS_DURATION (scenarios/terminal-ws.yml).
 * The socket is driven here rather than by the ws engine, whose match/capture crashes the worker
 * on a stray frame. A failed session is a counted outcome, never a VU error; only settings that
 * cannot work (no tenants, a bad value) also stop the VU, with a message naming the variable.
 */
export async function holdTerminalSession(context: VUContext, events: VUEvents): Promise<void> {
  // Counted before anything can throw: a run that cannot even start its sessions must fail the
  // gate, not pass it for want of sessions.
  emitSessionStart(events);
  emitZeroIsolationCounters(events);
  reportGeneratorHealth(events);
  let settings: TerminalRunSettings;
  let tenants: string[];
  try {
    settings = terminalRunSettings();
    tenants = terminalTenantIds(settings);
  } catch (error) {
    count(events, M.sessionsFailed);
    count(events, M.sessionFailure('bad_settings'));
    throw error;
  }
  const tenantId = tenants[nextTenant++ % tenants.length]!;
  const profile = runProfile(settings, context.vars.$environment);
  runDeadline ??= performance.now() + sessionDurationMs(settings, profile);
  // Opt-in (ISOLATION_PROBES): the first tenant's token against the second tenant's terminal, once.
  if (tenants.length > 1)
    await probeTerminalIsolation(events, {
      apiBaseUrl: settings.API_BASE_URL,
      webOrigin: new URL(settings.WEB_BASE_URL).origin,
      ownTenantId: tenants[0]!,
      foreignTenantId: tenants[1]!,
      ...terminalTokenSource(),
    });
  // The session holds this user for the whole run: hand over the generator's samples meanwhile.
  const health = setInterval(() => reportGeneratorHealth(events), 1000);
  const verdict = await holdSession(
    {
      endpoint: {
        url: terminalUrl(settings.API_BASE_URL, tenantId),
        headers: terminalHeaders(settings),
        connectTimeoutMs: settings.WS_CONNECT_TIMEOUT,
      },
      deadline: runDeadline,
      cols: settings.WS_TERMINAL_COLS,
      rows: settings.WS_TERMINAL_ROWS,
      commandIntervalMs: commandIntervalMs(settings, profile),
      commandTimeoutMs: settings.WS_COMMAND_TIMEOUT,
      reconnectBaseMs: settings.WS_RECONNECT_BASE_DELAY,
      reconnectMaxMs: settings.WS_RECONNECT_MAX_DELAY,
      maxReconnects: settings.WS_MAX_RECONNECTS,
      recoveryTimeoutMs: settings.WS_RECOVERY_TIMEOUT,
    },
    events,
  ).finally(() => {
    clearInterval(health);
    reportGeneratorHealth(events);
  });
  if (verdict.ok) count(events, M.sessionsCompleted);
  else {
    count(events, M.sessionsFailed);
    count(events, M.sessionFailure(verdict.reason));
  }
}
