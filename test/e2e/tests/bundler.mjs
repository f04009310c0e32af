// The package from a bundler: the fixtures import 'background-sync-polyfill' (page) and
// 'background-sync-polyfill/sw' (worker) from the packed tarball, Rollup bundles them (build-fixtures.mjs),
// and the bundles must work where the API is missing: Chromium with it deleted, and Firefox.
import assert from 'node:assert/strict';
import { fixtureTest, waitAfterOnline } from '../routes.mjs';
import { sleep } from '../../kit/util.mjs';

export const bundler = fixtureTest(
  'bundler',
  'sw-plain.js',
  [
    { browser: 'chromium-deleted', label: 'chromium-deleted', swMode: 'deleted', native: false },
    { browser: 'firefox', label: 'firefox', swMode: 'firefox', native: false },
  ],
  runBundler,
);

async function runBundler(ctx, variant, server, page) {
  const syncs = (tag) => server.entries('sync').filter((entry) => entry.tag === tag);

  const first = await page.evaluate(() => fixture.register('bundled:online'));
  assert.equal(first.ok, true, `register() online: ${JSON.stringify(first)}`);
  await server.waitFor(() => syncs('bundled:online').length >= 1, { timeout: 20000, label: 'the sync event for bundled:online' });
  const [event] = syncs('bundled:online');
  assert.equal(event.isSyncEvent, true, 'the event is a SyncEvent');
  assert.equal(event.lastChance, false, 'lastChance of a first attempt');

  await ctx.setOnline(false, page);
  const offline = await page.evaluate(() => fixture.register('bundled:offline'));
  assert.equal(offline.ok, true, `register() offline: ${JSON.stringify(offline)}`);
  const tags = await page.evaluate(() => fixture.getTags());
  assert.ok(tags.ok && tags.value.includes('bundled:offline'), `getTags() offline: ${JSON.stringify(tags)}`);
  await sleep(2000);
  const online = Date.now();
  await ctx.setOnline(true, page);
  await waitAfterOnline(server, page, online, () => syncs('bundled:offline').length >= 1, 'the sync event for bundled:offline');
  await sleep(1500);
  assert.equal(syncs('bundled:online').length, 1, 'bundled:online fired once');
  assert.equal(syncs('bundled:offline').length, 1, 'bundled:offline fired once');
  assert.equal(syncs('bundled:offline')[0].onLine, true, 'bundled:offline fired online, not while offline');
  const after = await page.evaluate(() => fixture.getTags());
  assert.ok(after.ok, `getTags(): ${JSON.stringify(after)}`);
  assert.deepEqual(after.value, [], 'getTags() once both fired');
  assert.deepEqual(server.entries('swError').map((e) => e.message), [], 'errors in the worker');
}
