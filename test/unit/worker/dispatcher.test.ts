import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_POLICY, RetryPolicy } from '../../../src/core/policy';
import { SyncRecord } from '../../../src/core/registration';
import * as store from '../../../src/store/db';
import { closeDatabase, list, storeRegistration } from '../../../src/store/db';
import { PeriodicSyncEventClass, SyncEventClass } from '../../../src/web/sync-event';
import { Dispatcher, LEASE_TTL, ONLINE_LAG } from '../../../src/worker/dispatcher';
import {
  defineTestSyncEvents, fakeLocks, freshIndexedDB, putRaw, rawRecord, record, sleep, until, useLocks,
} from '../helpers';

let SyncEvent: SyncEventClass;
let PeriodicSyncEvent: PeriodicSyncEventClass;
beforeAll(() => {
  [SyncEvent, PeriodicSyncEvent] = defineTestSyncEvents();
});

// Dispatchers cannot be stopped, so a dispatcher's timers from one test may still run in a later one: every
// test uses its own scope, and a fresh database.
let scope: string;
let n = 0;
beforeEach(() => {
  scope = `https://example.com/dispatcher-${++n}/`;
  freshIndexedDB();
});
afterEach(() => {
  vi.useRealTimers();
  closeDatabase();
  useLocks(undefined);
});

interface Fired {
  tag: string;
  lastChance: boolean;
  target: EventTarget;
}

type Handler = (event: SyncEvent, count: number) => void;

/** A target whose sync listener records each event and runs `handler`. */
function target(fired: Fired[], handler: Handler = () => undefined): EventTarget {
  const t = new EventTarget();
  t.addEventListener('sync', (e) => {
    const event = e as SyncEvent;
    fired.push({ tag: event.tag, lastChance: event.lastChance, target: t });
    handler(event, fired.filter((f) => f.tag === event.tag).length);
  });
  return t;
}

function dispatcher(t: EventTarget, policy: Partial<RetryPolicy> = {}, online: () => boolean = () => true) {
  const report = vi.fn();
  const d = new Dispatcher({ scope, target: t, SyncEvent, PeriodicSyncEvent, isOnline: online, report });
  d.policy = { ...DEFAULT_POLICY, ...policy };
  return { d, report };
}

const fail = (e: SyncEvent) => e.waitUntil(Promise.reject(new Error('upload failed')));
const never = (e: SyncEvent) => e.waitUntil(new Promise(() => undefined));
const tagsOf = async () => (await list(scope)).map((r) => r.tag);

