import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { junitAnnotations, workflowCommand } from '../../scripts/junit-annotations';
import { ROOT } from '../helpers/paths';

const WORKFLOW = resolve(ROOT, '.github', 'workflows', 'loadtest.yml');

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  if?: string;
}
interface Job {
  'runs-on': string;
  container?: string;
  needs?: string | string[];
  if?: string;
  env?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  on: {
    push?: { branches?: string[] } | null;
    pull_request?: unknown;
    workflow_dispatch?: { inputs: Record<string, { type: string; options?: string[] }> };
  };
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}

const text = readFileSync(WORKFLOW, 'utf8');
const workflow = parse(text) as Workflow;
const steps = Object.values(workflow.jobs).flatMap((job) => job.steps);
const scripts = (
  JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
).scripts;

/** `npm run <x>`, `npm <builtin-alias>` commands in the workflow's shell steps. */
function npmCommands(): string[] {
  const found: string[] = [];
  for (const step of steps) {
    for (const match of (step.run ?? '').matchAll(/\bnpm\s+(run\s+)?([a-z][\w:-]*)/g)) {
      found.push(match[1] ? `run ${match[2]}` : match[2]!);
    }
  }
  return found;
}

describe('.github/workflows/loadtest.yml', () => {
  test('runs once per change: pull requests, pushes to main only, and workflow_dispatch with its inputs', () => {
    assert.ok(workflow.on.pull_request !== undefined);
    // A push to a branch with a pull request would run the same commit a second time.
    assert.deepEqual(workflow.on.push?.branches, ['main']);
    const inputs = workflow.on.workflow_dispatch?.inputs ?? {};
    for (const name of ['web_base_url', 'api_base_url', 'profile', 'scenarios', 'run_scenarios'])
      assert.ok(inputs[name], `input ${name}`);
    assert.deepEqual(inputs.profile!.options, ['smoke', 'load', 'soak', 'stress']);
    assert.equal(inputs.run_scenarios!.type, 'boolean');
    assert.equal(workflow.env?.ARTILLERY_DISABLE_TELEMETRY, '1');
  });

  test('references only npm scripts that exist in package.json', () => {
    const commands = npmCommands();
    assert.ok(commands.length > 5, `found ${commands.join(', ')}`);
    const builtins = new Set(['ci', 'install', 'test', 'start']);
    for (const command of commands) {
      if (command.startsWith('run ')) {
        const script = command.slice(4);
        assert.ok(scripts[script], `npm run ${script}: no such script in package.json`);
      } else {
        assert.ok(builtins.has(command), `npm ${command}: not an npm command this suite uses`);
        if (command === 'test' || command === 'start') assert.ok(scripts[command], `npm ${command}`);
      }
    }
    for (const required of [
      'ci',
      'run validate',
      'run typecheck',
      'run test:unit',
      'run loadtest',
      'run report',
    ])
      assert.ok(commands.includes(required), `the workflow runs npm ${required}`);
  });

  test('every action is pinned to a full commit SHA', () => {
    const uses = steps.flatMap((s) => (s.uses ? [s.uses] : []));
    assert.ok(uses.length >= 5);
    for (const use of uses)
      assert.match(use, /^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/, `${use} is not pinned by SHA`);
    for (const action of ['actions/checkout', 'actions/setup-node', 'actions/upload-artifact'])
      assert.ok(
        uses.some((u) => u.startsWith(`${action}@`)),
        `${action} is used`,
      );
  });

  test('every failed threshold of junit.xml becomes an annotation, in the smoke and dispatch jobs', () => {
    for (const job of ['smoke', 'dispatch']) {
      const jobSteps = workflow.jobs[job]!.steps;
      const report = jobSteps.findIndex((s) => /npm run report/.test(s.run ?? ''));
      const annotate = jobSteps.findIndex((s) =>
        /node dist\/scripts\/junit-annotations\.js .*junit\.xml/.test(s.run ?? ''),
      );
      assert.ok(
        report >= 0 && annotate > report,
        `${job}: annotations after the report that writes junit.xml`,
      );
      assert.equal(jobSteps[annotate]!.if, 'always()', `${job}: annotated when the gate failed too`);
    }
    assert.ok(existsSync(resolve(ROOT, 'scripts', 'junit-annotations.ts')));
  });

  test('smoke run with the gate, reports and JUnit uploaded even when the gate fails', () => {
    const smoke = workflow.jobs.smoke!;
    const run = smoke.steps.find((s) => /npm run loadtest -- --profile smoke/.test(s.run ?? ''));
    assert.ok(run && run.if === undefined, 'the smoke run step fails the job when a threshold fails');
    const report = smoke.steps.find((s) => /npm run report/.test(s.run ?? ''));
    assert.equal(report?.if, 'always()');
    const upload = smoke.steps.find((s) => s.uses?.startsWith('actions/upload-artifact@'));
    assert.equal(upload?.if, 'always()');
    assert.equal(
      upload?.with?.path,
      'results/',
      'results folder holds output.json, report.md/html and junit.xml',
    );
  });

  test('credentials come from repository secrets only', () => {
    const dispatch = workflow.jobs.dispatch!;
    for (const name of ['SERVICE_API_KEY', 'API_JWT_SECRET'])
      assert.equal(dispatch.env?.[name], `\${{ secrets.${name} }}`);
    // No literal secret-looking assignment anywhere else in the file.
    assert.doesNotMatch(text, /(SERVICE_API_KEY|API_JWT_SECRET|ADMIN_JWT):\s*(?!\$\{\{ secrets\.)\S/);
  });

  test('a job brings up the compose stack and checks metrics in InfluxDB', () => {
    const stack = workflow.jobs['metrics-stack']!;
    assert.equal(stack.env?.COMPOSE_FILE, 'docker-compose.loadtest.yml');
    assert.ok(existsSync(resolve(ROOT, stack.env!.COMPOSE_FILE!)));
    const all = stack.steps.map((s) => s.run ?? '').join('\n');
    assert.match(all, /docker compose up -d/);
    assert.match(all, /docker compose run --rm .*runner/);
    assert.match(all, /8086\/query/);
    assert.match(all, /docker compose down -v/);
  });
});

const toolingNode = (
  JSON.parse(readFileSync(resolve(ROOT, 'tooling', 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  }
).dependencies.node!;

describe('one supported Node everywhere', () => {
  test('the pinned `node` package is Node 24, above the engines floor (Artillery needs 22.18)', () => {
    assert.match(toolingNode, /^24\.\d+\.\d+$/);
    const engines = (
      JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }
    ).engines.node;
    assert.equal(engines, '>=22.18.0');
  });

  test('workflow containers, setup-node and the compose images carry the same Node', () => {
    const containers = Object.values(workflow.jobs).flatMap((j) => (j.container ? [j.container] : []));
    assert.ok(containers.length >= 3);
    for (const image of containers) assert.equal(image, `node:${toolingNode}-bookworm`);
    const setupNode = steps.filter((s) => s.uses?.startsWith('actions/setup-node@'));
    for (const step of setupNode) assert.equal(step.with?.['node-version'], toolingNode);
    const compose = parse(readFileSync(resolve(ROOT, 'docker-compose.loadtest.yml'), 'utf8')) as {
      services: Record<string, { image?: string }>;
    };
    const nodeImages = Object.values(compose.services).flatMap((svc) =>
      svc.image?.startsWith('node:') ? [svc.image] : [],
    );
    assert.deepEqual(nodeImages, [`node:${toolingNode}-bookworm-slim`, `node:${toolingNode}-bookworm-slim`]);
    assert.ok(
      readFileSync(resolve(ROOT, 'docs', 'DISTRIBUTED.md'), 'utf8').includes(
        `node:${toolingNode}-bookworm-slim`,
      ),
      'the Kubernetes image in docs/DISTRIBUTED.md',
    );
    assert.doesNotMatch(text, /node-version: "?20|node:20/);
  });
});

describe('Compose v2 (`docker compose`) in the docs and the workflow', () => {
  // Debian 12 packages only Compose v1, so .ci/run and the tests keep `docker-compose config -q` as
  // the validator that exists here; what a person or the workflow runs is v2.
  const v1Command = /docker-compose\s+(-f|up|run|down|logs|ps|pull|exec)\b/;
  test('no v1 command in README, docs, the compose file or the workflow', () => {
    const files = [
      'README.md',
      'docker-compose.loadtest.yml',
      '.github/workflows/loadtest.yml',
      ...readdirSync(resolve(ROOT, 'docs')).map((f) => `docs/${f}`),
    ];
    for (const file of files.filter((f) => f.endsWith('.md') || f.endsWith('.yml')))
      assert.doesNotMatch(readFileSync(resolve(ROOT, file), 'utf8'), v1Command, file);
    assert.match(text, /docker compose up -d/);
  });
});

describe('junit.xml as workflow annotations', () => {
  const xml = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="loadtest r1" tests="3" failures="1" skipped="1">
  <testsuite name="llm-proxy" tests="3" failures="1" skipped="1" time="4">
    <testcase classname="loadtest.llm-proxy" name="llm.proxy_overhead_ms.p99 &lt; 250">
      <failure message="FAILED (latency): 312, limit 250" type="latency">llm.proxy_overhead_ms.p99 &lt; 250 failed</failure>
    </testcase>
    <testcase classname="loadtest.llm-proxy" name="llm.ttft_ms.p99 &lt; 2000">
      <skipped message="INCONCLUSIVE: n=3 &lt; 20, max 80"/>
    </testcase>
    <testcase classname="loadtest.llm-proxy" name="http.codes ok"></testcase>
  </testsuite>
</testsuites>
`;

  test('a failed threshold is an error, an inconclusive one a notice, a pass nothing', () => {
    const annotations = junitAnnotations(xml, (scenario) => `scenarios/${scenario}.yml`);
    assert.deepEqual(annotations, [
      {
        level: 'error',
        title: 'llm-proxy: llm.proxy_overhead_ms.p99 < 250',
        message: 'FAILED (latency): 312, limit 250',
        file: 'scenarios/llm-proxy.yml',
      },
      {
        level: 'notice',
        title: 'llm-proxy: llm.ttft_ms.p99 < 2000',
        message: 'INCONCLUSIVE: n=3 < 20, max 80',
        file: 'scenarios/llm-proxy.yml',
      },
    ]);
  });

  test('the workflow command escapes what GitHub would read as syntax', () => {
    assert.equal(
      workflowCommand({
        level: 'error',
        title: 'a: b, c',
        message: '50% over\nlimit',
        file: 'scenarios/x.yml',
      }),
      '::error file=scenarios/x.yml,title=a%3A b%2C c::50%25 over%0Alimit',
    );
    assert.deepEqual(junitAnnotations('<testsuites></testsuites>'), []);
  });
});
