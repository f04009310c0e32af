// Chromium through playwright-core, with the flags of docs/testing.md.
// mode 'chromium-native': the native API; 'chromium-deleted': the API deleted so the polyfill installs.
// Option `deletedOrigin` (the bench: both modes in one browser): the API deleted in that origin's pages only.
// Option `debuggingPort`: a browser-wide DevTools endpoint (browserWSEndpoint()) for tools that attach to workers.
// Offline is Chromium's own emulation (context.setOffline), which reaches pages, workers and native sync.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { descendants, killPids, parentPid, processesWithArg } from '../processes.mjs';
import { sleep, withTimeout } from '../util.mjs';
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

/** The script that deletes the API before any other, for the mode (and `deletedOrigin`), or null. */
/**
 * Native Background Sync's retry schedule, through Chromium's `BackgroundSync` field trial (read by
 * BackgroundSyncControllerImpl::GetParameterOverrides: max_sync_attempts, initial_retry_delay_sec,
 * retry_delay_factor; the next attempt comes initial_retry_delay × factor^(attempts − 1) after a failure). With
 * `nativeRetry` (e.g. { maxAttempts: 3, initialRetryDelaySec: 1, retryDelayFactor: 2 }) the native retries come
 * within seconds instead of 5 and 15 minutes, so the browser suite measures them (`retry-policy` in chromium-native).
 */
export function fieldTrialArgs(nativeRetry) {
  if (!nativeRetry) return [];
  const { maxAttempts, initialRetryDelaySec, retryDelayFactor } = nativeRetry;
  return [
    '--force-fieldtrials=BackgroundSync/BspFastRetry',
    `--force-fieldtrial-params=BackgroundSync.BspFastRetry:max_sync_attempts/${maxAttempts}/initial_retry_delay_sec/${initialRetryDelaySec}/retry_delay_factor/${retryDelayFactor}`,
  ];
}

function initScript(mode, deletedOrigin) {
  if (deletedOrigin) return `\n  if (location.origin === ${JSON.stringify(deletedOrigin)}) {${DELETE_NATIVE_API}}\n`;
  return mode === 'chromium-deleted' ? DELETE_NATIVE_API : null;
}

/** The suite's browser for a mode: a fresh temporary profile, removed on close. */
export async function launchChromium(mode, options = {}) {
  const profile = await mkdtemp(join(tmpdir(), `bsp-${mode}-`));
  let driver;
  try {
    driver = await openChromium(mode, profile, { ...options, keepProfile: false });
  } catch (error) {
    await rm(profile, { recursive: true, force: true });
    throw error;
  }
  driver.launchPersistent = (dir) => openChromium(mode, dir, { ...options, keepProfile: true });
  return driver;
}

