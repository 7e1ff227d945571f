import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { parse } from 'yaml';
import { AREAS } from '../../plugins/artillery-plugin-agentteams/src/requirements';
import type { ArtilleryReport } from '../../scripts/lib/artillery-run';
import type { RunManifest } from '../../scripts/lib/manifest';
import { PER_USER } from '../fixtures/metrics/emit-custom-metrics';
import {
  METRICS_BY_ENDPOINT,
  OBSERVABILITY,
  PUBLISH_METRICS_CONFIG,
  scenarioPlugins,
  sharedPublishMetrics,
} from '../fixtures/metrics/publish-metrics-config';
import { type StatsdLine, StatsdListener } from '../fixtures/metrics/statsd-listener';
import { readTelegrafConf, StatsdInput } from '../fixtures/metrics/telegraf-statsd';
import { RUN_JS, runCli } from '../fixtures/run-cli';
import { explain, runArtillery } from '../helpers/artillery';
import { ROOT } from '../helpers/paths';
import { type SimulatorHandle, startSimulator } from '../helpers/simulator';

/**
 * publish-metrics comes from ONE Artillery config file, config/publish-metrics.yml,
 * that `artillery run --config` merges into whichever scenario runs; no scenario declares it.
 */

const FIXTURE = resolve(__dirname, '..', 'fixtures', 'metrics', 'metrics-fixture.yml');
const SCENARIOS_DIR = resolve(ROOT, 'scenarios');
const TELEGRAF_CONF = resolve(OBSERVABILITY, 'telegraf', 'telegraf.conf');
const USERS = 2;
const RUN_ID = 'pm-test-run-1';
const CONFIG_ARGS = ['--config', PUBLISH_METRICS_CONFIG];

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

/** Telegraf's statsd input over the datagrams, with the templates of the stack's telegraf.conf. */
function telegrafPoints(datagrams: string[]) {
  const input = new StatsdInput(readTelegrafConf(TELEGRAF_CONF));
  for (const datagram of datagrams) input.feed(datagram);
  assert.deepEqual(input.errors, [], 'Telegraf would parse every line');
  const points = input.gather();
  assert.ok(
    points.every((p) => !p.measurement.startsWith('artillery')),
    'every name matched a template',
  );
  return points;
}

/** hot-shots closes 1.5 s after the run; anything it had sent has arrived by then. */
const settle = () => new Promise((r) => setTimeout(r, 500));

describe('the shared publish-metrics config file (--config) on a real Artillery run', () => {
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

  const publishingEnv = () => ({
    FIXTURE_TARGET: target,
    PUBLISH_METRICS_TYPE: 'influxdb-statsd',
    STATSD_HOST: '127.0.0.1',
    STATSD_PORT: String(listener.port),
    LOADTEST_RUN_ID: RUN_ID,
    LOADTEST_SCENARIO: 'metrics-fixture',
    LOADTEST_TARGET_ENV: 'unit-test',
  });

  test('the fixture declares no publish-metrics: what a run sends comes from the shared file', () => {
    const plugins = scenarioPlugins(FIXTURE);
    assert.equal(plugins['publish-metrics'], undefined);
    assert.deepEqual(plugins['metrics-by-endpoint'], METRICS_BY_ENDPOINT);
  });

  test('with --config: Artillery, per-endpoint and custom metrics with the four tags; Telegraf parses them', async () => {
    listener.clear();
    const result = await runArtillery({
      scenario: FIXTURE,
      environment: 'smoke',
      extraArgs: CONFIG_ARGS,
      timeoutMs: 90_000,
      env: publishingEnv(),
    });
    assert.equal(result.exitCode, 0, explain(result));
    await settle();
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
    assert.equal(counterSum(parsed, 'artillery.plugins.metrics-by-endpoint.fixture_status.codes.200'), USERS);
    assert.ok(findLine(parsed, 'artillery.plugins.metrics-by-endpoint.response_time.fixture_status.p99'));
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

    const points = telegrafPoints(listener.datagrams);
    assert.ok(points.some((p) => p.measurement === 'http' && 'response_time_p95' in p.fields));
    assert.ok(
      points.some(
        (p) =>
          p.measurement === 'metrics-by-endpoint' &&
          p.tags.endpoint === 'fixture_status' &&
          'response_time_p99' in p.fields,
      ),
      'metrics-by-endpoint lands with its endpoint tag',
    );
    assert.ok(points.some((p) => p.measurement === 'llm' && 'tokens_prompt' in p.fields));
    assert.ok(points.some((p) => p.measurement === 'failures' && p.tags.cause === 'rate_limited'));
  });

  test('without --config nothing is sent, even with PUBLISH_METRICS_TYPE and STATSD_HOST set', async () => {
    listener.clear();
    const result = await runArtillery({
      scenario: FIXTURE,
      environment: 'smoke',
      timeoutMs: 90_000,
      env: publishingEnv(),
    });
    assert.equal(result.exitCode, 0, explain(result));
    assert.equal(result.report?.aggregate.counters['http.requests'], USERS, 'the run itself happened');
    await settle();
    assert.deepEqual(listener.datagrams, []);
  });

  test('the distributed form (--overrides with the same file as JSON) sends the same tagged metrics', async () => {
    listener.clear();
    const result = await runArtillery({
      scenario: FIXTURE,
      environment: 'smoke',
      overrides: parse(readFileSync(PUBLISH_METRICS_CONFIG, 'utf8')),
      timeoutMs: 90_000,
      env: publishingEnv(),
    });
    assert.equal(result.exitCode, 0, explain(result));
    await settle();
    const { parsed } = listener.lines();
    assert.equal(counterSum(parsed, 'artillery.http.requests'), USERS);
    assert.equal(counterSum(parsed, 'artillery.llm.tokens.prompt'), USERS * PER_USER.promptTokens);
    assert.deepEqual(parsed[0]?.tags, {
      run_id: RUN_ID,
      scenario: 'metrics-fixture',
      profile: 'smoke',
      target_env: 'unit-test',
    });
  });

  test('with --config but PUBLISH_METRICS_TYPE unset: no reporter, no datagram, no warning about it', async () => {
    listener.clear();
    const result = await runArtillery({
      scenario: FIXTURE,
      environment: 'smoke',
      extraArgs: CONFIG_ARGS,
      timeoutMs: 90_000,
      env: { ...publishingEnv(), PUBLISH_METRICS_TYPE: undefined },
    });
    assert.equal(result.exitCode, 0, explain(result));
    assert.equal(result.report?.aggregate.counters['http.requests'], USERS, 'the run itself happened');
    await settle();
    assert.deepEqual(listener.datagrams, []);
    assert.doesNotMatch(`${result.stdout}\n${result.stderr}`, /publish-metrics|not recognized/i);
  });
});

