/** The area of the terminal's metrics (countFailure(events, TERMINAL_AREA, cause)). */
export const TERMINAL_AREA = 'terminal';

export const SESSION_FAILURE_REASONS = [
  'refused',
  'never_connected',
  'ended_disconnected',
  'too_many_reconnects',
  'outage_too_long',
] as const;
export type SessionFailureReason = (typeof SESSION_FAILURE_REASONS)[number];

/** Why a session failed, counted per reason: the verdicts above plus settings that cannot work. */
export type SessionFailureCount = SessionFailureReason | 'bad_settings';
const SESSION_FAILURE_COUNTS: readonly SessionFailureCount[] = [...SESSION_FAILURE_REASONS, 'bad_settings'];

/** Metric names of scenarios/terminal-ws.yml. */
export const TERMINAL_METRICS = {
  sessionsStarted: 'terminal.sessions.started',
  sessionsCompleted: 'terminal.sessions.completed',
  sessionsFailed: 'terminal.sessions.failed',
  connectMs: 'terminal.connect_ms',
  connectFailures: 'terminal.connect_failures',
  disconnects: 'terminal.disconnects',
  reconnects: 'terminal.reconnects',
  reconnectMs: 'terminal.reconnect_ms',
  strayFrames: 'terminal.stray_frames',
  malformedFrames: 'terminal.malformed_frames',
  pingsReceived: 'terminal.pings_received',
  commandsSent: 'terminal.commands_sent',
  commandTimeouts: 'terminal.command_timeouts',
  rttMs: 'terminal.rtt_ms',
  /** Close code of each unexpected close. */
  disconnectsByCode: (code: number) => `terminal.disconnects.code_${code}`,
  sessionFailure: (reason: SessionFailureCount) => `terminal.session_failures.${reason}`,
} as const;

/** Every metric the terminal scenario can emit (`*`: one or more characters), for `npm run validate`. */
export const TERMINAL_EMITTED_METRICS: readonly string[] = [
  ...Object.values<unknown>(TERMINAL_METRICS).filter((name): name is string => typeof name === 'string'),
  ...SESSION_FAILURE_COUNTS.map(TERMINAL_METRICS.sessionFailure),
  'terminal.disconnects.code_*',
  `${TERMINAL_AREA}.failures`,
  `${TERMINAL_AREA}.failures.*`,
];
