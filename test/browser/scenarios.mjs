// The scenarios, written once and run in every mode where they apply.
// A scenario is { name, skip?(ctx) -> reason | null, timeout?, run(ctx) }; it fails by throwing.
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { sleep, short, waitFor } from '../kit/util.mjs';

const FAST_RETRY = { maxAttempts: 3, initialRetryDelay: 1000, retryDelayFactor: 2, maxEventDuration: 5000 };
/** FAST_RETRY's schedule for native Chromium, through its BackgroundSync field trial (test/kit/drivers/chromium.mjs). */
export const NATIVE_RETRY = { maxAttempts: 3, initialRetryDelaySec: 1, retryDelayFactor: 2 };
const NATIVE_RETRY_SKIP = 'native Chromium retries after 5 min and 15 min unless launched with its BackgroundSync field trial (lastChance is covered by cdp-last-chance)';

// What WebIDL prescribes for the interfaces (fixtures/idl-probe.js describes what the engine has).
const OPERATION = { kind: 'function', writable: true, enumerable: true, configurable: true };
const READONLY_ATTRIBUTE = { kind: 'accessor', get: 'function', set: 'undefined', enumerable: true, configurable: true };
const INTERFACE_OBJECT = { kind: 'function', writable: true, enumerable: false, configurable: true };
const IDL_EVERYWHERE = {
  interfaceObject: INTERFACE_OBJECT,
  constructor: { length: 0, name: 'SyncManager' },
  prototypeProperty: { kind: 'object', writable: false, enumerable: false, configurable: false },
  prototypeConstructor: { kind: 'function', writable: true, enumerable: false, configurable: true },
  constructorLinks: true,
  register: OPERATION,
  registerFunction: { length: 1, name: 'register' },
  getTags: OPERATION,
  getTagsFunction: { length: 0, name: 'getTags' },
  ownKeys: ['Symbol(Symbol.toStringTag)', 'constructor', 'getTags', 'register'],
  toStringTag: { value: 'SyncManager', writable: false, enumerable: false, configurable: true },
  prototypeString: '[object SyncManager]',
  syncAttribute: READONLY_ATTRIBUTE,
  syncGetter: { length: 0, name: 'get sync' },
};
const IDL_WORKER_ONLY = {
  syncEventInterfaceObject: INTERFACE_OBJECT,
  syncEventConstructor: { length: 2, name: 'SyncEvent' },
  syncEventInherits: true,
  syncEventTag: READONLY_ATTRIBUTE,
  syncEventTagGetter: { length: 0, name: 'get tag' },
  syncEventLastChance: READONLY_ATTRIBUTE,
  syncEventLastChanceGetter: { length: 0, name: 'get lastChance' },
  syncEventToStringTag: { value: 'SyncEvent', writable: false, enumerable: false, configurable: true },
  syncEventCallable: 'TypeError',
  onsync: { kind: 'accessor', get: 'function', set: 'function', enumerable: true, configurable: true },
  onsyncGetter: { length: 0, name: 'get onsync' },
  onsyncSetter: { length: 1, name: 'set onsync' },
};
const REJECTS_TYPE_ERROR = { rejected: true, name: 'TypeError' };
const BRAND_CHECKS = {
  registerOnObject: REJECTS_TYPE_ERROR,
  registerOnRegistration: REJECTS_TYPE_ERROR,
  getTagsOnObject: REJECTS_TYPE_ERROR,
  getTagsOnPrototype: REJECTS_TYPE_ERROR,
  getterOnWrongThis: 'TypeError',
};

/** Lists, key by key, where an IDL shape differs from what WebIDL wants (so a failure names every difference). */
function shapeDiffs(actual, expected, where) {
  return Object.keys(expected)
    .filter((key) => !isDeepStrictEqual(actual?.[key], expected[key]))
    .map((key) => `${where} ${key} is ${JSON.stringify(actual?.[key])}, WebIDL wants ${JSON.stringify(expected[key])}`);
}

/** Waits until the server log has at least one `sync` event for each tag of `tags` in the page's scope. */
async function waitForAllTags(ctx, testPage, tags, timeout) {
  const wanted = new Set(tags);
  await waitFor(() => {
    const fired = new Set(ctx.server.entries({ type: 'sync', scope: testPage.scope, via: 'listener' }).map((e) => e.tag));
    return [...wanted].every((tag) => fired.has(tag));
  }, { timeout, interval: 100, label: `a sync event for each of ${tags.length} tags` }).catch((error) => {
    const fired = new Set(ctx.server.entries({ type: 'sync', scope: testPage.scope, via: 'listener' }).map((e) => e.tag));
    const missing = tags.filter((tag) => !fired.has(tag));
    throw new Error(`${error.message}; ${missing.length} never fired, e.g. ${short(missing.slice(0, 3))}`);
  });
}

/** How many `sync` events each tag got in the page's scope (server log), tags in the given order. */
function countsByTag(ctx, testPage, tags) {
  const counts = new Map(tags.map((tag) => [tag, 0]));
  for (const entry of ctx.server.entries({ type: 'sync', scope: testPage.scope, via: 'listener' })) {
    counts.set(entry.tag, (counts.get(entry.tag) ?? 0) + 1);
  }
  return counts;
}

/** Asserts every tag fired exactly once and nothing else fired in the scope. */
function assertEachOnce(ctx, testPage, tags, what) {
  assert.ok(tags.length > 0, 'no tags: the check would be vacuous');
  const counts = countsByTag(ctx, testPage, tags);
  const wrong = [...counts].filter(([tag, n]) => n !== 1 || !tags.includes(tag));
  assert.ok(wrong.length === 0, `${what}: each tag should fire exactly once; ${wrong.length} did not: ${short(wrong.slice(0, 5).map(([t, n]) => `${t.split(':').pop()}×${n}`))}`);
}

/** getTags() in the polyfill keeps registration order; native Chromium's order is its own, so compare as sets there. */
function assertTags(ctx, actual, expected, what) {
  if (ctx.native) assert.deepEqual([...actual].sort(), [...expected].sort(), what);
  else assert.deepEqual(actual, expected, `${what} (in registration order)`);
}

/** Asserts a register()/getTags() outcome from T.outcome() resolved, and returns its value. */
function resolved(result, what) {
  assert.equal(result.ok, true, `${what} should resolve, got ${short(result)}`);
  return result.value;
}

/** Asserts an outcome is a rejected promise (never a synchronous throw) with the given error name. */
function rejectedWith(result, name, what) {
  assert.equal(result.ok, false, `${what} should reject with ${name}, but it resolved`);
  assert.notEqual(result.sync, true, `${what} threw synchronously instead of returning a rejected promise`);
  assert.equal(result.name, name, `${what} should reject with ${name}, got ${result.name}: ${result.message}`);
}

/** Registers a tag whose handler holds it firing until released (`release`), and waits until it fires. */
async function registerHeld(ctx, page, suffix, what) {
  const tag = ctx.tag(suffix);
  ctx.server.setBehaviour(tag, 'hold');
  resolved(await page.register(tag), what);
  await ctx.waitForSyncs(page, tag, 1, 10000);
  return tag;
}

/** Once getTags() in `gonePage` no longer lists the tag, and `quiet` ms more, the tag has fired exactly `count` times. */
async function firedExactly(ctx, page, tag, count, message, { quiet = 1500, gonePage = page } = {}) {
  await ctx.waitForTagGone(gonePage, tag);
  await sleep(quiet);
  assert.equal(ctx.syncs(page, tag).length, count, message);
}

