/**
 * Storage faults through the public API. Each fault must give a clear UnknownError (docs/semantics.md §2 step 4:
 * "with a message that says why") from registration.sync.register() / getTags(), never an uncaught exception or
 * an unhandled rejection, and never lose what was already stored. The worker half (Dispatcher) must report
 * the fault, keep running and lose nothing either.
 *
 * Faults are injected into fake-indexeddb the way engines produce them (./faults.ts): IndexedDB missing or
 * throwing on access; open() throwing or its upgrade aborting; QuotaExceededError at commit (Chromium), on the
 * put request (Firefox) or thrown by put; a database of a newer version (VersionError); an upgrade blocked by
 * an old tab; corrupt and foreign records in our store; a transaction aborted mid-transition; the connection
 * lost (Safari's "Connection to Indexed Database server lost").
 *
 * The store is the worker's (src/worker/install.ts): register() and getTags() are called in the worker, installed
 * with install('worker') over the fake ServiceWorkerGlobalScope of ../helpers.ts. The worker stays "installed" (not
 * active), so its own dispatcher fires nothing and what the tests store stays as written; that the page's calls get
 * the same errors through its requests is in ../worker/requests.test.ts.
 *
 * The worker that finds storage broken and keeps running the app's other handlers is in
 * storage-faults.worker.test.ts (installing the worker half adds listeners to `self` that cannot be removed).
 */
