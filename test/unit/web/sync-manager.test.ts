import { Mock, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_TAG_LENGTH, SyncHost, SyncManager, setSyncHost, shapeSyncManager, syncGetter } from '../../../src/web/sync-manager';
import { closeDatabase } from '../../../src/store/db';
import { OTHER_SCOPE, SCOPE, freshIndexedDB, rawRecord } from '../helpers';

// happy-dom has no ServiceWorkerRegistration: a minimal one, with `sync` installed the way src/web/globals.ts does it.
class FakeRegistration {
  constructor(public scope: string, public active: object | null = {}) {}
}
type Registration = ServiceWorkerRegistration & FakeRegistration;

beforeAll(() => {
  shapeSyncManager(); // as install() does
  (globalThis as Record<string, unknown>).ServiceWorkerRegistration = FakeRegistration;
  Object.defineProperty(FakeRegistration.prototype, 'sync', { get: syncGetter, enumerable: true, configurable: true });
});

function registration(scope = SCOPE, active: object | null = {}): Registration {
  return new FakeRegistration(scope, active) as unknown as Registration;
}

/** Settles `promise` and returns its rejection reason; fails the test if it fulfils. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then((v) => {
    throw new Error(`expected a rejection, got ${String(v)}`);
  }, (e: unknown) => e);
}

const proto = SyncManager.prototype as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
let host: SyncHost & { registered: Mock<(registration: ServiceWorkerRegistration) => void> };

beforeEach(() => {
  freshIndexedDB();
  host = { registered: vi.fn<(registration: ServiceWorkerRegistration) => void>() };
  setSyncHost(host);
});
afterEach(async () => {
  // Let register()'s deferred registered() call land in this test's host, not the next one's.
  await new Promise((r) => setTimeout(r, 5));
  setSyncHost({ registered() {} });
  closeDatabase();
});

describe('WebIDL shape', () => {
  it('new SyncManager() throws a TypeError', () => {
    expect(() => new (SyncManager as unknown as new () => unknown)()).toThrow(TypeError);
  });

  it('registration.sync is one SyncManager per registration, the same on every get', () => {
    const a = registration();
    const b = registration();
    expect(a.sync).toBe(a.sync);
    expect(a.sync).toBeInstanceOf(SyncManager);
    expect(a.sync).not.toBe(b.sync);
    expect(Object.getPrototypeOf(a.sync)).toBe(SyncManager.prototype);
  });

  it('the sync getter throws a TypeError on a wrong this', () => {
    const get = Object.getOwnPropertyDescriptor(FakeRegistration.prototype, 'sync')!.get!;
    for (const wrong of [{}, undefined, null, 1, SyncManager.prototype, registration().sync]) {
      expect(() => get.call(wrong)).toThrow(TypeError);
    }
  });

  it.each([
    ['register', 1],
    ['getTags', 0],
  ])('%s is an enumerable method on the prototype with length %i and its name', (name, length) => {
    const descriptor = Object.getOwnPropertyDescriptor(SyncManager.prototype, name)!;
    expect(typeof descriptor.value).toBe('function');
    expect(descriptor.enumerable).toBe(true);
    expect(descriptor.writable).toBe(true);
    expect(descriptor.configurable).toBe(true);
    expect(descriptor.value.length).toBe(length);
    expect(descriptor.value.name).toBe(name);
    expect(Object.prototype.hasOwnProperty.call(registration().sync, name)).toBe(false);
  });

  it('the manager has no own properties', () => {
    expect(Reflect.ownKeys(registration().sync)).toEqual([]);
  });

  it('toStringTag is SyncManager, like a native interface (not enumerable, not writable)', () => {
    expect(Object.prototype.toString.call(registration().sync)).toBe('[object SyncManager]');
    expect(Object.prototype.toString.call(SyncManager.prototype)).toBe('[object SyncManager]');
    expect(Object.getOwnPropertyDescriptor(SyncManager.prototype, Symbol.toStringTag))
      .toEqual({ value: 'SyncManager', writable: false, enumerable: false, configurable: true });
  });

  it.each(['register', 'getTags'])('%s on a wrong this rejects with a TypeError and never throws', async (name) => {
    for (const wrong of [{}, undefined, null, SyncManager.prototype, Object.create(SyncManager.prototype)]) {
      let result: Promise<unknown> | undefined;
      expect(() => (result = proto[name].call(wrong, 'tag'))).not.toThrow();
      expect(result).toBeInstanceOf(Promise);
      expect(await rejection(result!)).toBeInstanceOf(TypeError);
    }
  });
});

describe('register(tag)', () => {
  it('resolves with undefined and stores a pending registration', async () => {
    const reg = registration();
    await expect(reg.sync.register('outbox')).resolves.toBeUndefined();
    expect(await rawRecord(SCOPE, 'outbox')).toMatchObject({ state: 'pending', attempts: 0 });
  });

  it('a missing argument rejects with a TypeError (not a synchronous throw)', async () => {
    const sync = registration().sync as unknown as { register(...args: unknown[]): Promise<void> };
    let result: Promise<void> | undefined;
    expect(() => (result = sync.register())).not.toThrow();
    expect(await rejection(result!)).toBeInstanceOf(TypeError);
  });

  it('a Symbol rejects with a TypeError', async () => {
    const sync = registration().sync as unknown as { register(tag: unknown): Promise<void> };
    expect(await rejection(sync.register(Symbol('tag')))).toBeInstanceOf(TypeError);
  });

  it('an object whose toString throws rejects with that same error', async () => {
    const error = new Error('from toString');
    const sync = registration().sync as unknown as { register(tag: unknown): Promise<void> };
    expect(await rejection(sync.register({ toString() { throw error; } }))).toBe(error);
  });

  it.each([
    ['the empty string', '', ''],
    ['a number', 42, '42'],
    ['null', null, 'null'],
    ['an explicit undefined', undefined, 'undefined'],
    ['an object', { toString: () => 'custom' }, 'custom'],
    ['a lone surrogate', '\uD800', '\uD800'],
  ])('converts %s like a DOMString', async (_name, value, tag) => {
    const reg = registration();
    await (reg.sync as unknown as { register(tag: unknown): Promise<void> }).register(value);
    expect(await reg.sync.getTags()).toEqual([tag]);
  });

  it('no active worker → InvalidStateError, before the tag length check', async () => {
    const reg = registration(SCOPE, null);
    for (const tag of ['outbox', 'x'.repeat(MAX_TAG_LENGTH + 1)]) {
      const error = await rejection(reg.sync.register(tag));
      expect(error).toBeInstanceOf(DOMException);
      expect((error as DOMException).name).toBe('InvalidStateError');
      expect((error as DOMException).message).toBe('Registration failed - no active Service Worker');
    }
    expect(await rawRecord(SCOPE, 'outbox')).toBeUndefined();
  });

  it('argument conversion comes before the active worker check', async () => {
    const sync = registration(SCOPE, null).sync as unknown as { register(tag: unknown): Promise<void> };
    expect(await rejection(sync.register(Symbol()))).toBeInstanceOf(TypeError);
  });

  it('a tag of 10241 characters → InvalidAccessError; 10240 is fine (Chromium\'s limit)', async () => {
    expect(MAX_TAG_LENGTH).toBe(10240);
    const reg = registration();
    const error = await rejection(reg.sync.register('x'.repeat(10241)));
    expect(error).toBeInstanceOf(DOMException);
    expect((error as DOMException).name).toBe('InvalidAccessError');
    await expect(reg.sync.register('y'.repeat(10240))).resolves.toBeUndefined();
    expect(await reg.sync.getTags()).toEqual(['y'.repeat(10240)]);
  });

  it('in the worker with no window open → InvalidAccessError, nothing stored, nothing fired', async () => {
    const hasWindow = vi.fn(async () => false);
    setSyncHost({ hasWindow, registered: host.registered });
    const reg = registration();
    const error = await rejection(reg.sync.register('outbox'));
    expect(error).toBeInstanceOf(DOMException);
    expect((error as DOMException).name).toBe('InvalidAccessError');
    expect((error as DOMException).message)
      .toBe('Attempted to register a sync event without a window or registration tag too long.');
    expect(hasWindow).toHaveBeenCalled();
    expect(await rawRecord(SCOPE, 'outbox')).toBeUndefined();
    await new Promise((r) => setTimeout(r, 10));
    expect(host.registered).not.toHaveBeenCalled();
  });

  it('in the worker with a window open → registers', async () => {
    setSyncHost({ hasWindow: async () => true, registered: host.registered });
    await registration().sync.register('outbox');
    expect(await rawRecord(SCOPE, 'outbox')).toBeDefined();
  });

  it('storage failure → UnknownError with a message that says why', async () => {
    delete (globalThis as { indexedDB?: unknown }).indexedDB;
    const reg = registration();
    for (const promise of [reg.sync.register('outbox'), reg.sync.getTags()]) {
      const error = await rejection(promise);
      expect(error).toBeInstanceOf(DOMException);
      expect((error as DOMException).name).toBe('UnknownError');
      expect((error as DOMException).message).toMatch(/IndexedDB is not available/);
    }
    expect(host.registered).not.toHaveBeenCalled();
  });

  it('calls the host\'s registered(registration) once, only after the promise has resolved', async () => {
    let resolved = false;
    let resolvedWhenCalled: boolean | undefined;
    host.registered.mockImplementation(() => (resolvedWhenCalled = resolved));
    const reg = registration();
    await reg.sync.register('outbox').then(() => (resolved = true));
    expect(host.registered).not.toHaveBeenCalled();
    await new Promise((r) => setTimeout(r, 10));
    expect(host.registered).toHaveBeenCalledTimes(1);
    expect(host.registered).toHaveBeenCalledWith(reg);
    expect(resolvedWhenCalled).toBe(true);
  });

  it('a registration that coalesces still calls registered() (a waiting tag fires now)', async () => {
    const reg = registration();
    await reg.sync.register('outbox');
    await reg.sync.register('outbox');
    await new Promise((r) => setTimeout(r, 10));
    expect(host.registered).toHaveBeenCalledTimes(2);
  });
});

describe('getTags()', () => {
  it('is empty at first', async () => {
    await expect(registration().sync.getTags()).resolves.toEqual([]);
  });

  it('lists tags in registration order, coalescing repeats, per registration scope', async () => {
    const a = registration(SCOPE);
    const b = registration(OTHER_SCOPE);
    await a.sync.register('one');
    await b.sync.register('other');
    await a.sync.register('two');
    await a.sync.register('one');
    await a.sync.register('three');
    expect(await a.sync.getTags()).toEqual(['one', 'two', 'three']);
    expect(await b.sync.getTags()).toEqual(['other']);
  });

  it('two registration objects for the same scope see the same tags', async () => {
    await registration(SCOPE).sync.register('shared');
    expect(await registration(SCOPE).sync.getTags()).toEqual(['shared']);
  });

  it('resolves with a new array each time', async () => {
    const sync = registration().sync;
    await sync.register('a');
    const first = await sync.getTags();
    first.push('mutated');
    expect(await sync.getTags()).toEqual(['a']);
  });
});

describe('in a document that is no longer fully active (a removed iframe\'s)', () => {
  // A removed iframe's document has no browsing context: defaultView is null. Its realm may never run the rest of
  // an async operation (Firefox drops that realm's promise jobs), so both operations reject before they await.
  beforeEach(() => {
    Object.defineProperty(document, 'defaultView', { value: null, configurable: true });
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    delete (document as unknown as Record<string, unknown>).defaultView;
  });

  /** Resolves with the reason once `promise` has rejected within two microtasks: before any await of the operation. */
  async function rejectsAtOnce(promise: Promise<unknown>): Promise<unknown> {
    let outcome: { reason: unknown } | null = null;
    promise.then(() => {}, (reason: unknown) => (outcome = { reason }));
    await Promise.resolve();
    await Promise.resolve();
    if (!outcome) throw new Error('still pending: the operation awaited before it rejected');
    return (outcome as { reason: unknown }).reason;
  }

  it('register() rejects with an InvalidStateError at once, stores nothing and fires nothing', async () => {
    const sync = registration().sync;
    const error = await rejectsAtOnce(sync.register('gone'));
    expect(error).toBeInstanceOf(DOMException);
    expect((error as DOMException).name).toBe('InvalidStateError');
    await new Promise((r) => setTimeout(r, 10));
    expect(host.registered).not.toHaveBeenCalled();
    delete (document as unknown as Record<string, unknown>).defaultView;
    expect(await sync.getTags()).toEqual([]);
  });

  it('getTags() rejects with an InvalidStateError at once', async () => {
    const error = await rejectsAtOnce(registration().sync.getTags());
    expect((error as DOMException).name).toBe('InvalidStateError');
  });

  it('the brand check and the argument conversion come first (WebIDL)', async () => {
    expect(await rejectsAtOnce(proto.register.call({}, 'tag'))).toBeInstanceOf(TypeError);
    expect(await rejectsAtOnce(proto.getTags.call({}))).toBeInstanceOf(TypeError);
    expect(await rejectsAtOnce(proto.register.call(registration().sync))).toBeInstanceOf(TypeError);
  });

  it('a global without a document (the service worker) is not affected', async () => {
    vi.stubGlobal('document', undefined);
    const sync = registration().sync;
    await expect(sync.register('worker-side')).resolves.toBeUndefined();
    expect(await sync.getTags()).toEqual(['worker-side']);
  });
});
