import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PER_USER } from '../fixtures/metrics/emit-custom-metrics';
import {
  expectedPluginsBlock,
  OBSERVABILITY,
  pluginsBlockOf,
  scenarioBaseName,
} from '../fixtures/metrics/plugins-block';
import { type StatsdLine, StatsdListener } from '../fixtures/metrics/statsd-listener';
import { readTelegrafConf, StatsdInput } from '../fixtures/metrics/telegraf-statsd';
import { explain, runArtillery } from '../helpers/artillery';
import { ROOT, scenarioPath } from '../helpers/paths';
import { type SimulatorHandle, startSimulator } from '../helpers/simulator';

const FIXTURE = resolve(__dirname, '..', 'fixtures', 'metrics', 'metrics-fixture.yml');
const SCENARIOS_DIR = resolve(ROOT, 'scenarios');
const USERS = 2;
const RUN_ID = 'pm-test-run-1';

function startStatusServer(): Promise<Server> {
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end('{"ok":true}');
  });
  return new Promise((resolvePromise) => server.listen(0, '127.0.0.1', () => resolvePromise(server)));
}

function findLine(lines: StatsdLine[], name: string): StatsdLine | undefined {
  return lines.find((line) => line.name === name);
}

/** Sum of a counter over every datagram (Artillery may flush a run over more than one period). */
function counterSum(lines: StatsdLine[], name: string): number {
  return lines.filter((line) => line.name === name && line.type === 'c').reduce((sum, l) => sum + l.value, 0);
}

describe('publish-metrics (influxdb-statsd) switched on by environment', () => {
  let server: Server;
  let listener: StatsdListener;
  let target: string;

  before(async () => {
    server = await startStatusServer();
    listener = await StatsdListener.start();
    target = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await listener.close();
    await new Promise<void>((r) => server.close(() => r()));
  });

  test('a real run sends Artillery and custom metrics with run id, scenario, profile and target tags', async () => {
    listener.clear();
    const result = await runArtillery({
      scenario: FIXTURE,
      environment: 'smoke',
      timeoutMs: 90_000,
      env: {
        FIXTURE_TARGET: target,
        PUBLISH_METRICS_TYPE: 'influxdb-statsd',
        STATSD_HOST: '127.0.0.1',
        STATSD_PORT: String(listener.port),
        LOADTEST_RUN_ID: RUN_ID,
        LOADTEST_TARGET_ENV: 'unit-test',
      },
    });
    assert.equal(result.exitCode, 0, explain(result));
    const { parsed, unparsed } = listener.lines();
    assert.deepEqual(unparsed, [], 'every datagram line is a well-formed StatsD line');
    assert.ok(parsed.length > 20, `expected many metric lines, got ${parsed.length}`);

    for (const line of parsed) {
      assert.ok(line.name.startsWith('artillery.'), `prefix on ${line.raw}`);
      assert.deepEqual(
        line.tags,
        { run_id: RUN_ID, scenario: 'metrics-fixture', profile: 'smoke', target_env: 'unit-test' },
        `tags on ${line.raw}`,
      );
    }

    // Artillery's own metrics, and the named request without its URL (useOnlyRequestNames).
    assert.equal(counterSum(parsed, 'artillery.vusers.created'), USERS);
    assert.equal(counterSum(parsed, 'artillery.http.requests'), USERS);
    assert.equal(counterSum(parsed, 'artillery.http.codes.200'), USERS);
    assert.equal(counterSum(parsed, 'artillery.plugins.metrics-by-endpoint.fixture status.codes.200'), USERS);
    assert.ok(findLine(parsed, 'artillery.plugins.metrics-by-endpoint.response_time.fixture status.p99'));
    assert.ok(findLine(parsed, 'artillery.http.response_time.p95'));
    assert.equal(findLine(parsed, 'artillery.http.request_rate')?.type, 'g');

    // The suite's custom metrics: counters summed over users, histograms as <name>.<stat> gauges.
    assert.equal(counterSum(parsed, 'artillery.llm.tokens.prompt'), USERS * PER_USER.promptTokens);
    assert.equal(counterSum(parsed, 'artillery.llm.tokens.completion'), USERS * PER_USER.completionTokens);
    assert.equal(counterSum(parsed, 'artillery.llm.failures.rate_limited'), USERS);
    assert.equal(counterSum(parsed, 'artillery.llm.failures'), USERS);
    assert.equal(counterSum(parsed, 'artillery.terminal.disconnects'), USERS);
    assert.equal(counterSum(parsed, 'artillery.terminal.reconnects'), USERS);
    const gauges: Array<[string, number]> = [
      ['artillery.llm.proxy_overhead_ms.p99', PER_USER.overheadMs],
      ['artillery.llm.ttft_ms.p95', PER_USER.ttftMs],
      ['artillery.llm.inter_token_ms.p50', PER_USER.interTokenMs],
      ['artillery.terminal.rtt_ms.p99', PER_USER.rttMs],
      ['artillery.container.startup_ms.p95', PER_USER.startupMs],
    ];
    for (const [name, value] of gauges) {
      const line = findLine(parsed, name);
      assert.equal(line?.type, 'g', `${name} sent as a gauge`);
      // Artillery's summaries are sketches (DDSketch): equal values come back within ~1-2%.
      assert.ok(Math.abs(line!.value - value) <= value * 0.02, `${name}=${line!.value}, expected ~${value}`);
    }
  });

  test('unset PUBLISH_METRICS_TYPE: no reporter, no datagram, no warning, even with STATSD_HOST set', async () => {
    listener.clear();
    const result = await runArtillery({
      scenario: FIXTURE,
      environment: 'smoke',
      timeoutMs: 90_000,
      env: {
        FIXTURE_TARGET: target,
        PUBLISH_METRICS_TYPE: undefined,
        STATSD_HOST: '127.0.0.1',
        STATSD_PORT: String(listener.port),
        LOADTEST_RUN_ID: RUN_ID,
      },
    });
    assert.equal(result.exitCode, 0, explain(result));
    assert.equal(result.report?.aggregate.counters['http.requests'], USERS, 'the run itself happened');
    // hot-shots closes 1.5 s after the run; anything it had sent would have arrived by now.
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(listener.datagrams, []);
    assert.doesNotMatch(`${result.stdout}\n${result.stderr}`, /WARNING|publish-metrics|not recognized/i);
  });

  test('every scenario carries the metrics plugins block (scenario tag = file name)', () => {
    const files = readdirSync(SCENARIOS_DIR).filter((f) => f.endsWith('.yml'));
    assert.ok(files.length > 0);
    const missing: string[] = [];
    for (const file of files) {
      const path = resolve(SCENARIOS_DIR, file);
      try {
        assert.deepEqual(pluginsBlockOf(path), expectedPluginsBlock(scenarioBaseName(path)));
      } catch {
        missing.push(file);
      }
    }
    assert.deepEqual(
      missing,
      [],
      'scenarios whose config.plugins lack observability/artillery/plugins-block.yml',
    );
  });

  test('the fixture carries the same block, so the run above tested the real one', () => {
    assert.deepEqual(pluginsBlockOf(FIXTURE), expectedPluginsBlock('metrics-fixture'));
  });
});

