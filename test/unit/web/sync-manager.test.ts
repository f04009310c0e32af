import { Mock, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_TAG_LENGTH, SyncHost, SyncManager, setSyncHost, shapeManagers, syncGetter } from '../../../src/web/sync-manager';
import { OTHER_SCOPE, SCOPE } from '../helpers';

// happy-dom has no ServiceWorkerRegistration: a minimal one, with `sync` installed the way src/web/globals.ts does it.
class FakeRegistration {
  constructor(public scope: string, public active: object | null = {}) {}
}
type Registration = ServiceWorkerRegistration & FakeRegistration;

beforeAll(() => {
  shapeManagers(); // as install() does
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

/**
 * SyncManager only checks its arguments and hands the rest to the host (the worker's store, or a page's request to
 * the worker; those are tested in test/unit/worker/requests.test.ts, test/unit/install.worker.test.ts and
 * test/unit/page/host.test.ts). This host keeps tags per scope in memory, in registration order, as both real ones do.
 */
type TestHost = SyncHost & {
  register: Mock<(registration: ServiceWorkerRegistration, tag: string) => Promise<void>>;
  getTags: Mock<(registration: ServiceWorkerRegistration) => Promise<string[]>>;
};
let host: TestHost;
let stored: Map<string, string[]>;

function memoryHost(): TestHost {
  return {
    register: vi.fn(async (registration: ServiceWorkerRegistration, tag: string) => {
      const tags = stored.get(registration.scope) || [];
      if (tags.indexOf(tag) < 0) tags.push(tag);
      stored.set(registration.scope, tags);
    }),
    getTags: vi.fn(async (registration: ServiceWorkerRegistration) => (stored.get(registration.scope) || []).slice()),
  };
}

beforeEach(() => {
  stored = new Map();
  host = memoryHost();
  setSyncHost(host, {} as never); // PeriodicSyncManager: periodic-sync-manager.test.ts
});
afterEach(() => {
  vi.restoreAllMocks();
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
  it('resolves with undefined once the host has registered the tag', async () => {
    const reg = registration();
    let finish!: () => void;
    host.register.mockImplementationOnce(() => new Promise<void>((resolve) => (finish = resolve)));
    let settled = false;
    const result = reg.sync.register('outbox').finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 5));
    expect(settled).toBe(false); // waits for the host
    finish();
    await expect(result).resolves.toBeUndefined();
    expect(host.register).toHaveBeenCalledTimes(1);
    expect(host.register).toHaveBeenCalledWith(reg, 'outbox');
  });

  it('hands the host the registration it was called on, and nothing else', async () => {
    const a = registration(SCOPE);
    const b = registration(OTHER_SCOPE);
    await a.sync.register('one');
    await b.sync.register('two');
    expect(host.register.mock.calls).toEqual([[a, 'one'], [b, 'two']]);
    expect(host.getTags).not.toHaveBeenCalled();
  });

  // A page's register() calls of one turn travel as one request (src/page/host.ts): that needs the host called in
  // the same turn, before any await.
  it('calls the host synchronously, before returning its promise', () => {
    const reg = registration();
    void reg.sync.register('a');
    void reg.sync.register('b');
    expect(host.register.mock.calls.map((call) => call[1])).toEqual(['a', 'b']);
  });

  it('rejects with the host\'s error itself (the DOMException the worker raised)', async () => {
    const error = new DOMException('Background Sync storage failed: quota', 'UnknownError');
    host.register.mockRejectedValueOnce(error);
    expect(await rejection(registration().sync.register('outbox'))).toBe(error);
  });

  it('a host that throws synchronously still gives a rejection, never a throw', async () => {
    const error = new DOMException('x', 'InvalidAccessError');
    host.register.mockImplementationOnce(() => {
      throw error;
    });
    let result: Promise<void> | undefined;
    expect(() => (result = registration().sync.register('outbox'))).not.toThrow();
    expect(await rejection(result!)).toBe(error);
  });

  it('a missing argument rejects with a TypeError (not a synchronous throw)', async () => {
    const sync = registration().sync as unknown as { register(...args: unknown[]): Promise<void> };
    let result: Promise<void> | undefined;
    expect(() => (result = sync.register())).not.toThrow();
    expect(await rejection(result!)).toBeInstanceOf(TypeError);
    expect(host.register).not.toHaveBeenCalled();
  });

  it('a Symbol rejects with a TypeError', async () => {
    const sync = registration().sync as unknown as { register(tag: unknown): Promise<void> };
    expect(await rejection(sync.register(Symbol('tag')))).toBeInstanceOf(TypeError);
    expect(host.register).not.toHaveBeenCalled();
  });

  it('an object whose toString throws rejects with that same error', async () => {
    const error = new Error('from toString');
    const sync = registration().sync as unknown as { register(tag: unknown): Promise<void> };
    expect(await rejection(sync.register({ toString() { throw error; } }))).toBe(error);
    expect(host.register).not.toHaveBeenCalled();
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
    expect(host.register).toHaveBeenCalledWith(reg, tag);
    expect(typeof host.register.mock.calls[0][1]).toBe('string');
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
    expect(host.register).not.toHaveBeenCalled();
  });

  it('argument conversion comes before the active worker check', async () => {
    const sync = registration(SCOPE, null).sync as unknown as { register(tag: unknown): Promise<void> };
    expect(await rejection(sync.register(Symbol()))).toBeInstanceOf(TypeError);
  });

  it('a tag of 10241 characters → InvalidAccessError, the host never asked; 10240 is fine (Chromium\'s limit)', async () => {
    expect(MAX_TAG_LENGTH).toBe(10240);
    const reg = registration();
    const error = await rejection(reg.sync.register('x'.repeat(10241)));
    expect(error).toBeInstanceOf(DOMException);
    expect((error as DOMException).name).toBe('InvalidAccessError');
    expect((error as DOMException).message).toBe('Registration failed - the tag is longer than 10240 characters');
    expect(host.register).not.toHaveBeenCalled();
    await expect(reg.sync.register('y'.repeat(10240))).resolves.toBeUndefined();
    expect(host.register).toHaveBeenCalledWith(reg, 'y'.repeat(10240));
    expect(await reg.sync.getTags()).toEqual(['y'.repeat(10240)]);
  });

  it('the length counts UTF-16 code units: 5120 emoji are 10240 and pass, one more character does not', async () => {
    const reg = registration();
    await expect(reg.sync.register('😀'.repeat(5120))).resolves.toBeUndefined();
    expect((await rejection(reg.sync.register('😀'.repeat(5120) + 'x')) as DOMException).name).toBe('InvalidAccessError');
    expect(host.register).toHaveBeenCalledTimes(1);
  });
});

