import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

/** Inodes of the sockets a process holds open: its /proc/<pid>/fd links read `socket:[inode]`. */
function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match?.[1]) inodes.add(match[1]);
    } catch {
      // closed while we looked
    }
  }
  return inodes;
}

const rows = (pid: number, table: string) =>
  readFileSync(`/proc/${pid}/net/${table}`, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .map((columns) => (index: number) => columns[index] ?? '');

const TCP_LISTEN = '0A';
const UNIX_ACCEPTING = 0x10000; // __SO_ACCEPTCON in the Flags column: a listening socket

/**
 * What a process listens on (Linux). /proc/<pid>/net/{tcp,tcp6,unix} list every socket of its
 * network namespace, not only its own; its own are those whose inode it holds a descriptor for.
 * TCP listeners are given as `address:port` in the kernel's hex, Unix ones by path.
 */
export function listeningSockets(pid: number): { tcp: string[]; unix: string[] } {
  const own = socketInodes(pid);
  const tcp = ['tcp', 'tcp6']
    .flatMap((table) => rows(pid, table))
    .filter((column) => column(3) === TCP_LISTEN && own.has(column(9)))
    .map((column) => column(1));
  const unix = rows(pid, 'unix')
    .filter((column) => own.has(column(6)) && (parseInt(column(3), 16) & UNIX_ACCEPTING) !== 0)
    .map((column) => column(7));
  return { tcp, unix };
}

/** The parent of a process, from field 4 of /proc/<pid>/stat. */
export function parentPid(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]); // after the name: state, ppid
}

/** This process's threads and their nice values (field 19 of /proc/self/task/<tid>/stat). */
export function threadNiceValues(): { tid: number; nice: number }[] {
  return readdirSync('/proc/self/task').flatMap((tid) => {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      return [
        { tid: Number(tid), nice: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]) },
      ];
    } catch {
      return []; // the thread ended while we looked
    }
  });
}

/** A process's children and their command lines (Linux), e.g. to see that none outlives a stop. */
export function childProcesses(pid: number): { pid: number; argv: string[] }[] {
  return readdirSync('/proc').flatMap((entry) => {
    if (!/^\d+$/.test(entry)) return [];
    try {
      if (parentPid(Number(entry)) !== pid) return [];
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').slice(0, -1);
      return [{ pid: Number(entry), argv }];
    } catch {
      return []; // it ended while we looked
    }
  });
}
