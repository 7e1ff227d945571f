import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isLoopbackHost, remoteTargetProblems } from '../../scripts/lib/remote-guard';
import { planRun } from '../../scripts/lib/run-plan';
import { type FixtureServer, startFixtureServer } from '../fixtures/fixture-server';
import { fixtureScenario, RUN_JS, runCli } from '../fixtures/run-cli';

/**
 * Every bad setting stops the runner before any load: exit 2, a message naming the setting, and
 * the target (a loopback fixture server standing in for a platform) sees no request at all.
 */

const TENANT = '3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b';
const SECRET_JWT_SECRET = 'short-secret';

let server: FixtureServer;
let work: string;

before(async () => {
  assert.ok(existsSync(RUN_JS), 'build first: npx tsup');
  server = await startFixtureServer();
  work = mkdtempSync(join(tmpdir(), 'config-validation-'));
});

after(async () => {
  await server.close();
  rmSync(work, { recursive: true, force: true });
});

interface BadInput {
  name: string;
  /** Text expected in the message: the setting's name (and more where it matters). */
  names: string[];
  /** Lines of the target env file (on top of a valid base) or undefined for the simulator target. */
  file?: Record<string, string>;
  /** Raw env file text replacing the generated one. */
  rawFile?: string;
  env?: Record<string, string>;
  args?: string[];
  scenario?: string;
}

const base = () => ({
  WEB_BASE_URL: server.url,
  API_BASE_URL: server.url,
  TENANT_IDS: TENANT,
  SERVICE_API_KEY: 'fixture-service-key-123',
});

