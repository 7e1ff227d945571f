import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import type { SimStats } from '../src/control-types';
import { type SimulatorHandle, startSimulator } from './helpers/simulator';

/** Contract tests for `GET /api/tenants/{id}/terminal` and every terminal fault, on and off at run time. */

let sim: SimulatorHandle;

before(async () => {
  // Short keepalive so that the ping/pong rule is observable in a test.
  sim = await startSimulator({
    seedTenants: 2,
    args: ['--ping-interval', '150ms', '--pong-timeout', '400ms'],
  });
});

after(async () => {
  await sim?.stop();
});

interface Frame {
  binary: boolean;
  data: Buffer;
  at: number;
}

interface Session {
  ws: WebSocket;
  frames: Frame[];
  pings: number;
  closed: Promise<{ code: number; reason: string }>;
  /** Resolves with the decoded output once `needle` has appeared in binary output. */
  waitForOutput(needle: string, timeoutMs?: number): Promise<string>;
  output(): string;
}

function terminalUrl(tenantId: string): string {
  return `${sim.apiUrl.replace(/^http/, 'ws')}/api/tenants/${tenantId}/terminal`;
}

type Refusal = { status: number; body: string };

/** Opens a terminal socket; resolves with the session, or with the HTTP refusal of the handshake. */
function connect(
  tenantId: string,
  options: { headers?: Record<string, string>; autoPong?: boolean } = {},
): Promise<Session | Refusal> {
  const headers = options.headers ?? { 'x-service-api-key': sim.serviceApiKey, origin: sim.webUrl };
  const ws = new WebSocket(terminalUrl(tenantId), { headers, autoPong: options.autoPong ?? true });
  const frames: Frame[] = [];
  let pings = 0;
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  ws.on('message', (data, isBinary) =>
    frames.push({ binary: isBinary, data: data as Buffer, at: Date.now() }),
  );
  const output = () => Buffer.concat(frames.filter((f) => f.binary).map((f) => f.data)).toString('utf8');
  const session: Session = {
    ws,
    frames,
    get pings() {
      return pings;
    },
    closed,
    output,
    waitForOutput: async (needle, timeoutMs = 3000) => {
      const deadline = Date.now() + timeoutMs;
      while (!output().includes(needle)) {
        if (Date.now() > deadline) throw new Error(`no "${needle}" in output: ${JSON.stringify(output())}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return output();
    },
  };
  ws.on('ping', () => {
    pings += 1;
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(session));
    ws.once('unexpected-response', (_request, response: IncomingMessage) => {
      let body = '';
      response.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    ws.once('error', (error) => reject(error));
  });
}

async function open(tenantId: string, options: Parameters<typeof connect>[1] = {}): Promise<Session> {
  const result = await connect(tenantId, options);
  if (!('ws' in result)) throw new Error(`handshake refused: ${result.status} ${result.body}`);
  return result;
}

async function refused(tenantId: string, options: Parameters<typeof connect>[1] = {}): Promise<Refusal> {
  const result = await connect(tenantId, options);
  if ('ws' in result) {
    result.ws.terminate();
    throw new Error('handshake unexpectedly accepted');
  }
  return result;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls a condition on what the socket has seen; events, not guessed sleeps, pace the tests. */
async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await sleep(10);
  }
}

/** The server records a close when its side of the socket ends, which may be just after the client's. */
async function statsWhen(done: (stats: SimStats) => boolean, timeoutMs = 2000): Promise<SimStats> {
  const deadline = Date.now() + timeoutMs;
  let stats = await sim.control.stats();
  while (!done(stats) && Date.now() < deadline) {
    await sleep(20);
    stats = await sim.control.stats();
  }
  return stats;
}

describe('terminal handshake', () => {
  test('no auth: 401; service key or JWT with the web Origin: 101', async () => {
    const noAuth = await refused(sim.tenantIds[0]!, { headers: { origin: sim.webUrl } });
    assert.equal(noAuth.status, 401);
    const session = await open(sim.tenantIds[0]!);
    session.ws.close();
    await session.closed;
  });

  test('no container: 404 text "tenant container not found"; stopped container: 500', async () => {
    const { tenantIds } = await sim.control.seedTenants(1, 'term', { container: 'none' });
    const none = await refused(tenantIds[0]!);
    assert.equal(none.status, 404);
    assert.equal(none.body.trim(), 'tenant container not found');
    const unknown = await refused('00000000-0000-4000-8000-000000000000');
    assert.equal(unknown.status, 404);
    const stopped = await sim.control.seedTenants(1, 'term', { container: 'stopped' });
    assert.equal((await refused(stopped.tenantIds[0]!)).status, 500);
  });

  test('missing, null or foreign Origin: 403', async () => {
    for (const origin of [undefined, 'null', 'http://evil.example', sim.webUrl.replace(/:\d+$/, ':1')]) {
      const headers: Record<string, string> = { 'x-service-api-key': sim.serviceApiKey };
      if (origin) headers.origin = origin;
      assert.equal((await refused(sim.tenantIds[0]!, { headers })).status, 403, String(origin));
    }
  });

  test('a plain GET without upgrade is refused with 400 after the same checks', async () => {
    const response = await fetch(`${sim.apiUrl}/api/tenants/${sim.tenantIds[0]}/terminal`, {
      headers: { 'x-service-api-key': sim.serviceApiKey },
    });
    assert.equal(response.status, 400);
    await response.text();
  });
});

describe('terminal session', () => {
  test('binary output frames, line echo, echo and pwd, resize frames, exit closes 1000 "exec exited"', async () => {
    const before = await sim.control.stats();
    const session = await open(sim.tenantIds[0]!);
    await session.waitForOutput('$ ');
    session.ws.send(JSON.stringify({ type: 'resize', cols: 120, rows: 40 }));
    session.ws.send(Buffer.from('echo hello world\r'));
    await session.waitForOutput('hello world\r\n');
    session.ws.send('pwd\n');
    await session.waitForOutput('/home/agent\r\n');
    session.ws.send('stty size\r');
    await session.waitForOutput('40 120\r\n');
    assert.ok(session.frames.length > 0 && session.frames.every((f) => f.binary));
    assert.ok(session.output().includes('echo hello world\r\n'), 'input line echoed');
    assert.ok(!session.output().includes('resize'), 'resize frames are not shell input');
    session.ws.send('exit\r');
    const closed = await session.closed;
    assert.deepEqual(closed, { code: 1000, reason: 'exec exited' });
    const closes = (stats: SimStats) => stats.terminal.closesByCode['1000'] ?? 0;
    const after = await statsWhen((stats) => closes(stats) > closes(before));
    assert.equal(after.terminal.resizes - before.terminal.resizes, 1);
    assert.equal(after.terminal.commandsExecuted - before.terminal.commandsExecuted, 4);
    assert.equal((after.terminal.closesByCode['1000'] ?? 0) - (before.terminal.closesByCode['1000'] ?? 0), 1);
    assert.ok(after.routes['api.terminal']?.status['101']);
  });

  test('output is chunked into binary frames of at most 4096 bytes', async () => {
    const session = await open(sim.tenantIds[0]!);
    const long = 'y'.repeat(10_000);
    session.ws.send(`echo ${long}\r`);
    await session.waitForOutput(`${long}\r\n`);
    assert.ok(session.frames.every((f) => f.data.length <= 4096));
    assert.ok(session.frames.filter((f) => f.data.length === 4096).length >= 2);
    session.ws.close();
    await session.closed;
  });

  test('the server pings on its interval; a client that answers stays connected', async () => {
    const session = await open(sim.tenantIds[0]!);
    // Three pings 150 ms apart outlast the 400 ms pong timeout.
    await until(() => session.pings >= 3 || session.ws.readyState !== WebSocket.OPEN, 'three pings');
    assert.equal(session.ws.readyState, WebSocket.OPEN);
    assert.ok(session.pings >= 3, `pings: ${session.pings}`);
    session.ws.close();
    await session.closed;
  });

  test('a client that never pongs is dropped after the pong timeout', async () => {
    const before = (await sim.control.stats()).terminal.drops;
    const session = await open(sim.tenantIds[0]!, { autoPong: false });
    const closed = await session.closed;
    assert.equal(closed.code, 1006);
    assert.ok(session.pings >= 1);
    assert.equal((await statsWhen((stats) => stats.terminal.drops > before)).terminal.drops, before + 1);
  });
});

describe('terminal faults, switched on and off at run time', () => {
  test('dropAfterMs with dropCode closes with that code; without a code the drop is abrupt (1006)', async () => {
    await sim.control.patchFaults({ terminal: { dropAfterMs: 100, dropCode: 4001 } });
    const coded = await open(sim.tenantIds[1]!);
    assert.equal((await coded.closed).code, 4001);
    await sim.control.patchFaults({ terminal: { dropAfterMs: 100, dropCode: null as unknown as number } });
    const abrupt = await open(sim.tenantIds[1]!);
    assert.equal((await abrupt.closed).code, 1006);
    const stats = await statsWhen((s) => (s.terminal.closesByCode['4001'] ?? 0) >= 1);
    assert.ok((stats.terminal.closesByCode['4001'] ?? 0) >= 1);
    await sim.control.clearFaults();
    const healthy = await open(sim.tenantIds[1]!);
    // Two pings (150 ms apart) come well after the 100 ms the drop waited for.
    await until(() => healthy.pings >= 2 || healthy.ws.readyState !== WebSocket.OPEN, 'two pings');
    assert.equal(healthy.ws.readyState, WebSocket.OPEN);
    healthy.ws.close();
    await healthy.closed;
  });

  test('switching a drop on reaches sockets already open', async () => {
    const session = await open(sim.tenantIds[1]!);
    // The prompt shows the server side of the session is up before the fault is switched on.
    await session.waitForOutput('$ ');
    await sim.control.patchFaults({ terminal: { dropAfterMs: 0, dropCode: 4002 } });
    assert.equal((await session.closed).code, 4002);
    await sim.control.clearFaults();
  });

  test('stray frames arrive while on and stop when switched off', async () => {
    const session = await open(sim.tenantIds[1]!);
    const before = (await sim.control.stats()).terminal.strayFramesSent;
    await sim.control.patchFaults({ terminal: { strayFrameIntervalMs: 30 } });
    // Stray frames alternate: a JSON text frame, then an empty binary frame.
    const textFrames = () => session.frames.filter((f) => !f.binary).length;
    const strayFrames = () => session.frames.filter((f) => !f.binary || f.data.length === 0).length;
    await until(() => textFrames() >= 2, 'two stray text frames');
    await sim.control.clearFaults();
    const sentWhenOff = (await sim.control.stats()).terminal.strayFramesSent;
    assert.ok(sentWhenOff - before >= 3);
    // Frames sent before the switch may still be on the wire: all of them arrive, then nothing.
    await until(() => strayFrames() >= sentWhenOff - before, 'the stray frames already sent');
    // Two server pings (150 ms apart) span ten 30 ms stray intervals with the fault off.
    const pingsAtOff = session.pings;
    await until(() => session.pings >= pingsAtOff + 2, 'two more pings');
    assert.equal((await sim.control.stats()).terminal.strayFramesSent, sentWhenOff);
    assert.equal(strayFrames(), sentWhenOff - before);
    session.ws.close();
    await session.closed;
  });

  test('malformed output frames are invalid UTF-8 while on, clean when off', async () => {
    await sim.control.patchFaults({ terminal: { malformedFrameRate: 1 } });
    const broken = await open(sim.tenantIds[1]!);
    await until(() => broken.frames.length >= 1, 'a first output frame');
    assert.ok(broken.frames.every((f) => f.data.includes(0xff)));
    assert.throws(() => new TextDecoder('utf-8', { fatal: true }).decode(broken.frames[0]!.data));
    broken.ws.close();
    await sim.control.clearFaults();
    const clean = await open(sim.tenantIds[1]!);
    await clean.waitForOutput('$ ');
    assert.ok(clean.frames.every((f) => !f.data.includes(0xff)));
    clean.ws.close();
    await clean.closed;
    assert.ok((await sim.control.stats()).terminal.malformedFramesSent >= 1);
  });

  test('echoDelayMs delays the shell answer while on', async () => {
    const session = await open(sim.tenantIds[1]!);
    await session.waitForOutput('$ ');
    await sim.control.patchFaults({ terminal: { echoDelayMs: 400 } });
    const sent = Date.now();
    session.ws.send('echo slow-answer\r');
    // The TTY echo of the typed line comes at once; the command's own output is what waits.
    await session.waitForOutput('\r\nslow-answer\r\n');
    const answeredAt = session.frames.find((f) => f.data.toString().startsWith('slow-answer\r\n'))!.at;
    const slowMs = answeredAt - sent;
    assert.ok(slowMs >= 350, `answered after ${slowMs} ms`);
    await sim.control.clearFaults();
    const fastSent = Date.now();
    session.ws.send('echo fast-answer\r');
    await session.waitForOutput('\r\nfast-answer\r\n');
    const fastMs = Date.now() - fastSent;
    assert.ok(fastMs * 2 < slowMs, `off: answered after ${fastMs} ms, on: ${slowMs} ms`);
    session.ws.close();
    await session.closed;
  });

  test('route faults on the handshake: error status, reset, and back to 101 when off', async () => {
    await sim.control.patchFaults({ routes: { terminal: { errorRate: 1, errorStatus: 503 } } });
    assert.equal((await refused(sim.tenantIds[1]!)).status, 503);
    await sim.control.patchFaults({ routes: { terminal: { errorRate: 0, resetRate: 1 } } });
    await assert.rejects(connect(sim.tenantIds[1]!));
    await sim.control.clearFaults();
    const session = await open(sim.tenantIds[1]!);
    session.ws.close();
    await session.closed;
    const faults = (await sim.control.stats()).faults.terminal;
    assert.ok(faults && faults.errors >= 1 && faults.resets >= 1);
  });
});
