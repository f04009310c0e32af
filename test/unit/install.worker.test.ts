/**
 * install('worker') end to end, over a fake ServiceWorkerGlobalScope: the happy-dom window stands in for `self`.
 * Its own file, because the worker half adds listeners to `self` that cannot be removed.
 */
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { PROTOCOL_KEY, poke } from '../../src/protocol';
import { list } from '../../src/store/db';
import {
  ExtendableEvent, SyncWorkerRegistration, becomeServiceWorker, extendable, freshIndexedDB, listenForSync, sleep, until,
} from './helpers';

const SCOPE = 'https://example.com/worker/';
const g = globalThis as Record<string, unknown>;

let windows: Array<{ frameType: string }> = [{ frameType: 'top-level' }];
const fired: Array<{ tag: string; lastChance: boolean }> = [];
let handler: (e: SyncEvent) => void = () => undefined;
const appMessages: unknown[] = [];
let registration: SyncWorkerRegistration;

beforeAll(async () => {
  freshIndexedDB();
  registration = becomeServiceWorker(SCOPE, () => windows);
  vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  const { install } = await import('../../src/install');
  install('worker');
  // The app's script, loaded after the polyfill.
  listenForSync(fired, () => handler);
  addEventListener('message', (e) => appMessages.push((e as MessageEvent).data));
});

beforeEach(async () => {
  windows = [{ frameType: 'top-level' }];
  handler = () => undefined;
  fired.length = 0;
  appMessages.length = 0;
  BackgroundSyncPolyfill.configure({ maxAttempts: 3, initialRetryDelay: 300000, retryDelayFactor: 3, maxEventDuration: 180000 });
  await sleep(5);
});

