// The scenarios, written once and run in every mode where they apply.
// A scenario is { name, skip?(ctx) -> reason | null, timeout?, run(ctx) }; it fails by throwing.
import assert from 'node:assert/strict';
import { sleep, short } from './util.mjs';

const FAST_RETRY = { maxAttempts: 3, initialRetryDelay: 1000, retryDelayFactor: 2, maxEventDuration: 5000 };
const NATIVE_RETRY_SKIP = 'native Chromium retries after 5 min and 15 min and cannot be configured (lastChance is covered by cdp-last-chance)';

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
      assert.equal(inPage.toStringTag, '[object SyncManager]', 'Symbol.toStringTag of registration.sync');
      assert.equal(inPage.syncEventInPage, false, 'SyncEvent should not exist in pages');
      assert.equal(inWorker.syncEventType, 'function', 'worker: SyncEvent should be a function');
      assert.equal(inWorker.syncEventNativeCode, expectNative, `worker: SyncEvent native code should be ${expectNative}`);
      assert.equal(inWorker.onsyncInSelf, true, "worker: 'onsync' in self");
      assert.equal(inWorker.onsync, 'null', 'worker: self.onsync should start null');
      assert.deepEqual(inWorker.syncEventWithTag, { ok: true, tag: 't', lastChance: false }, 'new SyncEvent("sync", {tag})');
      assert.deepEqual(inWorker.syncEventWithoutTag, { ok: false, name: 'TypeError' }, 'new SyncEvent("sync", {}) should throw TypeError');
      assert.equal(inWorker.configureError, null, 'configure() threw in the worker');
      ctx.note(`polyfill ${inPage.version}`);
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
      await ctx.waitForTagGone(page, tag);
      await sleep(1000);
      assert.equal(ctx.syncs(page, tag).length, 1, 'exactly one event');
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
      await ctx.waitForTagGone(page, tag);
      await sleep(1500);
      assert.equal(ctx.syncs(page, tag).length, 1, 'exactly one event after coming online');
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
      await ctx.setOnline(true, page);
      await ctx.waitForSyncs(page, tag, 1, 15000);
      await ctx.waitForTagGone(page, tag);
      await sleep(1500);
      assert.equal(ctx.syncs(page, tag).length, 1, 'five registrations of one tag give one event');
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
      await ctx.setOnline(true, first); // both tabs see `online` and poke the worker
      await ctx.waitForSyncs(first, tag, 1, 15000);
      await ctx.waitForTagGone(second, tag);
      await sleep(1500);
      assert.equal(ctx.syncs(first, tag).length, 1, 'two open tabs must not make a registration fire twice');
    },
  },

  {
    name: 'retry-policy',
    skip: (ctx) => (ctx.native ? NATIVE_RETRY_SKIP : null),
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
      assert.ok(gaps[0] >= 950 && gaps[0] <= 2500, `first retry should come ≈1000 ms after attempt 1, came after ${gaps[0]} ms`);
      assert.ok(gaps[1] >= 1950 && gaps[1] <= 3500, `second retry should come ≈2000 ms after attempt 2, came after ${gaps[1]} ms`);
      await ctx.waitForTagGone(page, tag, 5000);
      await sleep(4500); // a 4th attempt would be due ≈4 s after the 3rd
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
      const tag = ctx.tag('busy');
      ctx.server.setBehaviour(tag, 'hold');
      resolved(await page.register(tag), 'first register()');
      await ctx.waitForSyncs(page, tag, 1, 10000);
      assert.ok(resolved(await page.getTags(), 'getTags() while firing').includes(tag), 'getTags() should list a firing tag');
      resolved(await page.register(tag), 'register() while firing');
      await sleep(500);
      assert.equal(ctx.syncs(page, tag).length, 1, 'a registration must never fire twice at once');
      ctx.server.setBehaviour(tag, 'ok');
      assert.deepEqual(await page.call('release', { tag }), { released: true }, 'the held event should still be running');
      const events = await ctx.waitForSyncs(page, tag, 2, 15000);
      const [firstEnd] = ctx.syncEnds(page, tag);
      assert.ok(firstEnd && events[1].t >= firstEnd.t, 'the second firing should start after the first settled');
      await ctx.waitForTagGone(page, tag);
      await sleep(1500);
      assert.equal(ctx.syncs(page, tag).length, 2, 'exactly two firings');
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
      const kept = ctx.tag('kept');
      // A registration stored before the failure; the handler holds it firing so it stays in getTags().
      ctx.server.setBehaviour(kept, 'hold');
      resolved(await page.register(kept), 'register() before the failure');
      await ctx.waitForSyncs(page, kept, 1, 10000);
      const during = await page.evaluate(async () => {
        // Every IndexedDB transaction of this page fails as it would over quota.
        const original = IDBDatabase.prototype.transaction;
        IDBDatabase.prototype.transaction = function () {
          throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        };
        try {
          return {
            register: await T.outcome(() => T.registration.sync.register('during-failure')),
            getTags: await T.outcome(() => T.registration.sync.getTags()),
          };
        } finally {
          IDBDatabase.prototype.transaction = original;
        }
      });
      rejectedWith(during.register, 'UnknownError', 'register() while storage fails');
      assert.match(during.register.message, /QuotaExceededError/, 'the UnknownError should say why');
      rejectedWith(during.getTags, 'UnknownError', 'getTags() while storage fails');
      const tags = resolved(await page.getTags(), 'getTags() once storage works again');
      assert.deepEqual(tags, [kept], 'what was stored before the failure is kept, and the failed register stored nothing');
      await page.call('release', { tag: kept });
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
      assert.ok(gap >= 2450 && gap <= 4500, `a never-settling attempt should fail after maxEventDuration (2000) + retry (500), retried after ${gap} ms`);
      await ctx.waitForTagGone(page, tag, 6000);
      assert.equal(ctx.syncs(page, tag).length, 2, 'exactly maxAttempts (2) attempts');
    },
  },
];