describe('getTags()', () => {
  it('resolves with what the host lists for the registration', async () => {
    const reg = registration();
    host.getTags.mockResolvedValueOnce(['b', 'a']);
    expect(await reg.sync.getTags()).toEqual(['b', 'a']);
    expect(host.getTags).toHaveBeenCalledWith(reg);
  });

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

  it('rejects with the host\'s error itself', async () => {
    const error = new DOMException('Background Sync storage failed: gone', 'UnknownError');
    host.getTags.mockRejectedValueOnce(error);
    expect(await rejection(registration().sync.getTags())).toBe(error);
  });

  it('takes no arguments: extra ones are ignored', async () => {
    const reg = registration();
    await (reg.sync.getTags as (...args: unknown[]) => Promise<string[]>)('x', 1);
    expect(host.getTags.mock.calls).toEqual([[reg]]);
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

  it('register() rejects with an InvalidStateError at once and never reaches the host', async () => {
    const sync = registration().sync;
    const error = await rejectsAtOnce(sync.register('gone'));
    expect(error).toBeInstanceOf(DOMException);
    expect((error as DOMException).name).toBe('InvalidStateError');
    expect((error as DOMException).message).toBe('The document is not fully active');
    await new Promise((r) => setTimeout(r, 10));
    expect(host.register).not.toHaveBeenCalled();
    delete (document as unknown as Record<string, unknown>).defaultView;
    expect(await sync.getTags()).toEqual([]);
  });

  it('getTags() rejects with an InvalidStateError at once and never reaches the host', async () => {
    const error = await rejectsAtOnce(registration().sync.getTags());
    expect((error as DOMException).name).toBe('InvalidStateError');
    expect(host.getTags).not.toHaveBeenCalled();
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
    expect(host.register).toHaveBeenCalledTimes(1);
  });
});