const BAD_INPUTS: BadInput[] = [
  {
    name: 'URL without scheme',
    names: ['WEB_BASE_URL', 'http(s) URL'],
    file: { WEB_BASE_URL: 'localhost:3000' },
  },
  { name: 'non-http URL', names: ['API_BASE_URL'], file: { API_BASE_URL: 'ftp://127.0.0.1/x' } },
  {
    name: 'empty TENANT_IDS against a real target',
    names: ['TENANT_IDS', '--seed-tenants'],
    file: { TENANT_IDS: '' },
  },
  {
    name: 'malformed TENANT_IDS',
    names: ['TENANT_IDS', '"tenant-a"'],
    file: { TENANT_IDS: 'tenant-a,tenant-b' },
  },
  { name: 'TENANT_IDS with an empty entry', names: ['TENANT_IDS'], file: { TENANT_IDS: `${TENANT},,` } },
  {
    name: 'missing SERVICE_API_KEY against a real target',
    names: ['SERVICE_API_KEY'],
    file: { SERVICE_API_KEY: '' },
  },
  {
    name: 'INFERENCE_BUDGET_MS not a number',
    names: ['INFERENCE_BUDGET_MS'],
    file: { INFERENCE_BUDGET_MS: 'fast' },
  },
  {
    name: 'unknown PUBLISH_METRICS_TYPE',
    names: ['PUBLISH_METRICS_TYPE'],
    file: { PUBLISH_METRICS_TYPE: 'graphite' },
  },
  {
    name: 'STATSD_HOST that does not resolve',
    names: ['STATSD_HOST', 'does not resolve'],
    file: { STATSD_HOST: 'statsd.invalid' },
  },
  { name: 'STATSD_PORT out of range', names: ['STATSD_PORT'], file: { STATSD_PORT: '70000' } },
  {
    name: 'negative INFERENCE_BUDGET_MS',
    names: ['INFERENCE_BUDGET_MS'],
    file: { INFERENCE_BUDGET_MS: '-5' },
  },
  {
    name: 'unknown profile flag',
    names: ['--profile', 'smoke, load, soak, stress'],
    args: ['--profile', 'heavy'],
  },
  { name: 'unknown LOADTEST_PROFILE', names: ['LOADTEST_PROFILE'], file: { LOADTEST_PROFILE: 'turbo' } },
  { name: 'negative duration', names: ['LLM_DURATION'], file: { LLM_DURATION: '-10s' } },
  { name: 'unparseable duration', names: ['LLM_THINK_TIME', 'duration'], file: { LLM_THINK_TIME: 'soon' } },
  { name: 'zero max tokens', names: ['LLM_MAX_TOKENS'], file: { LLM_MAX_TOKENS: '0' } },
  {
    name: 'bearer token that is not a JWT',
    names: ['API_BEARER_TOKEN', 'JWT'],
    file: { API_BEARER_TOKEN: 'abc' },
  },
  {
    name: 'too short signing secret',
    names: ['API_JWT_SECRET'],
    file: { API_JWT_SECRET: SECRET_JWT_SECRET },
  },
  {
    name: 'allow-list with a URL instead of a host',
    names: ['LOADTEST_ALLOWED_HOSTS'],
    file: { LOADTEST_ALLOWED_HOSTS: 'https://staging.example.com' },
  },
  {
    name: 'allow-remote flag not a boolean',
    names: ['LOADTEST_ALLOW_REMOTE'],
    file: { LOADTEST_ALLOW_REMOTE: 'maybe' },
  },
  { name: 'run id with a path in it', names: ['LOADTEST_RUN_ID'], file: { LOADTEST_RUN_ID: '../../etc' } },
  { name: 'seed count not a number', names: ['--seed-tenants'], args: ['--seed-tenants', 'lots'] },
  { name: 'seed count zero', names: ['--seed-tenants'], args: ['--seed-tenants', '0'] },
  { name: 'unknown scenario', names: ['--scenario', 'llm-proxy'], scenario: 'no-such-scenario' },
  {
    name: 'target file that does not exist',
    names: ['--target'],
    args: ['--target', '/nonexistent/platform.env'],
  },
  {
    name: 'env file with a broken line',
    names: ['--target', ':2:', 'NAME=value'],
    rawFile: 'WEB_BASE_URL=http://web.agentteams.invalid\nthis is not a setting\n',
  },
  { name: 'faults that are not JSON', names: ['--sim-faults'], args: ['--sim-faults', '{broken'] },
  {
    name: 'container poll interval unparseable',
    names: ['CONTAINER_POLL_INTERVAL'],
    file: { CONTAINER_POLL_INTERVAL: 'often' },
    scenario: 'container-provisioning',
  },
  {
    name: 'container cold mode without admin credentials',
    names: ['CONTAINER_MODE', 'ADMIN_JWT'],
    file: { CONTAINER_MODE: 'cold' },
    scenario: 'container-provisioning',
  },
  { name: 'unknown command-line option', names: ['--turbo'], args: ['--turbo'] },
  {
    name: 'users per step not a number',
    names: ['LLM_VUS', '"abc"', 'whole number'],
    file: { LLM_VUS: 'abc' },
    scenario: 'llm-proxy',
  },
  {
    name: 'users per step of a fixture not a number',
    names: ['FIXTURE_VUS', '"2.5"'],
    file: { FIXTURE_VUS: '2.5' },
  },
  {
    name: 'gate limit not a number',
    names: ['LLM_OVERHEAD_P99_MS', '"fast"'],
    file: { LLM_OVERHEAD_P99_MS: 'fast' },
    scenario: 'llm-proxy',
  },
  { name: 'negative gate limit', names: ['GENERATOR_LAG_P99_MS'], file: { GENERATOR_LAG_P99_MS: '-5' } },
];

describe('configuration is checked before any load (exit 2, setting named, nothing sent)', () => {
  test(`at least 15 bad inputs are covered (${BAD_INPUTS.length})`, () => {
    assert.ok(BAD_INPUTS.length >= 15);
  });

  for (const [index, input] of BAD_INPUTS.entries()) {
    test(input.name, async () => {
      const before = server.requests();
      const out = join(work, `out-${index}`);
      const args = ['--scenario', input.scenario ?? fixtureScenario('fixture-http'), '--out', out];
      if (input.file || input.rawFile) {
        const file = join(work, `target-${index}.env`);
        const values = { ...base(), ...input.file };
        writeFileSync(
          file,
          input.rawFile ??
            Object.entries(values)
              .map(([k, v]) => `${k}=${v}`)
              .join('\n'),
        );
        args.push('--target', file);
      } else if (!input.args?.includes('--target')) {
        args.push('--target', writeBaseFile(index));
      }
      args.push(...(input.args ?? []));
      const result = await runCli(RUN_JS, args, { env: input.env ?? {}, timeoutMs: 30_000 });
      const message = result.stderr + result.stdout;
      assert.equal(result.code, 2, `exit code\n${message}`);
      for (const name of input.names) assert.ok(message.includes(name), `message names ${name}:\n${message}`);
      assert.match(result.stderr, /nothing was sent/);
      assert.equal(server.requests(), before, 'the target saw no request');
      assert.ok(!existsSync(out) || readdirSync(out).length === 0, 'no results written');
      assert.ok(!message.includes(SECRET_JWT_SECRET), 'the secret value is not echoed');
    });
  }
});

