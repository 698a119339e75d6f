/**
 * How much CPU other programs used while a run was measured, the main source of noise on a
 * shared machine: the machine's busy time (/proc/stat, steal included) minus the time of this
 * process, of the server under test and of the PostgreSQL backends serving the bench database
 * (recognised by the database name in their process title). Linux only; elsewhere it reports null.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc times (USER_HZ, 100 on every mainstream Linux build). */
const HZ = 100;

function machineBusySeconds(): number | null {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already inside user)
    const [user, nice, system, , , irq, softirq, steal] = fields;
    return (user + nice + system + irq + softirq + (steal ?? 0)) / HZ;
  } catch {
    return null;
  }
}

function processSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / HZ;
  } catch {
    return 0;
  }
}

/** Pids whose process title mentions `needle` (PostgreSQL backends show their database name). */
function pidsMentioning(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(needle)) pids.push(Number(entry));
    } catch {
      // gone already
    }
  }
  return pids;
}

export interface CpuMonitor {
  /** Average number of cores other programs kept busy since the start, or null if unknown. */
  stop(): number | null;
}

/** Starts watching; `serverPid` is the server under test, `database` the PostgreSQL database name, if any. */
export function watchCpu(serverPid: number | undefined, database?: string): CpuMonitor {
  const ours = () => {
    const pids = [...(serverPid ? [serverPid] : []), ...(database ? pidsMentioning(database) : [])];
    const self = process.cpuUsage();
    return (self.user + self.system) / 1e6 + pids.reduce((sum, pid) => sum + processSeconds(pid), 0);
  };
  const busy0 = machineBusySeconds();
  const ours0 = busy0 === null ? 0 : ours();
  const t0 = process.hrtime.bigint();
  return {
    stop() {
      const busy1 = machineBusySeconds();
      if (busy0 === null || busy1 === null) return null;
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      // NB: backends that connected during the run count from zero, so "ours" can only be
      // under-estimated by what they used before the start: close to nothing after a warm-up.
      const other = busy1 - busy0 - (ours() - ours0);
      return wall > 0 ? Math.max(0, other / wall) : null;
    },
  };
}
