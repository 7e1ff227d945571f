import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU and memory of processes read from /proc, so that a load generator is measured from the
 * outside (no instrumentation inside Artillery). /proc/<pid>/stat counts every thread of the
 * process, worker threads included; /proc/<pid>/status has the resident set and its high-water mark.
 */

/** Linux clock ticks per second (`getconf CLK_TCK`); 100 on every mainstream kernel. */
const CLOCK_TICKS_PER_SECOND = 100;

export interface ProcSample {
  /** Epoch ms. */
  at: number;
  /** utime + stime of the whole process (all threads), in seconds. */
  cpuSeconds: number;
  rssMb: number;
  /** VmHWM: peak resident set since the process started. */
  peakRssMb: number;
  threads: number;
}

export interface ProcSeries {
  pid: number;
  label: string;
  samples: ProcSample[];
}

export interface UsageSummary {
  pid: number;
  label: string;
  samples: number;
  /** Mean CPU over the window, in % of one core (200 = both cores of this machine). */
  cpuPct: number;
  /** CPU seconds used inside the window. */
  cpuSeconds: number;
  /** CPU seconds over the whole life of the process (start-up included), at the last sample. */
  lifetimeCpuSeconds: number;
  rssMeanMb: number;
  rssPeakMb: number;
  threadsMax: number;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Fields of /proc/<pid>/stat after the command name (which may itself contain spaces and parentheses). */
function statFields(pid: number): string[] | undefined {
  const text = readText(`/proc/${pid}/stat`);
  if (!text) return undefined;
  return text
    .slice(text.lastIndexOf(')') + 2)
    .trim()
    .split(' ');
}

export function readSample(pid: number): ProcSample | undefined {
  const fields = statFields(pid);
  const status = readText(`/proc/${pid}/status`);
  if (!fields || !status) return undefined;
  // After the name: [0] state, [1] ppid, ... [11] utime, [12] stime (stat fields 14 and 15).
  const ticks = Number(fields[11]) + Number(fields[12]);
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return {
    at: Date.now(),
    cpuSeconds: ticks / CLOCK_TICKS_PER_SECOND,
    rssMb: kb('VmRSS') / 1024,
    peakRssMb: kb('VmHWM') / 1024,
    threads: Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? 0),
  };
}

export interface MachineSample {
  at: number;
  /** Jiffies all cores spent busy / in total since boot (/proc/stat `cpu` line). */
  busy: number;
  total: number;
}

/** The whole machine's CPU counters: other work on a shared machine shows here, not in a pid. */
export function readMachineSample(): MachineSample | undefined {
  const line = readText('/proc/stat')?.split('\n')[0];
  if (!line?.startsWith('cpu ')) return undefined;
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal ...: idle and iowait are the idle ones.
  const total = values.slice(0, 8).reduce((sum, v) => sum + v, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { at: Date.now(), busy: total - idle, total };
}

/** Busy share of all cores inside [fromMs, toMs], in % (100 = every core busy). */
export function machineBusyPct(
  samples: MachineSample[],
  fromMs = 0,
  toMs = Number.POSITIVE_INFINITY,
): number {
  const inWindow = samples.filter((s) => s.at >= fromMs && s.at <= toMs);
  const used = inWindow.length >= 2 ? inWindow : samples;
  if (used.length < 2) return 0;
  const first = used[0]!;
  const last = used[used.length - 1]!;
  const total = last.total - first.total;
  return total > 0 ? ((last.busy - first.busy) / total) * 100 : 0;
}

function cmdlineOf(pid: number): string {
  return (readText(`/proc/${pid}/cmdline`) ?? '').split('\0').join(' ').trim();
}

/** Every live descendant of `root` (root included). */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const ppid = Number(statFields(Number(name))?.[1]);
    if (!Number.isFinite(ppid)) continue;
    const list = children.get(ppid) ?? [];
    list.push(Number(name));
    children.set(ppid, list);
  }
  const tree: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    tree.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/**
 * Samples, every `intervalMs`, every process under `root` whose command line `label` names
 * (undefined = not of interest). Processes are found while they run, so one sampler follows
 * Artillery processes a runner starts and stops on its own.
 */
export class ProcessTreeSampler {
  private readonly series = new Map<number, ProcSeries>();
  private readonly ignored = new Set<number>();
  readonly machine: MachineSample[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly root: number,
    private readonly label: (cmdline: string, pid: number) => string | undefined,
    private readonly intervalMs = 500,
  ) {}

  start(): this {
    this.tick();
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    return this;
  }

  stop(): ProcSeries[] {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    return [...this.series.values()].filter((s) => s.samples.length > 0);
  }

  private tick(): void {
    const machine = readMachineSample();
    if (machine) this.machine.push(machine);
    for (const pid of processTree(this.root)) {
      if (this.ignored.has(pid)) continue;
      let entry = this.series.get(pid);
      if (!entry) {
        const label = this.label(cmdlineOf(pid), pid);
        if (label === undefined) {
          this.ignored.add(pid);
          continue;
        }
        entry = { pid, label, samples: [] };
        this.series.set(pid, entry);
      }
      const sample = readSample(pid);
      if (sample) entry.samples.push(sample);
    }
  }
}

/** Samples one known process (the simulator, a server) by pid. */
export function sampleProcess(pid: number, label: string, intervalMs = 500): ProcessTreeSampler {
  return new ProcessTreeSampler(pid, (_cmdline, found) => (found === pid ? label : undefined), intervalMs);
}

/**
 * CPU and memory of one process inside [fromMs, toMs] (epoch ms; the whole series when absent):
 * CPU between the first and last sample in the window, so start-up and report writing outside
 * the window do not count.
 */
export function summarize(series: ProcSeries, fromMs = 0, toMs = Number.POSITIVE_INFINITY): UsageSummary {
  const inWindow = series.samples.filter((s) => s.at >= fromMs && s.at <= toMs);
  const samples = inWindow.length >= 2 ? inWindow : series.samples;
  const first = samples[0]!;
  const last = samples[samples.length - 1]!;
  const wallSeconds = (last.at - first.at) / 1000;
  const cpuSeconds = last.cpuSeconds - first.cpuSeconds;
  const all = series.samples;
  return {
    pid: series.pid,
    label: series.label,
    samples: samples.length,
    cpuPct: wallSeconds > 0 ? (cpuSeconds / wallSeconds) * 100 : 0,
    cpuSeconds,
    lifetimeCpuSeconds: all[all.length - 1]!.cpuSeconds,
    rssMeanMb: samples.reduce((sum, s) => sum + s.rssMb, 0) / samples.length,
    rssPeakMb: Math.max(...all.map((s) => s.peakRssMb)),
    threadsMax: Math.max(...all.map((s) => s.threads)),
  };
}

/** Label function for Artillery processes: the scenario file's base name, from the command line. */
export function artilleryLabel(cmdline: string): string | undefined {
  if (!/artillery[/\\]bin[/\\]run\b/.test(cmdline)) return undefined;
  return /([\w.-]+)\.ya?ml\b/.exec(cmdline)?.[1] ?? 'artillery';
}

/** Runs `work` and tells the machine's busy share meanwhile (all cores), %. */
export async function withMachineBusy<T>(
  work: () => Promise<T>,
): Promise<{ value: T; machineCpuPct: number }> {
  const before = readMachineSample();
  const value = await work();
  const after = readMachineSample();
  const machineCpuPct = before && after ? machineBusyPct([before, after]) : 0;
  return { value, machineCpuPct };
}