describe('Dispatcher', () => {
  it('has a distinct instance id per dispatcher', () => {
    const t = new EventTarget();
    expect(dispatcher(t).d.instance).not.toBe(dispatcher(t).d.instance);
  });

  it('run() with nothing registered fires nothing and resolves', async () => {
    const fired: Fired[] = [];
    const { d, report } = dispatcher(target(fired));
    await d.run();
    expect(fired).toEqual([]);
    expect(report).not.toHaveBeenCalled();
  });

  it('run() fires each pending registration once; on success the registration is removed', async () => {
    const fired: Fired[] = [];
    const { d, report } = dispatcher(target(fired));
    await storeRegistration(scope, 'a');
    await storeRegistration(scope, 'b');
    await storeRegistration('https://example.com/elsewhere/', 'c');
    await d.run();
    expect(fired.map((f) => [f.tag, f.lastChance]).sort()).toEqual([['a', false], ['b', false]]);
    expect(await tagsOf()).toEqual([]);
    expect(report).not.toHaveBeenCalled();
  });

  it('run() resolves only after the events\' waitUntil promises have settled', async () => {
    let release!: () => void;
    const fired: Fired[] = [];
    const { d } = dispatcher(target(fired, (e) => e.waitUntil(new Promise<void>((r) => (release = r)))));
    await storeRegistration(scope, 'a');
    let done = false;
    const running = d.run().then(() => (done = true));
    await until(() => fired.length === 1);
    await sleep(20);
    expect(done).toBe(false);
    expect((await rawRecord(scope, 'a'))!.state).toBe('firing');
    release();
    await running;
    expect(await rawRecord(scope, 'a')).toBeUndefined();
  });

  it('a failed event is waiting for initialRetryDelay, with the attempt counted', async () => {
    const fired: Fired[] = [];
    const { d } = dispatcher(target(fired, fail), { initialRetryDelay: 60000 });
    await storeRegistration(scope, 'a');
    const before = Date.now();
    await d.run();
    const r = (await rawRecord(scope, 'a'))!;
    expect(r).toMatchObject({ state: 'waiting', attempts: 1, lease: '' });
    expect(r.notBefore).toBeGreaterThanOrEqual(before + 60000);
    expect(r.notBefore).toBeLessThanOrEqual(Date.now() + 60000);
    // Not due yet: another run fires nothing.
    await d.run();
    expect(fired).toHaveLength(1);
  });

  it('lastChance is set on the final attempt only, and the registration is removed after it', async () => {
    const fired: Fired[] = [];
    const { d } = dispatcher(target(fired, fail), { maxAttempts: 3, initialRetryDelay: 0 });
    await storeRegistration(scope, 'a');
    await d.run();
    await until(async () => fired.length >= 3 && (await rawRecord(scope, 'a')) === undefined, 2000, 'three attempts');
    await d.run();
    await sleep(50);
    expect(fired.map((f) => f.lastChance)).toEqual([false, false, true]);
  });

  it('retries wait initialRetryDelay * retryDelayFactor^(attempts-1) between attempts', async () => {
    const fired: Fired[] = [];
    const times: number[] = [];
    const { d } = dispatcher(target(fired, (e) => {
      times.push(Date.now());
      fail(e);
    }), { maxAttempts: 3, initialRetryDelay: 40, retryDelayFactor: 3 });
    await storeRegistration(scope, 'a');
    await d.run();
    await until(() => fired.length === 3, 3000, 'three attempts');
    expect(times[1] - times[0]).toBeGreaterThanOrEqual(40);
    expect(times[2] - times[1]).toBeGreaterThanOrEqual(120);
    expect(times[2] - times[1]).toBeLessThan(1000);
    expect(fired.map((f) => f.lastChance)).toEqual([false, false, true]);
  });

  // docs/semantics.md §4: "timers while the worker is alive" are a chance to fire. After a failure the dispatcher must wake
  // up for the retry time. It only re-arms its timer from claimDue's `next`, computed before the event failed
  // (the lease expiry, LEASE_TTL = 30 s), so a retry due in 50 ms waits for 30 s.
  it('retries a failed event by itself once initialRetryDelay has passed', async () => {
    const fired: Fired[] = [];
    const { d } = dispatcher(target(fired, (e, count) => {
      if (count === 1) fail(e);
    }), { initialRetryDelay: 50, retryDelayFactor: 2 });
    await storeRegistration(scope, 'a');
    await d.run();
    expect(fired).toHaveLength(1);
    expect(LEASE_TTL).toBeGreaterThan(2000);
    await until(() => fired.length === 2, 2000, 'the retry');
    await until(async () => (await rawRecord(scope, 'a')) === undefined, 1000, 'removal after success');
  });

  it('re-registering while firing fires it again afterwards, as attempt 1', async () => {
    const fired: Fired[] = [];
    let release!: () => void;
    const { d } = dispatcher(target(fired, (e, count) => {
      if (count === 1) e.waitUntil(new Promise<void>((r) => (release = r)));
    }));
    await storeRegistration(scope, 'a');
    const running = d.run();
    await until(() => fired.length === 1);
    const during = await storeRegistration(scope, 'a');
    expect(during).toMatchObject({ state: 'firing', reregistered: true });
    release();
    await running;
    await until(() => fired.length === 2, 2000, 'the second firing');
    await until(async () => (await rawRecord(scope, 'a')) === undefined, 1000, 'removal');
    expect(fired.map((f) => f.lastChance)).toEqual([false, false]);
  });

  // run()'s promise goes to the waking event's waitUntil (docs/semantics.md §4) to keep the worker alive while events run.
  it('run() also covers the second firing of a tag re-registered while it fired', async () => {
    const fired: Fired[] = [];
    let release!: () => void;
    let releaseSecond!: () => void;
    const { d } = dispatcher(target(fired, (e, count) => {
      e.waitUntil(new Promise<void>((r) => (count === 1 ? (release = r) : (releaseSecond = r))));
    }));
    await storeRegistration(scope, 'a');
    let done = false;
    const running = d.run().then(() => (done = true));
    await until(() => fired.length === 1);
    await storeRegistration(scope, 'a');
    release();
    await until(() => fired.length === 2, 2000, 'the second firing');
    await sleep(20);
    expect(done).toBe(false);
    releaseSecond();
    await running;
    expect(await rawRecord(scope, 'a')).toBeUndefined();
  });

  it('re-registering while firing resets the attempts even when the event fails', async () => {
    const fired: Fired[] = [];
    let release!: (e: Error) => void;
    const { d } = dispatcher(target(fired, (e, count) => {
      if (count === 1) e.waitUntil(new Promise<void>((_, reject) => (release = reject)));
    }), { maxAttempts: 1 });
    await storeRegistration(scope, 'a');
    const running = d.run();
    await until(() => fired.length === 1);
    expect(fired[0].lastChance).toBe(true);
    await storeRegistration(scope, 'a');
    release(new Error('failed'));
    await running;
    // Failed on its last chance, but re-registered: fires again rather than being dropped.
    await until(() => fired.length === 2, 2000, 'the second firing');
    await until(async () => (await rawRecord(scope, 'a')) === undefined, 1000, 'removal');
  });

  it('maxEventDuration bounds a handler that never settles: the attempt fails', async () => {
    const fired: Fired[] = [];
    const { d } = dispatcher(target(fired, never), { maxEventDuration: 50, initialRetryDelay: 60000 });
    await storeRegistration(scope, 'a');
    const start = Date.now();
    await d.run();
    const elapsed = Date.now() - start;
    expect(elapsed).toBeGreaterThanOrEqual(45);
    expect(elapsed).toBeLessThan(1000);
    expect(await rawRecord(scope, 'a')).toMatchObject({ state: 'waiting', attempts: 1 });
  });

  it('offline (isOnline false) fires nothing and leaves the registration pending', async () => {
    const fired: Fired[] = [];
    let online = false;
    const { d } = dispatcher(target(fired), {}, () => online);
    await storeRegistration(scope, 'a');
    await d.run();
    expect(fired).toEqual([]);
    expect(await rawRecord(scope, 'a')).toMatchObject({ state: 'pending', attempts: 0 });
    online = true;
    await d.run();
    expect(fired.map((f) => f.tag)).toEqual(['a']);
  });

  // After a poke saying offline, the next pass: a page saying online, or a timer, a fetch, activate (no page view).
  it.each([
    ['the poking page\'s view counts too: run(false) fires nothing, run(true) fires', true],
    ['the page\'s offline view holds for the pass it asked for only', undefined],
  ])('%s', async (_name, next) => {
    const fired: Fired[] = [];
    const { d } = dispatcher(target(fired));
    await storeRegistration(scope, 'a');
    await d.run(false);
    expect(fired).toEqual([]);
    await d.run(next);
    expect(fired.map((f) => f.tag)).toEqual(['a']);
  });

  it('a page that saw the network come back is believed while the worker\'s onLine lags behind (ONLINE_LAG)', async () => {
    const fired: Fired[] = [];
    let online = false;
    const { d } = dispatcher(target(fired), {}, () => online);
    await storeRegistration(scope, 'a');
    setTimeout(() => { online = true; }, 300);
    const started = Date.now();
    await d.run(true);
    expect(fired.map((f) => f.tag)).toEqual(['a']);
    expect(Date.now() - started).toBeLessThan(ONLINE_LAG);
  });

  it('while waiting for its own onLine it looks again within milliseconds, then backs off to 100 ms steps', async () => {
    const fired: Fired[] = [];
    const looks: number[] = [];
    const { d } = dispatcher(target(fired), {}, () => {
      looks.push(Date.now());
      return looks.length > 1 && Date.now() - looks[0] >= 600;
    });
    await storeRegistration(scope, 'a');
    await d.run(true);
    expect(fired.map((f) => f.tag)).toEqual(['a']);
    // The waits: the gaps between the looks up to the first that found the worker online.
    const firstOnline = looks.findIndex((t) => t - looks[0] >= 600);
    const gaps = looks.slice(1, firstOnline + 1).map((t, i) => t - looks[i]);
    expect(gaps[0]).toBeLessThan(50); // the page says online: Chromium's worker catches up a few ms later
    expect(Math.max(...gaps)).toBeLessThan(250); // never a long nap past the moment the worker agrees
    expect(gaps.slice(-2).every((gap) => gap >= 60)).toBe(true); // but no busy polling either
  });

  it('gives up after ONLINE_LAG when the worker stays offline, and a wake-up without a page view does not wait', async () => {
    const fired: Fired[] = [];
    const { d } = dispatcher(target(fired), {}, () => false);
    await storeRegistration(scope, 'a');
    let started = Date.now();
    await d.run();
    expect(Date.now() - started).toBeLessThan(ONLINE_LAG / 2);
    started = Date.now();
    await d.run(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(ONLINE_LAG - 50);
    expect(fired).toEqual([]);
    expect(await rawRecord(scope, 'a')).toMatchObject({ state: 'pending', attempts: 0, lease: '' });
  }, 15000);

  it('an inactive (installing, waiting) worker does not wait for the network at all', async () => {
    const fired: Fired[] = [];
    const report = vi.fn();
    const d = new Dispatcher({ scope, target: target(fired), SyncEvent, PeriodicSyncEvent, isOnline: () => false, report, isActive: () => false });
    await storeRegistration(scope, 'a');
    const started = Date.now();
    await d.run(true);
    expect(Date.now() - started).toBeLessThan(ONLINE_LAG / 2);
    expect(fired).toEqual([]);
  });

  it('an abandoned firing (a dead instance\'s lapsed lease) is a failed attempt and is retried', async () => {
    const fired: Fired[] = [];
    const { d } = dispatcher(target(fired), { initialRetryDelay: 0 });
    await putRaw(record({
      scope, tag: 'a', state: 'firing', attempts: 1, lease: 'dead-instance', leaseUntil: Date.now() - 1,
    }));
    await d.run();
    expect(fired.map((f) => [f.tag, f.lastChance])).toEqual([['a', false]]);
    expect(await rawRecord(scope, 'a')).toBeUndefined();
  });

  it('a firing held by a live instance is not fired again', async () => {
    const fired: Fired[] = [];
    const { d } = dispatcher(target(fired));
    const held: SyncRecord = record({
      scope, tag: 'a', state: 'firing', attempts: 1, lease: 'live-instance', leaseUntil: Date.now() + LEASE_TTL,
    });
    await putRaw(held);
    await d.run();
    expect(fired).toEqual([]);
    expect(await rawRecord(scope, 'a')).toEqual(held);
  });

  it('run() never rejects: a storage failure is reported', async () => {
    const fired: Fired[] = [];
    const { d, report } = dispatcher(target(fired));
    delete (globalThis as { indexedDB?: unknown }).indexedDB;
    closeDatabase();
    await expect(d.run()).resolves.toBeUndefined();
    expect(report).toHaveBeenCalledWith(expect.objectContaining({ name: 'StorageError' }));
    expect(fired).toEqual([]);
  });

  it('concurrent run() calls on one dispatcher fire each registration once', async () => {
    const fired: Fired[] = [];
    const { d } = dispatcher(target(fired, (e) => e.waitUntil(sleep(20))));
    for (const tag of ['a', 'b', 'c']) await storeRegistration(scope, tag);
    await Promise.all([d.run(), d.run(), d.run()]);
    expect(fired.map((f) => f.tag).sort()).toEqual(['a', 'b', 'c']);
  });

  describe('two dispatchers sharing one store never fire the same tag concurrently', () => {
    async function race(second: typeof Dispatcher) {
      const fired: Fired[] = [];
      const active = new Map<string, number>();
      let overlap = 0;
      const handler: Handler = (e) => {
        const count = (active.get(e.tag) || 0) + 1;
        active.set(e.tag, count);
        if (count > 1) overlap++;
        e.waitUntil(sleep(30).then(() => void active.set(e.tag, active.get(e.tag)! - 1)));
      };
      const a = new Dispatcher({ scope, target: target(fired, handler), SyncEvent, PeriodicSyncEvent, isOnline: () => true, report: vi.fn() });
      const b = new second({ scope, target: target(fired, handler), SyncEvent, PeriodicSyncEvent, isOnline: () => true, report: vi.fn() });
      const tags = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
      for (const tag of tags) await storeRegistration(scope, tag);
      await Promise.all([a.run(), b.run(), a.run(), b.run()]);
      expect(overlap).toBe(0);
      expect(fired.map((f) => f.tag).sort()).toEqual(tags);
      expect(await tagsOf()).toEqual([]);
      return fired;
    }

    it('in one context (one connection)', async () => {
      await race(Dispatcher);
    });

    it('in two contexts (two connections, as two worker instances during an update)', async () => {
      vi.resetModules();
      const other = await import('../../../src/worker/dispatcher');
      const otherStore = await import('../../../src/store/db');
      try {
        await race(other.Dispatcher);
      } finally {
        otherStore.closeDatabase();
      }
    });
  });

  it('renews the lease of a long-running event, so no other instance takes it over', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    const fired: Fired[] = [];
    const { d } = dispatcher(target(fired, never), { maxEventDuration: 10 * LEASE_TTL });
    await storeRegistration(scope, 'a');
    const start = Date.now();
    void d.run();
    for (let i = 0; i < 50 && fired.length === 0; i++) await vi.advanceTimersByTimeAsync(0);
    expect(fired).toHaveLength(1);
    expect((await rawRecord(scope, 'a'))!.leaseUntil).toBe(start + LEASE_TTL);
    // Well past the first lease: still held, by renewals.
    await vi.advanceTimersByTimeAsync(2 * LEASE_TTL);
    for (let i = 0; i < 20; i++) await vi.advanceTimersByTimeAsync(0);
    const r = (await rawRecord(scope, 'a'))!;
    expect(r.state).toBe('firing');
    expect(r.lease).toBe(d.instance);
    expect(r.leaseUntil).toBeGreaterThan(Date.now());
    // Another instance finds nothing to do.
    const other = dispatcher(target(fired));
    const otherRun = other.d.run();
    for (let i = 0; i < 20; i++) await vi.advanceTimersByTimeAsync(0);
    await otherRun;
    expect(fired).toHaveLength(1);
  });

  describe('liveness under Web Locks (src/liveness.ts)', () => {
    /** A dispatcher created as the context `owner`, with the origin's `locks`. */
    function instance(locks: ReturnType<typeof fakeLocks>, owner: string, fired: Fired[], handler?: Handler, policy: Partial<RetryPolicy> = {}, notify?: (next: number, leases: string[]) => void) {
      useLocks(locks.context(owner));
      const report = vi.fn();
      const d = new Dispatcher({ scope, target: target(fired, handler), SyncEvent, PeriodicSyncEvent, isOnline: () => true, report, notify });
      d.policy = { ...DEFAULT_POLICY, ...policy };
      return { d, report };
    }

    it('claims under its lock, and renews nothing: the lock is the liveness', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
      const locks = fakeLocks();
      const fired: Fired[] = [];
      const { d } = instance(locks, 'w1', fired, never, { maxEventDuration: 10 * LEASE_TTL });
      await storeRegistration(scope, 'a');
      void d.run();
      for (let i = 0; i < 50 && fired.length === 0; i++) await vi.advanceTimersByTimeAsync(0);
      expect(fired).toHaveLength(1);
      const claimed = (await rawRecord(scope, 'a'))!;
      expect(claimed).toMatchObject({ state: 'firing', lease: d.instance, locked: true });
      expect(Array.from(locks.held.keys())).toEqual([`background-sync-polyfill:${d.instance}`]);
      await vi.advanceTimersByTimeAsync(3 * LEASE_TTL);
      for (let i = 0; i < 20; i++) await vi.advanceTimersByTimeAsync(0);
      expect(await rawRecord(scope, 'a')).toEqual(claimed);
    });

    it('a firing whose instance died is reaped at once by the next instance, as a failed attempt, and retried', async () => {
      const locks = fakeLocks();
      const fired: Fired[] = [];
      const first = instance(locks, 'w1', fired, never, { maxAttempts: 2, initialRetryDelay: 0 });
      await storeRegistration(scope, 'a');
      void first.d.run();
      await until(() => fired.length === 1);
      locks.kill('w1');
      const started = Date.now();
      const second = instance(locks, 'w2', fired, undefined, { maxAttempts: 2, initialRetryDelay: 0 });
      await second.d.run();
      expect(fired.map((f) => [f.tag, f.lastChance])).toEqual([['a', false], ['a', true]]);
      expect(Date.now() - started).toBeLessThan(1000);
      expect(await rawRecord(scope, 'a')).toBeUndefined();
      expect(second.report).not.toHaveBeenCalled();
    });

    it('a live instance is never reaped, however long its event runs (a busy worker keeps its lock)', async () => {
      const locks = fakeLocks();
      const fired: Fired[] = [];
      let release!: () => void;
      const first = instance(locks, 'w1', fired, (e) => e.waitUntil(new Promise<void>((r) => (release = r))), { initialRetryDelay: 0 });
      await storeRegistration(scope, 'a');
      const running = first.d.run();
      await until(() => fired.length === 1);
      // Its lease time long past: only the lock counts.
      const held = (await rawRecord(scope, 'a'))!;
      await putRaw({ ...held, leaseUntil: Date.now() - LEASE_TTL });
      const second = instance(locks, 'w2', fired, undefined, { initialRetryDelay: 0 });
      await second.d.run();
      await second.d.run();
      expect(fired).toHaveLength(1);
      release();
      await running;
      expect(await rawRecord(scope, 'a')).toBeUndefined();
      expect(fired).toHaveLength(1);
    });

    it('an instance that saw another\'s firing waits on its lock and runs the moment that instance dies', async () => {
      const locks = fakeLocks();
      const fired: Fired[] = [];
      const first = instance(locks, 'w1', fired, never, { initialRetryDelay: 0 });
      await storeRegistration(scope, 'a');
      void first.d.run();
      await until(() => fired.length === 1);
      const second = instance(locks, 'w2', fired, undefined, { initialRetryDelay: 0 });
      await second.d.run();
      expect(fired).toHaveLength(1);
      locks.kill('w1');
      // No run() call: the lock's grant wakes it.
      await until(() => fired.length === 2, 1000, 'the re-fire after the death');
      await until(async () => (await rawRecord(scope, 'a')) === undefined, 1000, 'the re-fire settled');
    });

    it('tells the pages what is next due and which leases to watch, once per change', async () => {
      const locks = fakeLocks();
      const fired: Fired[] = [];
      const notices: Array<[number, string[]]> = [];
      let release!: () => void;
      const { d } = instance(locks, 'w1', fired, (e, count) => {
        if (count === 1) e.waitUntil(new Promise<void>((r) => (release = r)).then(() => Promise.reject(new Error('down'))));
      }, { initialRetryDelay: 60000 }, (next, leases) => notices.push([next, leases]));
      await storeRegistration(scope, 'a');
      const running = d.run();
      await until(() => fired.length === 1);
      expect(notices).toEqual([[Infinity, [d.instance]]]);
      const failedAt = Date.now();
      release();
      await running;
      expect(notices).toHaveLength(2);
      expect(notices[1][1]).toEqual([]);
      expect(notices[1][0]).toBeGreaterThanOrEqual(failedAt + 60000);
      expect(notices[1][0]).toBeLessThan(Date.now() + 60000 + 1);
    });

    it('without Web Locks, claims without a lock and keeps the timed lease (the fallback)', async () => {
      useLocks(undefined);
      const fired: Fired[] = [];
      const { d } = dispatcher(target(fired, never), { maxEventDuration: 60000 });
      await storeRegistration(scope, 'a');
      void d.run();
      await until(() => fired.length === 1);
      const r = (await rawRecord(scope, 'a'))!;
      expect(r.locked).toBeUndefined();
      expect(r.leaseUntil).toBeGreaterThan(Date.now());
    });
  });

  describe('register(): the store and the claim in one transaction', () => {
    it('online and active, the registration is claimed as it is stored, and fired by what register() resolves with, once', async () => {
      const fired: Fired[] = [];
      const t = target(fired);
      const { d, report } = dispatcher(t);
      const claims = vi.spyOn(store, 'claimDue');
      let claimsBeforeFiring = 0;
      t.addEventListener('sync', () => (claimsBeforeFiring = claims.mock.calls.length), { once: true });
      const fire = await d.register(['a', 'b', 'a']);
      // Stored as claimed: no event before `fire`, and no pass's claim.
      expect((await rawRecord(scope, 'a'))!.state).toBe('firing');
      expect((await rawRecord(scope, 'b'))!.state).toBe('firing');
      expect((await rawRecord(scope, 'a'))!.reregistered).toBe(false);
      expect(fired).toEqual([]);
      await fire();
      expect(fired.map((f) => f.tag)).toEqual(['a', 'b']);
      expect(await tagsOf()).toEqual([]);
      // The only passes came after the events: what fired was claimed by register().
      expect(claimsBeforeFiring).toBe(0);
      expect(report).not.toHaveBeenCalled();
      claims.mockRestore();
    });

    it('offline, the registration stays pending and what register() resolves with runs a pass', async () => {
      const fired: Fired[] = [];
      let online = false;
      const { d } = dispatcher(target(fired), {}, () => online);
      const fire = await d.register(['a']);
      expect((await rawRecord(scope, 'a'))!.state).toBe('pending');
      await fire();
      expect(fired).toEqual([]);
      online = true;
      await d.run();
      expect(fired.map((f) => f.tag)).toEqual(['a']);
    });

    it('a tag already firing is marked re-registered, not claimed twice, and fires again afterwards', async () => {
      const fired: Fired[] = [];
      let release!: () => void;
      const { d } = dispatcher(target(fired, (e, count) => {
        if (count === 1) e.waitUntil(new Promise<void>((r) => (release = r)));
      }));
      const running = (await d.register(['a']))();
      await until(() => fired.length === 1);
      const again = await d.register(['a']);
      expect((await rawRecord(scope, 'a'))!.reregistered).toBe(true);
      void again();
      release();
      await running;
      await until(() => fired.length === 2);
      await until(async () => (await tagsOf()).length === 0);
      expect(fired.map((f) => f.tag)).toEqual(['a', 'a']);
    });

    it('registered again after its registration was dropped mid-event, a tag waits for that event: one in flight at a time', async () => {
      const fired: Fired[] = [];
      let release!: () => void;
      let inFlight = 0;
      let most = 0;
      const { d } = dispatcher(target(fired, (e, count) => {
        most = Math.max(most, ++inFlight);
        const done = count === 1 ? new Promise<void>((r) => (release = r)) : Promise.resolve();
        e.waitUntil(done.then(() => void inFlight--));
      }));
      const running = (await d.register(['a']))();
      await until(() => fired.length === 1);
      // The registration goes (unregister() of the service worker registration drops the scope), and comes again.
      await store.removeScope(scope);
      const again = await d.register(['a']);
      expect((await rawRecord(scope, 'a'))!.state).toBe('pending');
      void again();
      // A pass meanwhile (run() settles only once the held event ends: not awaited) claims nothing either.
      void d.run();
      await sleep(100);
      expect(fired).toHaveLength(1);
      expect((await rawRecord(scope, 'a'))!.state).toBe('pending');
      release();
      await running;
      await until(() => fired.length === 2);
      await until(async () => (await tagsOf()).length === 0);
      expect(most).toBe(1);
    });

    it('a pass running meanwhile does not take a fresh claim for an abandoned firing', async () => {
      const fired: Fired[] = [];
      const { d, report } = dispatcher(target(fired));
      const registering = d.register(['a']);
      const pass = d.run();
      const fire = await registering;
      await pass;
      // Whichever of the two claimed it, it fired exactly once and was not settled as a failed attempt.
      await fire();
      await until(async () => (await tagsOf()).length === 0);
      expect(fired.map((f) => f.tag)).toEqual(['a']);
      expect(report).not.toHaveBeenCalled();
    });

    it('without Web Locks, what it claims tells the pages (and its own timer) when the leases lapse', async () => {
      useLocks(undefined);
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
      const notices: Array<[number, string[]]> = [];
      const fired: Fired[] = [];
      const report = vi.fn();
      const d = new Dispatcher({ scope, target: target(fired, never), SyncEvent, PeriodicSyncEvent, isOnline: () => true, report, notify: (next, leases) => notices.push([next, leases]) });
      d.policy = { ...DEFAULT_POLICY, maxEventDuration: 10 * LEASE_TTL };
      const registering = d.register(['a']);
      await vi.advanceTimersByTimeAsync(0);
      const fire = await registering;
      void fire();
      const leaseUntil = (await rawRecord(scope, 'a'))!.leaseUntil;
      expect(leaseUntil).toBeGreaterThan(Date.now());
      expect(notices).toEqual([[leaseUntil, []]]);
      expect(report).not.toHaveBeenCalled();
    });

    it('a failed event still runs a pass after settling: the pages hear of the retry', async () => {
      const notices: Array<[number, string[]]> = [];
      const fired: Fired[] = [];
      const report = vi.fn();
      const d = new Dispatcher({ scope, target: target(fired, fail), SyncEvent, PeriodicSyncEvent, isOnline: () => true, report, notify: (next, leases) => notices.push([next, leases]) });
      d.policy = { ...DEFAULT_POLICY, initialRetryDelay: 60000 };
      const before = Date.now();
      await (await d.register(['a']))();
      expect(fired).toHaveLength(1);
      expect((await rawRecord(scope, 'a'))!.state).toBe('waiting');
      expect(notices.at(-1)![0]).toBeGreaterThanOrEqual(before + 60000);
    });
  });
});

