/** Metrics Artillery itself emits (engines and built-in plugins), as patterns over full names. */
const BUILT_IN = [
  /^http\.(requests|responses|request_rate|downloaded_bytes|response_time(\.[1-5]xx)?|codes\.\d{3})$/,
  /^http\.(dns|tcp|tls|total|first_byte)$/,
  /^errors\.\S+$/,
  /^vusers\.(created|completed|failed|skipped|session_length)$/,
  /^vusers\.created_by_name\.\S+$/,
  /^plugins\.metrics-by-endpoint\..+$/,
  /^websocket\.[a-z_.]+$/,
  /^browser\.\S+$/,
  /^apdex\.[a-z_]+$/,
];

const AGGREGATIONS = ['min', 'max', 'count', 'mean', 'p50', 'median', 'p75', 'p90', 'p95', 'p99', 'p999'];

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^\\s]+');
  return new RegExp(`^${escaped}$`);
}

/** A set of metric names a scenario can emit: Artillery's plus its processor's EMITTED_METRICS. */
export class EmittableMetrics {
  private readonly patterns: RegExp[];

  constructor(declared: readonly string[]) {
    this.patterns = [...BUILT_IN, ...declared.map(globToRegExp)];
  }

  private matches(name: string): boolean {
    return this.patterns.some((p) => p.test(name));
  }

  /** True when the name, or the name without an aggregation suffix (`.p95`), can be emitted. */
  canEmit(reference: string): boolean {
    if (this.matches(reference)) return true;
    const dot = reference.lastIndexOf('.');
    if (dot < 0) return false;
    const suffix = reference.slice(dot + 1);
    return AGGREGATIONS.includes(suffix) && this.matches(reference.slice(0, dot));
  }
}