describe('the scenarios and the shared file', () => {
  test('the shared file holds publish-metrics only: nothing else of a scenario is overridden', () => {
    const file = readFileSync(PUBLISH_METRICS_CONFIG, 'utf8');
    assert.match(file, /^config:\n {2}plugins:\n {4}publish-metrics:\n/m);
    const reporters = sharedPublishMetrics();
    assert.equal(reporters.length, 1);
    assert.deepEqual(Object.keys(reporters[0]!.tags as object), [
      'run_id',
      'scenario',
      'profile',
      'target_env',
    ]);
    assert.equal(reporters[0]!.type, '{{ $env.PUBLISH_METRICS_TYPE }}', 'off unless switched on');
  });

  test('every scenario: agentteams first, the same metrics-by-endpoint, no publish-metrics of its own', () => {
    const files = readdirSync(SCENARIOS_DIR).filter((f) => f.endsWith('.yml'));
    assert.ok(files.length > 0);
    const problems: string[] = [];
    for (const file of files) {
      const plugins = scenarioPlugins(resolve(SCENARIOS_DIR, file));
      const agentteams = plugins.agentteams as { area?: unknown } | undefined;
      if (Object.keys(plugins)[0] !== 'agentteams' || !AREAS.some((a) => a === agentteams?.area))
        problems.push(`${file}: agentteams with an area must be the first plugin`);
      try {
        assert.deepEqual(plugins['metrics-by-endpoint'], METRICS_BY_ENDPOINT);
      } catch {
        problems.push(`${file}: metrics-by-endpoint must be ${JSON.stringify(METRICS_BY_ENDPOINT)}`);
      }
      if ('publish-metrics' in plugins)
        problems.push(`${file}: declares publish-metrics (it comes from ${PUBLISH_METRICS_CONFIG})`);
    }
    assert.deepEqual(problems, []);
  });
});

type CreateBom = (
  entry: string,
  extraFiles: string[],
  opts: { flags: { environment: string }; scenarioPath: string },
  callback: (err: Error | null, manifest: { files: Array<{ noPrefix: string }> } | null) => void,
) => void;

