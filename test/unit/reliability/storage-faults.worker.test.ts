/**
 * "A worker that finds storage broken keeps running the app's other handlers", over the fake
 * ServiceWorkerGlobalScope of test/unit/helpers.ts (becomeServiceWorker): the happy-dom window stands in for
 * `self`. The polyfill is installed while IndexedDB is missing (the worker starts with storage broken), the app's
 * script then adds its own message, fetch and sync listeners, and for each storage fault the test posts our poke,
 * an app message and a fetch: the app's handlers run, nothing throws out of dispatchEvent (happy-dom rethrows a
 * listener's exception), every promise we hand to waitUntil settles fulfilled, the fault is reported on the
 * console, and there is no unhandled rejection. Its own file: the worker half's listeners cannot be removed.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { IDBFactory } from 'fake-indexeddb';
import { PROTOCOL_KEY, poke } from '../../../src/protocol';
import { DB_VERSION, closeDatabase, storeRegistration } from '../../../src/store/db';
import { SyncWorkerRegistration, becomeServiceWorker, extendable as extendableEvent, rawOpen } from '../helpers';
import { quotaExceededOnCommit, takeUnhandledRejections, upgradeFails, watchUnhandledRejections } from './faults';

const SCOPE = 'https://example.com/broken-worker/';
const g = globalThis as Record<string, unknown>;

let registration: SyncWorkerRegistration;
let warn: ReturnType<typeof vi.spyOn>;
let stopWatching: () => void;
const appMessages: unknown[] = [];
const appFetches: string[] = [];
const appSyncs: string[] = [];
const appOther: string[] = [];

/** An extendable event (helpers.ts) with the request of a fetch the app's handler reads. */
function extendable(type: string, data?: unknown) {
  return Object.assign(extendableEvent(type, data), { request: { url: `${SCOPE}api/items` } });
}

/** Every promise handed to waitUntil fulfils (a rejection would be reported by the engine), within 5 s. */
async function expectFulfilled(event: { waitUntil: ReturnType<typeof vi.fn> }): Promise<void> {
  for (const [promise] of event.waitUntil.mock.calls) {
    const outcome = await Promise.race([
      (promise as Promise<unknown>).then(() => 'fulfilled', (e: unknown) => `rejected: ${String(e)}`),
      new Promise((r) => setTimeout(() => r('still pending after 5 s'), 5000)),
    ]);
    expect(outcome).toBe('fulfilled');
  }
}

beforeAll(async () => {
  stopWatching = watchUnhandledRejections();
  closeDatabase();
  delete g.indexedDB; // the worker starts with storage broken
  registration = becomeServiceWorker(SCOPE, () => [{ frameType: 'top-level' }]);
  warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  const { install } = await import('../../../src/install');
  expect(() => install('worker')).not.toThrow();
  // The app's script, loaded after the polyfill.
  addEventListener('message', (e) => void appMessages.push((e as MessageEvent).data));
  addEventListener('fetch', (e) => void appFetches.push((e as Event & { request: { url: string } }).request.url));
  addEventListener('sync', (e) => void appSyncs.push((e as SyncEvent).tag));
  addEventListener('activate', () => void appOther.push('activate'));
  addEventListener('online', () => void appOther.push('online'));
  // The start-up pass met the missing IndexedDB: reported, not thrown.
  await vi.waitFor(() => expect(warn).toHaveBeenCalledWith('background-sync-polyfill:', expect.objectContaining({ name: 'StorageError' })), { timeout: 5000 });
});
afterAll(() => {
  stopWatching();
  warn.mockRestore();
});

let restoreFault: (() => void) | null = null;
beforeEach(() => {
  appMessages.length = 0;
  appFetches.length = 0;
  appSyncs.length = 0;
  appOther.length = 0;
  warn.mockClear();
});
afterEach(async () => {
  restoreFault?.();
  restoreFault = null;
  closeDatabase();
  await new Promise((r) => setTimeout(r, 5));
});

interface Fault {
  name: string;
  /** Breaks storage; returns the undo. */
  breakIt(): Promise<() => void>;
  /** What registration.sync.register(tag) / getTags() give from the worker meanwhile. */
  register: RegExp;
  getTags: RegExp | 'works';
}

