import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { StatsdListener } from '../fixtures/metrics/statsd-listener';
import { ROOT } from '../helpers/paths';
import { startSimulator, stopChild } from '../helpers/simulator';
import { assertStartedTargets, inheritedEnvWithoutTargets } from '../helpers/started-targets';

const COMPOSE_FILE = resolve(ROOT, 'docker-compose.loadtest.yml');

// The stack is run with Compose v2 (`docker compose`, as the docs and the workflow say). Validation
// here uses Debian 12's `docker-compose` 1.29 package: Debian ships no v2 plugin, and `config` needs
// no Docker engine, which these machines do not have. Both read the same Compose file format.
function dockerComposeAvailable(): boolean {
  try {
    execFileSync('docker-compose', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// In CI docker-compose is installed by .ci/run (or the workflow): its absence must fail there.
const skip = !dockerComposeAvailable() && process.env.CI !== 'true' ? 'docker-compose not installed' : false;

function composeConfig(file: string, args: string[] = []) {
  return spawnSync('docker-compose', ['-f', file, 'config', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    // Defaults in the file must be enough: no variable from the developer's shell leaks in.
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
  });
}

interface ComposeService {
  image?: string;
  environment?: Record<string, string | null>;
  ports?: Array<
    { published?: number | string; target?: number; host_ip?: string; protocol?: string } | string
  >;
  volumes?: Array<{ source?: string; target?: string } | string>;
  command?: string[] | string;
  network_mode?: string;
}

describe('docker-compose.loadtest.yml', { skip }, () => {
  test('Debian docker-compose accepts it (config -q)', () => {
    const result = composeConfig(COMPOSE_FILE, ['-q']);
    assert.equal(result.status, 0, result.stderr);
  });

  test('config -q does reject a broken file (the check above can fail)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'compose-broken-'));
    try {
      const broken = join(dir, 'docker-compose.yml');
      copyFileSync(COMPOSE_FILE, broken);
      writeFileSync(
        broken,
        readFileSync(broken, 'utf8').replace('    image: influxdb:', '    imagee: influxdb:'),
      );
      const result = composeConfig(broken, ['-q']);
      assert.notEqual(result.status, 0, 'an unknown service key must fail validation');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the stack: influxdb 1.8, telegraf, grafana on 3001 (admin/admin, provisioned), simulator, runner', () => {
    const result = composeConfig(COMPOSE_FILE);
    assert.equal(result.status, 0, result.stderr);
    const config = parse(result.stdout) as { services: Record<string, ComposeService> };
    const s = config.services;
    assert.deepEqual(Object.keys(s).sort(), ['grafana', 'influxdb', 'runner', 'simulator', 'telegraf']);

    assert.match(s.influxdb!.image!, /^influxdb:1\.8(\.|$)/);
    assert.equal(s.influxdb!.environment!.INFLUXDB_DB, 'artillery');

    const mounts = (svc: ComposeService) =>
      (svc.volumes ?? []).map((v) =>
        typeof v === 'string' ? v.split(':').slice(0, 2).join(':') : `${v.source}:${v.target}`,
      );
    assert.ok(
      mounts(s.telegraf!).some(
        (m) => m === `${resolve(ROOT, 'observability/telegraf/telegraf.conf')}:/etc/telegraf/telegraf.conf`,
      ),
      `telegraf mounts our telegraf.conf: ${mounts(s.telegraf!)}`,
    );

    // docker-compose 1.29 prints `127.0.0.1:3001:3000/tcp`; newer ones print objects.
    const grafanaPorts = s.grafana!.ports!.map((p) =>
      typeof p === 'string'
        ? p
            .replace(/\/\w+$/, '')
            .split(':')
            .slice(-2)
            .join(':')
        : `${p.published}:${p.target}`,
    );
    assert.ok(grafanaPorts.includes('3001:3000'), `grafana on 3001: ${grafanaPorts}`);
    assert.equal(s.grafana!.environment!.GF_SECURITY_ADMIN_USER, 'admin');
    assert.equal(s.grafana!.environment!.GF_SECURITY_ADMIN_PASSWORD, 'admin');
    for (const [source, target] of [
      ['observability/grafana/provisioning', '/etc/grafana/provisioning'],
      ['observability/grafana/dashboards', '/var/lib/grafana/dashboards'],
    ]) {
      assert.ok(existsSync(resolve(ROOT, source!)), source);
      assert.ok(
        mounts(s.grafana!).includes(`${resolve(ROOT, source!)}:${target}`),
        `grafana mounts ${source}`,
      );
    }

    const simulatorCommand = ([] as string[]).concat(s.simulator!.command ?? []);
    assert.deepEqual(simulatorCommand.slice(0, 2), ['node', 'dist/simulator/cli.js']);
    assert.equal(simulatorCommand[simulatorCommand.indexOf('--host') + 1], '127.0.0.1');

    const runner = s.runner!;
    assert.equal(runner.network_mode, 'service:simulator', 'the runner reaches the simulator on loopback');
    assert.equal(runner.environment!.ARTILLERY_DISABLE_TELEMETRY, '1');
    assert.equal(runner.environment!.STATSD_HOST, 'telegraf');
    assert.equal(runner.environment!.PUBLISH_METRICS_TYPE, 'influxdb-statsd');
    const runnerCommand = ([] as string[]).concat(runner.command ?? []);
    assert.deepEqual(
      runnerCommand.slice(0, 3),
      ['npm', 'run', 'loadtest'],
      'the runner runs the suite from this repo',
    );
    const targetFile = runnerCommand[runnerCommand.indexOf('--target') + 1]!;
    assert.ok(existsSync(resolve(ROOT, targetFile)), `target file ${targetFile} exists`);

    for (const [name, svc] of Object.entries(s)) {
      for (const p of svc.ports ?? []) {
        const hostIp = typeof p === 'string' ? p.split(':')[0] : p.host_ip;
        assert.equal(hostIp, '127.0.0.1', `${name} publishes on loopback only`);
      }
    }
  });
});

describe('the compose runner service, without Docker', { skip }, () => {
  test('its command and environment run a scenario against a loopback simulator and publish to StatsD', async () => {
    const result = composeConfig(COMPOSE_FILE);
    assert.equal(result.status, 0, result.stderr);
    const runner = (parse(result.stdout) as { services: Record<string, ComposeService> }).services.runner!;
    const command = ([] as string[]).concat(runner.command ?? []);
    const args = command.slice(command.indexOf('--') + 1);
    const env = Object.fromEntries(
      Object.entries(runner.environment ?? {}).map(([k, v]) => [k, v ?? '']),
    ) as Record<string, string>;

    const sim = await startSimulator({ seedTenants: 0 });
    const listener = await StatsdListener.start();
    const dir = mkdtempSync(join(tmpdir(), 'compose-runner-'));
    try {
      // Same target file, with the compose simulator's fixed ports mapped to this simulator's.
      const composeTarget = readFileSync(resolve(ROOT, args[args.indexOf('--target') + 1]!), 'utf8');
      const ports: Record<string, string> = {
        'http://127.0.0.1:3000': sim.webUrl,
        'http://127.0.0.1:8080': sim.apiUrl,
        'http://127.0.0.1:8099': sim.controlUrl,
      };
      const target = composeTarget.replace(/http:\/\/127\.0\.0\.1:\d+/g, (url) => {
        assert.ok(ports[url], `${url} in the compose target file is not one of the simulator's ports`);
        return ports[url]!;
      });
      writeFileSync(join(dir, 'target.env'), target);
      args[args.indexOf('--target') + 1] = join(dir, 'target.env');
      // One scenario keeps the test short; the rest of the command is the compose file's.
      args[args.indexOf('--scenario') + 1] = 'llm-proxy';
      args[args.indexOf('--seed-tenants') + 1] = '2';
      args.push('--out', join(dir, 'run'));

      assertStartedTargets(env, args);
      const child = spawn(process.execPath, [resolve(ROOT, 'dist/scripts/run.js'), ...args], {
        cwd: ROOT,
        env: {
          ...inheritedEnvWithoutTargets(),
          ...env,
          // The simulator's own secrets (compose gives both services the same ones).
          SERVICE_API_KEY: sim.serviceApiKey,
          API_JWT_SECRET: sim.jwtSecret,
          SIM_ADMIN_TOKEN: sim.adminToken,
          // `telegraf` only resolves inside compose: the listener stands in for it.
          STATSD_HOST: '127.0.0.1',
          STATSD_PORT: String(listener.port),
          LOADTEST_RUN_ID: 'compose-runner-test',
          HOME: process.env.HOME ?? '/tmp',
          npm_config_cache: process.env.npm_config_cache ?? '',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout!.on('data', (c: Buffer) => {
        output += c.toString();
      });
      child.stderr!.on('data', (c: Buffer) => {
        output += c.toString();
      });
      const timer = setTimeout(() => void stopChild(child), 150_000);
      const code = await new Promise<number | null>((r) => child.once('close', (c) => r(c)));
      clearTimeout(timer);
      assert.equal(code, 0, output.slice(-3000));

      const { parsed } = listener.lines();
      const tokens = parsed.filter((l) => l.name === 'artillery.llm.tokens.prompt');
      assert.ok(tokens.length > 0, `no llm metrics published\n${output.slice(-2000)}`);
      // The runner tags metrics with the run id itself (one Grafana run per run, not per scenario).
      assert.equal(tokens[0]!.tags.run_id, 'compose-runner-test');
      assert.deepEqual(tokens[0]!.tags, {
        run_id: tokens[0]!.tags.run_id,
        scenario: 'llm-proxy',
        profile: env.LOADTEST_PROFILE ?? 'smoke',
        target_env: 'compose-simulator',
      });
    } finally {
      await listener.close();
      await sim.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
