// The process-tree killer: every suite and the bench kill what they started by pid, read from /proc, never by name.
import { existsSync, readdirSync, readFileSync } from 'node:fs';

/** The parent pid of a process, or 0 if it is gone. */
export function parentPid(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return 0;
  }
}

const pids = () => {
  try {
    return readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).map(Number);
  } catch {
    return [];
  }
};

/** The pids of a process's descendants, deepest first, read from /proc (children only of processes we started). */
export function descendants(pid) {
  const children = new Map();
  for (const p of pids()) {
    const ppid = parentPid(p);
    if (!ppid) continue;
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid).push(p);
  }
  const out = [];
  const walk = (p) => {
    for (const child of children.get(p) ?? []) {
      walk(child);
      out.push(child);
    }
  };
  walk(pid);
  return out;
}

/** Sends `signal` to each pid, ignoring those already gone. */
export function killPids(list, signal = 'SIGKILL') {
  for (const p of list) {
    try {
      process.kill(p, signal);
    } catch {
      // gone already
    }
  }
}

/** Kills a process we started and everything it started, by pid; returns the pids signalled. */
export function killTree(pid, signal = 'SIGKILL') {
  if (!pid) return [];
  const list = [...descendants(pid), pid];
  killPids(list, signal);
  return list;
}

/** Last resort at the end of a run: kill the processes this run started (its descendants: browsers, drivers, Xvfb). */
export function killChildren() {
  killPids(descendants(process.pid));
}

/** Pids of the processes whose command line has `arg` (read from /proc). */
export function processesWithArg(arg) {
  const out = [];
  for (const p of pids()) {
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').includes(arg)) out.push(p);
    } catch {
      // gone already
    }
  }
  return out;
}

/** A process that is gone: no /proc entry, or a zombie waiting to be reaped. */
export function processGone(pid) {
  const file = `/proc/${pid}/stat`;
  if (!existsSync(file)) return true;
  try {
    const stat = readFileSync(file, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/** The WebKit web content processes this process started (test/faults and the bench kill the one hosting a worker). */
export function webKitWebProcesses() {
  return descendants(process.pid).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'WebKitWebProces';
    } catch {
      return false;
    }
  });
}
