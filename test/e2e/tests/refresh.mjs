// The outbox demo's periodic refresh (examples/outbox/, Periodic Background Sync, tag `refresh`), end to end.
// With the polyfill (Chromium with ?force, Firefox) the page registers the tag, the worker's `periodicsync` handler
// fetches /api/time on schedule, and the page shows "last refresh: <time> (<n> runs)" advancing live, with no reload
// and no poke from the test: three runs, each one interval (or a little more) after the previous one settled, as the
// server saw them. `?interval=2000` makes the interval 2 s instead of the demo's 15 s, to keep the test short.
// Native Chromium grants periodic sync to installed apps only: there the polyfill takes the refused register() over
// (docs/semantics.md §8), and the demo says so and runs on the same schedule; DevTools' "Periodic sync" (CDP) also runs
// the same handler through the native event.
import assert from 'node:assert/strict';
import { startDemoServer } from '../../../examples/serve.mjs';
import { waitFor } from '../../kit/util.mjs';
import { assertNoUnexpectedErrors } from '../routes.mjs';
import { refreshStatus, waitReady, workerErrors } from './demo.mjs';

const INTERVAL = 2000;
/** How late a run may come after its due time (the worker's timer, a busy 2-core machine). */
const LATE = 3000;
const RUNS = 3;
const SHOWN = /^last refresh: (\d\d:\d\d:\d\d) \((\d+) runs?\)$/;

export const refresh = {
  name: 'refresh',
  cases: [
    { browser: 'chromium-native', label: 'chromium-native', query: `?interval=${INTERVAL}`, expect: 'native', takenOver: true },
    { browser: 'chromium-native', label: 'chromium-forced', query: `?force&interval=${INTERVAL}`, expect: 'polyfill' },
    { browser: 'firefox', label: 'firefox', query: `?interval=${INTERVAL}`, expect: 'polyfill' },
  ],

  async run(ctx, variant) {
    const server = await startDemoServer({ port: 0 });
    try {
      const page = await ctx.newPage();
      const loaded = Date.now();
      await page.goto(`${server.origin}/${variant.query}`);
      await waitReady(page);
      const engines = await page.evaluate(() => ({ ...document.body.dataset }));
      assert.equal(engines.engine, variant.expect, `the page should use the ${variant.expect} API`);
      assert.equal(engines.worker, variant.expect, `the worker should use the ${variant.expect} API`);
      assert.equal(await page.evaluate(() => outboxDemo.refreshInterval), INTERVAL, 'the page should take ?interval');
      const status = await refreshStatus(page);
      const registered = Date.now();
      ctx.note(`${status.engine} ${status.state}: ${status.text}`);
      await runsOnSchedule(ctx, server, page, status, { loaded, registered, forced: variant.query.includes('force'), takenOver: variant.takenOver });
      if (variant.takenOver) await nativeEventToo(ctx, server, page);
      assert.equal(await page.evaluate(() => document.getElementById('error').textContent), '', 'the demo should show no error');
      assert.equal(await page.evaluate(() => document.getElementById('refresh-error').textContent), '', 'no refresh should have failed');
      assertNoUnexpectedErrors({ page: ctx.pageErrors, worker: await workerErrors(page) });
    } finally {
      await server.close();
    }
  },
};

