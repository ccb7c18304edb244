import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';

/** What the figures were measured on: they mean little without it. */
export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  os: string;
  /** 1, 5 and 15 minute load averages when the benchmark started. */
  loadAverage: [number, number, number];
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  const [l1 = 0, l5 = 0, l15 = 0] = os.loadavg();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    loadAverage: [l1, l5, l15],
  };
}

export const loadAverage = () => os.loadavg().map((l) => Math.round(l * 100) / 100) as [number, number, number];

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** CPU time (user + system) a process has used, in ms, from /proc (Linux). */
export function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return ((utime + stime) * 1000) / clockTicks();
  } catch {
    return undefined;
  }
}

/** Resident memory now and at its peak (VmHWM), in MiB. */
export function processMemoryMiB(pid: number): { rss: number; peak: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
    return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

/** Busy and total jiffies of the whole machine, from /proc/stat. */
export function machineCpuTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const [, ...values] = line.trim().split(/\s+/);
  const n = values.map(Number);
  const idle = (n[3] ?? 0) + (n[4] ?? 0);
  const total = n.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** Descendant processes of `root` whose command name matches, e.g. the Temporal dev server the SDK spawned. */
export function descendantPids(root: number, name: RegExp): number[] {
  const parents = new Map<number, number>();
  const names = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(Number(entry), ppid);
      names.set(Number(entry), comm);
    } catch {
      // the process ended while we looked
    }
  }
  const isDescendant = (pid: number): boolean => {
    for (let p = parents.get(pid); p !== undefined && p > 1; p = parents.get(p)) if (p === root) return true;
    return false;
  };
  return [...names].filter(([pid, comm]) => name.test(comm) && isDescendant(pid)).map(([pid]) => pid);
}

/**
 * Samples CPU use of some processes and of the machine between `start()` and `stop()`:
 * percentages of one core for processes, of all cores for the machine.
 */
export function cpuMeter(pids: Record<string, number | undefined>) {
  let t0 = 0;
  let p0: Record<string, number | undefined> = {};
  let m0 = machineCpuTicks();
  return {
    start() {
      t0 = performance.now();
      p0 = Object.fromEntries(
        Object.entries(pids).map(([k, pid]) => [k, pid === undefined ? undefined : processCpuMs(pid)]),
      );
      m0 = machineCpuTicks();
    },
    stop(): { processes: Record<string, number | undefined>; machine: number; seconds: number } {
      const elapsed = performance.now() - t0;
      const m1 = machineCpuTicks();
      const processes = Object.fromEntries(
        Object.entries(pids).map(([k, pid]) => {
          const before = p0[k];
          const after = pid === undefined ? undefined : processCpuMs(pid);
          return [k, before === undefined || after === undefined ? undefined : ((after - before) / elapsed) * 100];
        }),
      );
      const machine = ((m1.busy - m0.busy) / Math.max(1, m1.total - m0.total)) * 100;
      return { processes, machine, seconds: elapsed / 1000 };
    },
  };
}
