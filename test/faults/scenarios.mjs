// The fault scenarios. Each causes a real fault in a real browser, checks that the
// fault really happened, and leaves the invariants (invariants.mjs) to the runner, over what it recorded.
// A scenario is { name, policy, timeout, skip?(ctx) -> reason | null, run(ctx, rec) -> notes }; it fails by throwing.
// scenario(name, policy, timeout, run) makes one.
import assert from 'node:assert/strict';
import { launchWebKit } from '../kit/drivers/webkit.mjs';
import { processGone, webKitWebProcesses } from '../kit/processes.mjs';
import { sleep, waitFor, withTimeout } from '../kit/util.mjs';
import { byTag } from '../model/attempt-log.mjs';

/**
 * A killed firing counts as a failed attempt once the polyfill notices that its worker died, and is re-fired
 * initialRetryDelay later, as attempt 2 of 2 (its lastChance).
 */
const KILL_POLICY = { maxAttempts: 2, initialRetryDelay: 500, retryDelayFactor: 2, maxEventDuration: 120000 };
const STORM_POLICY = { maxAttempts: 3, initialRetryDelay: 300, retryDelayFactor: 2, maxEventDuration: 20000 };
/**
 * The storm's flaps per engine, sized so that the page sees each one (its own `online`/`offline` events, counted in
 * the page): Chromium's offline emulation follows a 250 ms flap. Firefox's page saw none of 50 flaps of 250 ms of the
 * namespace link (it does not report so short a link change), and WebKitGTK reports a link change 3 to 5 s late
 * (docs/testing.md), so their flaps are fewer and longer. The storm fails when the page saw fewer than `minSeen`.
 */
const STORM_FLAPS = {
  chromium: { count: 50, offlineMs: 250, onlineMs: 350, minSeen: 40 },
  firefox: { count: 10, offlineMs: 3000, onlineMs: 3000, minSeen: 8 },
  webkit: { count: 8, offlineMs: 6000, onlineMs: 6000, minSeen: 6 },
};
/** Firefox with service worker lifetimes short enough to be killed mid-event (prefs of Firefox ESR, greprefs.js). */
const FIREFOX_SHORT_LIFETIME = { 'dom.serviceWorkers.idle_timeout': 1000, 'dom.serviceWorkers.idle_extended_timeout': 3000 };
/**
 * How long a scenario waits for a killed firing to fire again: generous, since the worker-killed rows note how soon it
 * came (about initialRetryDelay after the kill where the death is noticed at once, some 30 s where it is noticed when
 * a lease lapses).
 */
const LEASE_WAIT = 90000;

const short = (tag) => tag.split(':').pop();

/**
 * chromium-native (native Chromium, launched with NATIVE_RETRY) runs mixed-native-storm only: every other scenario skips
 * there, with this reason or NATIVE_PERIODIC_SKIP.
 */
const NATIVE_SKIP = 'chromium-native runs mixed-native-storm only: this fault is judged where the polyfill is the whole engine (chromium-deleted, firefox, webkit); native Chromium fires its own tags on its own schedule, and test/browser covers it';

const scenario = (name, policy, timeout, run) => ({ name, policy, timeout, run, skip: (ctx) => (ctx.native ? NATIVE_SKIP : null) });

/** Registers a tag whose handler holds (`behaviour`) and waits for its first firing: `{ tag, first }`. */
async function holdFiring(ctx, rec, page, suffix = 'held', behaviour = 'holdBeat') {
  const tag = ctx.tag(suffix);
  ctx.server.setBehaviour(tag, behaviour);
  await rec.register(page, tag);
  const [first] = await ctx.waitForSyncs(page, tag, 1, 15000);
  return { tag, first };
}

/**
 * The re-fire of a killed tag (expectRefire), noted with its delay in ms from `killedAt` (node's clock) to the start
 * of the next attempt (the worker's clock at dispatch: one machine, one wall clock); returns that delay.
 */
async function noteRefire(ctx, rec, page, tag, killed, killedAt, notes, what = 're-fired') {
  const again = await expectRefire(ctx, rec, page, tag, killed);
  const ms = again.t - killedAt;
  notes.push(`${what} ${ms} ms after the kill`);
  return ms;
}

/** Waits until every tag of a KILL_POLICY scenario has settled; returns its notes. */
async function settle(rec, page, notes) {
  await rec.waitSettled(page, { timeout: 20000, maxEventDuration: KILL_POLICY.maxEventDuration });
  return notes;
}

/** The second firing of a killed tag: in another worker instance, as the last chance (the killed one counted). */
async function expectRefire(ctx, rec, page, tag, killed, timeout = LEASE_WAIT) {
  const events = await ctx.waitForSyncs(page, tag, 2, timeout);
  const again = events[events.length - 1];
  assert.notEqual(again.instance, killed.instance, 'the re-fire should run in a new worker instance');
  return again;
}

/**
 * WebKitGTK has no way to stop a service worker alone: it runs in the web content process of a page of its origin
 * (no process of its own appears when it starts). So the worker dies the way it does when that process crashes:
 * page A registers the worker (in A's process), page B is opened in a process of its own, and A's process is
 * SIGKILLed while the worker holds an event. The beats stopping prove the worker was in it; B re-fires the tag.
 * WebKitWebDriver deletes its session when a page crashes, so this runs in a MiniBrowser of its own and page B is
 * driven through the test server (page.js ?rc=<id>), which outlives the session.
 * Returns page B and `kill()`, which SIGKILLs A's process and returns when it did, once the process is gone.
 */
async function webKitKillSetup(ctx, policy, name) {
  const browser = await launchWebKit(ctx.mode);
  ctx.own(browser);
  const before = new Set(webKitWebProcesses());
  await ctx.open({ browser, sw: policy });
  const processA = webKitWebProcesses().filter((pid) => !before.has(pid));
  const beforeB = new Set(webKitWebProcesses());
  const remote = ctx.server.remote(`${ctx.mode}-${name}-${Math.random().toString(36).slice(2, 8)}`);
  const rawB = await browser.newPage();
  await rawB.goto(`${ctx.scopeUrl()}page.html?rc=${remote.id}`);
  await remote.waitForHello(1, 15000);
  const pageB = {
    scope: ctx.scopeUrl(),
    evaluate: (fn, arg, timeout) => remote.evaluate(fn, arg, timeout),
    registerMany: (tags) => remote.evaluate((list) => T.registerMany(list), tags),
    getTags: () => remote.evaluate(() => T.getTags()),
    call: (cmd, args = {}) => remote.evaluate(({ cmd: c, args: a }) => T.call(c, a), { cmd, args }),
  };
  await waitFor(() => pageB.evaluate(() => T.attach()), { timeout: 15000, interval: 250, label: 'page B attached to the registration' });
  const processB = webKitWebProcesses().filter((pid) => !beforeB.has(pid));
  assert.equal(processA.length, 1, `page A should have a web process of its own, found ${processA.length} new`);
  assert.equal(processB.length, 1, `page B should have a web process of its own, found ${processB.length} new`);
  return {
    pageB,
    async kill() {
      process.kill(processA[0], 'SIGKILL');
      const killedAt = Date.now();
      await waitFor(() => processGone(processA[0]), { timeout: 5000, label: 'page A\'s web process gone' });
      return killedAt;
    },
    pageBAlive: () => !processGone(processB[0]),
  };
}

