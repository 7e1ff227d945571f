// The subset of autocannon 9 (which ships no types) that bench/lib/autocannon.ts uses.
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';

  interface AutocannonOptions {
    url: string;
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    connections?: number;
    duration?: number;
    overallRate?: number;
    connectionRate?: number;
    ignoreCoordinatedOmission?: boolean;
    timeout?: number;
  }

  interface AutocannonResult {
    duration: number;
    errors: number;
    timeouts: number;
    non2xx: number;
    requests: { total: number; average: number };
    latency: { p50: number; p99: number; average: number; max: number };
  }

  type Instance = EventEmitter & Promise<AutocannonResult>;

  function autocannon(options: AutocannonOptions): Instance;
  export = autocannon;
}
