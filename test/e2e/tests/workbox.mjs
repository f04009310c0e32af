// Workbox on top of the polyfill: a POST fails offline, BackgroundSyncPlugin queues it and registers its sync
// through registration.sync (ours, where the API is missing), and Workbox's own `sync` listener replays it as
// soon as the network is back while the page is open. chromium-native is the control: Workbox on the real API.
import assert from 'node:assert/strict';
import { startFixtureServer } from '../server.mjs';
import { sleep } from '../../browser/util.mjs';

const TAG = 'workbox-background-sync:e2e';

export const workbox = {
  name: 'workbox',
  cases: [
    { browser: 'chromium-native', label: 'chromium-native', swMode: 'native', native: true },
    { browser: 'chromium-deleted', label: 'chromium-deleted', swMode: 'deleted', native: false },
    { browser: 'firefox', label: 'firefox', swMode: 'firefox', native: false },
  ],

  async run(ctx, variant) {
    const server = await startFixtureServer(ctx.www);
    try {
      await runWorkbox(ctx, variant, server);
    } finally {
      await server.close();
    }
  },
};

async function runWorkbox(ctx, variant, server) {
  const page = await ctx.newPage();
  await page.goto(`${server.origin}/page.html?sw=sw-workbox.js&mode=${variant.swMode}`);
  await page.evaluate(() => fixture.setup(), undefined, 30000);
  await checkImplementation(page, variant);

  // Online, the route passes the request through.
  assert.deepEqual(await page.evaluate(() => fixture.post({ n: 0 })), { ok: true, value: 201 }, 'an online POST through Workbox');
  assert.deepEqual(server.echoes.map((e) => e.body), [{ n: 0 }], 'the online POST reached the server');

  server.setReachable(false);
  await ctx.setOnline(false, page);
  for (const n of [1, 2]) {
    const result = await page.evaluate((body) => fixture.post(body), { n });
    assert.equal(result.ok, false, `POST ${n} should fail offline, got ${JSON.stringify(result)}`);
  }
  assert.equal((await page.evaluate(() => fixture.workerProbe())).queued, 2, 'Workbox should hold both requests in its queue');
  const tags = await page.evaluate(() => fixture.getTags());
  assert.ok(tags.ok && tags.value.includes(TAG), `Workbox should have registered ${TAG} through registration.sync, getTags() gave ${JSON.stringify(tags)}`);
  await sleep(2000);
  assert.equal(server.echoes.length, 1, 'nothing may be replayed while offline');

  server.setReachable(true);
  const online = Date.now();
  await ctx.setOnline(true, page);
  await waitAfterOnline(server, page, online, () => server.echoes.length >= 3, 'both queued POSTs replayed');
  const latency = Math.max(...server.echoes.map((e) => e.receivedAt)) - online;
  ctx.note(`replayed ${latency} ms after coming online`);
  await sleep(1500);
  assert.deepEqual(server.echoes.map((e) => e.body), [{ n: 0 }, { n: 1 }, { n: 2 }], 'each queued POST reaches the server once, in order');
  assert.equal((await page.evaluate(() => fixture.workerProbe())).queued, 0, "Workbox's queue should be empty");
  const after = await page.evaluate(() => fixture.getTags());
  assert.ok(after.ok && !after.value.includes(TAG), `the sync registration should be gone, getTags() gave ${JSON.stringify(after)}`);
  const syncs = server.entries('sync').filter((entry) => entry.tag === TAG);
  assert.ok(syncs.length >= 1, 'the worker should have seen a sync event for the queue');
  assert.ok(syncs.every((entry) => entry.onLine), `no sync event may fire offline: ${JSON.stringify(syncs)}`);
  // Offline, Workbox's NetworkOnly rejects the fetch event's response (Chromium: 'no-response', Firefox: its
  // respondWith NetworkError), as it does without the polyfill. Any other worker error fails the test.
  const expected = /^no-response: |FetchEvent\.respondWith\(\) Promise rejected/;
  const errors = server.entries('swError').map((e) => e.message).filter((message) => !expected.test(message));
  assert.deepEqual(errors, [], 'errors in the worker');
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
