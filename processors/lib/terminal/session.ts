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
import {
  TERMINAL_METRICS as M,
  SESSION_FAILURE_REASONS,
  type SessionFailureReason,
  TERMINAL_AREA,
} from './metric-names';

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

export { SESSION_FAILURE_REASONS, type SessionFailureReason };

export type SessionVerdict = { ok: true } | { ok: false; reason: SessionFailureReason };

/**
 * Counters every run reports, zero included: the gate's checks fail on a metric that never
 * appeared, and a report that shows "0 disconnects" says more than one that is silent.
 */
export function emitSessionStart(events: VUEvents): void {
  count(events, M.sessionsStarted);
  for (const name of [
    M.sessionsCompleted,
    M.sessionsFailed,
    M.disconnects,
    M.reconnects,
    M.strayFrames,
    M.malformedFrames,
    M.commandTimeouts,
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
    count(events, M.commandsSent);
    // A command cut short by the end of the session is neither a round trip nor a timeout.
    const budget = Math.min(plan.commandTimeoutMs, plan.deadline - sentAt);
    const outcome = await link.waitForOutput(nonce, budget);
    if (outcome === 'seen') observe(events, M.rttMs, performance.now() - sentAt);
    else if (outcome === 'timeout' && budget >= plan.commandTimeoutMs) {
      count(events, M.commandTimeouts);
      countFailure(events, TERMINAL_AREA, 'timeout');
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
      if (kind === 'stray') count(events, M.strayFrames);
      else if (kind === 'malformed') count(events, M.malformedFrames);
    },
    onPing: () => count(events, M.pingsReceived),
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
      countFailure(events, TERMINAL_AREA, opened.cause);
      count(events, M.connectFailures);
      if (!everConnected && opened.permanent) return { ok: false, reason: 'refused' };
      failedAttempts += 1;
      await backoff(failedAttempts);
      continue;
    }
    observe(events, M.connectMs, opened.connectMs);
    const link = opened.link;
    if (disconnectedAt !== undefined) {
      const outageMs = performance.now() - disconnectedAt;
      reconnects += 1;
      count(events, M.reconnects);
      observe(events, M.reconnectMs, outageMs);
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
    count(events, M.disconnects);
    count(events, M.disconnectsByCode(ended.code));
    disconnectedAt = ended.at;
    await backoff(1);
  }

  if (!everConnected) return { ok: false, reason: 'never_connected' };
  if (disconnectedAt !== undefined) return { ok: false, reason: 'ended_disconnected' };
  if (reconnects > plan.maxReconnects) return { ok: false, reason: 'too_many_reconnects' };
  if (longestOutageMs > plan.recoveryTimeoutMs) return { ok: false, reason: 'outage_too_long' };
  return { ok: true };
}