const faults: Fault[] = [
  {
    name: 'IndexedDB missing',
    async breakIt() {
      delete g.indexedDB;
      return () => undefined;
    },
    register: /IndexedDB is not available/,
    getTags: /IndexedDB is not available/,
  },
  {
    name: 'a database of a newer version',
    async breakIt() {
      const factory = new IDBFactory();
      g.indexedDB = factory;
      (await rawOpen(factory, DB_VERSION + 1)).close();
      return () => undefined;
    },
    register: /newer version/,
    getTags: /newer version/,
  },
  {
    name: 'every write over quota, with a registration due',
    async breakIt() {
      g.indexedDB = new IDBFactory();
      await storeRegistration(SCOPE, 'due'); // as a page would: the worker now has something to claim
      closeDatabase();
      const fault = quotaExceededOnCommit();
      return () => fault.restore();
    },
    register: /QuotaExceededError/,
    getTags: 'works',
  },
  {
    name: 'the schema cannot be created (the upgrade aborts)',
    async breakIt() {
      g.indexedDB = new IDBFactory();
      const fault = upgradeFails();
      return () => fault.restore();
    },
    register: /open failed/,
    getTags: /open failed/,
  },
];

describe.each(faults)('storage broken: $name', (fault) => {
  beforeEach(async () => {
    restoreFault = await fault.breakIt();
  });

  it('our poke is swallowed without throwing; the promise handed to waitUntil fulfils; the fault is reported', async () => {
    const message = extendable('message', poke(true));
    expect(() => dispatchEvent(message)).not.toThrow();
    expect(message.waitUntil).toHaveBeenCalledTimes(1);
    await expectFulfilled(message);
    expect(appMessages).toEqual([]);
    expect(appSyncs).toEqual([]);
    expect(warn).toHaveBeenCalledWith('background-sync-polyfill:', expect.objectContaining({ name: 'StorageError' }));
    expect(await takeUnhandledRejections()).toEqual([]);
  });

  it('the app\'s message, fetch, activate and online handlers all still run', async () => {
    const appMessage = extendable('message', { type: 'refresh', [`${PROTOCOL_KEY}-not`]: 1 });
    const fetch = extendable('fetch');
    const activate = extendable('activate');
    const online = new Event('online');
    for (const event of [appMessage, fetch, activate, online]) expect(() => dispatchEvent(event)).not.toThrow();
    expect(appMessages).toEqual([appMessage.data]);
    expect(appFetches).toEqual([`${SCOPE}api/items`]);
    expect(appOther).toEqual(['activate', 'online']);
    // The fetch may wake the dispatcher (at most once per FETCH_THROTTLE); whatever it hands over fulfils.
    await expectFulfilled(fetch);
    await expectFulfilled(appMessage);
    expect(appSyncs).toEqual([]);
    expect(await takeUnhandledRejections()).toEqual([]);
  });

  it('registration.sync from the worker rejects with an UnknownError that says why', async () => {
    const error = await registration.sync.register('from-worker').then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(DOMException);
    expect((error as DOMException).name).toBe('UnknownError');
    expect((error as DOMException).message).toMatch(fault.register);
    if (fault.getTags === 'works') {
      expect(await registration.sync.getTags()).toEqual(['due']);
    } else {
      const tagsError = await registration.sync.getTags().then(() => null, (e: unknown) => e);
      expect((tagsError as DOMException).name).toBe('UnknownError');
      expect((tagsError as DOMException).message).toMatch(fault.getTags);
    }
    expect(await takeUnhandledRejections()).toEqual([]);
  });
});

describe('storage repaired', () => {
  it('the same worker fires what was registered, once storage works again', async () => {
    g.indexedDB = new IDBFactory();
    await storeRegistration(SCOPE, 'after-repair');
    const message = extendable('message', poke(true));
    dispatchEvent(message);
    await expectFulfilled(message);
    expect(appSyncs).toEqual(['after-repair']);
    expect(await takeUnhandledRejections()).toEqual([]);
  });
});
