/**
 * `Server-Timing` (W3C): `name;dur=12.3;desc="text", other;dur=4`. The simulator (and any proxy
 * that follows the convention) reports `upstream` = time spent waiting for the model and `app` =
 * its own work, which makes proxy overhead exact instead of estimated. Anything unparseable is
 * dropped entry by entry: a garbled header must degrade to "no header", never to a wrong number.
 */

export interface ServerTimingEntry {
  name: string;
  durMs?: number;
  desc?: string;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Splits on `sep` outside double-quoted strings. */
function splitOutsideQuotes(text: string, sep: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\\' && quoted && i + 1 < text.length) {
      current += ch + text[i + 1];
      i++;
      continue;
    }
    if (ch === '"') quoted = !quoted;
    if (ch === sep && !quoted) {
      parts.push(current);
      current = '';
      continue;
    }
    current += ch;
  }
  parts.push(current);
  return parts;
}

function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"'))
    return value.slice(1, -1).replace(/\\(.)/g, '$1');
  return value;
}

/** Parses one or more Server-Timing header values (node joins repeated headers with ", "). */
export function parseServerTiming(header: string | readonly string[] | undefined): ServerTimingEntry[] {
  if (header === undefined) return [];
  const text = typeof header === 'string' ? header : header.join(', ');
  const entries: ServerTimingEntry[] = [];
  for (const rawMetric of splitOutsideQuotes(text, ',')) {
    const [rawName, ...rawParams] = splitOutsideQuotes(rawMetric, ';');
    const name = (rawName ?? '').trim();
    if (!TOKEN.test(name)) continue;
    const entry: ServerTimingEntry = { name };
    for (const rawParam of rawParams) {
      const eq = rawParam.indexOf('=');
      const key = (eq < 0 ? rawParam : rawParam.slice(0, eq)).trim().toLowerCase();
      const value = eq < 0 ? '' : unquote(rawParam.slice(eq + 1).trim());
      // The spec keeps the first occurrence of a parameter.
      if (key === 'dur' && entry.durMs === undefined) {
        const dur = value === '' ? Number.NaN : Number(value);
        if (Number.isFinite(dur) && dur >= 0) entry.durMs = dur;
      } else if (key === 'desc' && entry.desc === undefined) entry.desc = value;
    }
    entries.push(entry);
  }
  return entries;
}

/** Duration of the first entry with that name that carries a valid `dur`. */
export function serverTimingDuration(
  entries: readonly ServerTimingEntry[],
  name: string,
): number | undefined {
  return entries.find((e) => e.name === name && e.durMs !== undefined)?.durMs;
}
