// What a scenario gets to work with: a test page at a scope of its own with the test worker
// registered, the server's log, and online/offline switching that waits until the browser agrees.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './util.mjs';

/**
 * @param driver  a launched browser driver (drivers/*.mjs)
 * @param server  the test server (test-routes.mjs)
 * @param options  another suite's test page (a file name, with a query if need be) and worker path (test/security)
 */
export function createContext(driver, server, scenarioName, { pageFile = 'page.html', swPath = '/sw.js' } = {}) {
  const opened = [];
  const browsers = [];
  const profiles = [];
  const notes = [];
  const offlineWindows = [];
  const ctx = {
    driver,
    server,
    mode: driver.mode,
    native: driver.nativeSync,
    notes,
    note: (text) => notes.push(text),

    /** A unique tag for this mode and scenario. */
    tag: (suffix) => `${driver.mode}:${scenarioName}:${suffix}`,

    /** The URL of the test worker for this mode, with a retry policy and other options. */
    swUrl(options = {}) {
      const query = new URLSearchParams({ mode: driver.swMode });
      for (const [key, value] of Object.entries(options)) query.set(key, String(value));
      return `${swPath}?${query}`;
    },

    /** The scope URL of this scenario's test page; `sub` names a nested scope inside it. */
    scopeUrl: (sub) => `${server.origin}/scope/${driver.mode}-${scenarioName}/${sub ? `${sub}/` : ''}`,

    /**
     * Opens the test page at /scope/<mode>-<scenario>/[<sub>/] in `browser` (the suite's browser by default)
     * and registers the test worker there, with `sw` as its query options (retry policy, installDelay, build).
     * With `setup: false` it only attaches to the registration the page finds (after a browser restart). `query` is
     * the page's own (e.g. `refuse=disabled`, fixtures/refuse-native.js).
     */
    async open({ sw = {}, sub, browser = driver, setup = true, query } = {}) {
      const page = await browser.newPage();
      opened.push(page);
      const scope = ctx.scopeUrl(sub);
      await page.goto(`${scope}${pageFile}${query ? `${pageFile.includes('?') ? '&' : '?'}${query}` : ''}`);
      const handle = wrapTestPage(page, scope, browser);
      if (!setup) {
        await waitFor(() => page.evaluate(() => T.attach()), { timeout: 15000, interval: 250, label: 'an active registration for the page' });
        return handle;
      }
      await page.evaluate((url) => T.setup(url), ctx.swUrl(sw));
      const { configureError } = await handle.call('probe');
      if (configureError && !driver.nativeSync) {
        throw new Error(`BackgroundSyncPolyfill.configure(${JSON.stringify(sw)}) threw in the worker: ${configureError}`);
      }
      return handle;
    },

    /**
     * A second browser of this engine on a profile directory that outlives it: `relaunch(browser)` opens the same
     * profile again once the first has quit. Closed and removed at cleanup.
     */
    async launchPersistent(profile) {
      let dir = profile;
      if (!dir) {
        dir = await mkdtemp(join(tmpdir(), `bsp-${driver.mode}-${scenarioName}-`));
        profiles.push(dir);
      }
      const browser = await driver.launchPersistent(dir, { server });
      browsers.push(browser);
      return browser;
    },
    relaunch: (browser) => ctx.launchPersistent(browser.profile),

    /**
     * Switches connectivity and waits until the page and its worker both report it. The offline windows (from the
     * moment both agree they are offline, or the switch returned, until the switch back starts) are kept for
     * `firedOffline`.
     */
    async setOnline(online, testPage) {
      const open = offlineWindows.find((w) => w.to === Infinity);
      if (online && open) open.to = Date.now();
      await (testPage?.browser ?? driver).setOnline(online);
      const markOffline = () => {
        if (!online && !offlineWindows.some((w) => w.to === Infinity)) offlineWindows.push({ from: Date.now(), to: Infinity });
      };
      if (!testPage) return markOffline();
      await waitFor(async () => (await testPage.evaluate(() => navigator.onLine)) === online, {
        timeout: 15000,
        label: `page navigator.onLine === ${online}`,
      });
      await waitFor(async () => (await testPage.call('probe')).onLine === online, {
        timeout: 15000,
        interval: 250,
        label: `worker navigator.onLine === ${online}`,
      });
      markOffline();
    },

    /** The offline windows so far ({ from, to }, `to` Infinity while still offline). */
    offlineWindows: () => offlineWindows.map((w) => ({ ...w })),

    /**
     * The sync events of the page's scope that started offline, from the worker's own journal (test/kit/fixtures/
     * sw-common.js: written at dispatch, in IndexedDB, so it survives offline periods, workers and browsers that the
     * server log cannot hear from): those whose worker saw navigator.onLine false when the event started, and those
     * that started inside an offline window of this scenario. `tags` limits it to some tags.
     */
    async firedOffline(testPage, tags) {
      const journal = await testPage.call('journal');
      const offline = (e) => e.onLine === false || offlineWindows.some((w) => e.t >= w.from && e.t < w.to);
      return journal.filter((e) => (!tags || tags.includes(e.tag)) && offline(e));
    },

    /** Throws if any sync event of the page's scope (of `tags`) started offline (see firedOffline). */
    async assertNothingFiredOffline(testPage, what, tags) {
      const fired = await ctx.firedOffline(testPage, tags);
      if (fired.length) {
        const list = fired.slice(0, 5).map((e) => `${e.tag.split(':').pop()} at ${new Date(e.t).toISOString().slice(11, 23)} onLine=${e.onLine} worker=${e.instance}`);
        throw new Error(`${what}: ${fired.length} sync event(s) started offline (the worker's journal): ${list.join('; ')}`);
      }
    },

    /** Sync events (listener) the worker reported for a tag of this scope. */
    syncs: (testPage, tag, via = 'listener') => server.entries({ type: 'sync', scope: testPage.scope, tag, via }),
    syncEnds: (testPage, tag) => server.entries({ type: 'syncEnd', scope: testPage.scope, tag }),
    waitForSyncs: (testPage, tag, count = 1, timeout = 15000) =>
      server.waitForEntries({ type: 'sync', scope: testPage.scope, tag, via: 'listener' }, { count, timeout, label: `${count} sync event(s) for ${tag.slice(0, 60)}` }),

    /** Waits until getTags() in the page no longer lists the tag. */
    async waitForTagGone(testPage, tag, timeout = 10000) {
      await waitFor(async () => {
        const result = await testPage.getTags();
        return result.ok && !result.value.includes(tag);
      }, { timeout, interval: 200, label: `getTags() without ${tag.slice(0, 60)}` });
    },

    /** Closes the scenario's pages and leaves the browser online for the next scenario. */
    async cleanup() {
      await Promise.all(opened.map((page) => page.close()));
      for (const browser of browsers) await browser.close().catch(() => {});
      for (const dir of profiles) await rm(dir, { recursive: true, force: true }).catch(() => {});
      await driver.setOnline(true);
    },
  };
  return ctx;
}

function wrapTestPage(page, scope, browser) {
  return {
    page,
    scope,
    browser,
    evaluate: (fn, arg, timeout) => page.evaluate(fn, arg, timeout),
    goto: (url) => page.goto(url),
    register: (tag) => page.evaluate((t) => T.register(t), tag),
    registerMany: (tags) => page.evaluate((list) => T.registerMany(list), tags),
    unregister: () => page.evaluate(() => T.unregister()),
    getTags: () => page.evaluate(() => T.getTags()),
    probe: () => page.evaluate(() => T.probe()),
    call: (cmd, args = {}) => page.evaluate(({ cmd: c, args: a }) => T.call(c, a), { cmd, args }),
    post: (cmd, args = {}) => page.evaluate(({ cmd: c, args: a }) => T.post(c, a), { cmd, args }),
  };
}