async function killWebKitWorker(ctx, rec) {
  const { pageB, kill, pageBAlive } = await webKitKillSetup(ctx, KILL_POLICY, 'worker-killed');
  const { tag, first } = await holdFiring(ctx, rec, pageB);
  await sleep(1000);
  // Only the held first firing holds: the next attempt, which comes about the retry delay after the kill (before the
  // beats' silence is even sure), must end.
  ctx.server.setBehaviour(tag, 'ok');
  const killedAt = await kill();
  await rec.waitForDeathByBeats(tag, first.instance, 10000);
  assert.ok(pageBAlive(), 'page B\'s process should live on');
  const notes = [`SIGKILL to the web process of the page that registered the worker; the worker died with it`];
  // Time 0 is the SIGKILL; the recorder keeps the death its beats show, for the invariants.
  ctx.killRecovery = { ms: await noteRefire(ctx, rec, pageB, tag, first, killedAt, notes), from: 'the SIGKILL' };
  return settle(rec, pageB, notes);
}

// ---- Periodic Background Sync (docs/semantics.md §7) ----

/**
 * The kill scenarios' policy with no interval floor: each tag's interval is its own minInterval (1 to 3 s). A killed
 * periodic event is a failed attempt: retried 500 ms after the polyfill notices the death, as attempt 2 of 2, and
 * after that the next period.
 */
const PERIODIC_KILL_POLICY = { ...KILL_POLICY, periodicMinInterval: 0 };
const PERIODIC_STORM_POLICY = { ...STORM_POLICY, periodicMinInterval: 0 };
/**
 * The periodic storm's flaps: fewer than the storm's (STORM_FLAPS, the same per flap) so that it stays near a minute.
 * `lagMs`: how long after the link is back the worker may still see itself offline (WebKit reports a link change 3 to
 * 5 s late), added to each flap's window in which nothing can fire (the invariants' pauses).
 */
const PERIODIC_STORM_FLAPS = {
  chromium: { count: 30, offlineMs: 250, onlineMs: 350, minSeen: 24, lagMs: 1000 },
  firefox: { count: 5, offlineMs: 3000, onlineMs: 3000, minSeen: 4, lagMs: 2000 },
  webkit: { count: 4, offlineMs: 6000, onlineMs: 6000, minSeen: 3, lagMs: 6000 },
};
/**
 * The periodic scenarios skip in chromium-native: native periodic sync fires on the browser's own schedule and no fault
 * here could wait for it; what Chromium refuses to a tab (every periodicSync.register()) the polyfill takes over, and
 * mixed-native-storm has such tags.
 */
const NATIVE_PERIODIC_SKIP = "chromium-native runs mixed-native-storm only: native periodic sync fires only on Chromium's own schedule (12 h at least, scaled by site engagement, for installed apps), not at an interval a fault scenario can wait for (test/browser's periodic-cdp-dispatch covers native dispatch); a tab's periodic sync, which Chromium refuses, is taken over, as in mixed-native-storm";

const periodicScenario = (name, policy, timeout, run, extra = {}) => ({
  name, policy, timeout, run, skip: (ctx) => (ctx.native ? NATIVE_PERIODIC_SKIP : null), ...extra,
});

/** The periodic events (the listener's) of `tag` that started after `after`, in order, once there are `count`. */
function periodicEvents(rec, tag, count, timeout, after = -Infinity) {
  return waitFor(() => {
    const list = rec.periodicSyncs(tag).filter((e) => e.t > after).sort((a, b) => a.t - b.t);
    return list.length >= count ? list : null;
  }, { timeout, interval: 100, label: `${count} periodicsync event(s) of ${short(tag)}${after > -Infinity ? ' after the fault' : ''}` });
}

/** The periodicEnd of the event of `tag` that `event` started (same worker instance, after it). */
function periodicEndOf(rec, tag, event, timeout) {
  return waitFor(() => rec.periodicEnds(tag).find((e) => e.instance === event.instance && e.t >= event.t), {
    timeout, interval: 100, label: `the end of ${short(tag)}'s periodic event of ${event.t}`,
  });
}

const shortList = (tags) => tags.map(short);

/**
 * Flaps the network FLAPS.count times (offline FLAPS.offlineMs, then online FLAPS.onlineMs), telling the recorder that
 * each offline spell and FLAPS.lagMs after it is a pause (periodic firings may come late then); online at the end.
 */
async function flapPaused(ctx, rec, FLAPS) {
  try {
    for (let i = 0; i < FLAPS.count; i++) {
      const from = Date.now();
      await ctx.driver.setOnline(false);
      await sleep(FLAPS.offlineMs);
      await ctx.driver.setOnline(true);
      rec.pause(from, Date.now() + FLAPS.lagMs);
      await sleep(FLAPS.onlineMs);
    }
  } finally {
    await ctx.driver.setOnline(true);
  }
}

/**
 * Stops the running worker of the page's registration only (the Chromium driver's stopWorker): worker-killed's
 * stopAllWorkers also stops the workers that earlier scenarios left running (worker-update's, within Chromium's 30 s
 * idle time), and it hung periodic-storm's first flap in every full run after periodic-worker-killed had stopped
 * worker-update's worker that way.
 */
async function stopScopeWorker(ctx, page) {
  if (!(await ctx.driver.stopWorker(page.page, page.scope))) throw new Error(`the running worker of ${page.scope} never showed`);
}

// ---- Native and taken-over registrations in one run (docs/semantics.md §8; chromium-native only) ----

/**
 * mixed-native-storm's policy. The polyfill's retry schedule (for the tags it takes over) is the one NATIVE_RETRY gives
 * native Chromium through its BackgroundSync field trial (test/kit/drivers/chromium.mjs), so both kinds retry alike:
 * 1 s, then 2 s, 3 attempts. periodicMinInterval 0, as in periodic-storm.
 */
const MIXED_POLICY = { maxAttempts: 3, initialRetryDelay: 1000, retryDelayFactor: 2, maxEventDuration: 20000, periodicMinInterval: 0 };
/** chromium-native's launch option (run.mjs): native retries on MIXED_POLICY's schedule instead of after 5 and 15 min. */
export const NATIVE_RETRY = {
  maxAttempts: MIXED_POLICY.maxAttempts,
  initialRetryDelaySec: MIXED_POLICY.initialRetryDelay / 1000,
  retryDelayFactor: MIXED_POLICY.retryDelayFactor,
};
/**
 * Whether mixed-native-storm registers its four crossover tags a second time on the other side (BSP_FAULT_CROSSOVER=0:
 * on the same side, like every other tag).
 */
const CROSSOVER = process.env.BSP_FAULT_CROSSOVER !== '0';
const MIXED_FLAPS = PERIODIC_STORM_FLAPS.chromium;

/**
 * The site's `background-sync` permission, set through CDP (the Chromium driver's setPermission, on one session of
 * `page` kept attached: Chromium drops the override when it detaches). `under(side, fn)` runs fn with the permission of
 * `side`, 'native' (granted: the engine takes register() and fires the tag itself) or 'takeover' (denied: the engine
 * refuses with NotAllowedError and the polyfill takes the call over), one call at a time, so no flip comes between the
 * setting and fn's register() calls. `flips` counts the changes.
 */
