// A private network namespace for a whole run (every suite and the bench): real online/offline for every engine,
// and no packet can leave the machine. Recipe in docs/testing.md.
import { execFileSync, spawnSync } from 'node:child_process';

export const NETNS_MARKER = 'BSP_IN_NETNS';
/** A suite's default run limit (its runner gives up after it); the namespace wrapper allows a minute more for teardown. */
export const RUN_LIMIT_MS = 20 * 60 * 1000;

/**
 * Outside the namespace: re-runs this very script as `unshare -n node <script>` with the marker set,
 * waits for it (at most `limitMs` and a minute) and exits with its status. Inside: returns and lets the caller go on.
 */
export function ensureNetns(limitMs = RUN_LIMIT_MS) {
  if (process.env[NETNS_MARKER] === '1') return;
  const probe = spawnSync('unshare', ['-n', 'true'], { stdio: 'ignore', timeout: 10000 });
  if (probe.status !== 0) {
    console.error('`unshare -n` is not available (needs root or CAP_SYS_ADMIN); cannot isolate the network.');
    process.exit(1);
  }
  const child = spawnSync('unshare', ['-n', process.execPath, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, [NETNS_MARKER]: '1' },
    timeout: limitMs + 60000,
    killSignal: 'SIGTERM',
  });
  if (child.error) console.error(`the run in the namespace failed: ${child.error.message}`);
  process.exit(child.status ?? 1);
}

const ip = (...args) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 5000 }).toString();

/** Inside the namespace: loopback plus a veth pair whose default route makes browsers believe they are online. */
export function setupLinks() {
  if (process.env[NETNS_MARKER] !== '1') throw new Error('setupLinks() must run inside the private namespace');
  ip('link', 'set', 'lo', 'up');
  ip('link', 'add', 'bt0', 'type', 'veth', 'peer', 'name', 'bt1');
  ip('addr', 'add', '192.0.2.1/24', 'dev', 'bt0');
  setLinkOnline(true);
}

/** A driver's setOnline where offline is real (Firefox, WebKit): the namespace's link goes down or up. */
export const setOnlineByLink = async (online) => setLinkOnline(online);

/** Flips the namespace's connectivity. Loopback (the test server) is never touched. */
export function setLinkOnline(online) {
  if (online) {
    ip('link', 'set', 'bt1', 'up');
    ip('link', 'set', 'bt0', 'up');
    ip('route', 'replace', 'default', 'via', '192.0.2.2', 'dev', 'bt0');
  } else {
    try {
      ip('route', 'del', 'default');
    } catch {
      // no default route: already offline
    }
    ip('link', 'set', 'bt0', 'down');
    ip('link', 'set', 'bt1', 'down');
  }
}

