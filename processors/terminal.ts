import type { VUContext, VUEvents } from 'artillery';
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
  sessionDurationMs,
  type TerminalRunSettings,
  targetOf,
  terminalHeaders,
  terminalRunSettings,
  terminalTenantIds,
  webOrigin,
} from './lib/terminal/settings';

export const EMITTED_METRICS: readonly string[] = [...TERMINAL_EMITTED_METRICS, ...ISOLATION_EMITTED_METRICS];

/** Spreads sessions over the tenants in order, so each tenant gets an equal share of sockets. */
let nextTenant = 0;
/** Every session of the worker ends together, the session length after the first one started. */
let runDeadline: number | undefined;

/**
 * One virtual user = one terminal session held to the run's deadline (scenarios/terminal-ws.yml),
 * on the WebSocket of the target Artillery gives the VU (`-t` honoured). The socket is driven here
 * rather than by the ws engine, whose match/capture crashes the worker on a stray frame. A failed
 * session is a counted outcome, never a VU error; only settings that cannot work (no tenants, a
 * bad value) also stop the VU, with a message naming the setting.
 */
export async function holdTerminalSession(context: VUContext, events: VUEvents): Promise<void> {
  // Counted before anything can throw: a run that cannot even start its sessions must fail the
  // gate, not pass it for want of sessions.
  emitSessionStart(events);
  emitZeroIsolationCounters(events);
  let settings: TerminalRunSettings;
  let tenants: string[];
  let target: string;
  let sessionMs: number;
  let intervalMs: number;
  let headers: Record<string, string>;
  try {
    settings = terminalRunSettings();
    tenants = terminalTenantIds(settings);
    target = targetOf(context);
    sessionMs = sessionDurationMs(settings, context);
    intervalMs = commandIntervalMs(settings, context);
    headers = terminalHeaders(settings);
  } catch (error) {
    count(events, M.sessionsFailed);
    count(events, M.sessionFailure('bad_settings'));
    throw error;
  }
  const tenantId = tenants[nextTenant++ % tenants.length]!;
  runDeadline ??= performance.now() + sessionMs;
  // Opt-in (ISOLATION_PROBES): the first tenant's token against the second tenant's terminal, once.
  if (tenants.length > 1)
    await probeTerminalIsolation(events, {
      apiBaseUrl: target,
      webOrigin: webOrigin(settings),
      ownTenantId: tenants[0]!,
      foreignTenantId: tenants[1]!,
      ...terminalTokenSource(),
    });
  const verdict = await holdSession(
    {
      endpoint: {
        url: terminalUrl(target, tenantId),
        headers,
        connectTimeoutMs: settings.WS_CONNECT_TIMEOUT,
      },
      deadline: runDeadline,
      cols: settings.WS_TERMINAL_COLS,
      rows: settings.WS_TERMINAL_ROWS,
      commandIntervalMs: intervalMs,
      commandTimeoutMs: settings.WS_COMMAND_TIMEOUT,
      reconnectBaseMs: settings.WS_RECONNECT_BASE_DELAY,
      reconnectMaxMs: settings.WS_RECONNECT_MAX_DELAY,
      maxReconnects: settings.WS_MAX_RECONNECTS,
      recoveryTimeoutMs: settings.WS_RECOVERY_TIMEOUT,
    },
    events,
  );
  if (verdict.ok) count(events, M.sessionsCompleted);
  else {
    count(events, M.sessionsFailed);
    count(events, M.sessionFailure(verdict.reason));
  }
}