test("why distributed runs take --overrides: with --config, Artillery's bundler traces only the config file", async () => {
  const { createBOM } = (await import(
    pathToFileURL(resolve(ROOT, 'node_modules/artillery/dist/lib/platform/aws-ecs/legacy/bom.js')).href
  )) as { createBOM: CreateBom };
  const scenario = resolve(SCENARIOS_DIR, 'llm-proxy.yml');
  const bundle = (entry: string, extra: string[]) =>
    new Promise<string[]>((resolveFiles, reject) =>
      createBOM(entry, extra, { flags: { environment: 'smoke' }, scenarioPath: scenario }, (err, manifest) =>
        err || !manifest ? reject(err) : resolveFiles(manifest.files.map((f) => f.noPrefix)),
      ),
    );
  const processor = 'dist/processors/llm-proxy.js';
  assert.ok((await bundle(scenario, [])).includes(processor), 'the scenario alone ships its processor');
  // create-test.ts (run-fargate, run-aci) and the Lambda packager call it this way for --config.
  const withConfig = await bundle(PUBLISH_METRICS_CONFIG, [scenario]);
  assert.ok(
    !withConfig.includes(processor),
    `Artillery now bundles the processor with --config: docs/DISTRIBUTED.md can recommend --config (${withConfig.join(', ')})`,
  );
});

describe('the runner adds the shared publish-metrics block when STATSD_HOST is set (llm-proxy, smoke, simulator)', () => {
  let sim: SimulatorHandle;
  let listener: StatsdListener;
  let work: string;

  before(async () => {
    sim = await startSimulator({ seedTenants: 3 });
    listener = await StatsdListener.start();
    work = mkdtempSync(join(tmpdir(), 'publish-metrics-runner-'));
  });
  after(async () => {
    await listener?.close();
    await sim?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('its datagrams carry the run tags, match output.json, and Telegraf parses them all', async () => {
    // The file's name becomes the target_env tag (no LOADTEST_TARGET_ENV given).
    const targetFile = join(work, 'simulator.env');
    writeFileSync(
      targetFile,
      [
        `API_BASE_URL=${sim.apiUrl}`,
        `WEB_BASE_URL=${sim.webUrl}`,
        `TENANT_IDS=${sim.tenantIds.join(',')}`,
        `SERVICE_API_KEY=${sim.serviceApiKey}`,
      ].join('\n'),
    );
    const out = join(work, 'run');
    const result = await runCli(
      RUN_JS,
      ['--target', targetFile, '--profile', 'smoke', '--scenario', 'llm-proxy', '--no-report', '--out', out],
      {
        env: {
          LLM_DURATION: '3s',
          // STATSD_HOST alone: the runner switches PUBLISH_METRICS_TYPE on and adds the block as --overrides.
          STATSD_HOST: '127.0.0.1',
          STATSD_PORT: String(listener.port),
        },
        timeoutMs: 150_000,
      },
    );
    assert.equal(result.code, 0, result.stdout + result.stderr);
    await settle();
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as RunManifest;
    const report = JSON.parse(readFileSync(join(out, 'llm-proxy', 'output.json'), 'utf8')) as ArtilleryReport;
    const counters = report.aggregate.counters;

    const { parsed, unparsed } = listener.lines();
    assert.deepEqual(unparsed, []);
    for (const line of parsed)
      assert.deepEqual(
        line.tags,
        { run_id: manifest.runId, scenario: 'llm-proxy', profile: 'smoke', target_env: 'simulator' },
        `tags on ${line.raw}`,
      );
    assert.ok((counters['llm.tokens.prompt'] ?? 0) > 0, 'the run billed prompt tokens');
    for (const name of ['llm.tokens.prompt', 'vusers.created', 'http.requests'])
      assert.equal(
        counterSum(parsed, `artillery.${name}`),
        counters[name],
        `${name}: datagrams = output.json`,
      );
    assert.ok(findLine(parsed, 'artillery.llm.proxy_overhead_ms.p99'), 'the overhead histogram is published');
    assert.ok(
      parsed.some((l) =>
        /^artillery\.plugins\.metrics-by-endpoint\.response_time\.[a-z_]+\.p95$/.test(l.name),
      ),
      'metrics-by-endpoint response time per request name',
    );
    // No secret rides along in a metric name or tag.
    const all = listener.datagrams.join('\n');
    for (const secret of [sim.serviceApiKey, sim.jwtSecret, sim.adminToken]) assert.ok(!all.includes(secret));

    const points = telegrafPoints(listener.datagrams);
    assert.ok(points.some((p) => p.measurement === 'llm' && 'tokens_prompt' in p.fields));
    assert.ok(points.some((p) => p.measurement === 'http' && 'response_time_p95' in p.fields));
    assert.ok(
      points.some(
        (p) => p.measurement === 'metrics-by-endpoint' && p.tags.endpoint && 'response_time_p95' in p.fields,
      ),
      'metrics-by-endpoint lands with its endpoint tag',
    );
  });
});
