// Workbox on top of the polyfill: a POST fails offline, BackgroundSyncPlugin queues it and registers its sync
// through registration.sync (ours, where the API is missing), and Workbox's own `sync` listener replays it as
// soon as the network is back while the page is open. chromium-native is the control: Workbox on the real API.
import assert from 'node:assert/strict';
import { fixtureTest, waitAfterOnline } from '../routes.mjs';
import { sleep } from '../../kit/util.mjs';

const TAG = 'workbox-background-sync:e2e';

export const workbox = fixtureTest(
  'workbox',
  'sw-workbox.js',
  [
    { browser: 'chromium-native', label: 'chromium-native', swMode: 'native', native: true },
    { browser: 'chromium-deleted', label: 'chromium-deleted', swMode: 'deleted', native: false },
    { browser: 'firefox', label: 'firefox', swMode: 'firefox', native: false },
  ],
  runWorkbox,
  {
    expectedErrors: [{
      name: "Workbox's NetworkOnly rejecting a POST offline",
      pattern: /^no-response: |FetchEvent\.respondWith\(\) Promise rejected/,
    }, {
      name: "Firefox's report of the same in the page",
      pattern: /^Error: Failed to load ‘[^’]*\/api\/echo’\. A ServiceWorker passed a promise to FetchEvent\.respondWith\(\) that rejected with ‘Error: no-response /,
    }],
  },
);

async function runWorkbox(ctx, variant, server, page) {
  // Online, the route passes the request through.
  assert.deepEqual(await page.evaluate(() => fixture.post({ n: 0 })), { ok: true, value: 201 }, 'an online POST through Workbox');
  assert.deepEqual(server.echoes.map((e) => e.body), [{ n: 0 }], 'the online POST reached the server');

  server.setReachable(false);
  await ctx.setOnline(false, page);
  for (const n of [1, 2]) {
    const result = await page.evaluate((body) => fixture.post(body), { n });
    assert.equal(result.ok, false, `POST ${n} should fail offline, got ${JSON.stringify(result)}`);
  }
  const offlineProbe = await page.evaluate(() => fixture.workerProbe());
  assert.equal(offlineProbe.queued, 2, 'Workbox should hold both requests in its queue');
  const tags = await page.evaluate(() => fixture.getTags());
  assert.ok(tags.ok && tags.value.includes(TAG), `Workbox should have registered ${TAG} through registration.sync, getTags() gave ${JSON.stringify(tags)}`);
  await sleep(2000);
  assert.equal(server.echoes.length, 1, 'nothing may be replayed while offline');
  // The server drops every connection while unreachable, so the line above holds by construction: what the
  // worker itself attempted decides: the page's three POSTs went through its fetch (one online, two that failed
  // offline), and nothing else: no sync event, no replay.
  const { attempts } = await page.evaluate(() => fixture.workerProbe());
  assert.equal(offlineProbe.attempts.syncs, 0, `no sync event may fire while offline (at the POSTs): ${JSON.stringify(offlineProbe.attempts)}`);
  assert.deepEqual({ syncs: attempts.syncs, echoFetches: attempts.echoFetches }, { syncs: 0, echoFetches: 3 }, `the worker while offline may only pass the page's POSTs through, no sync event, no replay: ${JSON.stringify(attempts)}`);

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
  // Workbox registered the tag once per queued POST, while it was pending: one registration, one firing. A
  // second firing replays an empty queue, so the echoes cannot show it; the worker's sync entries do.
  assert.equal(syncs.length, 1, `the queue's tag should fire exactly once: ${JSON.stringify(syncs.map(({ t, onLine }) => ({ t, onLine })))}`);
  assert.ok(syncs.every((entry) => entry.onLine), `no sync event may fire offline: ${JSON.stringify(syncs)}`);
  // Offline, Workbox's NetworkOnly rejects the fetch event's response (Chromium: 'no-response', Firefox: its
  // respondWith NetworkError), as it does without the polyfill. Any other worker error fails the test.
  const expected = /^no-response: |FetchEvent\.respondWith\(\) Promise rejected/;
  const errors = server.entries('swError').map((e) => e.message).filter((message) => !expected.test(message));
  assert.deepEqual(errors, [], 'errors in the worker');
}