function writeBaseFile(index: number): string {
  const file = join(work, `base-${index}.env`);
  writeFileSync(
    file,
    Object.entries(base())
      .map(([k, v]) => `${k}=${v}`)
      .join('\n'),
  );
  return file;
}

describe('remote-target guard', () => {
  test('loopback hosts pass, look-alikes do not', () => {
    for (const host of ['localhost', '127.0.0.1', '127.1.2.3', '::1', '[::1]', 'app.localhost'])
      assert.ok(isLoopbackHost(host), host);
    for (const host of ['example.com', '10.0.0.5', '127.0.0.1.nip.io', 'localhost.evil.com', '0.0.0.0', '::'])
      assert.ok(!isLoopbackHost(host), host);
  });

  test('a remote target is refused with the reason and how to allow it; nothing sent', async () => {
    const file = join(work, 'remote.env');
    writeFileSync(
      file,
      `WEB_BASE_URL=https://staging.agentteams.invalid\nAPI_BASE_URL=${server.url}\nTENANT_IDS=${TENANT}\nSERVICE_API_KEY=k-123456\n`,
    );
    const before = server.requests();
    const result = await runCli(RUN_JS, [
      '--target',
      file,
      '--scenario',
      fixtureScenario('fixture-http'),
      '--out',
      join(work, 'remote-out'),
    ]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /WEB_BASE_URL: host "staging\.agentteams\.invalid" is not loopback/);
    assert.match(result.stderr, /LOADTEST_ALLOW_REMOTE=1/);
    assert.match(result.stderr, /LOADTEST_ALLOWED_HOSTS/);
    assert.equal(server.requests(), before);
  });

  test('a non-loopback API_BASE_URL of the shell, without --target, is the target and is refused; no simulator', async () => {
    const out = join(work, 'shell-remote-out');
    const before = server.requests();
    const result = await runCli(RUN_JS, ['--scenario', 'llm-proxy', '--out', out], {
      env: {
        API_BASE_URL: 'http://api.agentteams.invalid',
        TENANT_IDS: TENANT,
        SERVICE_API_KEY: 'k-123456',
      },
      timeoutMs: 30_000,
    });
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.match(result.stderr, /API_BASE_URL: host "api\.agentteams\.invalid" is not loopback/);
    assert.match(result.stderr, /nothing was sent/);
    assert.doesNotMatch(result.stdout, /simulator up/, 'never silently replaced by the simulator');
    assert.ok(!existsSync(out), 'no results written');
    assert.equal(server.requests(), before);
  });

  test('LOADTEST_ALLOW_REMOTE=1 or the host in LOADTEST_ALLOWED_HOSTS lets the plan through', () => {
    const file = join(work, 'remote-allowed.env');
    const common = `WEB_BASE_URL=https://staging.example.com\nAPI_BASE_URL=https://api.staging.example.com\nTENANT_IDS=${TENANT}\nSERVICE_API_KEY=k-123456\n`;
    const plan = (extra: string, out: string) => {
      writeFileSync(file, common + extra);
      return planRun(
        ['--target', file, '--scenario', fixtureScenario('fixture-http'), '--out', join(work, out)],
        {},
      );
    };
    const refused = plan('', 'p0');
    assert.equal(refused.ok, false);
    if (!refused.ok) assert.equal(refused.problems.filter((p) => p.includes('not loopback')).length, 2);
    assert.equal(plan('LOADTEST_ALLOW_REMOTE=1\n', 'p1').ok, true);
    assert.equal(
      plan('LOADTEST_ALLOWED_HOSTS=staging.example.com, api.staging.example.com\n', 'p2').ok,
      true,
    );
    const partly = plan('LOADTEST_ALLOWED_HOSTS=staging.example.com\n', 'p3');
    assert.equal(partly.ok, false);
    if (!partly.ok)
      assert.match(partly.problems.join('\n'), /API_BASE_URL: host "api\.staging\.example\.com"/);
  });

  test('the guard function names every refused setting', () => {
    const problems = remoteTargetProblems({
      urls: { WEB_BASE_URL: 'http://10.1.2.3:3000', API_BASE_URL: 'http://127.0.0.1:8080' },
      allowRemote: false,
      allowedHosts: [],
    });
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /^WEB_BASE_URL: host "10\.1\.2\.3"/);
  });
});