export const scenarios = [
  {
    name: 'api-surface',
    async run(ctx) {
      const page = await ctx.open();
      const inPage = await page.probe();
      const inWorker = await page.call('probe');
      assert.equal(inPage.polyfillLoaded, true, 'BackgroundSyncPolyfill is missing in the page');
      assert.equal(inWorker.polyfillLoaded, true, 'BackgroundSyncPolyfill is missing in the worker');
      const expectNative = ctx.native;
      // docs/semantics.md §8: where the API is native, the page script wraps the getter until the first use, under
      // WebIDL's name; reading BackgroundSyncPolyfill puts the engine's back (syncGetterNativeCode, below).
      if (expectNative) assert.deepEqual(inPage.syncGetterBeforeUse, { name: 'get sync', nativeCode: false }, "page: the takeover's wrapper of the getter until the first use");
      assert.equal(inPage.native, expectNative, `page: BackgroundSyncPolyfill.native should be ${expectNative}`);
      assert.equal(inWorker.native, expectNative, `worker: BackgroundSyncPolyfill.native should be ${expectNative}`);
      for (const [where, probe] of [['page', inPage], ['worker', inWorker]]) {
        assert.equal(probe.syncManagerType, 'function', `${where}: SyncManager should be a function`);
        assert.equal(probe.syncType, 'object', `${where}: registration.sync should be an object`);
        assert.equal(probe.sameObject, true, `${where}: registration.sync should return the same object each time`);
        assert.equal(
          probe.syncGetterNativeCode,
          expectNative,
          `${where}: the registration.sync getter ${expectNative ? 'should still be native' : 'should be the polyfill, not native code'}`,
        );
        assert.equal(
          probe.syncManagerNativeCode,
          expectNative,
          `${where}: SyncManager ${expectNative ? 'should still be the native function' : 'should be the polyfill, not native code'}`,
        );
      }
      assert.equal(inPage.syncGetterType, 'function', 'registration.sync should be a getter on ServiceWorkerRegistration.prototype');
      assert.equal(inPage.constructError, 'TypeError', 'new SyncManager() should throw TypeError');
      assert.equal(inWorker.constructError, 'TypeError', 'worker: new SyncManager() should throw TypeError');
      assert.equal(inPage.toStringTag, '[object SyncManager]', 'Symbol.toStringTag of registration.sync');
      assert.equal(inPage.syncEventInPage, false, 'SyncEvent should not exist in pages');
      assert.equal(inWorker.syncEventType, 'function', 'worker: SyncEvent should be a function');
      assert.equal(inWorker.syncEventNativeCode, expectNative, `worker: SyncEvent native code should be ${expectNative}`);
      assert.equal(inWorker.onsyncInSelf, true, "worker: 'onsync' in self");
      assert.equal(inWorker.onsync, 'null', 'worker: self.onsync should start null');
      assert.deepEqual(inWorker.syncEventWithTag, { ok: true, tag: 't', lastChance: false }, 'new SyncEvent("sync", {tag})');
      assert.deepEqual(inWorker.syncEventWithoutTag, { ok: false, name: 'TypeError' }, 'new SyncEvent("sync", {}) should throw TypeError');
      assert.equal(inWorker.configureError, null, 'configure() threw in the worker');
      for (const [where, checks] of [['page', await page.evaluate(() => T.brandChecks())], ['worker', await page.call('brandChecks')]]) {
        assert.deepEqual(checks.configure, { valid: null, invalid: 'RangeError' }, `${where}: configure() should take valid options and throw RangeError for maxAttempts: 0`);
      }
      // WebIDL fidelity: descriptors, lengths, names, the prototype chain, toStringTag, brand checks.
      const differences = [
        ...shapeDiffs(await page.evaluate(() => T.idlShape()), IDL_EVERYWHERE, 'page:'),
        ...shapeDiffs(inWorker.idlShape, { ...IDL_EVERYWHERE, ...IDL_WORKER_ONLY }, 'worker:'),
        ...shapeDiffs(await page.evaluate(() => T.brandChecks()), BRAND_CHECKS, 'page brand check'),
        ...shapeDiffs(await page.call('brandChecks'), BRAND_CHECKS, 'worker brand check'),
      ];
      assert.ok(differences.length === 0, `not as WebIDL has it: ${differences.join('; ')}`);
      assert.notEqual(inWorker.idlShape.onsyncHolder, 'missing', 'worker: onsync should be an attribute of the global');
      ctx.note(`polyfill ${inPage.version}; onsync on the ${inWorker.idlShape.onsyncHolder}`);
    },
  },

  {
    name: 'fires-online',
    async run(ctx) {
      const page = await ctx.open();
      const tag = ctx.tag('a');
      const result = await page.register(tag);
      resolved(result, 'register()');
      assert.equal(result.isUndefined, true, 'register() should resolve with undefined');
      const [event] = await ctx.waitForSyncs(page, tag, 1, 10000);
      assert.equal(event.lastChance, false, 'lastChance of a first attempt');
      assert.equal(event.onLine, true, 'the worker should be online when the event fires');
      assert.equal(event.isSyncEvent, true, 'the event should be a SyncEvent');
      await firedExactly(ctx, page, tag, 1, 'exactly one event', { quiet: 1000 });
    },
  },

  {
    name: 'offline-then-online',
    async run(ctx) {
      const page = await ctx.open();
      const tag = ctx.tag('offline');
      await ctx.setOnline(false, page);
      resolved(await page.register(tag), 'register() while offline');
      assert.ok(resolved(await page.getTags(), 'getTags()').includes(tag), 'getTags() should list the tag registered offline');
      await sleep(2500);
      assert.equal(ctx.syncs(page, tag).length, 0, 'no event may fire while offline (server log)');
      const seen = (await page.call('events')).filter((event) => event.tag === tag);
      assert.equal(seen.length, 0, 'no event may fire while offline (worker memory)');
      await ctx.setOnline(true, page);
      const [event] = await ctx.waitForSyncs(page, tag, 1, 15000);
      assert.equal(event.onLine, true, 'fired while online');
      await firedExactly(ctx, page, tag, 1, 'exactly one event after coming online');
    },
  },

  {
    name: 'coalescing',
    async run(ctx) {
      const page = await ctx.open();
      const tag = ctx.tag('same');
      await ctx.setOnline(false, page);
      const burst = await page.evaluate((t) => Promise.all([T.register(t), T.register(t), T.register(t)]), tag);
      burst.forEach((result, i) => resolved(result, `parallel register() #${i + 1}`));
      resolved(await page.register(tag), 'register() #4');
      resolved(await page.register(tag), 'register() #5');
      const tags = resolved(await page.getTags(), 'getTags()');
      assert.equal(tags.filter((t) => t === tag).length, 1, `getTags() should list the tag once, got ${short(tags)}`);
      await sleep(1000);
      await ctx.setOnline(true, page);
      await ctx.waitForSyncs(page, tag, 1, 15000);
      await firedExactly(ctx, page, tag, 1, 'five registrations of one tag give one event');
      await ctx.assertNothingFiredOffline(page, 'nothing may fire while offline');
    },
  },

  {
    name: 'two-tabs-one-event',
    async run(ctx) {
      const first = await ctx.open();
      const second = await ctx.open();
      const tag = ctx.tag('shared');
      await ctx.setOnline(false, first);
      resolved(await first.register(tag), 'register() in the first tab');
      resolved(await second.register(tag), 'register() in the second tab');
      assert.deepEqual(resolved(await second.getTags(), 'getTags() in the second tab'), [tag], 'both tabs see one registration');
      await sleep(1000);
      await ctx.setOnline(true, first); // both tabs see `online` and poke the worker
      await ctx.waitForSyncs(first, tag, 1, 15000);
      await firedExactly(ctx, first, tag, 1, 'two open tabs must not make a registration fire twice', { gonePage: second });
      await ctx.assertNothingFiredOffline(first, 'nothing may fire while offline');
    },
  },

  {
    name: 'retry-policy',
    // Native: real retries, on the schedule the field trial gives Chromium (the same as FAST_RETRY).
    skip: (ctx) => (ctx.native && !ctx.driver.nativeRetry ? NATIVE_RETRY_SKIP : null),
    async run(ctx) {
      const page = await ctx.open({ sw: FAST_RETRY });
      const tag = ctx.tag('fails');
      ctx.server.setBehaviour(tag, 'fail');
      resolved(await page.register(tag), 'register()');
      await ctx.server.waitForEntries({ type: 'syncEnd', scope: page.scope, tag }, { timeout: 10000 });
      assert.ok(resolved(await page.getTags(), 'getTags() in backoff').includes(tag), 'getTags() should list a tag waiting for its retry');
      const events = await ctx.waitForSyncs(page, tag, 3, 15000);
      assert.deepEqual(events.map((e) => e.lastChance), [false, false, true], 'lastChance of attempts 1, 2, 3');
      const gaps = [events[1].t - events[0].t, events[2].t - events[1].t];
      ctx.note(`gaps ${gaps.join(' ms, ')} ms`);
      // Never early; late within generous bounds (two busy cores, other test runs alongside).
      assert.ok(gaps[0] >= 950 && gaps[0] <= 5000, `first retry should come ≈1000 ms after attempt 1, came after ${gaps[0]} ms`);
      assert.ok(gaps[1] >= 1950 && gaps[1] <= 7000, `second retry should come ≈2000 ms after attempt 2 (backoff factor 2), came after ${gaps[1]} ms`);
      await ctx.waitForTagGone(page, tag, 5000);
      await sleep(5000); // a 4th attempt would be due ≈4 s after the 3rd
      assert.equal(ctx.syncs(page, tag).length, 3, 'exactly maxAttempts (3) attempts');
    },
  },

  {
    name: 'cdp-last-chance',
    skip: (ctx) => (ctx.native ? null : 'CDP dispatchSyncEvent drives native sync only; lastChance is covered by retry-policy'),
    async run(ctx) {
      const page = await ctx.open();
      const tag = ctx.tag('cdp');
      for (const lastChance of [false, true]) {
        await ctx.driver.dispatchSyncEvent(page.page, { scope: page.scope, tag, lastChance });
      }
      const events = await ctx.waitForSyncs(page, tag, 2, 10000);
      assert.deepEqual(events.map((e) => e.lastChance).sort(), [false, true], 'lastChance as dispatched');
      assert.ok(events.every((e) => e.isSyncEvent), 'events should be SyncEvents');
    },
  },

  {
    name: 'reregister-while-firing',
    async run(ctx) {
      const page = await ctx.open();
      const tag = await registerHeld(ctx, page, 'busy', 'first register()');
      assert.ok(resolved(await page.getTags(), 'getTags() while firing').includes(tag), 'getTags() should list a firing tag');
      resolved(await page.register(tag), 'register() while firing');
      await sleep(500);
      assert.equal(ctx.syncs(page, tag).length, 1, 'a registration must never fire twice at once');
      ctx.server.setBehaviour(tag, 'ok');
      assert.deepEqual(await page.call('release', { tag }), { released: true }, 'the held event should still be running');
      const events = await ctx.waitForSyncs(page, tag, 2, 15000);
      const [firstEnd] = ctx.syncEnds(page, tag);
      assert.ok(firstEnd && events[1].t >= firstEnd.t, 'the second firing should start after the first settled');
      await firedExactly(ctx, page, tag, 2, 'exactly two firings');
    },
  },

  {
    name: 'worker-killed-recovers',
    // docs/semantics.md §3: the worker's death frees its lock, so the next attempt follows the retry delay, not a lease.
    timeout: 60000,
    skip: (ctx) => {
      if (ctx.driver.engine !== 'chromium') return 'stopping one service worker takes DevTools (ServiceWorker.stopAllWorkers); Firefox and WebKitGTK kill theirs in test/faults worker-killed';
      return ctx.native && !ctx.driver.nativeRetry ? NATIVE_RETRY_SKIP : null;
    },
    async run(ctx) {
      // A browser of its own: after ServiceWorker.stopAllWorkers, Chromium's offline emulation of that browser hangs.
      const browser = await ctx.launchPersistent();
      const page = await ctx.open({ browser, sw: FAST_RETRY });
      const tag = await registerHeld(ctx, page, 'killed', 'register()');
      const [first] = ctx.syncs(page, tag);
      ctx.server.setBehaviour(tag, 'ok');
      await sleep(500);
      await browser.stopAllWorkers(page.page);
      const killedAt = Date.now();
      const events = await ctx.waitForSyncs(page, tag, 2, 20000);
      const gap = events[1].t - killedAt;
      ctx.note(`next attempt ${gap} ms after the kill`);
      assert.notEqual(events[1].instance, first.instance, 'the next attempt should run in a new worker instance');
      assert.equal(events[1].lastChance, false, 'the kill counts as attempt 1 of 3: attempt 2 has no lastChance');
      // The retry delay (1 s) plus a worker start; a lease (30 s) would be far later.
      assert.ok(gap >= 900 && gap <= 8000, `the next attempt should start about 1 s (the retry delay) after the kill, started after ${gap} ms`);
      await firedExactly(ctx, page, tag, 2, 'the killed attempt and one more');
    },
  },

  {
    name: 'live-worker-not-reaped',
    // A busy worker keeps its lock: a synchronous loop, then a long wait, while a second tab loads, a new version of
    // the worker is deployed (Firefox and WebKitGTK activate it mid-event: two instances at once) and pages poke.
    timeout: 60000,
    skip: (ctx) => (ctx.native ? 'liveness is the polyfill\'s own; native Chromium keeps the new version waiting' : null),
    async run(ctx) {
      const build = ctx.tag('build');
      const sw = { ...FAST_RETRY, initialRetryDelay: 0, maxEventDuration: 30000, build };
      const page = await ctx.open({ sw });
      const tag = ctx.tag('busy');
      ctx.server.setBehaviour(tag, 'spin:3000');
      resolved(await page.register(tag), 'register()');
      const [first] = await ctx.waitForSyncs(page, tag, 1, 10000);
      const second = await ctx.open({ sw });
      ctx.server.setSwBuild(build, 2);
      await page.evaluate(() => T.registration.update().then(() => true), undefined, 20000);
      for (const tab of [page, second]) await tab.evaluate(() => dispatchEvent(new Event('focus')));
      await ctx.server.waitForEntries({ type: 'spun', scope: page.scope, tag }, { timeout: 15000 });
      for (const tab of [page, second]) await tab.evaluate(() => dispatchEvent(new Event('focus')));
      await ctx.waitForTagGone(page, tag, 20000);
      await sleep(2000);
      const events = ctx.syncs(page, tag);
      ctx.note(`one event in instance ${first.instance}; ${(await page.call('probe')).build === 2 ? 'version 2 active by the end' : 'version 2 not active by the end'}`);
      assert.equal(events.length, 1, `a live, busy worker must never be reaped: ${events.length} events for one registration`);
      assert.equal(ctx.syncEnds(page, tag).length, 1, 'its one event should have ended');
    },
  },

  {
    name: 'no-web-locks',
    // Engines without Web Locks (Safari before 15.4): the timed lease is the liveness, and a killed worker's attempt
    // comes back once it lapses (LEASE_TTL, 30 s).
    timeout: 90000,
    skip: (ctx) => (ctx.native ? 'the fallback is the polyfill\'s own' : null),
    async run(ctx) {
      // Chromium kills the worker below: in a browser of its own (see worker-killed-recovers).
      const browser = ctx.driver.engine === 'chromium' ? await ctx.launchPersistent() : ctx.driver;
      const page = await ctx.open({ browser, sw: { ...FAST_RETRY, locks: 'none' } });
      await page.evaluate(() => {
        delete Navigator.prototype.locks;
      });
      assert.equal(await page.evaluate(() => 'locks' in navigator), false, 'the page should have no navigator.locks');
      assert.equal((await page.call('probe')).webLocks, false, 'the worker should have no navigator.locks');
      const quick = ctx.tag('quick');
      resolved(await page.register(quick), 'register()');
      await ctx.waitForSyncs(page, quick, 1, 10000);
      await firedExactly(ctx, page, quick, 1, 'exactly one event without Web Locks', { quiet: 500 });
      if (ctx.driver.engine !== 'chromium') return;
      const tag = await registerHeld(ctx, page, 'killed', 'register()');
      ctx.server.setBehaviour(tag, 'ok');
      await browser.stopAllWorkers(page.page);
      const killedAt = Date.now();
      const events = await ctx.waitForSyncs(page, tag, 2, 60000);
      const gap = events[1].t - killedAt;
      ctx.note(`next attempt ${Math.round(gap / 100) / 10} s after the kill (the lease lapses after 30 s)`);
      assert.ok(gap >= 25000, `without Web Locks the death is known only when the lease lapses (30 s), re-fired after ${gap} ms`);
      await firedExactly(ctx, page, tag, 2, 'the killed attempt and one more');
    },
  },

  {
    name: 'get-tags',
    async run(ctx) {
      // A long retry delay keeps the failed tag waiting; the held one stays firing; offline keeps one pending.
      const page = await ctx.open({ sw: { maxAttempts: 3, initialRetryDelay: 600000, retryDelayFactor: 2, maxEventDuration: 60000 } });
      const [waiting, firing, pending] = [ctx.tag('z-waiting'), ctx.tag('a-firing'), ctx.tag('m-pending')];
      ctx.server.setBehaviour(waiting, 'fail');
      ctx.server.setBehaviour(firing, 'hold');
      resolved(await page.register(waiting), 'register(waiting)');
      await ctx.server.waitForEntries({ type: 'syncEnd', scope: page.scope, tag: waiting }, { timeout: 10000 });
      resolved(await page.register(firing), 'register(firing)');
      await ctx.waitForSyncs(page, firing, 1, 10000);
      await ctx.setOnline(false, page);
      resolved(await page.register(pending), 'register(pending) offline');
      const tags = resolved(await page.getTags(), 'getTags()');
      const expected = [waiting, firing, pending];
      if (ctx.native) {
        ctx.note(`native order: ${tags.map((t) => t.split(':').pop()).join(', ')}`);
        assert.deepEqual([...tags].sort(), [...expected].sort(), 'native getTags() should list waiting, firing and pending tags');
      } else {
        assert.deepEqual(tags, expected, 'getTags() should list waiting, firing and pending tags in registration order');
      }
      const fromWorker = await page.call('getTags');
      assert.deepEqual(resolved(fromWorker, 'getTags() in the worker'), tags, 'the worker should see the same tags as the page');
      await page.call('release', { tag: firing });
    },
  },

  {
    name: 'register-errors',
    timeout: 45000,
    async run(ctx) {
      const page = await ctx.open();
      // InvalidStateError: a registration whose worker is still installing.
      const installing = await page.evaluate(async (swUrl) => {
        const registration = await navigator.serviceWorker.register(swUrl, { scope: './installing/' });
        const state = { installing: Boolean(registration.installing), active: Boolean(registration.active) };
        const early = await T.outcome(() => registration.sync.register('early'));
        await T.waitActivated(registration);
        const later = await T.outcome(() => registration.sync.register('later'));
        return { state, early, later };
      }, ctx.swUrl({ installDelay: 2000 }));
      assert.deepEqual(installing.state, { installing: true, active: false }, 'the second registration should still be installing');
      rejectedWith(installing.early, 'InvalidStateError', 'register() with no active worker');
      resolved(installing.later, 'register() once the worker is active');

      const long = ctx.tag('L');
      const atLimit = long + 'x'.repeat(10240 - long.length);
      resolved(await page.register(atLimit), 'register() with a 10240-character tag');
      rejectedWith(await page.register(atLimit + 'x'), 'InvalidAccessError', 'register() with a 10241-character tag');
      rejectedWith(await page.evaluate(() => T.outcome(() => T.registration.sync.register(Symbol('s')))), 'TypeError', 'register(Symbol)');
      rejectedWith(await page.evaluate(() => T.outcome(() => T.registration.sync.register())), 'TypeError', 'register() without a tag');
      rejectedWith(
        await page.evaluate(() => T.outcome(() => SyncManager.prototype.register.call({}, 'x'))),
        'TypeError',
        'register() on a wrong this',
      );
      resolved(await page.register(''), 'register("") (the empty tag is valid)');
    },
  },

  {
    name: 'storage-failure',
    skip: (ctx) => (ctx.native ? 'native Background Sync keeps registrations in the browser, not in IndexedDB' : null),
    async run(ctx) {
      const page = await ctx.open();
      // A registration stored before the failure; the handler holds it firing so it stays in getTags().
      const kept = await registerHeld(ctx, page, 'kept', 'register() before the failure');
      // The store is the worker's: a page's register() and getTags() are requests to it, and it answers with the error.
      await page.call('breakStorage');
      let during, inWorker;
      try {
        during = await page.evaluate(async () => ({
          register: await T.outcome(() => T.registration.sync.register('during-failure')),
          getTags: await T.outcome(() => T.registration.sync.getTags()),
        }));
        inWorker = { register: await page.call('register', { tag: 'worker-during-failure' }), getTags: await page.call('getTags') };
      } finally {
        await page.call('restoreStorage');
      }
      rejectedWith(inWorker.register, 'UnknownError', "the worker's register() while storage fails");
      rejectedWith(inWorker.getTags, 'UnknownError', "the worker's getTags() while storage fails");
      rejectedWith(during.register, 'UnknownError', 'register() while storage fails');
      assert.match(during.register.message, /QuotaExceededError/, 'the UnknownError should say why');
      rejectedWith(during.getTags, 'UnknownError', 'getTags() while storage fails');
      const tags = resolved(await page.getTags(), 'getTags() once storage works again');
      assert.deepEqual(tags, [kept], 'what was stored before the failure is kept, and the failed register stored nothing');
      await page.call('release', { tag: kept });
    },
  },

  {
    name: 'schema-upgrade',
    skip: (ctx) => (ctx.native ? 'native Background Sync keeps registrations in the browser, not in IndexedDB' : null),
    async run(ctx) {
      // A database as version 1 of the schema left it (its `scope` index, the order counter), with registrations of
      // this scope and of another; the worker opens it at today's version and must keep every one.
      const page = await ctx.open();
      await ctx.setOnline(false, page);
      const [first, second] = [ctx.tag('v1-first'), ctx.tag('v1-second')];
      const other = `${page.scope}elsewhere/`;
      // Written out of order: registration order is the record's, not the key's.
      const made = await page.evaluate(({ scope, other, tags }) => T.oldDatabase(1, [[scope, tags[1], 2], [scope, tags[0], 1], [other, 'theirs', 3]], 3),
        { scope: page.scope, other, tags: [first, second] });
      assert.equal(made, 1, 'the page should have made a version 1 database');
      assert.deepEqual(resolved(await page.getTags(), 'getTags() once the worker reopens'), [first, second],
        "the worker should list version 1's registrations, in their order");
      const after = await page.evaluate((key) => T.peekDatabase(key), `${other}\ntheirs`);
      ctx.note(`upgraded to version ${after.version}`);
      assert.ok(after.version >= 2, `the worker should have upgraded the database, found version ${after.version}`);
      assert.deepEqual(after.indexes, [], "version 2 has no scope index");
      assert.equal(after.tag, 'theirs', "another scope's registration should be kept");
      const added = ctx.tag('v2-added');
      resolved(await page.register(added), 'register() after the upgrade');
      assert.deepEqual(resolved(await page.getTags(), 'getTags()'), [first, second, added], 'a new tag comes after the upgraded ones');
      await ctx.setOnline(true, page);
      for (const tag of [first, second, added]) await ctx.waitForSyncs(page, tag, 1, 15000);
      for (const tag of [first, second, added]) await firedExactly(ctx, page, tag, 1, `exactly one event for ${tag.split(':').pop()}`);
    },
  },

  {
    name: 'worker-register-without-window',
    async run(ctx) {
      const page = await ctx.open();
      const withWindow = ctx.tag('with-window');
      const orphan = ctx.tag('no-window');
      const control = await page.call('registerLater', { tag: withWindow, delay: 0 });
      assert.equal(control.ok, true, `the worker should register while a window is open, got ${short(control)}`);
      await page.post('registerLater', { tag: orphan, delay: 1500 });
      await page.goto('about:blank');
      const [entry] = await ctx.server.waitForEntries({ type: 'swRegister', scope: page.scope, tag: orphan }, { timeout: 10000 });
      ctx.note(`window clients seen: ${entry.windowClients.length}; outcome ${entry.outcome.ok ? 'resolved' : `${entry.outcome.name}: ${entry.outcome.message}`}`);
      rejectedWith(entry.outcome, 'InvalidAccessError', 'register() from the worker with no window open');
    },
  },

  {
    name: 'onsync-attribute',
    async run(ctx) {
      const page = await ctx.open();
      assert.equal((await page.call('probe')).onsync, 'null', 'self.onsync should start null');
      assert.equal(await page.call('setOnsync', { value: 'number' }), 'null', 'a non-callable onsync should read back null');
      assert.equal(await page.call('setOnsync', { value: 'handler' }), 'handler', 'onsync should read back the function');
      const first = ctx.tag('with-onsync');
      resolved(await page.register(first), 'register()');
      await ctx.server.waitForEntries({ type: 'sync', scope: page.scope, tag: first, via: 'onsync' }, { timeout: 10000, label: 'an event through self.onsync' });
      await ctx.waitForSyncs(page, first, 1, 5000);
      assert.equal(await page.call('setOnsync', { value: 'null' }), 'null', 'assigning null');
      const second = ctx.tag('without-onsync');
      resolved(await page.register(second), 'register()');
      await ctx.waitForSyncs(page, second, 1, 10000);
      await sleep(1000);
      assert.equal(ctx.syncs(page, second, 'onsync').length, 0, 'after onsync = null the handler must not run');
      assert.equal(ctx.syncs(page, first, 'onsync').length, 1, 'the onsync handler ran once for the first tag');
    },
  },

  {
    name: 'max-event-duration',
    skip: (ctx) => (ctx.native ? 'native Chromium times events out after 3 min and cannot be configured' : null),
    async run(ctx) {
      const policy = { maxAttempts: 2, initialRetryDelay: 500, retryDelayFactor: 1, maxEventDuration: 2000 };
      const page = await ctx.open({ sw: policy });
      const tag = ctx.tag('stuck');
      ctx.server.setBehaviour(tag, 'never');
      resolved(await page.register(tag), 'register()');
      const events = await ctx.waitForSyncs(page, tag, 2, 15000);
      const gap = events[1].t - events[0].t;
      ctx.note(`retry after ${gap} ms`);
      assert.deepEqual(events.map((e) => e.lastChance), [false, true], 'lastChance of attempts 1 and 2');
      assert.ok(gap >= 2450 && gap <= 8000, `a never-settling attempt should fail after maxEventDuration (2000) + retry (500), retried after ${gap} ms`);
      await ctx.waitForTagGone(page, tag, 6000);
      assert.equal(ctx.syncs(page, tag).length, 2, 'exactly maxAttempts (2) attempts');
    },
  },

  {
    name: 'several-tabs',
    timeout: 120000,
    async run(ctx) {
      const tabs = [await ctx.open(), await ctx.open(), await ctx.open()];
      const tags = Array.from({ length: 50 }, (_, i) => ctx.tag(`t${String(i).padStart(2, '0')}`));
      for (const tab of tabs) await ctx.setOnline(false, tab);
      // Each tab registers its third of the tags, and the first five of the others' too (coalescing across tabs), at once.
      const shares = tabs.map((_, i) => [...tags.filter((_, j) => j % 3 === i), ...tags.filter((_, j) => j % 3 !== i).slice(0, 5)]);
      const outcomes = await Promise.all(tabs.map((tab, i) => tab.registerMany(shares[i])));
      outcomes.flat().forEach((result, i) => resolved(result, `register() #${i + 1}`));
      const listed = resolved(await tabs[2].getTags(), 'getTags()');
      assert.deepEqual([...listed].sort(), [...tags].sort(), 'getTags() should list the 50 tags once each');
      await sleep(1500);
      assert.equal(ctx.server.entries({ type: 'sync', scope: tabs[0].scope }).length, 0, 'nothing may fire while offline');
      await ctx.assertNothingFiredOffline(tabs[0], 'nothing may fire while offline (the worker\'s journal; Chromium\'s offline worker cannot reach the server)');
      await ctx.setOnline(true, tabs[0]); // every tab sees `online` and pokes the worker
      await waitForAllTags(ctx, tabs[0], tags, 45000);
      for (const tab of tabs) {
        await waitFor(async () => {
          const result = await tab.getTags();
          return result.ok && result.value.length === 0;
        }, { timeout: 15000, interval: 250, label: 'getTags() empty in every tab' });
      }
      await sleep(2000);
      assertEachOnce(ctx, tabs[0], tags, '3 tabs, 50 tags');
      await ctx.assertNothingFiredOffline(tabs[0], 'nothing may fire while offline');
    },
  },

  {
    name: 'persistence',
    timeout: 150000,
    async run(ctx) {
      const first = await ctx.launchPersistent();
      // A short retry policy: as Chromium quits, its offline emulation ends and the worker may start an attempt that
      // the quit then cuts short. The polyfill commits its claims without waiting for the disk (docs/semantics.md
      // §5), so that claim survives, and the relaunched worker counts it as an attempt of a worker that died; the
      // next one then comes after the retry delay, not Chromium's 5 min.
      const page = await ctx.open({ browser: first, sw: FAST_RETRY });
      const tag = ctx.tag('survives');
      await ctx.setOnline(false, page);
      resolved(await page.register(tag), 'register() while offline');
      assert.deepEqual(resolved(await page.getTags(), 'getTags()'), [tag], 'getTags() before the restart');
      await sleep(1500);
      assert.equal(ctx.syncs(page, tag).length, 0, 'nothing may fire while offline');
      const quit = await first.close();
      assert.equal(quit.clean, true, `the browser should quit cleanly: ${quit.detail}`);
      assert.equal(ctx.syncs(page, tag).length, 0, 'nothing fired before the browser quit');
      const quitAt = Date.now();
      await ctx.setOnline(true);
      const second = await ctx.relaunch(first);
      const openedAt = Date.now();
      const reopened = await ctx.open({ browser: second, setup: false });
      const [event] = await ctx.waitForSyncs(reopened, tag, 1, 30000);
      assert.ok(event.t > quitAt, 'the event should fire in the relaunched browser');
      ctx.note(event.t < openedAt ? 'fired before a page was opened' : 'fired once a page was open');
      await firedExactly(ctx, reopened, tag, 1, 'exactly one event after the restart');
      const end = await second.close();
      assert.equal(end.clean, true, `the relaunched browser should quit cleanly: ${end.detail}`);
    },
  },

  {
    name: 'worker-update',
    timeout: 90000,
    skip: (ctx) =>
      ctx.native
        ? 'native: only Chromium\'s offline emulation holds native registrations pending here, and it sticks to a registration ' +
          'whose emulated worker version is replaced: native sync then never fires again in that session, not even for a new tag ' +
          '(reproduced with the polyfill inactive); the link going down does not stop native sync'
        : null,
    async run(ctx) {
      const build = ctx.tag('build');
      const page = await ctx.open({ sw: { build } });
      assert.equal((await page.call('probe')).build, 1, 'version 1 of the worker should be active');
      await ctx.setOnline(false, page);
      const before = Array.from({ length: 5 }, (_, i) => ctx.tag(`v1-${i}`));
      (await page.registerMany(before)).forEach((result, i) => resolved(result, `register() #${i + 1} under version 1`));
      ctx.server.setSwBuild(build, 2);
      await page.evaluate(() => T.update(), undefined, 25000);
      assert.equal((await page.call('probe')).build, 2, 'version 2 of the worker should have taken over');
      const after = Array.from({ length: 3 }, (_, i) => ctx.tag(`v2-${i}`));
      (await page.registerMany(after)).forEach((result, i) => resolved(result, `register() #${i + 1} under version 2`));
      // The new version activated offline: its activation must not have fired what version 1 left pending.
      await ctx.assertNothingFiredOffline(page, 'nothing may fire while offline (the worker\'s journal, after the update)');
      const all = [...before, ...after];
      const tags = resolved(await page.getTags(), 'getTags() after the update');
      assertTags(ctx, tags, all, 'getTags() should keep the registrations made under version 1');
      assertTags(ctx, resolved(await page.call('getTags'), 'getTags() in the new worker'), all, 'the new worker should see them too');
      await sleep(1500); // time for a firing that must not come
      assert.equal(ctx.server.entries({ type: 'sync', scope: page.scope }).length, 0, 'nothing may fire while offline');
      await ctx.assertNothingFiredOffline(page, 'nothing may fire while offline (the worker\'s journal, across both versions)');
      await ctx.setOnline(true, page);
      await waitForAllTags(ctx, page, all, 30000);
      await ctx.waitForTagGone(page, all[all.length - 1]);
      await waitFor(async () => resolved(await page.getTags(), 'getTags()').length === 0, { timeout: 10000, interval: 250, label: 'getTags() empty' });
      await sleep(1500);
      assertEachOnce(ctx, page, all, 'registrations across a worker update');
      await ctx.assertNothingFiredOffline(page, 'nothing may fire while offline');
      const builds = [...new Set(ctx.server.entries({ type: 'sync', scope: page.scope }).map((e) => e.build))];
      assert.deepEqual(builds, [2], 'every event should fire in the new version');
    },
  },

  {
    // A page's register() is a request to the active worker, which owns the store (docs/semantics.md §4). An app's worker
    // that does not import the polyfill (an older version, during an update) cannot answer: register() rejects with
    // InvalidStateError after the answer timeout, and a version that imports it, activated meanwhile, answers instead.
    name: 'worker-without-polyfill',
    timeout: 90000,
    skip: (ctx) => (ctx.native ? 'native: the engine answers register(), not a worker' : null),
    async run(ctx) {
      const build = ctx.tag('build');
      ctx.server.setSwBare(build, true);
      const page = await ctx.open({ sw: { build } });
      assert.equal((await page.call('probe')).build, 1, 'version 1 (no polyfill) should be active');
      const lost = ctx.tag('unanswered');
      const started = Date.now();
      rejectedWith(await page.evaluate((tag) => T.outcome(() => T.registration.sync.register(tag)), lost, 30000), 'InvalidStateError',
        'register() while the active worker lacks the polyfill');
      const waited = Date.now() - started;
      assert.ok(waited >= 9000 && waited < 20000, `register() should reject after the 10 s answer timeout, took ${waited} ms`);
      ctx.note(`rejected after ${waited} ms`);
      // Version 2 imports the polyfill: a register() pending while it installs and activates is answered by it.
      const kept = ctx.tag('answered-by-v2');
      await page.evaluate((tag) => {
        self.bspPending = T.outcome(() => T.registration.sync.register(tag));
      }, kept);
      ctx.server.setSwBare(build, false);
      ctx.server.setSwBuild(build, 2);
      await page.evaluate(() => T.update(), undefined, 25000);
      resolved(await page.evaluate(() => self.bspPending, undefined, 20000), 'register() pending across the update');
      await firedExactly(ctx, page, kept, 1, 'the registration made during the update');
      assert.deepEqual([...new Set(ctx.server.entries({ type: 'sync', scope: page.scope }).map((e) => e.build))], [2], 'it fires in version 2');
      assert.equal(ctx.server.entries({ type: 'sync', scope: page.scope, tag: lost }).length, 0, 'the rejected register() stored nothing');
    },
  },

  {
    name: 'unregistration',
    timeout: 90000,
    async run(ctx) {
      // The bundled worker (no importScripts) registers again under Chromium's offline emulation too.
      const sw = { build: ctx.tag('build') };
      const page = await ctx.open({ sw });
      const dropped = [ctx.tag('dropped-1'), ctx.tag('dropped-2')];
      await ctx.setOnline(false, page);
      (await page.registerMany(dropped)).forEach((result) => resolved(result, 'register()'));
      assertTags(ctx, resolved(await page.getTags(), 'getTags()'), dropped, 'getTags() before unregister()');
      assert.equal(resolved(await page.unregister(), 'registration.unregister()'), true, 'unregister() should resolve true');
      await waitFor(async () => !(await page.evaluate(() => T.scopes())).includes(page.scope), { timeout: 10000, label: 'the registration gone' });
      // Native drops the tags with the registration. The polyfill's page check, which runs on load, focus, online and
      // visibility (docs/semantics.md §3, §4), finds the registration gone: the user comes back to the tab (focus), then the app
      // registers its worker again.
      await page.evaluate(() => dispatchEvent(new Event('focus')));
      await sleep(1500);
      await page.evaluate((url) => T.setup(url), ctx.swUrl(sw));
      assert.deepEqual(resolved(await page.getTags(), 'getTags()'), [], 'getTags() at the same scope after unregister() and register() again');
      assert.deepEqual(resolved(await page.call('getTags'), 'getTags() in the new worker'), [], 'the new worker should see no tags either');
      const fresh = ctx.tag('fresh');
      resolved(await page.register(fresh), 'register() on the new registration');
      await ctx.setOnline(true, page);
      await ctx.waitForSyncs(page, fresh, 1, 20000);
      await ctx.waitForTagGone(page, fresh);
      await sleep(2000);
      for (const tag of dropped) assert.equal(ctx.syncs(page, tag).length, 0, `${tag.split(':').pop()} was dropped with its registration and must never fire`);
      assert.equal(ctx.syncs(page, fresh).length, 1, 'the new registration fires once');
    },
  },

  {
    name: 'two-scopes',
    timeout: 90000,
    async run(ctx) {
      const outer = await ctx.open();
      const inner = await ctx.open({ sub: 'inner' }); // nested: /scope/…/inner/ inside /scope/…/
      assert.notEqual(inner.scope, outer.scope);
      const shared = ctx.tag('same-name');
      const outerTags = [ctx.tag('outer-1'), ctx.tag('outer-2'), shared];
      const innerTags = [ctx.tag('inner-1'), shared];
      await ctx.setOnline(false, outer);
      await ctx.setOnline(false, inner);
      (await outer.registerMany(outerTags.slice(0, 2))).forEach((result) => resolved(result, 'register() in the outer scope'));
      (await inner.registerMany(innerTags)).forEach((result) => resolved(result, 'register() in the inner scope'));
      resolved(await outer.register(shared), 'register() in the outer scope');
      assertTags(ctx, resolved(await outer.getTags(), 'outer getTags()'), outerTags, 'the outer registration sees only its own tags');
      assertTags(ctx, resolved(await inner.getTags(), 'inner getTags()'), innerTags, 'the inner registration sees only its own tags');
      assertTags(ctx, resolved(await outer.call('getTags'), 'outer worker getTags()'), outerTags, 'the outer worker sees only its own tags');
      assertTags(ctx, resolved(await inner.call('getTags'), 'inner worker getTags()'), innerTags, 'the inner worker sees only its own tags');
      await ctx.setOnline(true, outer);
      await waitForAllTags(ctx, outer, outerTags, 30000);
      await waitForAllTags(ctx, inner, innerTags, 30000);
      await ctx.waitForTagGone(outer, shared);
      await ctx.waitForTagGone(inner, shared);
      await sleep(1500);
      assertEachOnce(ctx, outer, outerTags, 'outer scope');
      assertEachOnce(ctx, inner, innerTags, 'inner scope');
    },
  },

  {
    name: 'no-page-open',
    timeout: 90000,
    async run(ctx) {
      const page = await ctx.open();
      const tag = ctx.tag('nobody-home');
      await ctx.setOnline(false, page);
      resolved(await page.register(tag), 'register() while offline');
      await page.page.close();
      await sleep(500);
      await ctx.setOnline(true);
      if (ctx.native) {
        // Native Background Sync: the browser wakes the worker itself.
        await ctx.waitForSyncs(page, tag, 1, 20000);
        await sleep(1500);
        assert.equal(ctx.syncs(page, tag).length, 1, 'exactly one event with no page open');
        return;
      }
      // The polyfill's honest limit (docs/semantics.md §4): with no page open, nothing is sure to wake the worker. Whatever
      // happens meanwhile, the registration must fire, once, by the next visit.
      await sleep(8000);
      const early = ctx.syncs(page, tag).length;
      ctx.note(early ? 'fired with no page open (the worker was still alive)' : 'nothing fired with no page open, as documented');
      assert.ok(early <= 1, `at most one event with no page open, saw ${early}`);
      const visit = await ctx.open({ setup: false });
      await ctx.waitForSyncs(visit, tag, 1, 20000);
      await ctx.waitForTagGone(visit, tag);
      await sleep(1500);
      assert.equal(ctx.syncs(visit, tag).length, 1, 'exactly one event by the end of the next visit');
    },
  },

  // ---- Periodic Background Sync (docs/semantics.md §7) ----

  {
    name: 'periodic-api',
    async run(ctx) {
      const page = await ctx.open();
      const expectNative = ctx.native;
      const inPage = await page.evaluate(() => T.periodicProbe());
      assert.equal(inPage.managerType, 'function', 'PeriodicSyncManager should be a function in pages');
      assert.equal(inPage.managerNativeCode, expectNative, `PeriodicSyncManager should ${expectNative ? '' : 'not '}be native code`);
      assert.equal(inPage.constructError, 'TypeError', 'new PeriodicSyncManager() should throw TypeError');
      assert.deepEqual(inPage.getter, { name: 'get periodicSync', enumerable: true, set: 'undefined' }, 'the periodicSync getter');
      assert.deepEqual(inPage.lengths, [1, 0, 1], 'register, getTags and unregister lengths');
      assert.deepEqual(inPage.enumerable, [true, true, true], 'operations are enumerable');
      assert.equal(inPage.sameObject, true, 'registration.periodicSync should be the same object each time');
      assert.equal(inPage.toStringTag, '[object PeriodicSyncManager]', 'Symbol.toStringTag of registration.periodicSync');
      assert.equal(inPage.eventInPage, false, 'PeriodicSyncEvent should not exist in pages');
      const inWorker = await page.call('periodicProbe');
      assert.equal(inWorker.managerType, 'function', 'worker: PeriodicSyncManager should be a function');
      assert.equal(inWorker.eventNativeCode, expectNative, `worker: PeriodicSyncEvent native code should be ${expectNative}`);
      assert.equal(inWorker.eventLength, 2, 'worker: PeriodicSyncEvent.length');
      assert.deepEqual(inWorker.withTag, { ok: true, tag: 't', hasLastChance: false, isExtendable: true }, 'new PeriodicSyncEvent("periodicsync", {tag})');
      assert.deepEqual(inWorker.withoutTag, { ok: false, name: 'TypeError' }, 'new PeriodicSyncEvent("periodicsync", {}) should throw TypeError');
      assert.deepEqual(inWorker.withoutInit, { ok: false, name: 'TypeError' }, 'new PeriodicSyncEvent("periodicsync") should throw TypeError');
      assert.equal(inWorker.onperiodicsyncInSelf, true, "worker: 'onperiodicsync' in self");
      assert.deepEqual(inWorker.onperiodicsyncAccessor, { get: 'get onperiodicsync', set: 'set onperiodicsync', enumerable: true }, 'worker: the onperiodicsync attribute');
      assert.equal(inWorker.onperiodicsyncBefore, 'null', 'worker: self.onperiodicsync should start null');
      assert.equal(inWorker.onperiodicsyncSet, true, 'worker: a function set as onperiodicsync is read back');
      assert.equal(inWorker.onperiodicsyncNonFunction, 'null', 'worker: a non-function set as onperiodicsync reads back null');
      // WebIDL conversions reject with TypeError in every engine, before any permission or state check.
      const tag = ctx.tag('conversions');
      // Built in the page: a driver's JSON would turn NaN into null.
      for (const what of ['minInterval -1', 'minInterval NaN', 'options 5', 'minInterval 2^53']) {
        const result = await page.evaluate(({ t, w }) => T.periodicRegister(t, {
          'minInterval -1': { minInterval: -1 }, 'minInterval NaN': { minInterval: NaN }, 'options 5': 5, 'minInterval 2^53': { minInterval: 2 ** 53 },
        }[w]), { t: tag, w: what });
        rejectedWith(result, 'TypeError', `register() with ${what}`);
      }
      rejectedWith(await page.evaluate(() => T.outcome(() => T.registration.periodicSync.register())), 'TypeError', 'register() without a tag');
      rejectedWith(await page.evaluate(() => T.outcome(() => T.registration.periodicSync.unregister())), 'TypeError', 'unregister() without a tag');
      // Permissions: the polyfill answers `granted` only where the engine rejects the names (Firefox, WebKit);
      // Chromium answers them itself, with or without the polyfill.
      for (const name of ['periodic-background-sync', 'background-sync']) {
        const state = await page.evaluate((n) => T.permission(n), name);
        ctx.note(`${name}: ${state.ok ? state.value : state.name}`);
        if (ctx.mode.startsWith('chromium')) assert.equal(state.ok, true, `Chromium answers permissions.query(${name}) itself`);
        else assert.deepEqual(state.ok && state.value, 'granted', `permissions.query({name: '${name}'}) should answer granted, got ${short(state)}`);
      }
      const other = await page.evaluate(() => T.permission('no-such-permission'));
      rejectedWith(other, 'TypeError', 'permissions.query() of an unknown name still goes to the engine');
      if (expectNative) return;
      rejectedWith(await page.evaluate((t) => T.periodicRegister(t, {}), 'x'.repeat(10241)), 'InvalidAccessError', 'register() of a tag over 10240 characters');
      resolved(await page.evaluate((t) => T.periodicRegister(t, { minInterval: '2500.9' }), tag), 'register() with minInterval "2500.9"');
      assert.deepEqual(resolved(await page.evaluate(() => T.periodicGetTags()), 'periodic getTags()'), [tag], 'periodic getTags() lists the tag');
      assert.deepEqual(resolved(await page.getTags(), 'one-shot getTags()'), [], 'a periodic tag is not a one-shot one');
      assert.equal(resolved(await page.evaluate((t) => T.periodicUnregister(t), 'never-registered'), 'unregister() of a tag never registered'), null);
    },
  },

  {
    name: 'periodic-cdp-dispatch',
    skip: (ctx) => (ctx.native ? null : 'CDP dispatchPeriodicSyncEvent drives native periodic sync only'),
    async run(ctx) {
      const page = await ctx.open();
      const tag = ctx.tag('cdp-periodic');
      await ctx.driver.dispatchPeriodicSyncEvent(page.page, { scope: page.scope, tag });
      const [event] = await ctx.server.waitForEntries({ type: 'periodicsync', scope: page.scope, tag }, { timeout: 10000 });
      assert.equal(event.isPeriodicSyncEvent, true, 'the event should be a PeriodicSyncEvent');
      assert.equal(event.isSyncEvent, false, 'a PeriodicSyncEvent is not a SyncEvent');
      assert.equal(event.hasLastChance, false, 'a PeriodicSyncEvent has no lastChance');
      await ctx.server.waitForEntries({ type: 'periodicEnd', scope: page.scope, tag }, { timeout: 10000 });
    },
  },

  {
    name: 'periodic-fires-on-schedule',
    timeout: 90000,
    skip: (ctx) => (ctx.native ? NATIVE_PERIODIC_SKIP : null),
    async run(ctx) {
      // Interval max(minInterval, periodicMinInterval): 3000 ms for `long` (its own), 2000 ms for `floored` (the floor).
      const page = await ctx.open({ sw: { periodicMinInterval: 2000 } });
      const [long, floored] = [ctx.tag('long'), ctx.tag('floored')];
      const registeredAt = await page.evaluate(() => Date.now());
      resolved(await page.evaluate((t) => T.periodicRegister(t, { minInterval: 3000 }), long), 'register(long, 3000)');
      resolved(await page.evaluate((t) => T.periodicRegister(t, { minInterval: 500 }), floored), 'register(floored, 500)');
      for (const [tag, interval] of [[long, 3000], [floored, 2000]]) {
        const events = await periodicEvents(ctx, page, tag, 3, 30000);
        assertSchedule(ctx, page, tag, events, interval, registeredAt);
        for (const event of events) {
          assert.equal(event.isPeriodicSyncEvent, true, 'each event is a PeriodicSyncEvent');
          assert.equal(event.isSyncEvent, false, 'and not a SyncEvent');
          assert.equal(event.hasLastChance, false, 'without lastChance');
          assert.equal(event.onLine, true, 'fired online');
        }
      }
      assert.deepEqual(resolved(await page.evaluate(() => T.periodicGetTags()), 'getTags()'), [long, floored], 'both stay registered, in order');
      assert.equal(ctx.syncs(page, long).length + ctx.syncs(page, floored).length, 0, 'no one-shot sync event');
    },
  },

  {
    name: 'periodic-offline-then-online',
    timeout: 60000,
    skip: (ctx) => (ctx.native ? NATIVE_PERIODIC_SKIP : null),
    async run(ctx) {
      const page = await ctx.open({ sw: { periodicMinInterval: 0 } });
      const tag = ctx.tag('periodic-offline');
      await ctx.setOnline(false, page);
      resolved(await page.evaluate((t) => T.periodicRegister(t, { minInterval: 1000 }), tag), 'register() while offline');
      await sleep(3500);
      assert.equal(periodicSyncs(ctx, page, tag).length, 0, 'nothing may fire while offline (server log)');
      const seen = (await page.call('events')).filter((event) => event.tag === tag);
      assert.equal(seen.length, 0, 'nothing may fire while offline (worker memory)');
      await ctx.setOnline(true, page);
      const [event] = await periodicEvents(ctx, page, tag, 1, 15000);
      assert.equal(event.onLine, true, 'fired once online');
      assert.deepEqual(resolved(await page.evaluate(() => T.periodicGetTags()), 'getTags()'), [tag], 'still registered after firing');
    },
  },

  {
    name: 'periodic-unregister',
    timeout: 60000,
    skip: (ctx) => (ctx.native ? NATIVE_PERIODIC_SKIP : null),
    async run(ctx) {
      const page = await ctx.open({ sw: { periodicMinInterval: 0 } });
      // A periodic "x" and a one-shot "x" are two registrations: each fires as its own event.
      const same = ctx.tag('same-name');
      await ctx.setOnline(false, page);
      resolved(await page.evaluate((t) => T.periodicRegister(t, { minInterval: 1500 }), same), 'periodic register(x)');
      resolved(await page.register(same), 'one-shot register(x)');
      assert.deepEqual(resolved(await page.getTags(), 'one-shot getTags()'), [same], 'one-shot getTags()');
      assert.deepEqual(resolved(await page.evaluate(() => T.periodicGetTags()), 'periodic getTags()'), [same], 'periodic getTags()');
      await ctx.setOnline(true, page);
      await ctx.waitForSyncs(page, same, 1, 15000);
      await periodicEvents(ctx, page, same, 1, 15000);
      resolved(await page.evaluate((t) => T.periodicUnregister(t), same), 'periodic unregister(x)');
      assert.deepEqual(resolved(await page.evaluate(() => T.periodicGetTags()), 'periodic getTags()'), [], 'gone from periodic getTags()');
      const count = periodicSyncs(ctx, page, same).length;
      await firedExactly(ctx, page, same, 1, 'the one-shot "x" fired once, unregistering the periodic "x" did not touch it');
      await sleep(3500);
      assert.equal(periodicSyncs(ctx, page, same).length, count, 'no periodic event after unregister()');
      // Unregistered while its event runs: the event finishes, nothing follows.
      const busy = ctx.tag('busy');
      ctx.server.setBehaviour(busy, 'hold');
      resolved(await page.evaluate((t) => T.periodicRegister(t, { minInterval: 1000 }), busy), 'register(busy)');
      await periodicEvents(ctx, page, busy, 1, 15000);
      resolved(await page.evaluate((t) => T.periodicUnregister(t), busy), 'unregister() while its event runs');
      await page.call('release', { tag: busy });
      await ctx.server.waitForEntries({ type: 'periodicEnd', scope: page.scope, tag: busy }, { timeout: 10000 });
      await sleep(3000);
      assert.equal(periodicSyncs(ctx, page, busy).length, 1, 'the running event finished and nothing fired after it');
    },
  },

  {
    name: 'periodic-failure-next-period',
    timeout: 60000,
    skip: (ctx) => (ctx.native ? NATIVE_PERIODIC_SKIP : null),
    async run(ctx) {
      const page = await ctx.open({ sw: { periodicMinInterval: 0, maxAttempts: 2, initialRetryDelay: 600, retryDelayFactor: 2 } });
      const tag = ctx.tag('periodic-fails');
      ctx.server.setBehaviour(tag, 'fail');
      const registeredAt = await page.evaluate(() => Date.now());
      resolved(await page.evaluate((t) => T.periodicRegister(t, { minInterval: 3000 }), tag), 'register()');
      const [first, retry] = await periodicEvents(ctx, page, tag, 2, 15000);
      const ends = await ctx.server.waitForEntries({ type: 'periodicEnd', scope: page.scope, tag }, { count: 2, timeout: 10000 });
      ctx.server.setBehaviour(tag, 'ok');
      const [, , next] = await periodicEvents(ctx, page, tag, 3, 15000);
      ctx.note(`first after ${first.t - registeredAt} ms, retry ${retry.t - ends[0].t} ms after the failure, next period ${next.t - ends[1].t} ms after the last attempt`);
      assert.ok(first.t - registeredAt >= 2950, `the first event waits one interval (3000 ms), came after ${first.t - registeredAt} ms`);
      const retryGap = retry.t - ends[0].t;
      assert.ok(retryGap >= 550 && retryGap < 2900, `the failure is retried after initialRetryDelay (600 ms), not a period: came after ${retryGap} ms`);
      const periodGap = next.t - ends[1].t;
      assert.ok(periodGap >= 2950 && periodGap <= 9000, `after the last attempt the next period starts (3000 ms), came after ${periodGap} ms`);
      assert.deepEqual(resolved(await page.evaluate(() => T.periodicGetTags()), 'getTags()'), [tag], 'a periodic registration is never dropped');
    },
  },

  {
    name: 'periodic-several-tabs',
    timeout: 90000,
    skip: (ctx) => (ctx.native ? NATIVE_PERIODIC_SKIP : null),
    async run(ctx) {
      const tabs = [await ctx.open({ sw: { periodicMinInterval: 0 } }), await ctx.open({ sw: { periodicMinInterval: 0 } }), await ctx.open({ sw: { periodicMinInterval: 0 } })];
      const shared = ctx.tag('shared');
      const own = tabs.map((_, i) => ctx.tag(`own${i}`));
      const registeredAt = await tabs[0].evaluate(() => Date.now());
      // Every tab registers the shared tag at once, with the same interval, and one of its own.
      const outcomes = await Promise.all(tabs.map((tab, i) => tab.evaluate(({ s, o }) => Promise.all([
        T.periodicRegister(s, { minInterval: 2000 }), T.periodicRegister(o, { minInterval: 2000 }),
      ]), { s: shared, o: own[i] })));
      outcomes.flat().forEach((result, i) => resolved(result, `register() #${i + 1}`));
      const listed = resolved(await tabs[1].evaluate(() => T.periodicGetTags()), 'getTags()');
      assert.deepEqual([...listed].sort(), [shared, ...own].sort(), 'one registration per tag across the tabs');
      for (const tag of [shared, ...own]) {
        const events = await periodicEvents(ctx, tabs[0], tag, 3, 30000);
        assertSchedule(ctx, tabs[0], tag, events, 2000, registeredAt);
      }
    },
  },

  {
    name: 'periodic-persistence',
    timeout: 150000,
    skip: (ctx) => (ctx.native ? NATIVE_PERIODIC_SKIP : null),
    async run(ctx) {
      const first = await ctx.launchPersistent();
      const page = await ctx.open({ browser: first, sw: { periodicMinInterval: 0 } });
      const tag = ctx.tag('periodic-survives');
      await ctx.setOnline(false, page);
      const registeredAt = await page.evaluate(() => Date.now());
      resolved(await page.evaluate((t) => T.periodicRegister(t, { minInterval: 2000 }), tag), 'register() while offline');
      const quit = await first.close();
      assert.equal(quit.clean, true, `the browser should quit cleanly: ${quit.detail}`);
      const quitAt = Date.now();
      await ctx.setOnline(true);
      const second = await ctx.relaunch(first);
      const reopened = await ctx.open({ browser: second, setup: false });
      assert.deepEqual(resolved(await reopened.evaluate(() => T.periodicGetTags()), 'getTags() after the restart'), [tag], 'the periodic registration survived');
      const events = await periodicEvents(ctx, reopened, tag, 2, 30000);
      assert.ok(events[0].t > quitAt, 'the first event fires in the relaunched browser');
      assertSchedule(ctx, reopened, tag, events, 2000, registeredAt);
      const end = await second.close();
      assert.equal(end.clean, true, `the relaunched browser should quit cleanly: ${end.detail}`);
    },
  },

  {
    name: 'periodic-schema-upgrade',
    skip: (ctx) => (ctx.native ? 'native Background Sync keeps registrations in the browser, not in IndexedDB' : null),
    async run(ctx) {
      // A database as version 2 of the schema (the last release without periodic sync) left it, with one-shot
      // registrations of this scope and of another: the worker opens it at version 3, keeps every one, and adds
      // periodic registrations after them.
      const page = await ctx.open({ sw: { periodicMinInterval: 0 } });
      await ctx.setOnline(false, page);
      const [first, second] = [ctx.tag('v2-first'), ctx.tag('v2-second')];
      const other = `${page.scope}elsewhere/`;
      const made = await page.evaluate(({ scope, other, tags }) => T.oldDatabase(2, [
        [scope, tags[1], 2, { state: 'waiting', attempts: 1, notBefore: Date.now() }], [scope, tags[0], 1], [other, 'theirs', 3],
      ], 3), { scope: page.scope, other, tags: [first, second] });
      assert.equal(made, 2, 'the page should have made a version 2 database');
      assert.deepEqual(resolved(await page.getTags(), 'getTags() once the worker reopens'), [first, second],
        "the worker should list version 2's registrations, in their order");
      const periodic = ctx.tag('v3-periodic');
      resolved(await page.evaluate((t) => T.periodicRegister(t, { minInterval: 1000 }), periodic), 'periodic register() after the upgrade');
      const after = await page.evaluate((key) => T.peekDatabase(key), `${other}\ntheirs`);
      ctx.note(`upgraded to version ${after.version}`);
      assert.equal(after.version, 3, 'the worker should have upgraded the database to version 3');
      assert.equal(after.tag, 'theirs', "another scope's registration should be kept");
      assert.deepEqual(resolved(await page.getTags(), 'one-shot getTags()'), [first, second], 'one-shot tags unchanged by a periodic one');
      assert.deepEqual(resolved(await page.evaluate(() => T.periodicGetTags()), 'periodic getTags()'), [periodic], 'the periodic tag');
      await ctx.setOnline(true, page);
      for (const tag of [first, second]) await ctx.waitForSyncs(page, tag, 1, 15000);
      for (const tag of [first, second]) await firedExactly(ctx, page, tag, 1, `exactly one event for ${tag.split(':').pop()}`);
      await periodicEvents(ctx, page, periodic, 1, 15000);
    },
  },
  // ---- Native present but refusing (docs/semantics.md §8) ----

  {
    name: 'takeover-permission-denied',
    timeout: 90000,
    skip: (ctx) => (ctx.native ? null : NEEDS_NATIVE),
    async run(ctx) {
      const page = await ctx.open({ sw: FAST_RETRY });
      const session = await ctx.driver.setPermission(page.page, 'background-sync', 'denied');
      try {
        // The engine's own answer, where nothing takes over.
        const engine = await engineAnswers(ctx, page.scope);
        assert.equal(engine.syncPermission, 'denied', 'the background-sync permission reads denied');
        assert.deepEqual(engine.sync, DENIED, "native Chromium's own register() with background-sync denied");
        ctx.note(`native Chromium, background-sync denied: register() rejects with ${engine.sync.name}: "${engine.sync.message}"`);

        // Taken over: a page's register() offline, listed, fired once online by the polyfill.
        const tag = ctx.tag('denied');
        await ctx.setOnline(false, page);
        resolved(await page.register(tag), 'register() with background-sync denied');
        assert.deepEqual(resolved(await page.getTags(), 'getTags()').filter((t) => t === tag), [tag], 'getTags() lists the tag once');
        assert.deepEqual((await page.evaluate(() => T.storedTags())).filter((r) => r.tag === tag), [{ tag, periodic: false }], "the tag is in the polyfill's store");
        await sleep(1500);
        assert.equal(ctx.syncs(page, tag).length, 0, 'nothing fires while offline');
        await ctx.setOnline(true, page);
        const [event] = await ctx.waitForSyncs(page, tag, 1, 15000);
        assert.equal(event.isTrusted, false, 'the polyfill fired it (an untrusted event)');
        assert.equal(event.isSyncEvent, true, "the event is an instance of the engine's SyncEvent");
        assert.equal(event.onLine, true, 'fired online');
        await firedExactly(ctx, page, tag, 1, 'exactly one event');

        // The worker's own register(), refused the same way, is taken over too.
        const own = ctx.tag('denied-worker');
        resolved(await page.call('register', { tag: own }), "the worker's own register() with background-sync denied");
        await ctx.waitForSyncs(page, own, 1, 15000);
        await firedExactly(ctx, page, own, 1, "exactly one event for the worker's own tag");

        // Granted again: the engine's own API is the one used, and the polyfill's store is not touched.
        await ctx.driver.setPermission(page.page, 'background-sync', 'granted', session);
        const granted = ctx.tag('granted');
        resolved(await page.register(granted), 'register() with background-sync granted');
        const [native] = await ctx.waitForSyncs(page, granted, 1, 15000);
        assert.equal(native.isTrusted, true, 'the engine fired it (a trusted event)');
        assert.deepEqual((await page.evaluate(() => T.storedTags())).filter((r) => r.tag === granted), [], "the polyfill's store never held it");
        await firedExactly(ctx, page, granted, 1, 'exactly one native event');
        ctx.note('granted: the engine registered and fired the tag itself (a trusted event), the polyfill stored nothing');
      } finally {
        await session.detach().catch(() => {});
      }
    },
  },

  {
    name: 'takeover-later-page',
    timeout: 90000,
    skip: (ctx) => (ctx.native ? null : NEEDS_NATIVE),
    async run(ctx) {
      // A page of the origin that never touches the API still pokes the worker for what was taken over before it
      // loaded: the origin's mark, looked at on its load (docs/semantics.md §8).
      const first = await ctx.open({ sw: FAST_RETRY });
      const session = await ctx.driver.setPermission(first.page, 'background-sync', 'denied');
      try {
        const tag = ctx.tag('later');
        await ctx.setOnline(false, first);
        resolved(await first.register(tag), 'register() with background-sync denied, offline');
        assert.equal(await first.evaluate(() => localStorage.getItem('__backgroundSyncPolyfill')), '1', "the origin's mark is set");
        await first.page.close();
        // With no page open, the worker may still fire it if it runs when the network comes back; whatever happens
        // meanwhile, it must fire once by the end of the next page's visit (as no-page-open has it).
        await ctx.setOnline(true);
        await sleep(2500);
        const early = ctx.syncs(first, tag).length;
        ctx.note(early ? 'fired with no page open (the worker was still running)' : 'nothing fired with no page open; the later page woke the worker');
        const later = await ctx.open({ setup: false });
        // Its load evaluated the rest of the script: the engine's getter is back in place of the script's.
        await waitFor(() => later.evaluate(() => /\[native code\]/.test(String(Object.getOwnPropertyDescriptor(ServiceWorkerRegistration.prototype, 'sync').get))),
          { timeout: 5000, interval: 100, label: 'the page script evaluated on load' });
        const [event] = await ctx.waitForSyncs(later, tag, 1, 15000);
        assert.equal(event.isTrusted, false, 'the polyfill fired it');
        await ctx.waitForTagGone(later, tag);
        await sleep(1500);
        assert.equal(ctx.syncs(later, tag).length, 1, 'exactly one event');
      } finally {
        await session.detach().catch(() => {});
      }
    },
  },

  {
    name: 'takeover-periodic-in-tab',
    timeout: 90000,
    skip: (ctx) => (ctx.native ? null : NEEDS_NATIVE),
    async run(ctx) {
      // No permission override: a tab of a site that is not an installed app, as most Chrome tabs are.
      const page = await ctx.open({ sw: { ...FAST_RETRY, periodicMinInterval: 1000 } });
      const engine = await engineAnswers(ctx, page.scope);
      assert.equal(engine.periodicPermission, 'denied', 'periodic-background-sync reads denied in a tab');
      assert.deepEqual(engine.periodic, DENIED, "native Chromium's own periodicSync.register() in a tab");
      ctx.note(`native Chromium, a tab: periodicSync.register() rejects with ${engine.periodic.name}: "${engine.periodic.message}"`);

      const tag = ctx.tag('tab');
      const registeredAt = await page.evaluate(() => Date.now());
      resolved(await page.evaluate((t) => T.periodicRegister(t, { minInterval: 1500 }), tag), 'periodicSync.register() in a tab');
      assert.deepEqual(resolved(await page.evaluate(() => T.periodicGetTags()), 'periodicSync.getTags()'), [tag], 'getTags() lists it');
      const events = await periodicEvents(ctx, page, tag, 3, 30000);
      assertSchedule(ctx, page, tag, events, 1500, registeredAt);
      for (const event of events) {
        assert.equal(event.isTrusted, false, 'the polyfill fired it');
        assert.equal(event.isPeriodicSyncEvent, true, "an instance of the engine's PeriodicSyncEvent");
      }
      resolved(await page.evaluate((t) => T.periodicUnregister(t), tag), 'periodicSync.unregister()');
      assert.deepEqual(resolved(await page.evaluate(() => T.periodicGetTags()), 'getTags() after unregister()'), [], 'gone from getTags()');
      const count = periodicSyncs(ctx, page, tag).length;
      await sleep(3500);
      assert.equal(periodicSyncs(ctx, page, tag).length, count, 'nothing fires after unregister()');
    },
  },

  {
    name: 'takeover-disabled',
    timeout: 90000,
    skip: (ctx) => (ctx.native ? null : NEEDS_NATIVE),
    async run(ctx) {
      // fixtures/refuse-native.js: the engine's methods reject with "Background Sync is disabled.", as Electron's do.
      const page = await ctx.open({ sw: { ...FAST_RETRY, periodicMinInterval: 1000, refuse: 'disabled' }, query: 'refuse=disabled' });
      assert.deepEqual(await page.evaluate(() => self.BackgroundSyncPolyfill.native), true, 'the polyfill sees a native engine');
      const tag = ctx.tag('disabled');
      await ctx.setOnline(false, page);
      resolved(await page.register(tag), 'register() where Background Sync is disabled');
      assert.deepEqual(resolved(await page.getTags(), 'getTags()'), [tag], "getTags(): the polyfill's tag (the engine's own getTags() is refused too)");
      await ctx.setOnline(true, page);
      const [event] = await ctx.waitForSyncs(page, tag, 1, 15000);
      assert.equal(event.isTrusted, false, 'the polyfill fired it');
      await firedExactly(ctx, page, tag, 1, 'exactly one event');

      const own = ctx.tag('disabled-worker');
      resolved(await page.call('register', { tag: own }), "the worker's own register()");
      await ctx.waitForSyncs(page, own, 1, 15000);
      await firedExactly(ctx, page, own, 1, "exactly one event for the worker's own tag");

      const periodic = ctx.tag('disabled-periodic');
      resolved(await page.evaluate((t) => T.periodicRegister(t, { minInterval: 1000 }), periodic), 'periodicSync.register()');
      await periodicEvents(ctx, page, periodic, 2, 20000);
      resolved(await page.evaluate((t) => T.periodicUnregister(t), periodic), 'periodicSync.unregister()');
    },
  },

  // ---- The app's own wake-ups (docs/semantics.md §9) ----

  {
    name: 'push-wakes-no-page',
    timeout: 90000,
    skip: (ctx) => (ctx.mode === 'chromium-deleted' ? null : 'a push is delivered through DevTools (CDP ServiceWorker.deliverPushMessage): Chromium with the API deleted; native Chromium wakes its worker by itself'),
    async run(ctx) {
      const page = await ctx.open({ sw: FAST_RETRY });
      const { scope } = page;
      const tag = ctx.tag('pushed');
      await ctx.setOnline(false, page);
      resolved(await page.register(tag), 'register() while offline');
      // This worker instance reads itself offline from now on (Chromium may fire `online` in a running worker), and is
      // stopped once the network is back: stopping it first would leave a dead target that hangs Playwright's
      // setOffline(). Chromium never stops an idle worker that DevTools is attached to, as Playwright is.
      assert.deepEqual(await page.call('viewOffline'), { onLine: false }, 'the worker reads itself offline');
      await page.page.close();
      // DevTools needs a page: about:blank, no page of the origin.
      const blank = await ctx.driver.newPage();
      try {
        await ctx.setOnline(true);
        assert.equal(await ctx.driver.stopWorker(blank, scope), true, 'the worker was running, and is stopped');
        await sleep(5000);
        assert.equal(ctx.syncs(page, tag).length, 0, 'with every page closed and the worker stopped, nothing fires when the network is back');
        const pushedAt = Date.now();
        await ctx.driver.deliverPushMessage(blank, { scope, data: 'hello' });
        const [push] = await ctx.server.waitForEntries({ type: 'push', scope }, { timeout: 15000, label: 'the push event' });
        const [event] = await ctx.waitForSyncs(page, tag, 1, 15000);
        assert.equal(push.data, 'hello', 'the push carried its data');
        assert.ok(push.t >= pushedAt - 50, 'the push came after the delivery');
        assert.equal(event.instance, push.instance, 'the worker instance the push started fired the sync event');
        assert.equal(event.onLine, true, 'fired online');
        ctx.note(`the sync event started ${event.t - push.t} ms after the push event's listener ran`);
        await sleep(1500);
        assert.equal(ctx.syncs(page, tag).length, 1, 'exactly one event');
      } finally {
        await blank.close();
      }
    },
  },

  {
    name: 'push-wakes-running-worker',
    timeout: 90000,
    skip: (ctx) => (ctx.mode === 'chromium-deleted' ? null : 'a push is delivered through DevTools (CDP ServiceWorker.deliverPushMessage): Chromium with the API deleted; native Chromium wakes its worker by itself'),
    async run(ctx) {
      // The worker still runs when the push comes, so no start of the worker fires the tag: the polyfill's own push
      // listener must (docs/semantics.md §9).
      const page = await ctx.open({ sw: FAST_RETRY });
      const { scope } = page;
      const tag = ctx.tag('pushed-running');
      await ctx.setOnline(false, page);
      resolved(await page.register(tag), 'register() while offline');
      assert.deepEqual(await page.call('viewOffline'), { onLine: false }, 'the worker reads itself offline');
      const instance = (await page.call('probe')).instance;
      await page.page.close();
      const closedAt = Date.now();
      const bare = await ctx.driver.newPage();
      try {
        await ctx.setOnline(true);
        const onlineAt = Date.now();
        // The app's own message, which the polyfill does not act on: the worker reads itself online again, and nothing
        // tells the polyfill to look.
        await bare.goto(`${ctx.server.origin}/fixtures/bare.html`);
        const lifted = await bare.evaluate((s) => navigator.serviceWorker.getRegistration(s).then((registration) => new Promise((resolve) => {
          const channel = new MessageChannel();
          channel.port1.onmessage = (event) => resolve(event.data);
          // A pass that a page's online poke started waits up to ONLINE_LAG (5 s, src/worker/dispatcher.ts) for the
          // worker to read itself online: the view is lifted once it has given up.
          registration.active.postMessage({ __bspTest: 'liftView', args: { wait: 5500 } }, [channel.port2]);
        })), scope);
        const liftedAt = Date.now();
        assert.deepEqual(lifted, { ok: true, result: { onLine: true } }, 'the worker reads itself online');
        await sleep(3000);
        const early = ctx.syncs(page, tag);
        assert.equal(early.length, 0, `with every page closed, nothing fires when the network is back (fired at ${early.map((e) => e.t - closedAt)} ms after the page closed, by ${early.map((e) => e.instance === instance ? 'the same worker' : 'another worker')}; online at ${onlineAt - closedAt} ms, lifted at ${liftedAt - closedAt} ms)`);
        await ctx.driver.deliverPushMessage(bare, { scope, data: 'running' });
        const [push] = await ctx.server.waitForEntries({ type: 'push', scope }, { timeout: 15000, label: 'the push event' });
        const [event] = await ctx.waitForSyncs(page, tag, 1, 15000);
        assert.equal(push.instance, instance, 'the push reached the worker that was running');
        assert.equal(event.instance, instance, 'and that worker fired the sync event');
        assert.ok(event.t >= push.t, 'the sync event started after the push event was dispatched');
        ctx.note(`the sync event started ${event.t - push.t} ms after the push event's listener ran`);
        await sleep(1500);
        assert.equal(ctx.syncs(page, tag).length, 1, 'exactly one event');
      } finally {
        await bare.close();
      }
    },
  },

  {
    name: 'wake-from-message',
    timeout: 90000,
    skip: (ctx) => (ctx.native ? 'where the API is native and nothing was taken over, wake() resolves at once' : null),
    async run(ctx) {
      const page = await ctx.open({ sw: FAST_RETRY });
      const { scope } = page;
      const tag = ctx.tag('woken');
      // Settles a second after it starts: wake() must wait for it.
      ctx.server.setBehaviour(tag, 'sleep:1000');
      await ctx.setOnline(false, page);
      resolved(await page.register(tag), 'register() while offline');
      // The worker's own wake-ups would fire it once the network is back (Firefox fires `online` in workers): from now
      // on this worker instance reads itself offline, until the app's wake command.
      assert.deepEqual(await page.call('viewOffline'), { onLine: false }, 'the worker reads itself offline');
      await page.page.close();
      await sleep(500);
      await ctx.setOnline(true);
      await sleep(3000);
      assert.equal(ctx.syncs(page, tag).length, 0, 'with every page closed and the worker reading itself offline, nothing fires');
      // A page outside the scope, without the polyfill: it pokes nothing; it only sends the app's own message.
      const bare = await ctx.driver.newPage();
      try {
        await bare.goto(`${ctx.server.origin}/fixtures/bare.html`);
        const answer = await bare.evaluate((s) => navigator.serviceWorker.getRegistration(s).then((registration) => new Promise((resolve) => {
          const channel = new MessageChannel();
          channel.port1.onmessage = (event) => resolve(event.data);
          registration.active.postMessage({ __bspTest: 'wake', args: {} }, [channel.port2]);
        })), scope);
        assert.equal(answer.ok, true, `the app's wake command answered ${short(answer)}`);
        const { start, end } = answer.result;
        // The worker's reports reach the server a moment after it answered.
        await ctx.waitForSyncs(page, tag, 1, 5000);
        await ctx.server.waitForEntries({ type: 'syncEnd', scope, tag }, { timeout: 5000, label: 'the event settled' });
        const events = ctx.syncs(page, tag);
        const ends = ctx.syncEnds(page, tag);
        assert.equal(events.length, 1, 'wake() fired the due tag once');
        assert.ok(events[0].t >= start, 'the event started after wake() was called');
        assert.ok(ends.length === 1 && ends[0].t <= end, `wake() settled after the event's waitUntil promise did: called at ${start}, settled at ${end}, event ${short(events.map((e) => [e.t, e.instance]))}, ends ${short(ends.map((e) => [e.t, e.instance]))}`);
        const [woken] = ctx.server.entries({ type: 'woken', scope });
        assert.equal(woken.isUndefined, true, 'wake() resolves with undefined');
        ctx.note(`wake() settled ${end - start} ms after it was called; the event held for 1000 ms; wake() was called ${answer.result.onLineAfter} ms after the command, once the engine had the worker online`);
        await sleep(1500);
        assert.equal(ctx.syncs(page, tag).length, 1, 'exactly one event');
      } finally {
        await bare.close();
      }
    },
  },
];