// docs/semantics.md §8: where the engine has the API, a tag it holds too is never fired by the polyfill while it does.
describe('Dispatcher: tags the engine also holds (engineHolds)', () => {
  const key = (tag: string) => record({ scope, tag }).id;
  function withEngine(t: EventTarget, holds: () => string[]) {
    const report = vi.fn();
    const d = new Dispatcher({
      scope, target: t, SyncEvent, PeriodicSyncEvent, isOnline: () => true, report,
      engineHolds: () => Promise.resolve(holds().map(key)),
    });
    return { d, report };
  }

  it('a pass leaves a due tag the engine holds unclaimed, fires the others, and fires it once the engine lets go', async () => {
    const fired: Fired[] = [];
    let engine = ['a'];
    const { d, report } = withEngine(target(fired), () => engine);
    await storeRegistration(scope, 'a');
    await storeRegistration(scope, 'b');
    await d.run();
    expect(fired.map((f) => f.tag)).toEqual(['b']);
    expect(await rawRecord(scope, 'a')).toMatchObject({ state: 'pending', attempts: 0 });
    // Looked at again by the dispatcher's own timer, ENGINE_RECHECK later, not at once (no busy loop).
    engine = [];
    await until(() => fired.length === 2, 3000);
    expect(fired.map((f) => f.tag)).toEqual(['b', 'a']);
    expect(report).not.toHaveBeenCalled();
  });

  it('register() stores a tag the engine holds without claiming it; a pass fires it once the engine lets go', async () => {
    const fired: Fired[] = [];
    let engine = ['a'];
    const { d } = withEngine(target(fired), () => engine);
    const fire = await d.register(['a', 'b']);
    await fire();
    expect(fired.map((f) => f.tag)).toEqual(['b']);
    expect(await rawRecord(scope, 'a')).toMatchObject({ state: 'pending', attempts: 0 });
    engine = [];
    await d.run();
    expect(fired.map((f) => f.tag)).toEqual(['b', 'a']);
  });

  it('an engine that cannot say (getTags() refused) holds nothing', async () => {
    const fired: Fired[] = [];
    const d = new Dispatcher({
      scope, target: target(fired), SyncEvent, PeriodicSyncEvent, isOnline: () => true, report: vi.fn(),
      engineHolds: () => Promise.reject(new DOMException('Background Sync is disabled.', 'UnknownError')),
    });
    await storeRegistration(scope, 'a');
    await d.run();
    expect(fired.map((f) => f.tag)).toEqual(['a']);
  });
});
