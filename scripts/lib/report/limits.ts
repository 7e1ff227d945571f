/**
 * Reading gate limits out of ensure expressions. Limits are literal numbers in the scenario's
 * `config.ensure.conditions` (the runner rewrites them for a limit setting), so the expression a
 * check ran with is the only source of the limit it compared against: the report draws it, the
 * Grafana dashboards draw it, and neither keeps a copy that could drift.
 */

/** Below this many samples a percentile check written with the few-samples guard is inconclusive. */
export const MIN_SAMPLES = 20;

const NAME = String.raw`[A-Za-z_$][A-Za-z0-9_$\-/]*(?:\.[A-Za-z0-9_$\-/]+)*`;
const NUMBER = String.raw`-?\d+(?:\.\d+)?`;
const AGGREGATION = /^(.+)\.(p\d+|max|min|mean|median)$/;

/** One comparison of a metric with a literal number, e.g. `llm.latency_ms.p99 < 2000`. */
export interface Comparison {
  /** The metric as ensure reads it (`llm.latency_ms.p99`). */
  metric: string;
  op: '<' | '<=' | '>' | '>=' | '==' | '!=';
  value: number;
}

/** A comparison on a summary aggregation: which summary, which aggregation. */
export interface PercentileLimit extends Comparison {
  summary: string;
  aggregation: string;
}

/** `[...or] <m>.count < N or <m>.<agg> < L`: a percentile judged only when there are N samples. */
export interface GuardedPercentile extends PercentileLimit {
  minSamples: number;
}

const COMPARISON = new RegExp(`^\\s*(${NAME})\\s*(<=|>=|==|!=|<|>)\\s*(${NUMBER})\\s*$`);

function stripParens(text: string): string {
  let t = text.trim();
  while (t.startsWith('(') && t.endsWith(')') && balanced(t.slice(1, -1))) t = t.slice(1, -1).trim();
  return t;
}

function balanced(text: string): boolean {
  let depth = 0;
  for (const c of text) {
    if (c === '(') depth++;
    else if (c === ')' && --depth < 0) return false;
  }
  return depth === 0;
}

/** The expression split on a top-level keyword (`or` / `and`), parentheses respected. */
function splitTopLevel(expression: string, keyword: 'or' | 'and'): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  const pattern = new RegExp(`\\s${keyword}\\s`, 'y');
  for (let i = 0; i < expression.length; i++) {
    const c = expression[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (depth === 0) {
      pattern.lastIndex = i;
      const match = pattern.exec(expression);
      if (match) {
        parts.push(expression.slice(start, i));
        start = i + match[0].length;
        i = start - 1;
      }
    }
  }
  parts.push(expression.slice(start));
  return parts.map(stripParens);
}

export function parseComparison(text: string): Comparison | undefined {
  const match = COMPARISON.exec(stripParens(text));
  if (!match) return undefined;
  return { metric: match[1]!, op: match[2] as Comparison['op'], value: Number(match[3]) };
}

function asPercentile(c: Comparison | undefined): PercentileLimit | undefined {
  const match = c ? AGGREGATION.exec(c.metric) : null;
  return c && match ? { ...c, summary: match[1]!, aggregation: match[2]! } : undefined;
}

/** The few-samples form of a percentile check, when the expression is written that way. */
export function guardedPercentile(expression: string): GuardedPercentile | undefined {
  // Guards before the sample guard (`<step reached> < attempts or ...`) only make it pass vacuously.
  const parts = splitTopLevel(expression, 'or');
  if (parts.length < 2) return undefined;
  const guard = parseComparison(parts[parts.length - 2]!);
  const limit = asPercentile(parseComparison(parts[parts.length - 1]!));
  if (!guard || !limit || guard.op !== '<' || guard.metric !== `${limit.summary}.count`) return undefined;
  return { ...limit, minSamples: guard.value };
}

/**
 * The comparison that carries the limit: the whole expression when it is one, else the last
 * alternative of an `or` (guards such as `llm.success == 0 or ...` come first).
 */
export function limitComparison(expression: string): Comparison | undefined {
  const whole = parseComparison(expression);
  if (whole) return whole;
  const parts = splitTopLevel(expression, 'or');
  return parts.length > 1 ? parseComparison(parts[parts.length - 1]!) : undefined;
}

/** The last alternative of a top-level `or` (the comparison its guards protect). */
export function lastAlternative(expression: string): string {
  const parts = splitTopLevel(expression, 'or');
  return parts[parts.length - 1]!;
}

/** The percentile (or max/mean) limit an expression states, if it states one. */
export function percentileLimit(expression: string): PercentileLimit | undefined {
  return guardedPercentile(expression) ?? asPercentile(limitComparison(expression));
}

/** `left op number` where left is arithmetic over metrics (`llm.success / llm.attempts * 100 > 95`). */
export function ratioComparison(
  expression: string,
): { left: string; op: Comparison['op']; value: number } | undefined {
  const match = new RegExp(`^\\s*(.+?)\\s*(<=|>=|==|!=|<|>)\\s*(${NUMBER})\\s*$`).exec(
    stripParens(expression),
  );
  if (!match || /\s(or|and)\s/.test(match[1]!)) return undefined;
  return { left: match[1]!, op: match[2] as Comparison['op'], value: Number(match[3]) };
}

/**
 * Value of `+ - * /` arithmetic over metric names and numbers; undefined when a metric is missing
 * or the text is anything else (filtrex functions and keywords are not evaluated here).
 */
export function evaluateArithmetic(text: string, values: Record<string, number>): number | undefined {
  const tokens = text.match(new RegExp(`${NAME}|${NUMBER.replace('-?', '')}|[-+*/()]|\\S`, 'g')) ?? [];
  let i = 0;
  const atom = (): number | undefined => {
    const token = tokens[i++];
    if (token === undefined) return undefined;
    if (token === '(') {
      const inner = sum();
      return tokens[i++] === ')' ? inner : undefined;
    }
    if (token === '-') {
      const v = atom();
      return v === undefined ? undefined : -v;
    }
    if (/^\d/.test(token)) return Number(token);
    if (/^[A-Za-z_$]/.test(token)) return values[token];
    return undefined;
  };
  const product = (): number | undefined => {
    let v = atom();
    while (v !== undefined && (tokens[i] === '*' || tokens[i] === '/')) {
      const op = tokens[i++];
      const r = atom();
      if (r === undefined) return undefined;
      v = op === '*' ? v * r : v / r;
    }
    return v;
  };
  const sum = (): number | undefined => {
    let v = product();
    while (v !== undefined && (tokens[i] === '+' || tokens[i] === '-')) {
      const op = tokens[i++];
      const r = product();
      if (r === undefined) return undefined;
      v = op === '+' ? v + r : v - r;
    }
    return v;
  };
  const result = sum();
  return i === tokens.length && result !== undefined && Number.isFinite(result) ? result : undefined;
}
