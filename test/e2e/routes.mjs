// The e2e suite's routes on the kit's server (test/kit/server.mjs): one server per test, an origin of its own.
//   GET  /page.html, /page.js, /sw-*.js   the bundled fixtures (build-fixtures.mjs)
//   POST /api/log    what the workers report (an entry or an array; deduplicated by id)
//   POST /api/echo   the app's request that Workbox queues and replays; recorded with its JSON body
// setReachable(false) drops every connection, as if the network were gone.
// fixtureTest() is the shape of the workbox and bundler tests: a server for the run of each case, closed after it.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { createLog, readJson, send, sendBody, startServer } from '../kit/server.mjs';
import { waitFor } from '../kit/util.mjs';

/**
 * `serve(pathname)`, where given, answers GETs instead of the bundled fixtures of `www`: {body, type} or null
 * (test/stacks: each stack's built app).
 */
export async function startFixtureServer(www, { serve } = {}) {
  const server = await startServer();
  const { log, record, entries } = createLog();
  const echoes = [];

  server.addRoute(async (req, res, url) => {
    const { pathname } = url;
    if (req.method === 'POST' && pathname === '/api/log') {
      record(await readJson(req));
      send(res, 204);
      return true;
    }
    if (req.method === 'POST' && pathname === '/api/echo') {
      echoes.push({ body: await readJson(req), receivedAt: Date.now() });
      send(res, 201, { ok: true });
      return true;
    }
    if (req.method !== 'GET') return false;
    if (serve) {
      const answer = await serve(pathname);
      if (!answer) return false;
      sendBody(res, 200, answer.body, answer.type);
      return true;
    }
    const name = pathname === '/' ? 'page.html' : pathname.slice(1);
    if (!/^(page\.html|page\.js|sw-[\w-]+\.js)$/.test(name)) return false;
    const body = await readFile(join(www, name));
    res.writeHead(200, { 'content-type': name.endsWith('.html') ? 'text/html' : 'text/javascript', 'cache-control': 'no-store' });
    res.end(body);
    return true;
  });

  return {
    origin: server.origin,
    log,
    echoes,
    entries: (type) => entries({ type }),
    setReachable: server.setReachable,
    /** Waits until probe(server) is truthy; on timeout says what the log held. */
    async waitFor(probe, { timeout = 20000, label = 'condition' } = {}) {
      try {
        return await waitFor(() => probe(), { timeout, interval: 100, label });
      } catch (error) {
        const brief = log.map(({ type, tag, message, pageOnline, workerOnline, onLine, t }) => ({ type, tag, message, pageOnline, workerOnline, onLine, t }));
        throw new Error(`${error.message}; worker log: ${JSON.stringify(brief)}; echoes: ${JSON.stringify(echoes.map((e) => e.body))}`);
      }
    },
    close: server.close,
  };
}

/**
 * A test of the bundled fixtures: for each case, a fixture server of its own, the page loaded with worker `sw` in
 * the case's mode, the implementation checked, then `body(ctx, variant, server, page)`, then no error in the page
 * or the worker but those of `expectedErrors` ({name, pattern}: what the test expects, by name).
 */
export const fixtureTest = (name, sw, cases, body, { expectedErrors = [] } = {}) => ({
  name,
  cases,
  async run(ctx, variant) {
    const server = await startFixtureServer(ctx.www);
    try {
      const page = await ctx.newPage();
      await page.goto(`${server.origin}/page.html?sw=${sw}&mode=${variant.swMode}`);
      await page.evaluate(() => fixture.setup(), undefined, 30000);
      await checkImplementation(page, variant);
      await body(ctx, variant, server, page);
      const errors = {
        page: [...ctx.pageErrors, ...(await page.evaluate(() => fixture.errors))],
        worker: server.entries('swError').map((e) => e.message),
      };
      assertNoUnexpectedErrors(errors, expectedErrors);
    } finally {
      await server.close();
    }
  },
});

/**
 * Every error a page or worker reported ({page: [...], worker: [...]}) is one the test expects by name, or the
 * test fails listing the rest.
 */
export function assertNoUnexpectedErrors(errors, expectedErrors = []) {
  const unexpected = Object.entries(errors).flatMap(([where, messages]) =>
    messages.filter((message) => !expectedErrors.some((e) => e.pattern.test(message))).map((message) => `${where}: ${message.slice(0, 300)}`));
  const expected = expectedErrors.length ? ` (expected: ${expectedErrors.map((e) => e.name).join(', ')})` : '';
  assert.deepEqual(unexpected, [], `errors reported by a page or worker that the test does not expect${expected}`);
}

/** The page and the worker use the implementation this mode expects, and Workbox's check passes. */
export async function checkImplementation(page, variant) {
  const inPage = await page.evaluate(() => fixture.probe());
  const inWorker = await page.evaluate(() => fixture.workerProbe());
  for (const [where, probe] of [['page', inPage], ['worker', inWorker]]) {
    assert.equal(probe.polyfillLoaded, true, `${where}: BackgroundSyncPolyfill from the bundle`);
    assert.equal(probe.native, variant.native, `${where}: BackgroundSyncPolyfill.native`);
    assert.equal(probe.syncManagerNative, variant.native, `${where}: SyncManager ${variant.native ? 'native' : 'from the polyfill'}`);
    assert.equal(probe.syncGetterNative, variant.native, `${where}: registration.sync ${variant.native ? 'native' : 'from the polyfill'}`);
  }
  assert.equal(inWorker.syncEventNative, variant.native, `worker: SyncEvent ${variant.native ? 'native' : 'from the polyfill'}`);
  assert.equal(inWorker.syncInRegistration, true, "worker: 'sync' in self.registration (Workbox's test)");
}

/**
 * Waits for what must follow the return of the network. On timeout the error says what the page saw and which
 * pokes reached the worker: a poke that found the worker still offline is a wake-up lost (nothing fires until
 * the page's next periodic check, 60 s later).
 */
export async function waitAfterOnline(server, page, online, probe, label) {
  try {
    await server.waitFor(probe, { timeout: 40000, label });
  } catch (error) {
    const events = await page.evaluate(() => fixture.events).catch(() => 'unavailable');
    const late = server.entries('poke').filter((p) => p.t >= online);
    const lost = late.filter((p) => p.pageOnline && !p.workerOnline);
    const diagnosis = lost.length && lost.length === late.length
      ? ' | DIAGNOSIS: every poke after coming online reached a worker whose navigator.onLine was still false, and nothing woke it again'
      : '';
    throw new Error(`${error.message}; online at ${online}; page events: ${JSON.stringify(events)}${diagnosis}`);
  }
}