/** Native periodic sync is the browser's to schedule; what the suite can drive of it is its API and CDP's dispatch. */
const NEEDS_NATIVE = "a refusing engine needs Chromium's own API (chromium-native)";

/** Native Chromium's answer to a register() it refuses for a denied permission (docs/semantics.md §8). */
const DENIED = { ok: false, name: 'NotAllowedError', message: 'Permission denied.' };

/**
 * What the engine itself answers, from a page of the origin that does not load the polyfill (fixtures/bare.html):
 * register() and periodicSync.register() on the registration of `scope`, and both permissions' states. The tags it
 * may register are removed again.
 */
async function engineAnswers(ctx, scope) {
  const bare = await ctx.driver.newPage();
  try {
    await bare.goto(`${ctx.server.origin}/fixtures/bare.html`);
    return await bare.evaluate(async (s) => {
      const registration = await navigator.serviceWorker.getRegistration(s);
      const outcome = (promise) => promise.then(() => ({ ok: true }), (error) => ({ ok: false, name: error.name, message: error.message }));
      const state = (name) => navigator.permissions.query({ name }).then((status) => status.state, (error) => error.name);
      const answers = {
        sync: await outcome(registration.sync.register('engine-probe')),
        periodic: await outcome(registration.periodicSync.register('engine-probe', { minInterval: 1000 })),
        syncPermission: await state('background-sync'),
        periodicPermission: await state('periodic-background-sync'),
      };
      await registration.periodicSync.unregister('engine-probe').catch(() => {});
      return answers;
    }, scope);
  } finally {
    await bare.close();
  }
}