function backgroundSyncPermission(ctx, page) {
  let session;
  let current = null;
  let chain = Promise.resolve();
  const state = { flips: 0 };
  return {
    state,
    under(side, fn) {
      const run = chain.then(async () => {
        const setting = side === 'native' ? 'granted' : 'denied';
        if (setting !== current) {
          session = await ctx.driver.setPermission(page.page, 'background-sync', setting, session);
          if (current) state.flips += 1;
          current = setting;
        }
        return fn();
      });
      chain = run.catch(() => {});
      return run;
    },
    detach: () => session?.detach().catch(() => {}),
  };
}

/**
 * Unregisters the scenario's service worker registration, so that its worker ends with the scenario's pages rather
 * than living on into the next scenario (its schedules are gone already).
 */
async function retire(page) {
  const result = await page.evaluate(() => T.unregister());
  assert.equal(result.ok && result.value, true, `registration.unregister() should resolve true, got ${JSON.stringify(result)}`);
}

export const scenarios = [
  // Notes and records (ctx.killRecovery, the figures table's killToRefire) the time from the kill to the start of the
  // next attempt.
  scenario('worker-killed', KILL_POLICY, 150000, async (ctx, rec) => {
    const notes = [];
    let browser = ctx.driver;
    if (ctx.driver.engine === 'firefox') {
      browser = await ctx.driver.launchWithPrefs(FIREFOX_SHORT_LIFETIME);
      ctx.own(browser);
    }
    if (ctx.driver.engine === 'webkit') return killWebKitWorker(ctx, rec);
    const page = await ctx.open({ browser, sw: KILL_POLICY });
    const { tag, first } = await holdFiring(ctx, rec, page);
    let killedAt;
    let from;
    // Only the held first firing holds (its handler read its behaviour as it started): the next attempt comes about
    // the retry delay after the death, and must end.
    ctx.server.setBehaviour(tag, 'ok');
    if (ctx.driver.engine === 'chromium') {
      await sleep(1000);
      await ctx.driver.stopAllWorkers(page.page);
      killedAt = Date.now();
      rec.kill(killedAt, first.instance, 'CDP ServiceWorker.stopAllWorkers');
      await sleep(2500);
      assert.equal(rec.ends(tag).filter((e) => e.instance === first.instance).length, 0, 'the held handler must not have ended: the worker was stopped mid-event');
      const beats = rec.beats(tag, first.instance);
      assert.ok(beats.length > 0 && beats[beats.length - 1].t < killedAt + 600, 'the killed worker should stop beating');
      notes.push('CDP ServiceWorker.stopAllWorkers');
      from = 'the CDP call returned';
    } else {
      // Firefox terminates a worker whose event outlives dom.serviceWorkers.idle_extended_timeout, waitUntil or not.
      killedAt = await rec.waitForDeathByBeats(tag, first.instance, 20000);
      notes.push(`Firefox killed the worker ${Math.round((killedAt - first.t) / 100) / 10} s into the event (idle_extended_timeout 3 s)`);
      from = 'the death, from the beats (the last one + 500 ms)';
    }
    ctx.killRecovery = { ms: await noteRefire(ctx, rec, page, tag, first, killedAt, notes), from };
    return settle(rec, page, notes);
  }),

  scenario('page-closed', KILL_POLICY, 120000, async (ctx, rec) => {
    const notes = [];
    const page = await ctx.open({ sw: KILL_POLICY });
    const { tag, first } = await holdFiring(ctx, rec, page, 'slow', 'sleep:4000');
    await page.page.close();
    const closedAt = Date.now();
    assert.equal(rec.ends(tag).length, 0, 'the handler must still run when its page closes');
    if (page.page.raw?.isClosed) assert.equal(page.page.raw.isClosed(), true, 'the page should be closed');
    // The event ends in the worker (alive with no page), or the worker dies with the page and the tag fires again.
    const ended = await ctx.server
      .waitForEntries({ type: 'syncEnd', scope: page.scope, tag }, { timeout: 10000 })
      .then(() => true, () => false);
    let check;
    if (ended) {
      notes.push(`the event ended ${Math.round((rec.ends(tag)[0].t - closedAt) / 100) / 10} s after its page closed`);
      check = await ctx.open({ setup: false });
    } else {
      const died = await rec.waitForDeathByBeats(tag, first.instance, 10000);
      notes.push(`the worker died ${Math.round((died - closedAt) / 100) / 10} s after its page closed; a new page re-fired it`);
      ctx.server.setBehaviour(tag, 'ok');
      check = await ctx.open({ setup: false });
      await expectRefire(ctx, rec, check, tag, first);
    }
    return settle(rec, check, notes);
  }),

  scenario('browser-killed', KILL_POLICY, 180000, async (ctx, rec) => {
    const notes = [];
    const first = await ctx.launchPersistent();
    const page = await ctx.open({ browser: first, sw: KILL_POLICY });
    const { tag: held, first: firing } = await holdFiring(ctx, rec, page);
    await ctx.setOnline(false, page);
    const pending = Array.from({ length: 5 }, (_, i) => ctx.tag(`pending-${i}`));
    await rec.register(page, pending);
    await sleep(1000);
    assert.equal(rec.syncs().length, 1, 'only the held tag may have fired: the others were registered offline');
    const pid = first.browserPid();
    assert.ok(pid, 'the browser pid should be known');
    const { pids } = first.kill();
    const killedAt = Date.now();
    rec.kill(killedAt, '*', 'SIGKILL');
    await waitFor(() => pids.every(processGone), { timeout: 10000, label: `the killed browser's ${pids.length} processes gone` });
    assert.equal(rec.ends(held).length, 0, 'the held event must not have ended before the kill');
    notes.push(`SIGKILL to ${pids.length} processes`);
    ctx.server.setBehaviour(held, 'ok');
    await ctx.setOnline(true);
    const second = await ctx.relaunch(first);
    const page2 = await ctx.open({ browser: second, sw: KILL_POLICY }); // the app registers its worker on load
    for (const tag of pending) await ctx.waitForSyncs(page2, tag, 1, 30000);
    // The server log is blind while offline in Chromium (its offline worker cannot report): the worker's own journal,
    // kept in the profile across the kill, says whether anything started offline.
    await ctx.assertNothingFiredOffline(page2, 'nothing may fire while offline, before the kill or after');
    await noteRefire(ctx, rec, page2, held, firing, killedAt, notes, 'held tag re-fired');
    await settle(rec, page2, notes);
    await second.close();
    return notes;
  }),

  scenario('storm', STORM_POLICY, 300000, async (ctx, rec) => {
    const notes = [];
    const seed = ctx.seed;
    ctx.server.setRandomFail(seed, 0.3);
    notes.push(`seed ${seed}`);
    const tabs = [];
    for (let i = 0; i < 5; i++) tabs.push(await ctx.open({ sw: STORM_POLICY }));
    for (const tab of tabs) {
      await tab.evaluate(() => {
        self.__flaps = { online: 0, offline: 0 };
        addEventListener('online', () => self.__flaps.online++);
        addEventListener('offline', () => self.__flaps.offline++);
      });
    }
    const tags = Array.from({ length: 200 }, (_, i) => ctx.tag(`s${String(i).padStart(3, '0')}`));
    const held = tags.filter((_, i) => i % 20 === 7); // 10 tags, registered again while they fire
    const fromWorker = new Set(tags.filter((_, i) => i % 10 === 3)); // 20 tags registered in the worker
    for (const tag of tags) ctx.server.setBehaviour(tag, held.includes(tag) ? 'holdBeat' : 'random');
    let rng = seed >>> 0 || 1;
    const random = () => {
      rng ^= rng << 13;
      rng ^= rng >>> 17;
      rng ^= rng << 5;
      return (rng >>> 0) / 2 ** 32;
    };

    // Flaps on a schedule sized for the engine (STORM_FLAPS): Chromium 50 × (250 ms offline, 350 ms online).
    const FLAPS = STORM_FLAPS[ctx.driver.engine];
    let flapping = true;
    const flaps = (async () => {
      try {
        for (let i = 0; i < FLAPS.count; i++) {
          await ctx.driver.setOnline(false);
          await sleep(FLAPS.offlineMs);
          await ctx.driver.setOnline(true);
          await sleep(FLAPS.onlineMs);
        }
      } finally {
        await ctx.driver.setOnline(true);
        flapping = false;
      }
    })();

    // Held tags: once firing, registered again from another tab, then released.
    const reregistered = new Set();
    const watcher = (async () => {
      const deadline = Date.now() + 150000;
      while (reregistered.size < held.length && Date.now() < deadline) {
        for (const tag of held) {
          if (reregistered.has(tag)) continue;
          const [firing] = rec.syncs(tag);
          if (!firing) continue;
          reregistered.add(tag);
          const tab = tabs[(held.indexOf(tag) + 1) % tabs.length];
          await rec.register(tab, tag, 'page, while firing');
          ctx.server.setBehaviour(tag, 'random');
          await tab.call('release', { tag }).catch(() => {});
        }
        await sleep(200);
      }
    })();

    // 200 tags in 20 batches across the 5 tabs, some from the worker; a few registered again at random times.
    for (let batch = 0; batch < 20; batch++) {
      const tab = tabs[batch % tabs.length];
      const slice = tags.slice(batch * 10, batch * 10 + 10);
      const inPage = slice.filter((tag) => !fromWorker.has(tag));
      await rec.register(tab, inPage);
      for (const tag of slice.filter((t) => fromWorker.has(t))) await rec.registerFromWorker(tab, tag);
      const again = Array.from({ length: 3 }, () => tags[Math.floor(random() * (batch + 1) * 10)]).filter((t) => !held.includes(t));
      if (again.length) await rec.register(tabs[(batch + 2) % tabs.length], [...new Set(again)], 'page, again');
      await sleep(300);
    }
    await flaps;
    await watcher;
    assert.equal(flapping, false);
    assert.equal(reregistered.size, held.length, `every held tag should fire and be registered again while firing (${reregistered.size}/${held.length})`);
    await rec.waitSettled(tabs[0], { timeout: 120000, maxEventDuration: STORM_POLICY.maxEventDuration, quiet: 2500 });
    const noticed = await tabs[0].evaluate(() => self.__flaps);
    ctx.flaps = { planned: FLAPS.count, offlineMs: FLAPS.offlineMs, seenOffline: noticed.offline, seenOnline: noticed.online };
    notes.push(`${FLAPS.count} flaps of ${FLAPS.offlineMs} ms offline, tab 1 noticed ${noticed.offline} offline / ${noticed.online} online`);
    const failures = rec.ends().filter((e) => e.result === 'rejected').length;
    notes.push(`${failures} handler failures`);
    assert.ok(failures > 0, 'some handlers should have failed (30 %)');
    if (ctx.driver.engine === 'chromium') assert.ok(noticed.offline > 0, 'the page should have noticed some flaps');
    // In every engine: a storm whose page saw no flaps was no storm.
    const seen = Math.min(noticed.offline, noticed.online);
    assert.ok(seen >= FLAPS.minSeen, `the page should see the flaps (its own offline/online events): saw ${noticed.offline} offline / ${noticed.online} online of ${FLAPS.count}, at least ${FLAPS.minSeen} wanted`);
    return notes;
  }),

  scenario('worker-update', KILL_POLICY, 120000, async (ctx, rec) => {
    const notes = [];
    const build = ctx.tag('build');
    const sw = { ...KILL_POLICY, build };
    const page = await ctx.open({ sw });
    assert.equal((await page.call('probe')).build, 1, 'version 1 of the worker should be active');
    const { tag: held, first: firing } = await holdFiring(ctx, rec, page);
    assert.equal(firing.build, 1);
    ctx.server.setSwBuild(build, 2);
    // Deploy: registration.update() finds a new script; the new version skips waiting.
    const state = await page.evaluate(async () => {
      const registration = T.registration;
      const before = registration.active;
      self.__oldWorker = before;
      await registration.update();
      const deadline = Date.now() + 8000;
      while (Date.now() < deadline) {
        if (registration.active && registration.active !== before && registration.active.state === 'activated') return 'activated';
        await T.sleep(50);
      }
      return registration.waiting ? 'waiting' : registration.installing ? 'installing' : 'none';
    }, undefined, 20000);
    const deployedAt = Date.now();
    assert.equal(rec.ends(held).length, 0, 'the held event should still be running when version 2 is deployed');
    ctx.server.setBehaviour(held, 'ok');
    const after = ctx.tag('after');
    await rec.register(page, [after, held]); // held: registered again while it fires in version 1
    if (state === 'activated') {
      assert.equal((await page.call('probe')).build, 2, 'version 2 of the worker should have taken over');
      // Release the old version's event if that worker still runs.
      const released = await page.evaluate(async (tag) => {
        const worker = self.__oldWorker;
        if (!worker || worker.state === 'redundant') return `old worker ${worker ? worker.state : 'missing'}`;
        return new Promise((resolve) => {
          const channel = new MessageChannel();
          const timer = setTimeout(() => resolve('no answer'), 3000);
          channel.port1.onmessage = ({ data }) => {
            clearTimeout(timer);
            resolve(data.ok ? (data.result.released ? 'released' : 'not holding') : 'error');
          };
          worker.postMessage({ __bspTest: 'release', args: { tag } }, [channel.port2]);
        });
      }, held);
      const oldEnded = await ctx.server
        .waitForEntries({ type: 'syncEnd', scope: page.scope, tag: held }, { timeout: 3000 })
        .then(() => true, () => false);
      if (oldEnded) notes.push(`version 2 activated mid-event; the old version finished its event (${released})`);
      else {
        // Stopped by the browser (its beats stop), or it runs on until its hold times out (60 s) and then ends.
        const outcome = await waitFor(() => {
          if (rec.ends(held).length) return 'ended';
          const beats = rec.beats(held, firing.instance);
          const last = beats[beats.length - 1];
          return last && Date.now() - last.receivedAt > 2500 ? last : null;
        }, { timeout: 75000, interval: 250, label: 'the old version to end its event or stop' });
        if (outcome === 'ended') notes.push(`version 2 activated mid-event; the old version ran on until its hold timed out (${released})`);
        else {
          rec.kill(outcome.t + 500, firing.instance, 'beats stopped');
          notes.push(`version 2 activated mid-event; the old version was stopped ${Math.round((outcome.t + 500 - deployedAt) / 100) / 10} s after the deploy (${released})`);
        }
      }
    } else {
      // Chromium keeps a skipWaiting version waiting while the active one has an event in flight.
      assert.equal(state, 'waiting', `version 2 should be activated or waiting, it is ${state}`);
      await sleep(1000);
      assert.equal(rec.ends(held).length, 0, 'the held event should still run while version 2 waits');
      notes.push('version 2 waited while version 1 had the event in flight');
      assert.deepEqual(await page.call('release', { tag: held }), { released: true }, 'version 1 should still hold the event');
      await page.evaluate(async () => {
        const registration = T.registration;
        const deadline = Date.now() + 20000;
        while (!(registration.active && registration.active !== self.__oldWorker && registration.active.state === 'activated')) {
          if (Date.now() > deadline) throw new Error('version 2 did not activate after the event ended');
          await T.sleep(50);
        }
      }, undefined, 25000);
      assert.equal((await page.call('probe')).build, 2, 'version 2 of the worker should have taken over');
    }
    const events = await ctx.waitForSyncs(page, held, 2, LEASE_WAIT);
    notes.push(`the re-registered tag fired again in version ${events[1].build}`);
    await ctx.waitForSyncs(page, after, 1, 15000);
    return settle(rec, page, notes);
  }),

  // A periodic event's worker killed mid-event (as worker-killed kills it, per engine): the killed attempt counts as a
  // failed one, so the retry after it is attempt 2 of 2; it fails too, and the next event must wait a whole period
  // (a retry would come 1 s after it). A second tag goes on beside it; both stay registered; never two at once.
  periodicScenario('periodic-worker-killed', PERIODIC_KILL_POLICY, 150000, async (ctx, rec) => {
    const notes = [];
    const engine = ctx.driver.engine;
    let browser = ctx.driver;
    if (engine === 'firefox') {
      browser = await ctx.driver.launchWithPrefs(FIREFOX_SHORT_LIFETIME);
      ctx.own(browser);
    }
    const webkit = engine === 'webkit' ? await webKitKillSetup(ctx, PERIODIC_KILL_POLICY, 'periodic-worker-killed') : null;
    const page = webkit ? webkit.pageB : await ctx.open({ browser, sw: PERIODIC_KILL_POLICY });
    const held = ctx.tag('held');
    const steady = ctx.tag('steady');
    ctx.server.setBehaviour(held, 'holdBeat');
    await rec.periodicRegister(page, held, 3000);
    // Firefox: the pages' pokes on the steady tag's schedule (messages, every 1.5 s) would keep the worker alive past
    // idle_extended_timeout, so there the steady tag comes after the death.
    if (engine !== 'firefox') await rec.periodicRegister(page, steady, 1500);
    const [first] = await periodicEvents(rec, held, 1, 15000);
    // The next attempt, in a new worker, fails: the period's attempts are spent only if the killed one counted.
    ctx.server.setBehaviour(held, 'fail');
    let killedAt;
    let from;
    if (engine === 'chromium') {
      await sleep(1000);
      await stopScopeWorker(ctx, page);
      killedAt = Date.now();
      rec.kill(killedAt, first.instance, 'CDP ServiceWorker.stopWorker');
      await sleep(2500);
      assert.equal(rec.periodicEnds(held).filter((e) => e.instance === first.instance).length, 0, 'the held periodic event must not have ended: the worker was stopped mid-event');
      const beats = rec.periodicBeats(held, first.instance);
      assert.ok(beats.length > 0 && beats[beats.length - 1].t < killedAt + 600, 'the killed worker should stop beating');
      notes.push('CDP ServiceWorker.stopWorker mid-event');
      from = 'the CDP call returned';
    } else if (engine === 'firefox') {
      // Firefox terminates a worker whose event outlives dom.serviceWorkers.idle_extended_timeout, waitUntil or not.
      killedAt = await rec.waitForDeathByBeats(held, first.instance, 20000, { periodic: true });
      notes.push(`Firefox killed the worker ${Math.round((killedAt - first.t) / 100) / 10} s into the event (idle_extended_timeout 3 s)`);
      from = 'the death, from the beats (the last one + 500 ms)';
      await rec.periodicRegister(page, steady, 1500);
    } else {
      await sleep(1000);
      killedAt = await webkit.kill();
      await rec.waitForDeathByBeats(held, first.instance, 10000, { periodic: true });
      assert.ok(webkit.pageBAlive(), 'page B\'s process should live on');
      notes.push('SIGKILL to the web process of the page that registered the worker; the worker died with it');
      from = 'the SIGKILL';
    }
    assert.deepEqual(await rec.periodicTags(page), [held, steady], 'both registrations stay listed after the kill');
    const [, retry] = await periodicEvents(rec, held, 2, LEASE_WAIT);
    assert.notEqual(retry.instance, first.instance, 'the next attempt should run in a new worker instance');
    ctx.killRecovery = { ms: retry.t - killedAt, from };
    notes.push(`next attempt ${retry.t - killedAt} ms after the kill`);
    const retryEnd = await periodicEndOf(rec, held, retry, 15000);
    assert.equal(retryEnd.result, 'rejected', 'the attempt after the kill should have failed, as told');
    ctx.server.setBehaviour(held, 'ok');
    const after = await periodicEvents(rec, held, 4, 30000);
    const gap = after[2].t - retryEnd.t;
    notes.push(`after it failed (attempt 2 of 2), the next period ${gap} ms later`);
    assert.ok(gap >= 3000 - 50, `the killed attempt should count: after the failed attempt 2 of 2 the next event waits one interval (3000 ms), it came after ${gap} ms (a retry would come after 1000)`);
    const beside = await periodicEvents(rec, steady, 3, 20000, killedAt);
    notes.push(`${short(steady)} fired ${beside.length}× after the kill`);
    assert.deepEqual(await rec.periodicTags(page), [held, steady], 'both registrations stay listed');
    rec.endObservation();
    await rec.periodicUnregister(page, [held, steady]);
    assert.deepEqual(await rec.periodicTags(page), [], 'unregister() removes them');
    await retire(page);
    return notes;
  }),

  // The browser SIGKILLed with four periodic registrations of three intervals, one of them mid-event: relaunched on
  // its profile, a page visits; every registration is listed, each fires again (the held one as a failed attempt's
  // retry), an overdue one once and then on its interval, never two at once.
  periodicScenario('periodic-browser-restart', PERIODIC_KILL_POLICY, 180000, async (ctx, rec) => {
    const notes = [];
    const first = await ctx.launchPersistent();
    const page = await ctx.open({ browser: first, sw: PERIODIC_KILL_POLICY });
    const held = ctx.tag('held');
    const schedule = [[ctx.tag('fast'), 1000], [ctx.tag('mid'), 2000], [ctx.tag('slow'), 3000], [held, 2000]];
    const tags = schedule.map(([tag]) => tag);
    ctx.server.setBehaviour(held, 'holdBeat');
    for (const [tag, minInterval] of schedule) await rec.periodicRegister(page, tag, minInterval);
    const [firing] = await periodicEvents(rec, held, 1, 15000);
    await periodicEvents(rec, tags[0], 2, 15000);
    await sleep(1000);
    ctx.server.setBehaviour(held, 'ok');
    assert.deepEqual(await rec.periodicTags(page), tags, 'every periodic registration listed before the kill');
    const { pids } = first.kill();
    const killedAt = Date.now();
    rec.kill(killedAt, '*', 'SIGKILL');
    await waitFor(() => pids.every(processGone), { timeout: 10000, label: `the killed browser's ${pids.length} processes gone` });
    assert.equal(rec.periodicEnds(held).length, 0, 'the held periodic event must not have ended before the kill');
    const before = Object.fromEntries(tags.map((tag) => [short(tag), rec.periodicSyncs(tag).length]));
    notes.push(`SIGKILL to ${pids.length} processes, ${short(held)} mid-event; fired before: ${JSON.stringify(before)}`);
    // Down longer than every interval: each is overdue at the visit, and must fire once, not once per missed period.
    await sleep(3500);
    const second = await ctx.relaunch(first);
    const page2 = await ctx.open({ browser: second, sw: PERIODIC_KILL_POLICY }); // the app registers its worker on load
    const visitedAt = Date.now();
    rec.pause(killedAt, visitedAt);
    assert.deepEqual(await rec.periodicTags(page2), tags, 'every periodic registration survived the kill, in order');
    for (const tag of tags) await periodicEvents(rec, tag, 2, 30000, killedAt);
    const refire = rec.periodicSyncs(held).filter((e) => e.t > killedAt).sort((a, b) => a.t - b.t)[0];
    assert.notEqual(refire.instance, firing.instance, 'the held tag should fire again in the relaunched browser');
    notes.push(`${short(held)} fired again ${refire.t - killedAt} ms after the kill, ${refire.t - visitedAt} ms after the visit`);
    // Starts the kill cut off before they reached the server, from the worker's journal (kept in the profile).
    const added = rec.addJournal(await page2.call('journal'), killedAt);
    if (added.length) notes.push(`the journal added ${added.length} periodic start(s) the server never heard of: ${shortList(added.map((e) => e.tag))}`);
    assert.deepEqual(await rec.periodicTags(page2), tags, 'every periodic registration still listed');
    rec.endObservation();
    await rec.periodicUnregister(page2, tags);
    assert.deepEqual(await rec.periodicTags(page2), [], 'unregister() removes them');
    await second.close();
    return notes;
  }),

  // One-shot and periodic tags in a storm: 4 tabs, 100 one-shot tags (10 registered in the worker) and 20 periodic
  // ones (1, 2 and 3 s; 3 registered in the worker, each registered again from another tab), 10 names both one-shot
  // and periodic, flaps (PERIODIC_STORM_FLAPS), 30 % seeded random failures of the periodic-only tags. Every
  // one-shot tag fires exactly once; each periodic tag fires, and goes on firing after the storm, at most once per
  // interval, never two at once; a one-shot "x" and a periodic "x" leave each other alone.
  periodicScenario('periodic-storm', PERIODIC_STORM_POLICY, 240000, async (ctx, rec) => {
    const notes = [];
    const seed = ctx.seed;
    ctx.server.setRandomFail(seed, 0.3);
    notes.push(`seed ${seed}`);
    const tabs = [];
    for (let i = 0; i < 4; i++) tabs.push(await ctx.open({ sw: PERIODIC_STORM_POLICY }));
    for (const tab of tabs) {
      await tab.evaluate(() => {
        self.__flaps = { online: 0, offline: 0 };
        addEventListener('online', () => self.__flaps.online++);
        addEventListener('offline', () => self.__flaps.offline++);
      });
    }
    const pad = (i) => String(i).padStart(3, '0');
    const oneShot = Array.from({ length: 100 }, (_, i) => ctx.tag(`s${pad(i)}`));
    const shared = oneShot.slice(0, 10); // one-shot and periodic
    const periodicOnly = Array.from({ length: 10 }, (_, i) => ctx.tag(`p${pad(i + 10)}`));
    const periodic = [...shared, ...periodicOnly];
    const intervalOf = (tag) => 1000 * (1 + (periodic.indexOf(tag) % 3));
    const fromWorker = new Set(oneShot.filter((_, i) => i % 10 === 5));
    const periodicFromWorker = new Set(periodicOnly.slice(7));
    // The shared names' events (both kinds) take 400 ms, so a one-shot "x" and a periodic "x" often run together;
    // the one-shot tags succeed (each must fire exactly once); periodic-only tags fail at random.
    for (const tag of oneShot) ctx.server.setBehaviour(tag, shared.includes(tag) ? 'sleep:400' : 'ok');
    for (const tag of periodicOnly) ctx.server.setBehaviour(tag, 'random');

    for (const [i, tag] of periodic.entries()) {
      const tab = tabs[i % tabs.length];
      if (periodicFromWorker.has(tag)) await rec.periodicRegisterFromWorker(tab, tag, intervalOf(tag));
      else await rec.periodicRegister(tab, tag, intervalOf(tag));
    }

    const FLAPS = PERIODIC_STORM_FLAPS[ctx.driver.engine];
    let flapping = true;
    const flaps = flapPaused(ctx, rec, FLAPS).finally(() => (flapping = false));

    // The one-shot tags in 10 batches across the tabs, while flapping; two periodic tags registered again each time,
    // from another tab, with the same minInterval (their schedules stay).
    for (let batch = 0; batch < 10; batch++) {
      const tab = tabs[batch % tabs.length];
      const slice = oneShot.slice(batch * 10, batch * 10 + 10);
      await rec.register(tab, slice.filter((tag) => !fromWorker.has(tag)));
      for (const tag of slice.filter((t) => fromWorker.has(t))) await rec.registerFromWorker(tab, tag);
      for (const tag of periodic.slice(batch * 2, batch * 2 + 2)) await rec.periodicRegister(tabs[(batch + 1) % tabs.length], tag, intervalOf(tag), 'page, again');
      await sleep(FLAPS.count > 10 ? 800 : 1500);
    }
    await flaps;
    assert.equal(flapping, false);
    const calmAt = Date.now();
    await rec.waitSettled(tabs[0], { timeout: 90000, maxEventDuration: PERIODIC_STORM_POLICY.maxEventDuration, quiet: 1500 });
    // Periodic sync goes on after the storm: two more events of each tag.
    await waitFor(() => periodic.every((tag) => rec.periodicSyncs(tag).filter((e) => e.t > calmAt).length >= 2), {
      timeout: 40000, interval: 250,
      label: `every periodic tag to fire twice after the storm (missing: ${shortList(periodic.filter((tag) => rec.periodicSyncs(tag).filter((e) => e.t > calmAt).length < 2))})`,
    });
    assert.deepEqual(await rec.periodicTags(tabs[1]), periodic, 'every periodic registration listed, in order');
    const noticed = await tabs[0].evaluate(() => self.__flaps);
    ctx.flaps = { planned: FLAPS.count, offlineMs: FLAPS.offlineMs, seenOffline: noticed.offline, seenOnline: noticed.online };
    notes.push(`${FLAPS.count} flaps of ${FLAPS.offlineMs} ms offline, tab 1 noticed ${noticed.offline} offline / ${noticed.online} online`);
    const notOnce = oneShot.map((tag) => [tag, rec.syncs(tag).length]).filter(([, n]) => n !== 1).map(([tag, n]) => `${short(tag)}×${n}`);
    assert.deepEqual(notOnce, [], 'every one-shot tag should fire exactly once (each succeeds)');
    const counts = periodic.map((tag) => rec.periodicSyncs(tag).length);
    notes.push(`periodic events per tag ${Math.min(...counts)}..${Math.max(...counts)}, ${rec.periodicEnds().filter((e) => e.result === 'rejected').length} failed`);
    const wrongKind = rec.periodicSyncs().filter((e) => e.isPeriodicSyncEvent !== true || e.isSyncEvent !== false || e.hasLastChance !== false);
    assert.deepEqual(shortList(wrongKind.map((e) => e.tag)), [], 'every periodic event is a PeriodicSyncEvent, not a SyncEvent, without lastChance');
    assert.ok(rec.periodicEnds().some((e) => e.result === 'rejected'), 'some periodic events should have failed (30 %)');
    rec.endObservation();
    await rec.periodicUnregister(tabs[0], periodic);
    assert.deepEqual(await rec.periodicTags(tabs[2]), [], 'unregister() removes them');
    await retire(tabs[0]);
    const seen = Math.min(noticed.offline, noticed.online);
    assert.ok(seen >= FLAPS.minSeen, `the page should see the flaps (its own offline/online events): saw ${noticed.offline} offline / ${noticed.online} online of ${FLAPS.count}, at least ${FLAPS.minSeen} wanted`);
    return notes;
  }, { judge: { maxLate: 25000 } }),

  // Native and taken-over registrations in one storm, in native Chromium launched with NATIVE_RETRY (its BackgroundSync
  // field trial: native retries 1 s and 2 s after a failure, 3 attempts, as MIXED_POLICY's). 3 tabs of one scope; 48
  // one-shot tags in 8 batches, the site's background-sync permission flipped between batches: granted, the engine takes
  // register() and fires the tag itself (a trusted event); denied, it refuses and the polyfill stores the tag and fires
  // it (an untrusted one). One tag per batch registered in the worker, 8 held and registered again while they fire, two
  // more registered again per batch, all on their batch's side; 30 % seeded random failures on both sides; 8 periodic
  // tags (1 to 3 s, 2 from the worker, each registered again from another tab), all taken over (Chromium refuses
  // periodic sync to a tab); 30 flaps of 250 ms. Four crossover tags are registered a second time on the other side
  // (BSP_FAULT_CROSSOVER=0: on the same side): two offline before the storm, two while their first event runs. The
  // invariants hold over everything that fired, both kinds together; each tag registered on one side only fires only as
  // that side (trusted or not); both sides fired, failed and retried. The crossover tags fire on one side, or on both
  // one after the other, never at once and never missing a re-registration (docs/semantics.md §8, README.md).
  {
    name: 'mixed-native-storm',
    policy: MIXED_POLICY,
    timeout: 240000,
    judge: { maxLate: 25000 },
    skip: (ctx) => (ctx.mode === 'chromium-native' ? null : 'native Chromium only (chromium-native): it mixes the registrations the engine takes with those it refuses and the polyfill takes over'),
    async run(ctx, rec) {
      const notes = [];
      const seed = ctx.seed;
      ctx.server.setRandomFail(seed, 0.3);
      notes.push(`seed ${seed}`);
      assert.ok(ctx.driver.nativeRetry, 'chromium-native must be launched with NATIVE_RETRY (its BackgroundSync field trial): else native retries come after 5 and 15 min');
      const tabs = [];
      for (let i = 0; i < 3; i++) tabs.push(await ctx.open({ sw: MIXED_POLICY }));
      for (const tab of tabs) {
        await tab.evaluate(() => {
          self.__flaps = { online: 0, offline: 0 };
          addEventListener('online', () => self.__flaps.online++);
          addEventListener('offline', () => self.__flaps.offline++);
        });
      }
      const permission = backgroundSyncPermission(ctx, tabs[0]);
      try {
        const pad = (i) => String(i).padStart(3, '0');
        const other = (side) => (side === 'native' ? 'takeover' : 'native');
        const crossed = (side) => (CROSSOVER ? other(side) : side);
        /** The sides each one-shot tag was registered on. */
        const sides = new Map();
        const noteSide = (tag, side) => (sides.get(tag) ?? sides.set(tag, new Set()).get(tag)).add(side);
        const register = (side, tab, list, from) => permission.under(side, async () => {
          await rec.register(tab, list, `${from ?? 'page'}, ${side}`);
          for (const tag of list) noteSide(tag, side);
        });
        const registerFromWorker = (side, tab, tag) => permission.under(side, async () => {
          await rec.registerFromWorker(tab, tag);
          noteSide(tag, side);
        });

        const batchSide = (batch) => (batch % 2 === 0 ? 'native' : 'takeover');
        const tags = Array.from({ length: 48 }, (_, i) => ctx.tag(`m${pad(i)}`));
        const sideOf = new Map(tags.map((tag, i) => [tag, batchSide(Math.floor(i / 6))]));
        const fromWorker = new Set(tags.filter((_, i) => i % 6 === 4));
        const held = tags.filter((_, i) => i % 12 === 1 || i % 12 === 7); // 4 native, 4 taken over
        for (const tag of tags) ctx.server.setBehaviour(tag, held.includes(tag) ? 'holdBeat' : 'random');
        // Crossover: registered on one side, then on the other, before it fired (offline) or while it fires.
        const pendingCross = [[ctx.tag('x-pending-n'), 'native'], [ctx.tag('x-pending-t'), 'takeover']];
        const firingCross = [[ctx.tag('x-firing-n'), 'native'], [ctx.tag('x-firing-t'), 'takeover']];
        for (const [tag] of pendingCross) ctx.server.setBehaviour(tag, 'ok');
        for (const [tag] of firingCross) ctx.server.setBehaviour(tag, 'holdBeat');
        const periodic = Array.from({ length: 8 }, (_, i) => ctx.tag(`p${pad(i)}`));
        const intervalOf = (tag) => 1000 * (1 + (periodic.indexOf(tag) % 3));
        const periodicFromWorker = new Set(periodic.slice(6));
        for (const tag of periodic) ctx.server.setBehaviour(tag, 'random');
        let rng = seed >>> 0 || 1;
        const random = () => {
          rng ^= rng << 13;
          rng ^= rng >>> 17;
          rng ^= rng << 5;
          return (rng >>> 0) / 2 ** 32;
        };

        // Offline: the pending crossover tags, each registered twice, from two tabs.
        await ctx.setOnline(false, tabs[0]);
        for (const [tag, side] of pendingCross) {
          await register(side, tabs[1], [tag], 'page, offline');
          await register(crossed(side), tabs[2], [tag], 'page, offline, again');
        }
        await ctx.setOnline(true, tabs[0]);

        for (const [i, tag] of periodic.entries()) {
          const tab = tabs[i % tabs.length];
          if (periodicFromWorker.has(tag)) await rec.periodicRegisterFromWorker(tab, tag, intervalOf(tag));
          else await rec.periodicRegister(tab, tag, intervalOf(tag));
        }

        const FLAPS = MIXED_FLAPS;
        let flapping = true;
        const flaps = flapPaused(ctx, rec, FLAPS).finally(() => (flapping = false));

        // Held tags, once firing, registered again from another tab (on their side; the crossover ones on the other)
        // and released; the event that holds read its behaviour already, so the next is told first.
        const watched = [...held.map((tag) => [tag, sideOf.get(tag), 'random']), ...firingCross.map(([tag, side]) => [tag, crossed(side), 'ok'])];
        const reregistered = new Set();
        const watcher = (async () => {
          const deadline = Date.now() + 150000;
          while (reregistered.size < watched.length && Date.now() < deadline) {
            for (const [tag, side, next] of watched) {
              if (reregistered.has(tag) || !rec.syncs(tag).length) continue;
              reregistered.add(tag);
              const tab = tabs[(watched.findIndex(([t]) => t === tag) + 1) % tabs.length];
              ctx.server.setBehaviour(tag, next);
              await register(side, tab, [tag], 'page, while firing');
              await tab.call('release', { tag }).catch(() => {});
            }
            await sleep(200);
          }
        })();

        for (let batch = 0; batch < 8; batch++) {
          const side = batchSide(batch);
          const tab = tabs[batch % tabs.length];
          const slice = tags.slice(batch * 6, batch * 6 + 6);
          await register(side, tab, slice.filter((tag) => !fromWorker.has(tag)));
          for (const tag of slice.filter((t) => fromWorker.has(t))) await registerFromWorker(side, tab, tag);
          const cross = firingCross.find(([, s], i) => i === batch && s === side);
          if (cross) await register(side, tab, [cross[0]]);
          // Two earlier tags of this side again, at random (never a held one: that is the watcher's).
          const pool = tags.slice(0, (batch + 1) * 6).filter((t) => sideOf.get(t) === side && !held.includes(t));
          const again = [...new Set(Array.from({ length: 2 }, () => pool[Math.floor(random() * pool.length)]))];
          await register(side, tabs[(batch + 2) % tabs.length], again, 'page, again');
          await rec.periodicRegister(tabs[(batch + 1) % tabs.length], periodic[batch], intervalOf(periodic[batch]), 'page, again');
          await sleep(1200);
        }
        await flaps;
        await watcher;
        assert.equal(flapping, false);
        assert.equal(reregistered.size, watched.length, `every held tag should fire and be registered again while firing (${reregistered.size}/${watched.length})`);
        // Granted again: the engine's getTags() lists its own pending tags, beside the polyfill's.
        await permission.under('native', () => {});
        const calmAt = Date.now();
        await rec.waitSettled(tabs[0], { timeout: 90000, maxEventDuration: MIXED_POLICY.maxEventDuration, quiet: 2500 });
        await waitFor(() => periodic.every((tag) => rec.periodicSyncs(tag).filter((e) => e.t > calmAt).length >= 2), {
          timeout: 40000, interval: 250,
          label: `every periodic tag to fire twice after the storm (missing: ${shortList(periodic.filter((tag) => rec.periodicSyncs(tag).filter((e) => e.t > calmAt).length < 2))})`,
        });
        assert.deepEqual(await rec.periodicTags(tabs[1]), periodic, 'every periodic registration listed, in order');
        const noticed = await tabs[0].evaluate(() => self.__flaps);
        ctx.flaps = { planned: FLAPS.count, offlineMs: FLAPS.offlineMs, seenOffline: noticed.offline, seenOnline: noticed.online };
        notes.push(`${FLAPS.count} flaps of ${FLAPS.offlineMs} ms offline, tab 1 noticed ${noticed.offline} offline / ${noticed.online} online`);

        // Who fired what: a tag registered on one side only fires only as that side.
        const oneSided = [...sides].filter(([, s]) => s.size === 1).map(([tag, s]) => [tag, [...s][0]]);
        const wrongKind = [];
        for (const [tag, side] of oneSided) {
          for (const e of rec.syncs(tag)) if (e.isTrusted !== (side === 'native')) wrongKind.push(`${short(tag)} (${side}) isTrusted=${e.isTrusted}`);
        }
        assert.deepEqual(wrongKind, [], 'a tag the engine took fires as a trusted event, one the polyfill took over as an untrusted one');
        const kinds = { native: { tags: 0, events: 0, failed: 0, retried: 0 }, takeover: { tags: 0, events: 0, failed: 0, retried: 0 } };
        for (const [tag, side] of oneSided) {
          const k = kinds[side];
          const n = rec.syncs(tag).length;
          k.tags += 1;
          k.events += n;
          k.failed += rec.ends(tag).filter((e) => e.result === 'rejected').length;
          if (n > 1) k.retried += 1;
        }
        const events = rec.syncs();
        const trusted = events.filter((e) => e.isTrusted === true).length;
        const untrusted = events.filter((e) => e.isTrusted === false).length;
        notes.push(`background-sync permission flipped ${permission.state.flips}×`);
        notes.push(`one-shot: ${kinds.native.tags} tags native, ${kinds.takeover.tags} taken over${CROSSOVER ? `, ${sides.size - oneSided.length} on both sides` : ' (crossover off)'}; ${trusted} trusted / ${untrusted} untrusted events`);
        notes.push(`native ${kinds.native.events} events, ${kinds.native.failed} failed, ${kinds.native.retried} tags fired more than once; taken over ${kinds.takeover.events} events, ${kinds.takeover.failed} failed, ${kinds.takeover.retried} tags fired more than once`);
        // How long after a failed event the retry came, per side, for the tags registered once (a register() while
        // firing would bring the next event at once): native on the field trial's schedule, the polyfill on its policy.
        const registeredOnce = new Set([...byTag(rec.registrations)].filter(([, list]) => list.length === 1).map(([tag]) => tag));
        const retryGaps = (tag) => rec.ends(tag).filter((e) => e.result === 'rejected').flatMap((e) => {
          const next = rec.syncs(tag).filter((g) => g.t > e.t).sort((a, b) => a.t - b.t)[0];
          return next ? [next.t - e.t] : [];
        });
        for (const side of ['native', 'takeover']) {
          const gaps = oneSided.filter(([tag, s]) => s === side && registeredOnce.has(tag)).flatMap(([tag]) => retryGaps(tag));
          if (gaps.length) notes.push(`${side} retries ${Math.min(...gaps)}..${Math.max(...gaps)} ms after a failure (${gaps.length})`);
        }
        const crossTags = [...pendingCross, ...firingCross].map(([tag]) => tag);
        notes.push(`crossover: ${crossTags.map((tag) => `${short(tag)} ${rec.syncs(tag).map((e) => (e.isTrusted ? 'T' : 'U')).join('') || 'none'}`).join(', ')}`);
        assert.ok(trusted > 0 && untrusted > 0, `both kinds should have fired: ${trusted} trusted, ${untrusted} untrusted one-shot events`);
        for (const side of ['native', 'takeover']) {
          assert.ok(kinds[side].failed > 0 && kinds[side].retried > 0, `${side}: some events should have failed (30 %) and been retried: ${JSON.stringify(kinds[side])}`);
        }
        assert.ok(permission.state.flips >= 8, `the permission should have flipped between the batches: ${permission.state.flips}×`);

        const counts = periodic.map((tag) => rec.periodicSyncs(tag).length);
        const pFailed = rec.periodicEnds().filter((e) => e.result === 'rejected').length;
        notes.push(`periodic events per tag ${Math.min(...counts)}..${Math.max(...counts)}, ${pFailed} failed, all untrusted`);
        const wrongPeriodic = rec.periodicSyncs().filter((e) => e.isTrusted !== false || e.isPeriodicSyncEvent !== true || e.hasLastChance !== false);
        assert.deepEqual(shortList(wrongPeriodic.map((e) => e.tag)), [], "every periodic event is the polyfill's (untrusted), a PeriodicSyncEvent without lastChance");
        assert.ok(pFailed > 0, 'some periodic events should have failed (30 %)');
        rec.endObservation();
        await rec.periodicUnregister(tabs[0], periodic);
        assert.deepEqual(await rec.periodicTags(tabs[2]), [], 'unregister() removes them');
        await retire(tabs[0]);
        const seen = Math.min(noticed.offline, noticed.online);
        assert.ok(seen >= FLAPS.minSeen, `the page should see the flaps (its own offline/online events): saw ${noticed.offline} offline / ${noticed.online} online of ${FLAPS.count}, at least ${FLAPS.minSeen} wanted`);
        return notes;
      } finally {
        await permission.detach();
      }
    },
  },
];
