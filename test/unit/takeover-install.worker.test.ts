/**
 * The worker half where the engine has Background Sync but may refuse it (docs/semantics.md §6, §8 and §9), over a
 * fake ServiceWorkerGlobalScope (the happy-dom window stands in for `self`): the engine's globals stay, the worker is
 * dormant (one `message` listener, no store opened) until our message arrives, a refused register() is stored and
 * fired as an event of the engine's SyncEvent class, wake() fires what is due; and, where the polyfill is installed in
 * place of the engine's API, the app's push and notification events run the dispatcher inside their waitUntil.
 *
 * Each test installs a fresh copy of the worker half (vi.resetModules) over a fresh fake engine. The listeners a test
 * adds to `self` (the polyfill's and the app's) are removed after it, so that one test's worker never hears another's
 * events.
 */
import { Mock, MockInstance, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { poke } from '../../src/protocol';
import {
  ExtendableEvent, WorkerRegistration, becomeServiceWorker, extendable, freshIndexedDB, sleep, until, workerState, fakeEngineManagers,
} from './helpers';

const SCOPE = 'https://example.com/takeover/';
const g = globalThis as Record<string, unknown>;
const ENGINE_GLOBALS = ['SyncManager', 'PeriodicSyncManager', 'SyncEvent', 'PeriodicSyncEvent', 'onsync', 'onperiodicsync'];

type Call = (this: object, ...args: unknown[]) => Promise<unknown>;
type Db = typeof import('../../src/store/db');
type WorkerInstall = typeof import('../../src/worker/install');

let windows: Array<{ frameType: string }> = [{ frameType: 'top-level' }];

/** The listeners added to `self` during a test: removed after it. */
let added: MockInstance<typeof addEventListener>;
/** How often `indexedDB` was read since the test began (the store opened, or looked for). */
let idbReads: number;

beforeAll(() => {
  becomeServiceWorker(SCOPE, () => windows);
});

beforeEach(() => {
  windows = [{ frameType: 'top-level' }];
  workerState('activated');
  const factory = freshIndexedDB();
  idbReads = 0;
  let current: unknown = factory;
  Object.defineProperty(globalThis, 'indexedDB', {
    get: () => {
      idbReads++;
      return current;
    },
    set: (value) => void (current = value),
    configurable: true,
  });
  delete g.BackgroundSyncPolyfill;
  vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  added = vi.spyOn(globalThis, 'addEventListener');
});

afterEach(() => {
  for (const [type, listener, options] of added.mock.calls) removeEventListener(type, listener, options);
  vi.restoreAllMocks();
  Object.defineProperty(globalThis, 'indexedDB', { value: undefined, writable: true, configurable: true });
});

/** A fresh copy of the worker half, and the store module that copy uses. */
async function load(): Promise<WorkerInstall & { db: Db }> {
  vi.resetModules();
  const worker = await import('../../src/worker/install');
  return { ...worker, db: await import('../../src/store/db') };
}

/** Makes `registration` a fresh one of the class `Class`, with an active worker. */
function newRegistration<T>(Class: new (scope: string, active: object | null) => T): T {
  const registration = new Class(SCOPE, {});
  Object.defineProperty(globalThis, 'registration', { value: registration, configurable: true });
  return registration;
}

function deferred() {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Whether `promise` has settled after a few macrotasks. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(() => (done = true), () => (done = true));
  for (let i = 0; i < 3; i++) await sleep(0);
  return done;
}

/** The app's sync listener: records each event and hands it to `handle`. */
function appListens(handle: (event: SyncEvent) => void = () => undefined): SyncEvent[] {
  const events: SyncEvent[] = [];
  addEventListener('sync', (e) => {
    events.push(e as SyncEvent);
    handle(e as SyncEvent);
  });
  return events;
}

const notAllowed = () => new DOMException('Permission denied.', 'NotAllowedError');

// --- The engine -----------------------------------------------------------------------------------------------------

let engine: {
  sync: { register: Mock<Call>; getTags: Mock<Call> };
  periodic: { register: Mock<Call>; getTags: Mock<Call>; unregister: Mock<Call> };
};
let EngineSyncEvent: typeof ExtendableEvent;
let EnginePeriodicSyncEvent: typeof ExtendableEvent;
/** The engine's `self.onsync`: an EventHandler of its own. */
let engineOnsync: Mock | null;
type NativeRegistration = WorkerRegistration & { sync: SyncManager; periodicSync: PeriodicSyncManager };

/**
 * The engine's API in the worker, as Chromium has it: SyncManager and PeriodicSyncManager whose methods go to `engine`
 * (by default accepting, with no tags), `sync` and `periodicSync` getters giving each registration one manager,
 * SyncEvent and PeriodicSyncEvent over ExtendableEvent, and `onsync` / `onperiodicsync` accessors on the global.
 * Returns the worker's registration.
 */
function defineNative(): NativeRegistration {
  const fake = fakeEngineManagers();
  engine = fake.engine;
  const { SyncManager, PeriodicSyncManager } = fake;
  class ServiceWorkerRegistration extends WorkerRegistration {}
  fake.defineGetters(ServiceWorkerRegistration);
  EngineSyncEvent = class SyncEvent extends ExtendableEvent {};
  EnginePeriodicSyncEvent = class PeriodicSyncEvent extends ExtendableEvent {};
  Object.assign(globalThis, { SyncManager, PeriodicSyncManager, ServiceWorkerRegistration });
  g.SyncEvent = EngineSyncEvent;
  g.PeriodicSyncEvent = EnginePeriodicSyncEvent;
  engineOnsync = null;
  Object.defineProperty(globalThis, 'onsync', {
    get: () => engineOnsync, set: (value) => void (engineOnsync = value), enumerable: true, configurable: true,
  });
  Object.defineProperty(globalThis, 'onperiodicsync', { value: null, writable: true, enumerable: true, configurable: true });
  // The engine calls its onsync for every sync event dispatched at the global.
  addEventListener('sync', (event) => engineOnsync && engineOnsync.call(globalThis, event));
  return newRegistration(ServiceWorkerRegistration) as NativeRegistration;
}

describe('installWorker() where the engine has the API', () => {
  let registration: NativeRegistration;
  const report = vi.fn();
  /** The listeners added since the engine was defined (its own onsync listener is not the polyfill's). */
  let engineListeners: number;
  const addedSince = () => added.mock.calls.slice(engineListeners);
  beforeEach(() => {
    registration = defineNative();
    report.mockReset();
    engineListeners = added.mock.calls.length;
  });

  it('keeps the engine\'s globals (SyncManager, PeriodicSyncManager, the getters, SyncEvent, onsync) and wraps its methods', async () => {
    const proto = (g.ServiceWorkerRegistration as { prototype: object }).prototype;
    const descriptors = () => ({
      globals: ENGINE_GLOBALS.map((name) => Object.getOwnPropertyDescriptor(globalThis, name)),
      sync: Object.getOwnPropertyDescriptor(proto, 'sync'),
      periodicSync: Object.getOwnPropertyDescriptor(proto, 'periodicSync'),
    });
    const before = descriptors();
    const NativeSync = g.SyncManager as { prototype: Record<string, Call> };
    const register = NativeSync.prototype.register;
    const { installWorker } = await load();
    installWorker(report, true, false);
    expect(descriptors()).toEqual(before);
    expect(g.SyncEvent).toBe(EngineSyncEvent);
    expect(NativeSync.prototype.register).not.toBe(register);
    expect(NativeSync.prototype.register.name).toBe('register');
    expect(registration.sync).toBeInstanceOf(NativeSync as unknown as new () => unknown);
    expect(report).not.toHaveBeenCalled();
  });

  it('lazy false: adds exactly one listener, for message, and runs no pass until our message arrives', async () => {
    const { installWorker } = await load();
    const installed = installWorker(report, true, false);
    expect(addedSince().map((call) => call[0])).toEqual(['message']);
    expect(addedSince()[0][1]).toBe(installed.hook);
    // The app's own messages leave the store alone.
    const appMessage = extendable('message', { type: 'refresh' });
    dispatchEvent(appMessage);
    expect(appMessage.waitUntil).not.toHaveBeenCalled();
    await sleep(20);
    expect(idbReads).toBe(0);
    // The worker's own register() looks at the polyfill's tags first (one registration per tag, docs/semantics.md §8,
    // covered in test/unit/web/takeover.test.ts), then the engine takes the call.
    await registration.sync.register('engine-tag');
    expect(engine.sync.register).toHaveBeenCalledWith('engine-tag');
    // Our message wakes it: the dispatcher runs, under the message event's waitUntil.
    const message = extendable('message', poke(true));
    dispatchEvent(message);
    expect(message.waitUntil).toHaveBeenCalledTimes(1);
    await expect(message.waitUntil.mock.calls[0][0]).resolves.toBeUndefined();
    expect(idbReads).toBeGreaterThan(0);
    expect(report).not.toHaveBeenCalled();
  });

  it('lazy true: adds no listener; the hook it returns handles our messages when handed them', async () => {
    const { installWorker } = await load();
    const { hook } = installWorker(report, true, true);
    expect(addedSince()).toEqual([]);
    expect(typeof hook).toBe('function');
    const message = extendable('message', poke(true));
    hook!(message);
    expect(message.waitUntil).toHaveBeenCalledTimes(1);
    await message.waitUntil.mock.calls[0][0];
    expect(idbReads).toBeGreaterThan(0);
  });

  it('a refused register() stores the tag, and fires an event of the engine\'s SyncEvent class at the app and onsync, whose waitUntil works', async () => {
    engine.sync.register.mockRejectedValue(notAllowed());
    const { installWorker, db } = await load();
    installWorker(report, true, false);
    const done = deferred();
    const events = appListens((event) => event.waitUntil(done.promise));
    const onsync = vi.fn();
    (globalThis as unknown as { onsync: unknown }).onsync = onsync;
    await expect(registration.sync.register('outbox')).resolves.toBeUndefined();
    expect(events).toEqual([]); // fired after register() resolved
    await until(() => events.length === 1, 2000, 'the sync event');
    const event = events[0];
    expect(event).toBeInstanceOf(EngineSyncEvent);
    expect(event).toBeInstanceOf(ExtendableEvent);
    expect(event.tag).toBe('outbox');
    expect(event.lastChance).toBe(false);
    expect(onsync).toHaveBeenCalledTimes(1);
    expect(onsync.mock.calls[0][0]).toBe(event);
    // Held by its waitUntil: still stored, firing.
    await sleep(20);
    expect((await db.list(SCOPE)).map((r) => [r.tag, r.state])).toEqual([['outbox', 'firing']]);
    done.resolve();
    await until(async () => (await db.list(SCOPE)).length === 0, 2000, 'the record removed');
    expect(events.length).toBe(1);
    expect(report).not.toHaveBeenCalled();
  });

  it('a taken-over event whose waitUntil rejects is retried as the polyfill\'s policy has it', async () => {
    engine.sync.register.mockRejectedValue(new DOMException('Background Sync is disabled.', 'UnknownError'));
    const { installWorker, db } = await load();
    installWorker(report, true, false).configure!({ maxAttempts: 2, initialRetryDelay: 600000 });
    const events = appListens((event) => event.waitUntil(Promise.reject(new Error('offline'))));
    await registration.sync.register('outbox');
    await until(() => events.length === 1, 2000, 'the sync event');
    await until(async () => (await db.list(SCOPE))[0]?.state === 'waiting', 2000, 'the retry');
    const [record] = await db.list(SCOPE);
    expect(record.attempts).toBe(1);
    expect(record.notBefore).toBeGreaterThan(Date.now() + 500000);
  });

  it('a refused periodic register() is stored with its interval; getTags() lists the engine\'s tags, then the polyfill\'s', async () => {
    engine.periodic.register.mockRejectedValue(notAllowed());
    engine.periodic.getTags.mockResolvedValue(['engine-weekly']);
    engine.sync.register.mockRejectedValueOnce(notAllowed());
    engine.sync.getTags.mockResolvedValue(['engine-tag']);
    const { installWorker, db } = await load();
    installWorker(report, true, false).configure!({ initialRetryDelay: 600000 });
    appListens((event) => event.waitUntil(new Promise(() => undefined))); // the one-shot event stays firing
    await registration.periodicSync.register('news', { minInterval: 86400000 } as BackgroundSyncOptions);
    expect((await db.listPeriodic(SCOPE)).map((r) => [r.tag, r.minInterval])).toEqual([['news', 86400000]]);
    expect(await registration.periodicSync.getTags()).toEqual(['engine-weekly', 'news']);
    await registration.sync.register('outbox');
    expect(await registration.sync.getTags()).toEqual(['engine-tag', 'outbox']);
    await registration.periodicSync.unregister('news');
    expect(engine.periodic.unregister).toHaveBeenCalledWith('news');
    expect(await db.listPeriodic(SCOPE)).toEqual([]);
  });

  it('a register() of its own refused with no window open: the polyfill\'s InvalidAccessError, nothing stored', async () => {
    engine.sync.register.mockRejectedValue(notAllowed());
    windows = [];
    const { installWorker, db } = await load();
    installWorker(report, true, false);
    const error = await registration.sync.register('outbox').then(() => null, (e: unknown) => e);
    expect((error as DOMException).name).toBe('InvalidAccessError');
    expect(await db.list(SCOPE)).toEqual([]);
  });

  it('wake() fires what is due and settles once those events have settled', async () => {
    const { installWorker, db } = await load();
    const installed = installWorker(report, true, false);
    await db.storeRegistration(SCOPE, 'due'); // taken over earlier, by a page
    let finished = false;
    const events = appListens((event) => event.waitUntil(sleep(30).then(() => void (finished = true))));
    await expect(Promise.resolve(installed.wake!())).resolves.toBeUndefined();
    expect(events.map((e) => e.tag)).toEqual(['due']);
    expect(events[0]).toBeInstanceOf(EngineSyncEvent);
    expect(finished).toBe(true);
    expect(await db.list(SCOPE)).toEqual([]);
  });

  it('BackgroundSyncPolyfill.wake() (the global, native true) runs the worker\'s taken-over tags too', async () => {
    vi.resetModules();
    const { install } = await import('../../src/install');
    const db = await import('../../src/store/db');
    install('worker');
    expect(BackgroundSyncPolyfill.native).toBe(true);
    await db.storeRegistration(SCOPE, 'due');
    const events = appListens();
    await expect(BackgroundSyncPolyfill.wake()).resolves.toBeUndefined();
    expect(events.map((e) => e.tag)).toEqual(['due']);
  });

  it('BackgroundSyncPolyfill.wake() never rejects when storage fails (native true)', async () => {
    vi.resetModules();
    const { install } = await import('../../src/install');
    install('worker');
    g.indexedDB = undefined;
    await expect(BackgroundSyncPolyfill.wake()).resolves.toBeUndefined();
    expect(console.warn).toHaveBeenCalledWith('background-sync-polyfill:', expect.objectContaining({
      message: expect.stringMatching(/IndexedDB is not available/),
    }));
  });
});

describe('installWorker() in place of the engine\'s API: the app\'s own events wake it (docs/semantics.md §9)', () => {
  beforeEach(() => {
    for (const name of ENGINE_GLOBALS) delete g[name];
    class ServiceWorkerRegistration extends WorkerRegistration {}
    g.ServiceWorkerRegistration = ServiceWorkerRegistration;
    newRegistration(ServiceWorkerRegistration);
  });

  it.each(['push', 'notificationclick', 'notificationclose'])(
    'a %s event runs the dispatcher inside its waitUntil, which settles only after the sync event has settled',
    async (type) => {
      const report = vi.fn();
      const { installWorker, db } = await load();
      installWorker(report, false);
      await sleep(20); // the pass the worker's start runs, over an empty store
      await db.storeRegistration(SCOPE, 'outbox'); // as a page's request would, without waking the worker
      const done = deferred();
      const events = appListens((event) => event.waitUntil(done.promise));
      const event = extendable(type);
      dispatchEvent(event);
      expect(event.waitUntil).toHaveBeenCalledTimes(1);
      const extended = event.waitUntil.mock.calls[0][0] as Promise<unknown>;
      expect(extended).toBeInstanceOf(Promise);
      await until(() => events.length === 1, 2000, 'the sync event');
      expect(events[0].tag).toBe('outbox');
      expect(await settled(extended)).toBe(false);
      done.resolve();
      await expect(extended).resolves.toBeUndefined();
      // By then the outcome is written.
      expect(await db.list(SCOPE)).toEqual([]);
      expect(report).not.toHaveBeenCalled();
    },
  );

  it('a push with nothing due: its waitUntil still gets the dispatcher\'s promise, which resolves', async () => {
    const { installWorker, db } = await load();
    installWorker(vi.fn(), false);
    const events = appListens();
    const event = extendable('push');
    dispatchEvent(event);
    expect(event.waitUntil).toHaveBeenCalledTimes(1);
    await expect(event.waitUntil.mock.calls[0][0]).resolves.toBeUndefined();
    expect(events).toEqual([]);
    expect(await db.list(SCOPE)).toEqual([]);
  });

  it('BackgroundSyncPolyfill.wake() fires what is due and settles after it', async () => {
    vi.resetModules();
    const { install } = await import('../../src/install');
    const db = await import('../../src/store/db');
    install('worker');
    expect(BackgroundSyncPolyfill.native).toBe(false);
    await sleep(20);
    await db.storeRegistration(SCOPE, 'due');
    let finished = false;
    const events = appListens((event) => event.waitUntil(sleep(30).then(() => void (finished = true))));
    await expect(BackgroundSyncPolyfill.wake()).resolves.toBeUndefined();
    expect(events.map((e) => e.tag)).toEqual(['due']);
    expect(finished).toBe(true);
  });

  it.each([
    ['IndexedDB missing', () => void (g.indexedDB = undefined)],
    ['IndexedDB throwing when read (a SecurityError)', () => Object.defineProperty(globalThis, 'indexedDB', {
      get: () => {
        throw new DOMException('The operation is insecure.', 'SecurityError');
      },
      configurable: true,
    })],
  ])('BackgroundSyncPolyfill.wake() never rejects when storage fails: %s', async (_name, breakStorage) => {
    vi.resetModules();
    const { install } = await import('../../src/install');
    const db = await import('../../src/store/db');
    install('worker');
    await sleep(20); // the start's pass, with storage still working
    db.closeDatabase();
    breakStorage();
    const warn = console.warn as unknown as Mock;
    warn.mockClear();
    await expect(BackgroundSyncPolyfill.wake()).resolves.toBeUndefined();
    expect(warn).toHaveBeenCalled();
    expect(warn.mock.calls.every((call) => call[0] === 'background-sync-polyfill:')).toBe(true);
  });
});
