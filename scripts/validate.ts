import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { ROOT } from './lib/paths';
import { loadArtilleryValidator } from './lib/validate/artillery-schema';
import { validateScenarioFile } from './lib/validate/validate-scenario';

/**
 * `npm run validate [files...]`: offline checks of every scenario (like `k6 inspect`): YAML
 * parses, Artillery's script schema, processor functions exist in the built processors, payload
 * files exist, every threshold names a metric the scenario can emit. Exit 1 on any problem.
 */
async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const files =
    args.length > 0
      ? args.map((f) => resolve(f))
      : readdirSync(join(ROOT, 'scenarios'))
          .filter((f) => /\.ya?ml$/.test(f))
          .sort()
          .map((f) => join(ROOT, 'scenarios', f));
  if (files.length === 0) {
    process.stderr.write('no scenario files found\n');
    return 2;
  }
  const artilleryValidate = await loadArtilleryValidator();
  if (!artilleryValidate)
    process.stdout.write("note: Artillery's validate-script not found; using the suite's schema only\n");
  let failed = 0;
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      process.stdout.write(`FAIL ${file}: ${(error as Error).message}\n`);
      failed += 1;
      continue;
    }
    const { problems } = validateScenarioFile(file, text, artilleryValidate);
    const name = relative(process.cwd(), file) || file;
    if (problems.length === 0) process.stdout.write(`ok   ${name}\n`);
    else {
      failed += 1;
      process.stdout.write(`FAIL ${name}\n${problems.map((p) => `     - ${p}`).join('\n')}\n`);
    }
  }
  process.stdout.write(`${files.length - failed}/${files.length} scenario(s) valid\n`);
  return failed > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`validate failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 2;
  },
);