describe('publish-metrics on a real scenario (llm-proxy, smoke, against the simulator)', () => {
  let sim: SimulatorHandle;
  let listener: StatsdListener;

  before(async () => {
    sim = await startSimulator({ seedTenants: 3 });
    listener = await StatsdListener.start();
  });
  after(async () => {
    await listener?.close();
    await sim?.stop();
  });

  test('its datagrams carry the run tags and the same token counts as the report, and Telegraf parses them all', async () => {
    const runId = 'pm-llm-proxy-1';
    const result = await runArtillery({
      scenario: scenarioPath('llm-proxy'),
      environment: 'smoke',
      timeoutMs: 90_000,
      env: {
        API_BASE_URL: sim.apiUrl,
        SERVICE_API_KEY: sim.serviceApiKey,
        TENANT_IDS: sim.tenantIds.join(','),
        LLM_DURATION: '3s',
        PUBLISH_METRICS_TYPE: 'influxdb-statsd',
        STATSD_HOST: '127.0.0.1',
        STATSD_PORT: String(listener.port),
        LOADTEST_RUN_ID: runId,
        LOADTEST_TARGET_ENV: 'simulator',
      },
    });
    assert.ok(result.report, explain(result));
    const { parsed, unparsed } = listener.lines();
    assert.deepEqual(unparsed, []);
    const tokens = result.report.aggregate.counters['llm.tokens.prompt'] ?? 0;
    assert.ok(tokens > 0, `the run billed prompt tokens\n${explain(result)}`);
    assert.equal(
      counterSum(parsed, 'artillery.llm.tokens.prompt'),
      tokens,
      'prompt tokens: datagrams = report',
    );
    assert.equal(
      counterSum(parsed, 'artillery.vusers.created'),
      result.report.aggregate.counters['vusers.created'],
      'virtual users: datagrams = report',
    );
    assert.ok(findLine(parsed, 'artillery.llm.proxy_overhead_ms.p99'), 'the overhead histogram is published');
    // The flow is YAML HTTP steps: Artillery's own request metrics travel too, per named request.
    assert.equal(
      counterSum(parsed, 'artillery.http.requests'),
      result.report.aggregate.counters['http.requests'],
      'http.requests: datagrams = report',
    );
    assert.ok(result.report.aggregate.counters['http.requests'], 'the run sent HTTP requests');
    assert.ok(
      parsed.some((l) =>
        /^artillery\.plugins\.metrics-by-endpoint\.response_time\.[a-z_]+\.p95$/.test(l.name),
      ),
      'metrics-by-endpoint response time per request name',
    );
    for (const line of parsed)
      assert.deepEqual(line.tags, {
        run_id: runId,
        scenario: 'llm-proxy',
        profile: 'smoke',
        target_env: 'simulator',
      });
    // No secret rides along in a metric name or tag.
    const all = listener.datagrams.join('\n');
    for (const secret of [sim.serviceApiKey, sim.jwtSecret, sim.adminToken]) assert.ok(!all.includes(secret));

    const input = new StatsdInput(readTelegrafConf(resolve(OBSERVABILITY, 'telegraf', 'telegraf.conf')));
    for (const datagram of listener.datagrams) input.feed(datagram);
    assert.deepEqual(input.errors, [], 'Telegraf would parse every line');
    const points = input.gather();
    assert.ok(points.some((p) => p.measurement === 'llm' && 'tokens_prompt' in p.fields));
    assert.ok(points.some((p) => p.measurement === 'http' && 'response_time_p95' in p.fields));
    assert.ok(
      points.some(
        (p) => p.measurement === 'metrics-by-endpoint' && p.tags.endpoint && 'response_time_p95' in p.fields,
      ),
      'metrics-by-endpoint lands with its endpoint tag',
    );
    assert.ok(
      points.every((p) => !p.measurement.startsWith('artillery')),
      'every name matched a template',
    );
  });
});
