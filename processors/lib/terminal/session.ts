import { randomBytes } from 'node:crypto';
import type { VUEvents } from 'artillery';
import { count, countFailure, observe } from '../metrics';
import { reconnectDelayMs } from './backoff';
import type { FrameKind } from './frames';
import {
  type CloseInfo,
  type LinkObserver,
  openTerminalSocket,
  type TerminalEndpoint,
  type TerminalLink,
} from './link';

/** Everything one terminal session needs; times are performance.now() milliseconds. */
export interface SessionPlan {
  endpoint: TerminalEndpoint;
  deadline: number;
  cols: number;
  rows: number;
  commandIntervalMs: number;
  commandTimeoutMs: number;
  reconnectBaseMs: number;
  reconnectMaxMs: number;
  maxReconnects: number;
  recoveryTimeoutMs: number;
}

export const SESSION_FAILURE_REASONS = [
  'refused',
  'never_connected',
  'ended_disconnected',
  'too_many_reconnects',
  'outage_too_long',
] as const;
export type SessionFailureReason = (typeof SESSION_FAILURE_REASONS)[number];

export type SessionVerdict = { ok: true } | { ok: false; reason: SessionFailureReason };

/**
 * Counters every run reports, zero included: the gate's checks fail on a metric that never
 * appeared, and a report that shows "0 disconnects" says more than one that is silent.
 */
export function emitSessionStart(events: VUEvents): void {
  count(events, 'terminal.sessions.started');
  for (const name of [
    'terminal.sessions.completed',
    'terminal.sessions.failed',
    'terminal.disconnects',
    'terminal.reconnects',
    'terminal.stray_frames',
    'terminal.malformed_frames',
    'terminal.command_timeouts',
  ]) {
    count(events, name, 0);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

const newNonce = () => `lt${randomBytes(6).toString('hex')}`;

/**
 * Types `echo <nonce>` every command interval and measures the round trip until the nonce comes
 * back as output. Returns 'deadline' when the session time is up with the socket still open, or
 * the close that ended it.
 */
async function runCommands(
  link: TerminalLink,
  plan: SessionPlan,
  events: VUEvents,
): Promise<'deadline' | CloseInfo> {
  for (;;) {
    if (performance.now() >= plan.deadline) return 'deadline';
    const nonce = newNonce();
    const sentAt = performance.now();
    link.send(`echo ${nonce}\n`);
    count(events, 'terminal.commands_sent');
    // A command cut short by the end of the session is neither a round trip nor a timeout.
    const budget = Math.min(plan.commandTimeoutMs, plan.deadline - sentAt);
    const outcome = await link.waitForOutput(nonce, budget);
    if (outcome === 'seen') observe(events, 'terminal.rtt_ms', performance.now() - sentAt);
    else if (outcome === 'timeout' && budget >= plan.commandTimeoutMs) {
      count(events, 'terminal.command_timeouts');
      countFailure(events, 'terminal', 'timeout');
    } else if (outcome === 'closed') return link.closed;
    const nextAt = Math.min(sentAt + plan.commandIntervalMs, plan.deadline);
    if (!(await link.idle(nextAt - performance.now()))) return link.closed;
  }
}

/**
 * Holds one terminal session until the deadline: connect, resize, commands; on an unexpected
 * close count it by code and reconnect with exponential backoff. An outage still open at the
 * deadline gets one last attempt, so that a drop just before the end is judged by whether the
 * terminal came back, not by where the clock happened to stop.
 */
export async function holdSession(plan: SessionPlan, events: VUEvents): Promise<SessionVerdict> {
  const observer: LinkObserver = {
    onFrame: (kind: FrameKind) => {
      if (kind === 'stray') count(events, 'terminal.stray_frames');
      else if (kind === 'malformed') count(events, 'terminal.malformed_frames');
    },
    onPing: () => count(events, 'terminal.pings_received'),
  };
  const backoff = (attempt: number) =>
    sleep(
      Math.min(
        reconnectDelayMs(attempt, plan.reconnectBaseMs, plan.reconnectMaxMs),
        plan.deadline - performance.now(),
      ),
    );
  let everConnected = false;
  let reconnects = 0;
  let longestOutageMs = 0;
  let failedAttempts = 0;
  let disconnectedAt: number | undefined;
  let lastAttemptMade = false;

  for (;;) {
    if (performance.now() >= plan.deadline) {
      if (disconnectedAt === undefined || lastAttemptMade) break;
      lastAttemptMade = true;
    }
    const opened = await openTerminalSocket(plan.endpoint, observer);
    if (!opened.ok) {
      countFailure(events, 'terminal', opened.cause);
      count(events, 'terminal.connect_failures');
      if (!everConnected && opened.permanent) return { ok: false, reason: 'refused' };
      failedAttempts += 1;
      await backoff(failedAttempts);
      continue;
    }
    observe(events, 'terminal.connect_ms', opened.connectMs);
    const link = opened.link;
    if (disconnectedAt !== undefined) {
      const outageMs = performance.now() - disconnectedAt;
      reconnects += 1;
      count(events, 'terminal.reconnects');
      observe(events, 'terminal.reconnect_ms', outageMs);
      longestOutageMs = Math.max(longestOutageMs, outageMs);
      disconnectedAt = undefined;
    }
    everConnected = true;
    failedAttempts = 0;
    if (performance.now() >= plan.deadline) {
      await link.close();
      break;
    }
    link.send(JSON.stringify({ type: 'resize', cols: plan.cols, rows: plan.rows }));
    const ended = await runCommands(link, plan, events);
    if (ended === 'deadline') {
      await link.close();
      break;
    }
    count(events, 'terminal.disconnects');
    count(events, `terminal.disconnects.code_${ended.code}`);
    disconnectedAt = ended.at;
    await backoff(1);
  }

  if (!everConnected) return { ok: false, reason: 'never_connected' };
  if (disconnectedAt !== undefined) return { ok: false, reason: 'ended_disconnected' };
  if (reconnects > plan.maxReconnects) return { ok: false, reason: 'too_many_reconnects' };
  if (longestOutageMs > plan.recoveryTimeoutMs) return { ok: false, reason: 'outage_too_long' };
  return { ok: true };
}
