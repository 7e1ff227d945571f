/**
 * The shape of bench/results/<timestamp>.json. Every figure is measured in the same run, so its
 * numbers can be compared with each other; a figure that could not be measured carries `error`.
 */

export interface Quantiles {
  p50: number;
  p99: number;
}

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGb: number;
  os: string;
  node: string;
  artillery: string;
  wrk: string;
  autocannon: string;
  /** 1-minute load average when the bench started (other work on the machine inflates figures). */
  loadAverageAtStart: number;
}

export type Tool = 'artillery' | 'wrk' | 'autocannon';

/** Client-side vs server-side time of the same requests, for one tool at one load. */
export interface FidelityPoint {
  tool: Tool;
  users: number;
  durationSeconds: number;
  requests: number;
  serverRequests: number;
  requestsPerSecond: number;
  clientMs: Quantiles;
  serverMs: Quantiles;
  /** Client minus server: what the generator and the loopback add to what is measured. */
  differenceMs: Quantiles;
  serverInFlightMax: number | null;
  /** CPU of the generator while the load ran, % of one core (Artillery only; wrk/autocannon as null). */
  generatorCpuPct: number | null;
  /** The whole machine's busy share meanwhile (all cores, others' work included), %. */
  machineCpuPct: number;
  command: string;
}

export interface FidelityWorkload {
  route: string;
  artillery: FidelityPoint;
  wrk: FidelityPoint;
  autocannon: FidelityPoint;
  /** Artillery's p99 difference divided by wrk's: how much more than a C generator it adds. */
  artilleryToWrkP99DifferenceRatio: number;
}

export interface FidelityFigure {
  llm: FidelityWorkload;
  chat: FidelityWorkload;
}

export interface GeneratorProcess {
  scenario: string;
  cpuPct: number;
  cpuSeconds: number;
  rssMeanMb: number;
  rssPeakMb: number;
  threadsMax: number;
}

export interface GeneratorCostFigure {
  command: string;
  durationSeconds: number;
  exitCode: number | null;
  processes: GeneratorProcess[];
  /** All Artillery processes together, over the window in which any of them sent load. */
  totalCpuPct: number;
  /** Sum of the processes' peaks. */
  totalRssPeakMb: number;
  /** totalCpuPct over the machine's capacity (cores × 100 %). */
  shareOfMachinePct: number;
}

export interface CeilingLevel {
  users: number;
  requestsPerSecond: number;
  /** users / (think time + server mean): the rate an unhindered generator would send. */
  expectedRequestsPerSecond: number;
  achievedRatio: number;
  clientMs: Quantiles;
  serverMs: Quantiles;
  differenceMs: Quantiles;
  generatorCpuPct: number;
  simulatorCpuPct: number;
  /** The whole machine's busy share (all cores, others' work included): contention shows here. */
  machineCpuPct: number;
}

export interface CeilingFigure {
  command: string;
  thinkTimeMs: number;
  toleranceMs: number;
  levels: CeilingLevel[];
  /** Highest level whose p99 difference stayed within the tolerance (null: none did). */
  ceilingUsers: number | null;
  /** First level where the generator fell behind (null: none of the levels). */
  saturationUsers: number | null;
  saturationCause: string;
}

export interface CapacityRoute {
  route: string;
  requestsPerSecond: number;
  /** This route's requests/s over the bare node:http server's. */
  ratioToBare: number;
  command: string;
}

export interface SimulatorCapacityFigure {
  connections: number;
  durationSeconds: number;
  bare: { requestsPerSecond: number; command: string };
  routes: CapacityRoute[];
  /**
   * At the target LLM load (100 connections, 200 ms think), wrk against the simulator vs the bare
   * server, the simulator's modelled delays set to zero: what its own code adds.
   */
  addedLatency: {
    simulatorMs: Quantiles;
    bareMs: Quantiles;
    addedMs: Quantiles;
    /** The simulator's own server time of those requests. */
    serverMs: Quantiles;
    durationSeconds: number;
    command: string;
  };
}

export interface SmokeRunFigure {
  command: string;
  wallSeconds: number;
  exitCode: number | null;
}

export interface WsSoakFigure {
  command: string;
  sessions: number;
  commandIntervalMs: number;
  durationSeconds: number;
  commandsExecuted: number;
  /** The soak profile's time (50 sockets, a command per 15 s) with as many commands. */
  equivalentSoakMinutes: number;
  rssStartMb: number;
  rssEndMb: number;
  rssPeakMb: number;
  growthPct: number;
  unexpectedCloses: number;
  /** [seconds since the first sample, RSS MB]. */
  rssSeries: [number, number][];
}

export type Figure<T> = ({ ok: true } & T) | { ok: false; error: string };

export interface BenchResults {
  startedAt: string;
  finishedAt: string;
  quick: boolean;
  wallSeconds: number;
  machine: MachineInfo;
  figures: {
    fidelity: Figure<FidelityFigure>;
    generatorCost: Figure<GeneratorCostFigure>;
    ceiling: Figure<CeilingFigure>;
    simulatorCapacity: Figure<SimulatorCapacityFigure>;
    smokeRun: Figure<SmokeRunFigure>;
    wsSoak: Figure<WsSoakFigure>;
  };
}

export type FigureName = keyof BenchResults['figures'];

/**
 * The fields each figure must carry (dotted paths), whatever their values; the bench's test
 * checks a --quick run produces all of them.
 */
export const FIGURE_FIELDS: Record<FigureName, string[]> = {
  fidelity: ['llm', 'chat'].flatMap((w) =>
    ['artillery', 'wrk', 'autocannon'].flatMap((tool) =>
      [
        'clientMs.p50',
        'clientMs.p99',
        'serverMs.p50',
        'serverMs.p99',
        'differenceMs.p50',
        'differenceMs.p99',
      ].map((f) => `${w}.${tool}.${f}`),
    ),
  ),
  generatorCost: ['totalCpuPct', 'totalRssPeakMb', 'shareOfMachinePct', 'durationSeconds'],
  ceiling: ['levels', 'ceilingUsers', 'saturationUsers', 'toleranceMs'],
  simulatorCapacity: [
    'bare.requestsPerSecond',
    'routes',
    'addedLatency.addedMs.p50',
    'addedLatency.addedMs.p99',
    'addedLatency.serverMs.p99',
  ],
  smokeRun: ['wallSeconds', 'exitCode'],
  wsSoak: ['rssStartMb', 'rssEndMb', 'growthPct', 'commandsExecuted', 'equivalentSoakMinutes'],
};
