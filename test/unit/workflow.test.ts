import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
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
  needs?: string | string[];
  if?: string;
  env?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  on: {
    push?: unknown;
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
  test('parses and runs on push, pull_request and workflow_dispatch with the documented inputs', () => {
    assert.ok(workflow.on.push !== undefined && workflow.on.pull_request !== undefined);
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