async function openChromium(mode, profile, { keepProfile, deletedOrigin, debuggingPort = false, nativeRetry = null }) {
  const context = await withTimeout(
    chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: [...CHROMIUM_ARGS, ...(debuggingPort ? ['--remote-debugging-port=0'] : []), ...fieldTrialArgs(nativeRetry)],
      timeout: 30000,
    }),
    40000,
    `launch chromium (${mode})`,
  );
  const pid = context.browser()?.process?.()?.pid ?? null;
  try {
    const content = initScript(mode, deletedOrigin);
    if (content) await withTimeout(context.addInitScript({ content }), 10000, 'addInitScript');
  } catch (error) {
    await context.close().catch(() => {});
    throw error;
  }

  const registrations = new Map(); // scopeURL -> registrationId, from the CDP ServiceWorker domain
  let cdp = null;
  let cdpPage = null;
  let closed = null;

  /**
   * The origin and registration id CDP names the registration of `scope` by, from the ServiceWorker domain's
   * updates on a session of `page` kept for the browser's life.
   */
  async function registrationAt(page, scope) {
    // A session of the page at hand: one of a page an earlier scenario closed hears nothing more.
    if (!cdp || cdpPage !== page) {
      if (cdp) await cdp.detach().catch(() => {});
      cdpPage = page;
      cdp = await driver.cdp(page);
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
    return { origin: new URL(scope).origin, registrationId: registrations.get(scope) };
  }

  const driver = {
    mode,
    engine: 'chromium',
    nativeSync: mode === 'chromium-native',
    swMode: mode === 'chromium-native' ? 'native' : 'deleted',
    /** The native retry schedule forced through the field trial (fieldTrialArgs), or null: Chromium's own. */
    nativeRetry: mode === 'chromium-native' ? nativeRetry : null,
    version: null,
    profile,
    context,

    async newPage() {
      return wrapPage(await withTimeout(context.newPage(), 15000, 'new chromium page'), mode);
    },

    /** Emulated offline: flips navigator.onLine in pages and workers and makes their fetches fail. */
    async setOnline(online) {
      await withTimeout(context.setOffline(!online), 10000, `setOffline(${!online})`);
    },

    /** A CDP session on a page. */
    cdp: (page) => withTimeout(context.newCDPSession(page.raw), 10000, 'CDP session'),

    /** The browser-wide DevTools WebSocket (with debuggingPort), for tools that attach to worker targets. */
    async browserWSEndpoint() {
      for (let i = 0; i < 50; i++) {
        const text = await readFile(join(profile, 'DevToolsActivePort'), 'utf8').catch(() => '');
        const [port, path] = text.trim().split('\n');
        if (port && path) return `ws://127.0.0.1:${port}${path}`;
        await sleep(100);
      }
      throw new Error('Chromium did not write DevToolsActivePort (launch with debuggingPort: true)');
    },

    /** CDP ServiceWorker.dispatchSyncEvent (native Chromium only: fires through the browser's own path). */
    async dispatchSyncEvent(page, { scope, tag, lastChance }) {
      const at = await registrationAt(page, scope);
      await withTimeout(cdp.send('ServiceWorker.dispatchSyncEvent', { ...at, tag, lastChance }), 15000, 'ServiceWorker.dispatchSyncEvent');
    },

    /** CDP ServiceWorker.dispatchPeriodicSyncEvent (native Chromium only), as DevTools' "Periodic sync" button does. */
    async dispatchPeriodicSyncEvent(page, { scope, tag }) {
      const at = await registrationAt(page, scope);
      await withTimeout(cdp.send('ServiceWorker.dispatchPeriodicSyncEvent', { ...at, tag }), 15000, 'ServiceWorker.dispatchPeriodicSyncEvent');
    },

    /**
     * CDP ServiceWorker.deliverPushMessage, as DevTools' "Push" button does: a push event for the registration of
     * `scope`, delivered by the browser (it starts a stopped worker). `page` is any page of the browser (about:blank
     * will do): the session only needs to hear of the registration.
     */
    async deliverPushMessage(page, { scope, data = '' }) {
      const at = await registrationAt(page, scope);
      await withTimeout(cdp.send('ServiceWorker.deliverPushMessage', { ...at, data }), 15000, 'ServiceWorker.deliverPushMessage');
    },

    /**
     * CDP Browser.setPermission for the origin of `page`: `name` (e.g. 'background-sync') to `setting` ('granted',
     * 'denied', 'prompt'). Chromium drops a session's overrides when it detaches, so the session stays attached and is
     * returned: detach it to end the override.
     */
    async setPermission(page, name, setting, session) {
      session ??= await driver.cdp(page);
      const origin = new URL(page.raw.url()).origin;
      await withTimeout(session.send('Browser.setPermission', { permission: { name }, setting, origin }), 10000, `Browser.setPermission ${name} ${setting}`);
      return session;
    },

    /**
     * CDP ServiceWorker.stopWorker on the running version of the registration of `scope` only. stopAllWorkers also
     * stops the workers that earlier scenarios left running: Chromium then reports their targets crashed but leaves
     * them attached, and Playwright's setOffline() waits forever for their answer. Returns when the call did.
     */
    async stopWorker(page, scope) {
      const session = await driver.cdp(page);
      try {
        const versions = new Map();
        const scopes = new Map();
        session.on('ServiceWorker.workerRegistrationUpdated', ({ registrations: list }) => {
          for (const r of list) scopes.set(r.registrationId, r.scopeURL);
        });
        session.on('ServiceWorker.workerVersionUpdated', ({ versions: list }) => {
          for (const v of list) versions.set(v.versionId, v);
        });
        await withTimeout(session.send('ServiceWorker.enable'), 10000, 'ServiceWorker.enable');
        const started = Date.now();
        let version;
        while (!(version = [...versions.values()].find((v) => scopes.get(v.registrationId) === scope && v.status === 'activated' && v.runningStatus === 'running'))) {
          if (Date.now() - started > 5000) return false;
          await sleep(50);
        }
        await withTimeout(session.send('ServiceWorker.stopWorker', { versionId: version.versionId }), 10000, 'ServiceWorker.stopWorker');
        return true;
      } finally {
        await session.detach().catch(() => {});
      }
    },

    /** CDP ServiceWorker.stopAllWorkers (test/faults): terminates every service worker, mid-event too. */
    async stopAllWorkers(page) {
      const session = await driver.cdp(page);
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
      killPids(pids);
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
          if (pid) killPids([pid]);
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
      const session = await driver.cdp(probe);
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

/** The browser process of a profile: started with --user-data-dir=<profile>, its parent not. */
function browserPidOf(profile) {
  const pids = processesWithArg(`--user-data-dir=${profile}`);
  return pids.find((pid) => !pids.includes(parentPid(pid))) ?? null;
}