const NATIVE_PERIODIC_SKIP = "native periodic sync fires on the browser's own schedule (12 h at least, scaled by site engagement, installed apps only); native is covered by periodic-api and periodic-cdp-dispatch, and by WPT's idlharness with the permission granted";

/** `periodicsync` events (listener) the worker reported for a tag of this page's scope. */
function periodicSyncs(ctx, page, tag) {
  return ctx.server.entries({ type: 'periodicsync', scope: page.scope, tag }).filter((e) => e.via === undefined);
}

/** Waits for `count` periodicsync events of `tag` and returns them in order. */
async function periodicEvents(ctx, page, tag, count, timeout) {
  await waitFor(() => periodicSyncs(ctx, page, tag).length >= count, { timeout, interval: 50, label: `${count} periodicsync event(s) for ${tag.slice(-30)}` });
  return periodicSyncs(ctx, page, tag).slice(0, count);
}

/**
 * docs/semantics.md §7's schedule, from the server log: the first event no earlier than one interval after
 * `registeredAt`, each next one no earlier than one interval after the previous event ended, never two at once, and
 * not much later (a generous bound on two busy cores).
 */
function assertSchedule(ctx, page, tag, events, interval, registeredAt) {
  const ends = ctx.server.entries({ type: 'periodicEnd', scope: page.scope, tag });
  const name = tag.split(':').pop();
  const firstGap = events[0].t - registeredAt;
  assert.ok(firstGap >= interval - 50, `${name}: the first event should wait one interval (${interval} ms), came after ${firstGap} ms`);
  const gaps = [];
  for (let i = 1; i < events.length; i++) {
    const end = ends[i - 1];
    assert.ok(end && end.t <= events[i].t, `${name}: event ${i + 1} started before event ${i} ended: never two at once`);
    const gap = events[i].t - end.t;
    gaps.push(gap);
    assert.ok(gap >= interval - 50, `${name}: event ${i + 1} came ${gap} ms after the previous one ended, before one interval (${interval} ms)`);
    assert.ok(gap <= interval + 6000, `${name}: event ${i + 1} came ${gap} ms after the previous one ended, long after one interval (${interval} ms)`);
  }
  ctx.note(`${name}: first after ${firstGap} ms, then ${gaps.join(', ')} ms after each end`);
}