import { MockInstance, afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { forceCloseDatabase } from 'fake-indexeddb';
import { DEFAULT_POLICY, RetryPolicy } from '../../../src/core/policy';
import { SyncRecord, recordKey } from '../../../src/core/registration';
import { DB_NAME, DB_VERSION, META, OPEN_TIMEOUT, REGISTRATIONS, closeDatabase, open, storeRegistration } from '../../../src/store/db';
import { PeriodicSyncEventClass, SyncEventClass } from '../../../src/web/sync-event';
import { Dispatcher, LEASE_TTL } from '../../../src/worker/dispatcher';
import {
  SCOPE, SyncWorkerRegistration, becomeServiceWorker, defineTestSyncEvents, freshIndexedDB, putMeta, putRaw, rawOpen,
  rawRecord, rawRecords, record,
} from '../helpers';
import {
  abortAfterPut, advance, fakeClock, putRequestFails, putThrows, quotaExceededOnCommit, settle,
  takeUnhandledRejections, upgradeFails, watchUnhandledRejections,
} from './faults';

type Registration = SyncWorkerRegistration;

let SyncEvent: SyncEventClass;
let PeriodicSyncEvent: PeriodicSyncEventClass;
let stopWatching: () => void;
let workerRegistration: Registration;
beforeAll(async () => {
  stopWatching = watchUnhandledRejections();
  freshIndexedDB();
  workerRegistration = becomeServiceWorker(SCOPE, () => [{ frameType: 'top-level' }]);
  // Installed, not active: the worker's own dispatcher fires nothing (tests wake it, and count that, by spying on run).
  Object.defineProperty(globalThis, 'serviceWorker', { value: { state: 'installed' }, configurable: true });
  vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  const { install } = await import('../../../src/install');
  install('worker');
  [SyncEvent, PeriodicSyncEvent] = defineTestSyncEvents();
});
afterAll(() => stopWatching());

let factory: ReturnType<typeof freshIndexedDB>;
let restoreClock: (() => void) | null = null;
beforeEach(() => {
  factory = freshIndexedDB();
  vi.spyOn(console, 'warn').mockImplementation(() => undefined);
});
afterEach(async () => {
  if (restoreClock) {
    vi.clearAllTimers();
    restoreClock();
    restoreClock = null;
  }
  vi.restoreAllMocks();
  await new Promise((r) => setTimeout(r, 5));
  closeDatabase();
  // A safety net; the tests about rejections check this themselves.
  expect(await takeUnhandledRejections(), 'unhandled rejections').toEqual([]);
});

/** The worker's own registration: registration.sync in the worker stores under its scope. */
function registration(): Registration {
  return workerRegistration;
}

/** Counts the wake-ups of the worker's dispatcher from now on (register() wakes it once stored, never on a failure). */
function countWakeUps(): MockInstance<Dispatcher['run']> {
  return vi.spyOn(Dispatcher.prototype, 'run');
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then((v) => {
    throw new Error(`expected a rejection, got ${String(v)}`);
  }, (e: unknown) => e);
}

/** The promise rejects with an UnknownError DOMException whose message says why (matches `why`). */
async function expectUnknownError(promise: Promise<unknown>, why: RegExp): Promise<DOMException> {
  const error = await rejection(promise);
  expect(error).toBeInstanceOf(DOMException);
  expect((error as DOMException).name).toBe('UnknownError');
  expect((error as DOMException).message).toMatch(/^Background Sync storage failed: /);
  expect((error as DOMException).message).toMatch(why);
  return error as DOMException;
}

/** Two registrations stored before the fault, through the API. */
async function seed(): Promise<Registration> {
  const reg = registration();
  await reg.sync.register('kept-1');
  await reg.sync.register('kept-2');
  return reg;
}

/** After the fault is gone: both seeded registrations are still there, untouched, and the API works. */
async function expectIntact(reg: Registration): Promise<void> {
  closeDatabase();
  expect(await reg.sync.getTags()).toEqual(['kept-1', 'kept-2']);
  expect(await rawRecord(SCOPE, 'kept-1')).toEqual(record({ tag: 'kept-1', order: 1 }));
  expect(await rawRecord(SCOPE, 'kept-2')).toEqual(record({ tag: 'kept-2', order: 2 }));
  await reg.sync.register('after');
  expect(await reg.sync.getTags()).toEqual(['kept-1', 'kept-2', 'after']);
}

describe('IndexedDB missing', () => {
  it.each([
    ['undefined (deleted)', () => delete (globalThis as { indexedDB?: unknown }).indexedDB],
    ['null', () => ((globalThis as { indexedDB?: unknown }).indexedDB = null)],
  ])('indexedDB %s → UnknownError "IndexedDB is not available", nothing fires, nothing lost', async (_name, remove) => {
    const reg = await seed();
    await new Promise((r) => setTimeout(r, 10));
    const wakeUps = countWakeUps();
    closeDatabase();
    remove();
    await expectUnknownError(reg.sync.register('new'), /IndexedDB is not available/);
    await expectUnknownError(reg.sync.getTags(), /IndexedDB is not available/);
    await new Promise((r) => setTimeout(r, 10));
    expect(wakeUps).not.toHaveBeenCalled(); // a registration that failed wakes nothing
    (globalThis as { indexedDB?: unknown }).indexedDB = factory;
    await expectIntact(reg);
    expect(await rawRecord(SCOPE, 'new')).toBeUndefined();
    await new Promise((r) => setTimeout(r, 10));
    expect(wakeUps).toHaveBeenCalledTimes(1); // the one after the repair
  });

  it('indexedDB throwing on access (SecurityError, as with storage blocked) → UnknownError naming it', async () => {
    const reg = await seed();
    closeDatabase();
    Object.defineProperty(globalThis, 'indexedDB', {
      configurable: true,
      get() {
        throw new DOMException('The operation is insecure.', 'SecurityError');
      },
    });
    try {
      await expectUnknownError(reg.sync.register('new'), /SecurityError/);
      await expectUnknownError(reg.sync.getTags(), /SecurityError/);
    } finally {
      Object.defineProperty(globalThis, 'indexedDB', { configurable: true, writable: true, value: factory });
    }
    await expectIntact(reg);
  });
});

describe('open() failing', () => {
  it.each([
    ['SecurityError', 'The operation is insecure.'],
    ['InvalidStateError', 'A mutation operation was attempted on a database that did not allow mutations.'],
  ])('indexedDB.open() throwing %s → UnknownError naming it; the next call opens again', async (name, message) => {
    const reg = await seed();
    closeDatabase();
    const spy = vi.spyOn(factory, 'open').mockImplementation(() => {
      throw new DOMException(message, name);
    });
    await expectUnknownError(reg.sync.register('new'), new RegExp(`open failed \\(${name}`));
    await expectUnknownError(reg.sync.getTags(), new RegExp(name));
    spy.mockRestore();
    await expectIntact(reg);
  });

  // The open request fails asynchronously: creating the schema hits the quota, so the upgrade transaction aborts
  // and the open request errors with AbortError. idb wraps the upgrade transaction for the `upgrade` callback,
  // which creates its `done` promise; nobody handles that promise, so its rejection is unhandled (a known idb
  // behaviour). docs/semantics.md §5: "never an uncaught exception".
  it('the upgrade creating the schema aborts (QuotaExceededError) → UnknownError, and no unhandled rejection', async () => {
    const reg = registration();
    const fault = upgradeFails();
    await expectUnknownError(reg.sync.register('new'), /open failed \(AbortError/);
    await expectUnknownError(reg.sync.getTags(), /open failed/);
    fault.restore();
    expect(await takeUnhandledRejections(), 'unhandled rejections from the aborted upgrade').toEqual([]);
    // The next call creates the schema.
    await reg.sync.register('new');
    expect(await reg.sync.getTags()).toEqual(['new']);
  });

  it('the connection is lost (forced close, as Safari\'s "Connection to Indexed Database server lost"): the next call reopens', async () => {
    const reg = await seed();
    forceCloseDatabase((await open()) as never);
    await new Promise((r) => setTimeout(r, 5));
    await expectIntact(reg);
  });
});

describe('QuotaExceededError on write', () => {
  it('at commit (Chromium): register() → UnknownError naming QuotaExceededError; reads work; nothing half-written', async () => {
    const reg = await seed();
    const fault = quotaExceededOnCommit();
    await expectUnknownError(reg.sync.register('new'), /QuotaExceededError/);
    // Registering a tag that exists and is pending writes nothing, so it resolves: the registration is stored.
    await expect(reg.sync.register('kept-1')).resolves.toBeUndefined();
    expect(await reg.sync.getTags()).toEqual(['kept-1', 'kept-2']);
    fault.restore();
    expect(await rawRecord(SCOPE, 'new')).toBeUndefined();
    // The order counter was not consumed by the failed write.
    await expectIntact(reg);
    expect((await rawRecord(SCOPE, 'after'))!.order).toBe(3);
  });

  it('thrown by put(): register() → UnknownError naming QuotaExceededError, nothing lost', async () => {
    const reg = await seed();
    const fault = putThrows('QuotaExceededError');
    await expectUnknownError(reg.sync.register('new'), /QuotaExceededError/);
    fault.restore();
    await expectIntact(reg);
  });

  // Firefox reports a quota failure on the put request; the transaction then aborts with it. write() races the
  // work against tx.done, and idb rejects tx.done with a generic "AbortError: AbortError" from the request's error
  // event bubbling to the transaction, before the put's own QuotaExceededError arrives.
  // The message then says "AbortError: AbortError", which does not say why.
  it('on the put request (Firefox): register() → UnknownError whose message names QuotaExceededError', async () => {
    const reg = await seed();
    const fault = putRequestFails('QuotaExceededError');
    const error = await expectUnknownError(reg.sync.register('new'), /write failed/);
    fault.restore();
    expect(error.message).toMatch(/QuotaExceededError/);
    await expectIntact(reg);
  });
});

describe('a database of a newer version (VersionError)', () => {
  /** A newer polyfill upgrades the database to DB_VERSION + 1, keeping our store and records. */
  function newer(): Promise<IDBDatabase> {
    return rawOpen(factory, DB_VERSION + 1, (db) => {
      db.createObjectStore('added-in-v2');
    });
  }

  it('register() and getTags() → UnknownError saying a newer version made it; the records are still there', async () => {
    const reg = await seed();
    closeDatabase();
    (await newer()).close();
    await expectUnknownError(reg.sync.register('new'), /newer version/);
    const error = await expectUnknownError(reg.sync.getTags(), /newer version/);
    expect(error.message).toContain(DB_NAME);
    const db = await rawOpen(factory, DB_VERSION + 1);
    try {
      const all = await new Promise<unknown[]>((resolve, reject) => {
        const request = db.transaction(REGISTRATIONS).objectStore(REGISTRATIONS).getAll();
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      expect(all).toEqual([record({ tag: 'kept-1', order: 1 }), record({ tag: 'kept-2', order: 2 })]);
    } finally {
      db.close();
    }
  });

  it('our open connection does not block the newer version\'s upgrade (it closes), then fails clearly', async () => {
    const reg = await seed(); // our connection is open
    const upgraded = await Promise.race([
      newer().then((db) => (db.close(), 'upgraded')),
      new Promise((r) => setTimeout(() => r('blocked'), 5000)),
    ]);
    expect(upgraded).toBe('upgraded');
    await expectUnknownError(reg.sync.getTags(), /newer version/);
  });
});

describe('an upgrade blocked by an old tab', () => {
  // With DB_VERSION 1 our own open never upgrades an existing database, so it cannot be the blocked upgrade
  // itself. What it meets: a newer version's upgrade, blocked by an old tab that ignores versionchange, with our
  // open queued behind it. It must fail after OPEN_TIMEOUT instead of hanging, and lose nothing.
  it('our open queued behind it fails after OPEN_TIMEOUT with UnknownError "blocked"; the records survive the upgrade', async () => {
    const reg = await seed();
    closeDatabase();
    const oldTab = await rawOpen(factory, DB_VERSION); // never closes on versionchange
    let upgraded = false;
    const newerTab = rawOpen(factory, DB_VERSION + 1, () => (upgraded = true));
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    restoreClock = () => vi.useRealTimers();
    let settled = false;
    const result = reg.sync.getTags().finally(() => (settled = true));
    result.catch(() => undefined);
    await vi.advanceTimersByTimeAsync(OPEN_TIMEOUT - 1);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await expectUnknownError(result, /blocked for 5000 ms by another tab/);
    expect(upgraded).toBe(false);
    vi.useRealTimers();
    restoreClock = null;
    // The old tab goes away: the upgrade runs and keeps the records; we then meet the newer version.
    oldTab.close();
    (await newerTab).close();
    expect(upgraded).toBe(true);
    await expectUnknownError(reg.sync.register('new'), /newer version/);
    const db = await rawOpen(factory, DB_VERSION + 1);
    try {
      const count = await new Promise<number>((resolve) => {
        const request = db.transaction(REGISTRATIONS).objectStore(REGISTRATIONS).count();
        request.onsuccess = () => resolve(request.result);
      });
      expect(count).toBe(2);
    } finally {
      db.close();
    }
  });
});

describe('corrupt or foreign records in our store', () => {
  // Each is ignored by getTags() and by the dispatcher, left where it is (never deleted), and register() of the
  // same tag replaces it with a fresh registration. Nothing rejects and nothing throws.
  const corrupt: Array<[string, Record<string, unknown>]> = [
    ['an unknown state', { ...record({ tag: 'c-state' }), state: 'done' }],
    ['negative attempts', { ...record({ tag: 'c-neg' }), attempts: -1 }],
    ['fractional attempts', { ...record({ tag: 'c-frac' }), attempts: 1.5 }],
    ['a NaN retry time', { ...record({ tag: 'c-nan', state: 'waiting', attempts: 1 }), notBefore: NaN }],
    ['an Infinity lease', { ...record({ tag: 'c-inf', state: 'firing', attempts: 1, lease: 'x' }), leaseUntil: Infinity }],
    ['a string order', { ...record({ tag: 'c-order' }), order: '3' }],
    ['no reregistered flag', { ...record({ tag: 'c-flag' }), reregistered: undefined }],
    ['an id that does not match scope and tag', { ...record({ tag: 'c-id' }), id: recordKey(SCOPE, 'elsewhere') }],
    ['a numeric tag', { ...record({ tag: 'c-num' }), tag: 7 }],
    ['a Date for notBefore', { ...record({ tag: 'c-date' }), notBefore: new Date(0) }],
  ];
  const foreign: Array<Record<string, unknown>> = [
    { id: 'app-cache-entry', scope: SCOPE, payload: [1, 2, 3] },
    { id: 'no-scope' },
    { id: 42, scope: SCOPE, tag: 'numeric-id' },
    { id: recordKey(SCOPE, 'half'), scope: SCOPE },
  ];

  it('getTags() lists only the valid registrations, in order, without rejecting', async () => {
    await putRaw(...corrupt.map(([, r]) => r), ...foreign, record({ tag: 'good-2', order: 20 }), record({ tag: 'good-1', order: 10 }));
    const reg = registration();
    expect(await reg.sync.getTags()).toEqual(['good-1', 'good-2']);
  });

  it.each(corrupt)('register() over a record with %s replaces it with a fresh pending registration', async (_name, bad) => {
    await putRaw(bad);
    const reg = registration();
    const tag = typeof bad.tag === 'string' ? bad.tag : 'c-num';
    await reg.sync.register(tag);
    const stored = await rawRecord(SCOPE, tag);
    expect(stored).toMatchObject({ tag, state: 'pending', attempts: 0, reregistered: false, lease: '' });
    expect(await reg.sync.getTags()).toContain(tag);
  });

  it('foreign records are never touched, by register(), getTags() or the dispatcher', async () => {
    await putRaw(...foreign);
    const before = await rawRecords();
    const reg = registration();
    await reg.sync.register('mine');
    await reg.sync.getTags();
    const fired: string[] = [];
    const t = new EventTarget();
    t.addEventListener('sync', (e) => void fired.push((e as SyncEvent).tag));
    const report = vi.fn();
    const d = new Dispatcher({ scope: SCOPE, target: t, SyncEvent, PeriodicSyncEvent, isOnline: () => true, report });
    await d.run();
    expect(fired).toEqual(['mine']);
    expect(report).not.toHaveBeenCalled();
    const after = await rawRecords();
    for (const [id, value] of before) expect(after.get(id)).toEqual(value);
  });

  it('the dispatcher fires only the valid registrations, reports nothing, and leaves the corrupt ones alone', async () => {
    const scope = 'https://example.com/corrupt-dispatch/';
    const bad = corrupt.map(([, r]) => ({ ...r, scope, id: r.id === recordKey(SCOPE, 'elsewhere') ? 'x' : recordKey(scope, String(r.tag)) }));
    await putRaw(...bad, record({ scope, tag: 'valid' }));
    const fired: string[] = [];
    const t = new EventTarget();
    t.addEventListener('sync', (e) => void fired.push((e as SyncEvent).tag));
    const report = vi.fn();
    const d = new Dispatcher({ scope, target: t, SyncEvent, PeriodicSyncEvent, isOnline: () => true, report });
    await d.run();
    expect(fired).toEqual(['valid']);
    expect(report).not.toHaveBeenCalled();
    const after = await rawRecords();
    for (const r of bad) expect(after.get(r.id as string)).toEqual(r);
  });

  // The counter is the one primitive value we store. A NaN read back through idb never arrives: idb's wrap()
  // caches transformed values in a WeakMap when `newValue !== value`, which NaN always is, so WeakMap.set throws
  // in the request's success listener; the transaction aborts and every register() of a
  // new tag fails with "AbortError: " for as long as the counter stays corrupt. db.ts's own guard
  // (Number.isFinite) is never reached.
  it.each([
    ['a string', 'x'],
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['an object', { n: 1 }],
    ['null', null],
  ])('a corrupt order counter (%s): register() still works and the tag is listed', async (_name, value) => {
    const reg = registration();
    await putMeta('order', value);
    await reg.sync.register('a');
    await reg.sync.register('b');
    expect(await reg.sync.getTags()).toEqual(['a', 'b']);
  });

  // getTags() is "in registration order" (docs/semantics.md §2). A counter that restarts at 1 when it reads back corrupt gives
  // the next registration an order below the ones already stored, so it is listed first.
  it('a corrupt order counter with registrations already stored: new ones are still listed after them', async () => {
    const reg = await seed();
    await putMeta('order', 'corrupt');
    await reg.sync.register('third');
    expect(await reg.sync.getTags()).toEqual(['kept-1', 'kept-2', 'third']);
  });
});

describe('a transaction aborted mid-transition', () => {
  it('register(): aborted after its first write → UnknownError naming AbortError; nothing half-written', async () => {
    const reg = await seed();
    const fault = abortAfterPut(1); // the order counter is written, then the transaction aborts
    await expectUnknownError(reg.sync.register('new'), /AbortError/);
    fault.restore();
    expect(await rawRecord(SCOPE, 'new')).toBeUndefined();
    await expectIntact(reg);
    expect((await rawRecord(SCOPE, 'after'))!.order).toBe(3);
  });

  it('register() over a waiting registration: aborted → UnknownError, the registration still waiting as it was', async () => {
    const waiting = record({ tag: 'w', state: 'waiting', attempts: 1, notBefore: Date.now() + 60000 });
    await putRaw(waiting);
    const fault = abortAfterPut(1);
    await expectUnknownError(registration().sync.register('w'), /AbortError/);
    fault.restore();
    expect(await rawRecord(SCOPE, 'w')).toEqual(waiting);
  });
});

// --- The worker half: the Dispatcher meeting the same faults ----------------------------------------------------

let n = 0;
interface Fired {
  tag: string;
  lastChance: boolean;
  time: number;
}

/** A dispatcher on a scope of its own (its timers outlive the test), recording events and overlaps per tag. */
function worker(handler: (event: SyncEvent, fired: Fired[]) => void = () => undefined, policy: Partial<RetryPolicy> = {}) {
  const scope = `https://example.com/faults-${++n}/`;
  const fired: Fired[] = [];
  const running = new Map<string, number>();
  let overlaps = 0;
  const t = new EventTarget();
  t.addEventListener('sync', (e) => {
    const event = e as SyncEvent;
    fired.push({ tag: event.tag, lastChance: event.lastChance, time: Date.now() });
    const count = (running.get(event.tag) || 0) + 1;
    running.set(event.tag, count);
    if (count > 1) overlaps++;
    const done = () => void running.set(event.tag, running.get(event.tag)! - 1);
    // Track the end of the app's work whatever the handler passes to waitUntil.
    const waitUntil = event.waitUntil.bind(event);
    let extended = false;
    event.waitUntil = (p: Promise<unknown>) => {
      extended = true;
      waitUntil(p);
      Promise.resolve(p).then(done, done);
    };
    handler(event, fired);
    if (!extended) done();
  });
  const report = vi.fn();
  const d = new Dispatcher({ scope, target: t, SyncEvent, PeriodicSyncEvent, isOnline: () => true, report });
  d.policy = { ...DEFAULT_POLICY, ...policy };
  return { d, scope, fired, report, overlaps: () => overlaps };
}

function deferred() {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('the dispatcher meeting storage faults', () => {
  it('IndexedDB missing: run() resolves, reports a StorageError saying so, fires nothing', async () => {
    const { d, scope, fired, report } = worker();
    await storeRegistration(scope, 'a');
    closeDatabase();
    delete (globalThis as { indexedDB?: unknown }).indexedDB;
    await expect(d.run()).resolves.toBeUndefined();
    expect(report).toHaveBeenCalledWith(expect.objectContaining({ name: 'StorageError', message: expect.stringMatching(/not available/) }));
    expect(fired).toEqual([]);
    (globalThis as { indexedDB?: unknown }).indexedDB = factory;
    await d.run();
    expect(fired.map((f) => f.tag)).toEqual(['a']);
  });

  it('a newer version: run() resolves and reports it; nothing fires, nothing is lost', async () => {
    const { d, scope, fired, report } = worker();
    await storeRegistration(scope, 'a');
    closeDatabase();
    (await rawOpen(factory, DB_VERSION + 1)).close();
    await expect(d.run()).resolves.toBeUndefined();
    expect(report).toHaveBeenCalledWith(expect.objectContaining({ message: expect.stringMatching(/newer version/) }));
    expect(fired).toEqual([]);
  });

  it.each([
    ['QuotaExceededError at commit', () => quotaExceededOnCommit(), /QuotaExceededError/],
    ['a put that throws', () => putThrows(), /QuotaExceededError/],
    // The second put then finds the transaction inactive: either name says why.
    ['the transaction aborted after its first write', () => abortAfterPut(1), /AbortError|TransactionInactiveError/],
  ])('claiming fails (%s): run() resolves, reports, fires nothing; the registration is untouched and fires later', async (_name, inject, why) => {
    const { d, scope, fired, report } = worker();
    await storeRegistration(scope, 'a');
    await storeRegistration(scope, 'b');
    const before = await rawRecords();
    const fault = inject();
    await expect(d.run()).resolves.toBeUndefined();
    fault.restore();
    expect(report).toHaveBeenCalledWith(expect.objectContaining({ name: 'StorageError', message: expect.stringMatching(why) }));
    expect(fired).toEqual([]);
    expect(await rawRecords()).toEqual(before);
    await d.run();
    expect(fired.map((f) => [f.tag, f.lastChance]).sort()).toEqual([['a', false], ['b', false]]);
  });

  it('settling fails (quota at commit): the attempt is not lost; the lease lapses and the registration is retried', async () => {
    restoreClock = fakeClock();
    const release = deferred();
    const { d, scope, fired, report } = worker((e, all) => {
      if (all.length === 1) e.waitUntil(release.promise);
    }, { initialRetryDelay: 1000 });
    await storeRegistration(scope, 'a');
    void d.run();
    await settle();
    expect(fired).toHaveLength(1);
    const fault = quotaExceededOnCommit();
    release.resolve(); // the app succeeded, but the outcome cannot be written
    await settle();
    fault.restore();
    expect(report).toHaveBeenCalledWith(expect.objectContaining({ message: expect.stringMatching(/QuotaExceededError/) }));
    const held = (await rawRecord(scope, 'a'))!;
    expect(held).toMatchObject({ state: 'firing', attempts: 1, lease: d.instance });
    // The lease lapses (nothing renews it now); the worker's own wake-up reaps it as a failed attempt and retries.
    await advance(LEASE_TTL + 5000);
    expect(fired.map((f) => f.lastChance)).toEqual([false, false]);
    expect(await rawRecord(scope, 'a')).toBeUndefined();
  });

  it('the connection is lost while an event runs: its outcome is still written', async () => {
    const release = deferred();
    const { d, scope, fired, report } = worker((e) => e.waitUntil(release.promise));
    await storeRegistration(scope, 'a');
    const running = d.run();
    await vi.waitFor(() => expect(fired).toHaveLength(1), { timeout: 5000 });
    forceCloseDatabase((await open()) as never);
    await new Promise((r) => setTimeout(r, 5));
    release.resolve();
    await running;
    expect(report).not.toHaveBeenCalled();
    expect(await rawRecord(scope, 'a')).toBeUndefined();
  });

  // docs/semantics.md §3: "A registration must never fire twice at once". The lease is renewed every LEASE_TTL/3 while the
  // event runs. If storage fails for those renewals (a full disk for half a minute, Safari losing its IndexedDB
  // server) and then recovers, the worker's own wake-up at the lease's expiry reaps its own running firing as
  // "abandoned" (claimDue reaps any lapsed lease, the caller's own included), and a register() of the same tag,
  // or a short retry delay, fires it again while the first event still runs. The first event's outcome then
  // settles the second firing, whose lease has the same instance id.
  it('renewals failing for a while: the tag is not fired again while its first event still runs', async () => {
    restoreClock = fakeClock();
    const first = deferred();
    const { d, scope, fired, report, overlaps } = worker((e, all) => {
      if (all.length === 1) e.waitUntil(first.promise); // a long upload, well within maxEventDuration
    });
    await storeRegistration(scope, 'a');
    void d.run();
    await settle();
    expect(fired).toHaveLength(1);
    // Storage refuses writes for the three renewals (at 10, 20 and 30 s), then recovers.
    await advance(5000);
    const fault = quotaExceededOnCommit();
    await advance(LEASE_TTL - 5000 + 5);
    fault.restore();
    expect(report).toHaveBeenCalledWith(expect.objectContaining({ message: expect.stringMatching(/QuotaExceededError/) }));
    await advance(1000);
    // The app registers the tag again (a new item in its outbox), as it may at any time; a page pokes the worker.
    await storeRegistration(scope, 'a');
    void d.run();
    await advance(1000);
    expect(overlaps(), `events of "a": ${JSON.stringify(fired)}`).toBe(0);
    first.resolve();
    await advance(1000);
  });
});
