// Chromium through playwright-core, with the flags of docs/testing.md.
// mode 'chromium-native': the native API; 'chromium-deleted': the API deleted so the polyfill installs.
// Offline is Chromium's own emulation (context.setOffline), which reaches pages, workers and native sync.
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { descendants, withTimeout } from '../util.mjs';
import { wrapPage } from './page.mjs';

// docs/testing.md: without the background-networking flags Chromium floods the closed network.
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// Runs in every page before any of its scripts, in 'chromium-deleted' mode.
export const DELETE_NATIVE_API = `
  delete window.SyncManager;
  delete window.PeriodicSyncManager;
  delete ServiceWorkerRegistration.prototype.sync;
  delete ServiceWorkerRegistration.prototype.periodicSync;
`;

/** The suite's browser for a mode: a fresh temporary profile, removed on close. */
export async function launchChromium(mode) {
  const profile = await mkdtemp(join(tmpdir(), `bsp-${mode}-`));
  let driver;
  try {
    driver = await openChromium(mode, profile, { keepProfile: false });
  } catch (error) {
    await rm(profile, { recursive: true, force: true });
    throw error;
  }
  driver.launchPersistent = (dir) => openChromium(mode, dir, { keepProfile: true });
  return driver;
}

async function openChromium(mode, profile, { keepProfile }) {
  const context = await withTimeout(
    chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS, timeout: 30000 }),
    40000,
    `launch chromium (${mode})`,
  );
  const pid = context.browser()?.process?.()?.pid ?? null;
  try {
    if (mode === 'chromium-deleted') await withTimeout(context.addInitScript({ content: DELETE_NATIVE_API }), 10000, 'addInitScript');
  } catch (error) {
    await context.close().catch(() => {});
    throw error;
  }

  const registrations = new Map(); // scopeURL -> registrationId, from the CDP ServiceWorker domain
  let cdp = null;
  let closed = null;

  const driver = {
    mode,
    engine: 'chromium',
    nativeSync: mode === 'chromium-native',
    swMode: mode === 'chromium-native' ? 'native' : 'deleted',
    version: null,
    profile,

    async newPage() {
      return wrapPage(await withTimeout(context.newPage(), 15000, 'new chromium page'), mode);
    },

    /** Emulated offline: flips navigator.onLine in pages and workers and makes their fetches fail. */
    async setOnline(online) {
      await withTimeout(context.setOffline(!online), 10000, `setOffline(${!online})`);
    },

    /** CDP ServiceWorker.dispatchSyncEvent (native Chromium only: fires through the browser's own path). */
    async dispatchSyncEvent(page, { scope, tag, lastChance }) {
      if (!cdp) {
        cdp = await withTimeout(context.newCDPSession(page.raw), 10000, 'CDP session');
        cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations: list }) => {
          for (const r of list) registrations.set(r.scopeURL, r.registrationId);
        });
        await withTimeout(cdp.send('ServiceWorker.enable'), 10000, 'ServiceWorker.enable');
      }
      const start = Date.now();
      while (!registrations.has(scope)) {
        if (Date.now() - start > 10000) throw new Error(`CDP never reported a registration for ${scope}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const origin = new URL(scope).origin;
      await withTimeout(
        cdp.send('ServiceWorker.dispatchSyncEvent', { origin, registrationId: registrations.get(scope), tag, lastChance }),
        15000,
        'ServiceWorker.dispatchSyncEvent',
      );
    },

    /** CDP ServiceWorker.stopAllWorkers (test/faults): terminates every service worker, mid-event too. */
    async stopAllWorkers(page) {
      const session = await withTimeout(context.newCDPSession(page.raw), 10000, 'CDP session');
      try {
        await withTimeout(session.send('ServiceWorker.enable'), 10000, 'ServiceWorker.enable');
        await withTimeout(session.send('ServiceWorker.stopAllWorkers'), 10000, 'ServiceWorker.stopAllWorkers');
      } finally {
        await session.detach().catch(() => {});
      }
    },

    /** The browser's main process (test/faults): the one started with this profile whose parent was not. */
    browserPid: () => browserPidOf(profile),

    /** SIGKILLs the browser (test/faults: a crash); returns the pids it killed. close() afterwards only tidies up. */
    kill() {
      const root = browserPidOf(profile);
      const pids = [...new Set([...(root ? descendants(root) : []), ...processesWithArg(`--user-data-dir=${profile}`)])];
      for (const p of pids) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // gone already
        }
      }
      closed ??= context.close().catch(() => {}).then(async () => {
        if (!keepProfile) await rm(profile, { recursive: true, force: true }).catch(() => {});
        return { clean: false };
      });
      return { root, pids };
    },

    /** Quits the browser; `clean` says whether it quit on its own (profile flushed) rather than being killed. */
    close() {
      closed ??= (async () => {
        let clean = true;
        try {
          await withTimeout(context.close(), 15000, 'close chromium');
        } catch {
          clean = false;
          if (pid) {
            try {
              process.kill(pid, 'SIGKILL');
            } catch {
              // gone already
            }
          }
        } finally {
          if (!keepProfile) await rm(profile, { recursive: true, force: true }).catch(() => {});
        }
        return { clean };
      })();
      return closed;
    },
  };

  try {
    const probe = await driver.newPage();
    try {
      const session = await withTimeout(context.newCDPSession(probe.raw), 10000, 'CDP session');
      const { product } = await withTimeout(session.send('Browser.getVersion'), 10000, 'Browser.getVersion');
      driver.version = product.replace(/^(Headless)?Chrome\//, 'Chromium ');
      await session.detach().catch(() => {});
    } finally {
      await probe.close();
    }
  } catch (error) {
    await driver.close();
    throw error;
  }
  return driver;
}

/** Pids of the processes whose command line has `arg` (read from /proc). */
function processesWithArg(arg) {
  const out = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes(arg)) out.push(Number(entry));
    } catch {
      // gone already
    }
  }
  return out;
}

/** The browser process of a profile: started with --user-data-dir=<profile>, its parent not. */
function browserPidOf(profile) {
  const pids = processesWithArg(`--user-data-dir=${profile}`);
  const parent = (pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      return 0;
    }
  };
  return pids.find((pid) => !pids.includes(parent(pid))) ?? null;
}
