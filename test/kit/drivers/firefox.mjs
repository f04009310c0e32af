// Firefox ESR through puppeteer-core over WebDriver BiDi. Offline is real: the namespace link goes down
// (page.setOfflineMode would affect the page only, not the worker).
// Options: `prefs` (more Firefox prefs; the bench: full timer precision), `protocolTimeout` (the bench's long calls).
import puppeteer from 'puppeteer-core';
import { setOnlineByLink } from '../netns.mjs';
import { killTree } from '../processes.mjs';
import { withTimeout } from '../util.mjs';
import { wrapPage } from './page.mjs';

/** The suite's browser: puppeteer makes a fresh temporary profile and removes it on close. */
export async function launchFirefox(mode, { prefs = {}, protocolTimeout = 30000 } = {}) {
  const driver = await openFirefox(mode, undefined, prefs, protocolTimeout);
  driver.launchPersistent = (dir) => openFirefox(mode, dir, prefs, protocolTimeout);
  /** test/faults: another Firefox with extra prefs (e.g. short service worker idle timeouts), on `dir` if given. */
  driver.launchWithPrefs = (extra, dir) => openFirefox(mode, dir, { ...prefs, ...extra }, protocolTimeout);
  return driver;
}

async function openFirefox(mode, userDataDir, extraPrefs, protocolTimeout) {
  const browser = await withTimeout(
    puppeteer.launch({
      browser: 'firefox',
      executablePath: '/usr/bin/firefox-esr',
      headless: true,
      timeout: 30000,
      protocolTimeout,
      ...(userDataDir ? { userDataDir } : {}),
      extraPrefsFirefox: { 'network.manage-offline-status': true, ...extraPrefs },
    }),
    40000,
    'launch firefox',
  );
  const child = browser.process();
  let closed = null;
  const driver = {
    mode,
    engine: 'firefox',
    nativeSync: false,
    swMode: 'firefox',
    version: null,
    profile: userDataDir ?? null,

    async newPage() {
      return wrapPage(await withTimeout(browser.newPage(), 15000, 'new firefox page'), mode);
    },

    setOnline: setOnlineByLink,

    /** The browser's main process (test/faults). */
    browserPid: () => child?.pid ?? null,

    /** SIGKILLs the browser and its content processes (test/faults: a crash); returns the pids it killed. */
    kill() {
      const pids = killTree(child.pid, 'SIGKILL');
      closed ??= browser.close().catch(() => {}).then(() => ({ clean: false }));
      return { root: child.pid, pids };
    },

    /** Quits the browser; `clean` says whether it quit on its own (profile flushed) rather than being killed. */
    close() {
      closed ??= (async () => {
        try {
          await withTimeout(browser.close(), 20000, 'close firefox');
          if (child && child.exitCode === null && child.signalCode === null) {
            await withTimeout(new Promise((resolve) => child.once('exit', resolve)), 10000, 'firefox exit');
          }
          return { clean: true };
        } catch {
          child?.kill('SIGKILL');
          return { clean: false };
        }
      })();
      return closed;
    },
  };
  try {
    driver.version = `Firefox ${(await withTimeout(browser.version(), 10000, 'firefox version')).replace(/^firefox\//i, '')}`;
  } catch (error) {
    await driver.close();
    throw error;
  }
  return driver;
}