/** Polyfill: registered, and the shown refresh advances RUNS times on schedule, live. */
async function runsOnSchedule(ctx, server, page, status, { loaded, registered, forced, takenOver }) {
  assert.equal(status.state, 'registered', `the periodic sync should be registered: ${status.text}`);
  assert.match(status.text, new RegExp(`every ${INTERVAL / 1000} s`), 'the page should say how often it refreshes');
  assert.match(status.engine, forced ? /background-sync-polyfill, forced/ : takenOver ? /background-sync-polyfill, taken over/ : /background-sync-polyfill/, 'the refresh should say the polyfill runs it');
  assert.deepEqual(await periodicTags(page), ['refresh'], 'periodicSync.getTags()');

  // What the page shows, sampled until the RUNS-th run: each distinct text, with when the test first saw it.
  const seen = [];
  await waitFor(async () => {
    const shown = await shownRefresh(page);
    if (!seen.length || seen[seen.length - 1].text !== shown) seen.push({ text: shown, t: Date.now() });
    const match = SHOWN.exec(shown);
    return match && Number(match[2]) >= RUNS;
  }, { timeout: loaded - Date.now() + INTERVAL + RUNS * (INTERVAL + LATE) + 15000, interval: 100, label: `the shown refresh at ${RUNS} runs (seen: ${JSON.stringify(seen)}; server: ${JSON.stringify(server.timeRequests)})` });
  const state = await storedRefresh(page);

  // never, then 1, 2, 3 runs: each one shown, with its own later time.
  assert.equal(seen[0].text, 'last refresh: never', 'before the first run');
  const runs = seen.slice(1).map(({ text }) => SHOWN.exec(text));
  assert.ok(runs.every(Boolean), `every text shown should read "last refresh: <time> (<n> runs)": ${JSON.stringify(seen)}`);
  assert.deepEqual(runs.map((m) => Number(m[2])), Array.from({ length: RUNS }, (_, i) => i + 1), `the count of runs should advance one at a time: ${JSON.stringify(seen)}`);
  for (let i = 1; i < runs.length; i++) assert.notEqual(runs[i][1], runs[i - 1][1], `the time shown should advance: ${JSON.stringify(seen)}`);
  const expected = await page.evaluate(({ at, n }) => `last refresh: ${new Date(at).toLocaleTimeString([], { hour12: false })} (${n} runs)`, { at: state.at, n: RUNS });
  assert.equal(seen[seen.length - 1].text, expected, 'the page shows the worker\'s last refresh');
  assert.equal(state.runs, RUNS, 'the worker counted the runs shown');
  assert.equal(state.server.served, RUNS, 'each run fetched /api/time once, and nothing else did (the server\'s own count)');
  assert.match(await page.evaluate(() => document.getElementById('refresh-server').textContent), /^server clock \d\d:\d\d:\d\d$/, 'the page shows what the refresh fetched');

  // On schedule, as the server saw the fetches: the first one interval after register(), each next one interval after
  // the previous run settled (so at least one interval after the previous fetch), none more than LATE behind.
  const fetches = server.timeRequests.slice(0, RUNS);
  const gaps = fetches.map((t, i) => t - (i ? fetches[i - 1] : registered));
  ctx.note(`fetches ${gaps.map((g) => `+${g}`).join(' ')} ms; shown ${seen.slice(1).map(({ t }, i) => t - fetches[i]).join(', ')} ms after each fetch`);
  assert.ok(fetches[0] - loaded >= INTERVAL, `the first run should wait one interval after register(): ${fetches[0] - loaded} ms after the page opened`);
  assert.ok(gaps[0] <= INTERVAL + LATE, `the first run should come one interval after register(), not ${gaps[0]} ms`);
  for (let i = 1; i < RUNS; i++) {
    assert.ok(gaps[i] >= INTERVAL - 50 && gaps[i] <= INTERVAL + LATE, `run ${i + 1} should come ${INTERVAL} ms after run ${i} (at most ${LATE} ms late), not ${gaps[i]} ms`);
  }
  // Live: each run shown within a second or two of its fetch, from the worker's message (the page polls nothing for it).
  for (const [i, { t }] of seen.slice(1).entries()) assert.ok(t - fetches[i] < 2500, `run ${i + 1} shown ${t - fetches[i]} ms after its fetch`);
}

/** Native Chromium, after the taken-over runs: DevTools' "Periodic sync" button runs the same handler once more. */
async function nativeEventToo(ctx, server, page) {
  const before = server.timeRequests.length;
  const runs = Number(SHOWN.exec(await shownRefresh(page))[2]);
  await ctx.driver.dispatchPeriodicSyncEvent(page, { scope: `${server.origin}/`, tag: 'refresh' });
  await waitFor(() => server.timeRequests.length > before, { timeout: 10000, interval: 100, label: 'a fetch of /api/time after a CDP periodicsync' });
  const shown = await waitFor(async () => {
    const text = await shownRefresh(page);
    const match = SHOWN.exec(text);
    return match && Number(match[2]) > runs && text;
  }, { timeout: 10000, interval: 100, label: 'the refresh shown after a CDP periodicsync' });
  ctx.note(`DevTools' periodicsync: ${shown}`);
}

const shownRefresh = (page) => page.evaluate(() => document.getElementById('refresh-last').textContent);
const periodicTags = (page) => page.evaluate(async () => (await navigator.serviceWorker.ready).periodicSync.getTags());
const storedRefresh = (page) =>
  page.evaluate(async () => (await (await caches.open('outbox-demo-refresh')).match('refresh.json')).json());