describe('install(\'worker\')', () => {
  it('defines SyncManager, SyncEvent, registration.sync and onsync', () => {
    expect(typeof g.SyncManager).toBe('function');
    expect(typeof g.SyncEvent).toBe('function');
    expect(Object.getPrototypeOf((g.SyncEvent as { prototype: object }).prototype)).toBe(ExtendableEvent.prototype);
    expect(registration.sync).toBeInstanceOf(g.SyncManager as new () => unknown);
    // ServiceWorkerGlobalScope is [Global]: its attributes live on the instance.
    const onsync = Object.getOwnPropertyDescriptor(globalThis, 'onsync')!;
    expect(typeof onsync.get).toBe('function');
    expect(typeof onsync.set).toBe('function');
    expect((globalThis as unknown as { onsync: unknown }).onsync).toBeNull();
    expect(BackgroundSyncPolyfill.native).toBe(false);
  });

  it('register() from the worker fires a sync event at self after resolving, then removes it', async () => {
    await registration.sync.register('outbox');
    expect(fired).toEqual([]);
    await until(() => fired.length === 1);
    expect(fired).toEqual([{ tag: 'outbox', lastChance: false }]);
    await until(async () => (await list(SCOPE)).length === 0);
  });

  it('self.onsync receives sync events end to end', async () => {
    const onsync = vi.fn();
    const self = globalThis as unknown as { onsync: unknown };
    self.onsync = onsync;
    try {
      await registration.sync.register('via-onsync');
      await until(() => onsync.mock.calls.length === 1);
      expect((onsync.mock.calls[0][0] as SyncEvent).tag).toBe('via-onsync');
    } finally {
      self.onsync = null;
    }
    await until(async () => (await list(SCOPE)).length === 0);
  });

  describe('only the active worker fires (not an installing or waiting version during an update)', () => {
    const self = globalThis as unknown as Record<string, unknown>;

    it.each(['installing', 'installed', 'redundant'])('self.serviceWorker.state %s: nothing fires', async (state) => {
      Object.defineProperty(globalThis, 'serviceWorker', { value: { state }, configurable: true });
      try {
        await registration.sync.register(`while-${state}`);
        const message = extendable('message', poke(true));
        dispatchEvent(message);
        await message.waitUntil.mock.calls[0][0];
        await sleep(20);
        expect(fired).toEqual([]);
        (self.serviceWorker as { state: string }).state = 'activated';
        const again = extendable('message', poke(true));
        dispatchEvent(again);
        await again.waitUntil.mock.calls[0][0];
        expect(fired.map((f) => f.tag)).toEqual([`while-${state}`]);
      } finally {
        delete self.serviceWorker;
      }
    });

    it('without self.serviceWorker: not while the registration has a waiting worker', async () => {
      const r = registration as unknown as Record<string, unknown>;
      r.waiting = {};
      try {
        await registration.sync.register('update-pending');
        await sleep(20);
        expect(fired).toEqual([]);
      } finally {
        delete r.waiting;
      }
      const message = extendable('message', poke(true));
      dispatchEvent(message);
      await message.waitUntil.mock.calls[0][0];
      expect(fired.map((f) => f.tag)).toEqual(['update-pending']);
    });
  });

  it.each([
    ['no window', []],
    ['only nested frames', [{ frameType: 'nested' }]],
  ])('register() with %s open → InvalidAccessError', async (_name, clients) => {
    windows = clients;
    const error = await registration.sync.register('outbox').catch((e: unknown) => e);
    expect((error as DOMException).name).toBe('InvalidAccessError');
    expect(await registration.sync.getTags()).toEqual([]);
  });

  it('configure() in the worker sets the policy the dispatcher uses', async () => {
    BackgroundSyncPolyfill.configure({ maxAttempts: 1 });
    await registration.sync.register('last');
    await until(() => fired.length === 1);
    expect(fired[0]).toEqual({ tag: 'last', lastChance: true });
  });

  it('configure({ debug: true }) logs the worker\'s state transitions with the prefix, and nothing before', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      await registration.sync.register('quiet');
      await until(async () => (await list(SCOPE)).length === 0);
      expect(log).not.toHaveBeenCalled();
      BackgroundSyncPolyfill.configure({ debug: true });
      await registration.sync.register('loud');
      expect(log).toHaveBeenCalledWith('background-sync-polyfill: register("loud") → firing');
      await until(async () => (await list(SCOPE)).length === 0);
      await sleep(5);
      expect(log.mock.calls.map((call) => call[0])).toEqual([
        'background-sync-polyfill: register("loud") → firing',
        'background-sync-polyfill: "loud" firing, attempt 1 of 3',
        'background-sync-polyfill: "loud" success → removed',
      ]);
    } finally {
      BackgroundSyncPolyfill.configure({ debug: false });
      log.mockRestore();
    }
  });

  it('a bad configure() throws and changes nothing', async () => {
    BackgroundSyncPolyfill.configure({ maxAttempts: 2 });
    expect(() => BackgroundSyncPolyfill.configure({ maxAttempts: 1, maxEventDuration: -1 })).toThrow(RangeError);
    handler = (e) => e.waitUntil(Promise.reject(new Error('x')));
    await registration.sync.register('kept');
    await until(() => fired.length === 1);
    expect(fired[0].lastChance).toBe(false); // maxAttempts is still 2
    await until(async () => (await list(SCOPE))[0]?.state === 'waiting');
    BackgroundSyncPolyfill.configure({ maxAttempts: 3 });
  });

  it('a poke fires what is due, under the message event\'s waitUntil, and the app never sees it', async () => {
    windows = [{ frameType: 'top-level' }];
    const { storeRegistration } = await import('../../src/store/db');
    await storeRegistration(SCOPE, 'poked'); // as a page would, without waking the worker
    const message = extendable('message', poke(true));
    dispatchEvent(message);
    expect(message.waitUntil).toHaveBeenCalledTimes(1);
    await message.waitUntil.mock.calls[0][0];
    expect(fired).toEqual([{ tag: 'poked', lastChance: false }]);
    expect(appMessages).toEqual([]);
  });

  it.each([
    ['of another version', { [PROTOCOL_KEY]: 2, online: true }],
    ['malformed', { [PROTOCOL_KEY]: 1, online: 'yes' }],
    ['with our key only', { [PROTOCOL_KEY]: null }],
  ])('a message %s is swallowed without throwing or waking', (_name, data) => {
    const message = extendable('message', data);
    expect(() => dispatchEvent(message)).not.toThrow();
    expect(message.waitUntil).not.toHaveBeenCalled();
    expect(appMessages).toEqual([]);
  });

  it.each([
    ['an app object', { type: 'refresh' }],
    ['a string', 'hello'],
    ['null', null],
  ])('the app\'s own message (%s) reaches the app untouched', (_name, data) => {
    const message = extendable('message', data);
    dispatchEvent(message);
    expect(message.waitUntil).not.toHaveBeenCalled();
    expect(appMessages).toEqual([data]);
  });

  it('fetch events wake the dispatcher at most once per FETCH_THROTTLE', async () => {
    const { FETCH_THROTTLE } = await import('../../src/worker/wakeups');
    expect(FETCH_THROTTLE).toBe(10000);
    const first = extendable('fetch');
    const second = extendable('fetch');
    dispatchEvent(first);
    dispatchEvent(second);
    expect(first.waitUntil).toHaveBeenCalledTimes(1); // the first fetch in this file
    expect(first.waitUntil.mock.calls[0][0]).toBeInstanceOf(Promise);
    expect(second.waitUntil).not.toHaveBeenCalled();
    await first.waitUntil.mock.calls[0][0];
  });
});
