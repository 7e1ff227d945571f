/**
 * Reads a target's settings file (`--target <env file>`): `NAME=value` lines, `#` comments,
 * optional `export ` prefix and single or double quotes. A line that is none of these is an error
 * naming the line, never skipped: a typo must not silently fall back to a default target.
 */
export type EnvFileResult = { ok: true; env: Record<string, string> } | { ok: false; problems: string[] };

const LINE = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/;

export function parseEnvFile(text: string, fileName: string): EnvFileResult {
  const env: Record<string, string> = {};
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const match = LINE.exec(line);
    if (!match) {
      problems.push(`${fileName}:${index + 1}: not a NAME=value line`);
      return;
    }
    let value = match[2]!.trim();
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.length >= 2 && value.endsWith(quote)) {
      value = value.slice(1, -1);
    } else if (quote === '"' || quote === "'") {
      problems.push(`${fileName}:${index + 1}: ${match[1]}: unterminated quote`);
      return;
    } else {
      value = value.replace(/\s+#.*$/, '');
    }
    env[match[1]!] = value;
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, env };
}
