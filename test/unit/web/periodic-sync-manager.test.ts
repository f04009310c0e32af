/**
 * PeriodicSyncManager and `ServiceWorkerRegistration.prototype.periodicSync` (src/web/sync-manager.ts), against the WICG
 * draft (https://wicg.github.io/periodic-background-sync/) and WebIDL:
 *
 *   interface PeriodicSyncManager {
 *     Promise<undefined> register(DOMString tag, optional BackgroundSyncOptions options = {});
 *     Promise<sequence<DOMString>> getTags();
 *     Promise<undefined> unregister(DOMString tag);
 *   };
 *   dictionary BackgroundSyncOptions { [EnforceRange] unsigned long long minInterval = 0; };
 *
 * The manager only checks and converts its arguments and hands the rest to the periodic host (the worker's store, or a
 * page's request to it), which is mocked here.
 */
import { Mock, afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  MAX_TAG_LENGTH, PeriodicHost, PeriodicSyncManager, SyncHost, SyncManager, periodicSyncGetter, setSyncHost, shapeManagers,
  syncGetter,
} from '../../../src/web/sync-manager';
import { OTHER_SCOPE, SCOPE } from '../helpers';

// happy-dom has no ServiceWorkerRegistration: a minimal one, with `sync` and `periodicSync` installed as
// src/web/globals.ts installs them.
class FakeRegistration {
  constructor(public scope: string, public active: object | null = {}) {}
}
type Registration = ServiceWorkerRegistration & FakeRegistration;

const g = globalThis as Record<string, unknown>;
let savedRegistration: PropertyDescriptor | undefined;

beforeAll(() => {
  shapeManagers(); // as install() does
  savedRegistration = Object.getOwnPropertyDescriptor(globalThis, 'ServiceWorkerRegistration');
  g.ServiceWorkerRegistration = FakeRegistration;
  Object.defineProperty(FakeRegistration.prototype, 'sync', { get: syncGetter, enumerable: true, configurable: true });
  Object.defineProperty(FakeRegistration.prototype, 'periodicSync', { get: periodicSyncGetter, enumerable: true, configurable: true });
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

/** Calls `f`, expects it not to throw but to return a promise, and returns that promise's rejection reason. */
async function rejectsNotThrows(f: () => unknown): Promise<unknown> {
  let result: unknown;
  expect(() => (result = f())).not.toThrow();
  expect(result).toBeInstanceOf(Promise);
  return rejection(result as Promise<unknown>);
}

/** The DOMException `error` is, with its name. */
function expectDOMException(error: unknown, name: string): void {
  expect(error).toBeInstanceOf(DOMException);
  expect((error as DOMException).name).toBe(name);
}

type Method = (...args: unknown[]) => Promise<unknown>;
const periodicProto = PeriodicSyncManager.prototype as unknown as Record<string, Method>;
const syncProto = SyncManager.prototype as unknown as Record<string, Method>;

/** The manager of `reg`, with its methods taking anything (to call them as script could). */
const loose = (reg: Registration) => reg.periodicSync as unknown as Record<'register' | 'getTags' | 'unregister', Method>;

/** A periodic host that keeps tags and intervals per scope in memory, in registration order, as the real ones do. */
type TestPeriodicHost = PeriodicHost & {
  register: Mock<(registration: ServiceWorkerRegistration, tag: string, minInterval: number) => Promise<void>>;
  getTags: Mock<(registration: ServiceWorkerRegistration) => Promise<string[]>>;
  unregister: Mock<(registration: ServiceWorkerRegistration, tag: string) => Promise<void>>;
};
let periodic: TestPeriodicHost;
let oneShot: SyncHost & { register: Mock; getTags: Mock };
let stored: Map<string, Map<string, number>>;

function memoryPeriodicHost(): TestPeriodicHost {
  const of = (registration: ServiceWorkerRegistration) => {
    let tags = stored.get(registration.scope);
    if (!tags) stored.set(registration.scope, (tags = new Map()));
    return tags;
  };
  return {
    register: vi.fn(async (registration: ServiceWorkerRegistration, tag: string, minInterval: number) => {
      of(registration).set(tag, minInterval);
    }),
    getTags: vi.fn(async (registration: ServiceWorkerRegistration) => Array.from(of(registration).keys())),
    unregister: vi.fn(async (registration: ServiceWorkerRegistration, tag: string) => {
      of(registration).delete(tag);
    }),
  };
}

beforeEach(() => {
  stored = new Map();
  periodic = memoryPeriodicHost();
  oneShot = { register: vi.fn(async () => undefined), getTags: vi.fn(async () => ['one-shot']) };
  setSyncHost(oneShot, periodic);
});
afterEach(() => {
  vi.restoreAllMocks();
});
// Leave the global as this file found it.
afterAll(() => {
  if (savedRegistration) Object.defineProperty(globalThis, 'ServiceWorkerRegistration', savedRegistration);
  else delete g.ServiceWorkerRegistration;
});

describe('WebIDL shape', () => {
  it('new PeriodicSyncManager() throws a TypeError, and so does calling it without new', () => {
    expect(() => new (PeriodicSyncManager as unknown as new () => unknown)()).toThrow(TypeError);
    expect(() => new (PeriodicSyncManager as unknown as new () => unknown)()).toThrow('Illegal constructor');
    expect(() => (PeriodicSyncManager as unknown as () => unknown)()).toThrow(TypeError);
  });

  it('is named PeriodicSyncManager, its constructor.length is 0 and its prototype inherits from Object.prototype', () => {
    expect(PeriodicSyncManager.name).toBe('PeriodicSyncManager');
    expect(PeriodicSyncManager.length).toBe(0);
    expect(Object.getPrototypeOf(PeriodicSyncManager.prototype)).toBe(Object.prototype);
    expect(PeriodicSyncManager.prototype.constructor).toBe(PeriodicSyncManager);
  });

  it.each([
    ['register', 1],
    ['getTags', 0],
    ['unregister', 1],
  ])('%s is an enumerable, writable, configurable method on the prototype with length %i and its name', (name, length) => {
    const descriptor = Object.getOwnPropertyDescriptor(PeriodicSyncManager.prototype, name)!;
    expect(typeof descriptor.value).toBe('function');
    expect(descriptor.enumerable).toBe(true);
    expect(descriptor.writable).toBe(true);
    expect(descriptor.configurable).toBe(true);
    expect(descriptor.value.length).toBe(length);
    expect(descriptor.value.name).toBe(name);
    expect(Object.prototype.hasOwnProperty.call(registration().periodicSync, name)).toBe(false);
  });

  it('the prototype has exactly the three operations, the constructor and the toStringTag', () => {
    expect(Reflect.ownKeys(PeriodicSyncManager.prototype).sort((a, b) => String(a).localeCompare(String(b))))
      .toEqual(['constructor', 'getTags', 'register', Symbol.toStringTag, 'unregister']
        .sort((a, b) => String(a).localeCompare(String(b))));
    // The operations enumerate (for...in), the constructor does not.
    const enumerated: string[] = [];
    for (const key in registration().periodicSync) enumerated.push(key);
    expect(enumerated.sort()).toEqual(['getTags', 'register', 'unregister']);
  });

  it('the manager has no own properties', () => {
    expect(Reflect.ownKeys(registration().periodicSync)).toEqual([]);
  });

  it('toStringTag is PeriodicSyncManager, like a native interface (not enumerable, not writable)', () => {
    expect(Object.prototype.toString.call(registration().periodicSync)).toBe('[object PeriodicSyncManager]');
    expect(Object.prototype.toString.call(PeriodicSyncManager.prototype)).toBe('[object PeriodicSyncManager]');
    expect(Object.getOwnPropertyDescriptor(PeriodicSyncManager.prototype, Symbol.toStringTag))
      .toEqual({ value: 'PeriodicSyncManager', writable: false, enumerable: false, configurable: true });
    // SyncManager keeps its own.
    expect(Object.prototype.toString.call(registration().sync)).toBe('[object SyncManager]');
  });

  it('shapeManagers() a second time changes nothing', () => {
    const before = Reflect.ownKeys(PeriodicSyncManager.prototype).map((key) =>
      [key, Object.getOwnPropertyDescriptor(PeriodicSyncManager.prototype, key)]);
    shapeManagers();
    const after = Reflect.ownKeys(PeriodicSyncManager.prototype).map((key) =>
      [key, Object.getOwnPropertyDescriptor(PeriodicSyncManager.prototype, key)]);
    expect(after).toEqual(before);
  });
});

describe('registration.periodicSync', () => {
  it('the getter is named "get periodicSync", takes no argument and has no prototype (not a constructor)', () => {
    expect(periodicSyncGetter.name).toBe('get periodicSync');
    expect(periodicSyncGetter.length).toBe(0);
    expect(Object.prototype.hasOwnProperty.call(periodicSyncGetter, 'prototype')).toBe(false);
    expect(() => new (periodicSyncGetter as unknown as new () => unknown)()).toThrow(TypeError);
    // The one-shot getter is another function with its own name.
    expect(syncGetter).not.toBe(periodicSyncGetter);
    expect(syncGetter.name).toBe('get sync');
  });

  it('is one PeriodicSyncManager per registration, the same on every get ([SameObject])', () => {
    const a = registration();
    const b = registration();
    const first = a.periodicSync;
    expect(first).toBeInstanceOf(PeriodicSyncManager);
    expect(Object.getPrototypeOf(first)).toBe(PeriodicSyncManager.prototype);
    expect(a.periodicSync).toBe(first);
    expect(periodicSyncGetter.call(a)).toBe(first);
    expect(b.periodicSync).not.toBe(first);
    expect(b.periodicSync).toBe(b.periodicSync);
  });

  it('is not the registration\'s SyncManager, nor an instance of SyncManager', () => {
    const reg = registration();
    expect(reg.periodicSync).not.toBe(reg.sync as unknown);
    expect(reg.periodicSync).not.toBeInstanceOf(SyncManager);
    expect(reg.sync).not.toBeInstanceOf(PeriodicSyncManager);
  });

  it.each<[string, () => unknown]>([
    ['a plain object', () => ({})],
    ['undefined', () => undefined],
    ['null', () => null],
    ['a number', () => 1],
    ['the prototype', () => PeriodicSyncManager.prototype],
    ['a PeriodicSyncManager', () => registration().periodicSync],
    ['a SyncManager', () => registration().sync],
  ])('the getter throws a TypeError "Illegal invocation" on %s', (_name, wrong) => {
    expect(() => periodicSyncGetter.call(wrong() as ServiceWorkerRegistration)).toThrow(new TypeError('Illegal invocation'));
  });

  it('a throwing get leaves no manager behind: the registration still gets one, once', () => {
    expect(() => periodicSyncGetter.call({} as ServiceWorkerRegistration)).toThrow(TypeError);
    const reg = registration();
    expect(reg.periodicSync).toBe(reg.periodicSync);
  });
});

describe('brand checks: methods called on the wrong object reject with a TypeError and never throw', () => {
  const wrongs: Array<[string, () => unknown]> = [
    ['a plain object', () => ({})],
    ['undefined', () => undefined],
    ['null', () => null],
    ['the prototype', () => PeriodicSyncManager.prototype],
    ['an object made from the prototype', () => Object.create(PeriodicSyncManager.prototype)],
    ['a registration', () => registration()],
    ['the registration\'s SyncManager', () => registration().sync],
  ];

  describe.each(['register', 'getTags', 'unregister'])('PeriodicSyncManager.prototype.%s', (name) => {
    it.each(wrongs)('on %s', async (_what, wrong) => {
      const error = await rejectsNotThrows(() => periodicProto[name].call(wrong(), 'tag', { minInterval: 1 }));
      expect(error).toBeInstanceOf(TypeError);
      expect((error as TypeError).message).toBe('Illegal invocation');
      expect(periodic.register).not.toHaveBeenCalled();
      expect(periodic.getTags).not.toHaveBeenCalled();
      expect(periodic.unregister).not.toHaveBeenCalled();
      expect(oneShot.register).not.toHaveBeenCalled();
      expect(oneShot.getTags).not.toHaveBeenCalled();
    });
  });

  it.each(['register', 'getTags'])('SyncManager.prototype.%s on a PeriodicSyncManager', async (name) => {
    const error = await rejectsNotThrows(() => syncProto[name].call(registration().periodicSync, 'tag'));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toBe('Illegal invocation');
    expect(oneShot.register).not.toHaveBeenCalled();
    expect(oneShot.getTags).not.toHaveBeenCalled();
    expect(periodic.register).not.toHaveBeenCalled();
    expect(periodic.getTags).not.toHaveBeenCalled();
  });

  it('the brand check comes before the argument checks (no argument: "Illegal invocation", not "1 argument required")', async () => {
    for (const name of ['register', 'unregister']) {
      const error = await rejectsNotThrows(() => periodicProto[name].call({}));
      expect((error as TypeError).message).toBe('Illegal invocation');
    }
  });

  it('the brand check comes before converting the arguments (a tag\'s toString is never called)', async () => {
    const toString = vi.fn(() => 'tag');
    const valueOf = vi.fn(() => 5);
    await rejectsNotThrows(() => periodicProto.register.call({}, { toString }, { minInterval: { valueOf } }));
    await rejectsNotThrows(() => periodicProto.unregister.call({}, { toString }));
    expect(toString).not.toHaveBeenCalled();
    expect(valueOf).not.toHaveBeenCalled();
  });

  it('a manager\'s own methods still work after being called on the wrong object', async () => {
    const reg = registration();
    await rejection(periodicProto.register.call(reg.sync, 'x'));
    await expect(reg.periodicSync.register('x')).resolves.toBeUndefined();
    expect(periodic.register).toHaveBeenCalledWith(reg, 'x', 0);
  });
});

describe('register(tag, options)', () => {
  it('resolves with undefined once the host has registered, and hands it (registration, tag, minInterval)', async () => {
    const reg = registration();
    let finish!: () => void;
    periodic.register.mockImplementationOnce(() => new Promise<void>((resolve) => (finish = resolve)));
    let settled = false;
    const result = reg.periodicSync.register('news', { minInterval: 86_400_000 }).finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 5));
    expect(settled).toBe(false); // waits for the host
    finish();
    await expect(result).resolves.toBeUndefined();
    expect(periodic.register).toHaveBeenCalledTimes(1);
    expect(periodic.register.mock.calls[0]).toEqual([reg, 'news', 86_400_000]);
    expect(periodic.register.mock.calls[0][0]).toBe(reg);
    expect(oneShot.register).not.toHaveBeenCalled();
  });

  it('hands the host the registration it was called on', async () => {
    const a = registration(SCOPE);
    const b = registration(OTHER_SCOPE);
    await a.periodicSync.register('one', { minInterval: 1 });
    await b.periodicSync.register('two', { minInterval: 2 });
    expect(periodic.register.mock.calls).toEqual([[a, 'one', 1], [b, 'two', 2]]);
    expect(periodic.register.mock.calls[0][0]).toBe(a);
    expect(periodic.register.mock.calls[1][0]).toBe(b);
    expect(await a.periodicSync.getTags()).toEqual(['one']);
    expect(await b.periodicSync.getTags()).toEqual(['two']);
  });

  it('calls the host synchronously, in the same turn (a page batches a turn\'s calls into one request)', () => {
    const reg = registration();
    void reg.periodicSync.register('a');
    void reg.periodicSync.register('b', { minInterval: 3 });
    expect(periodic.register.mock.calls.map((call) => [call[1], call[2]])).toEqual([['a', 0], ['b', 3]]);
  });

  it('rejects with the host\'s error itself', async () => {
    const error = new DOMException('Periodic Background Sync storage failed: quota', 'UnknownError');
    periodic.register.mockRejectedValueOnce(error);
    expect(await rejection(registration().periodicSync.register('news'))).toBe(error);
  });

  it('a host that throws synchronously still gives a rejection, never a throw', async () => {
    const error = new DOMException('x', 'NotAllowedError');
    periodic.register.mockImplementationOnce(() => {
      throw error;
    });
    const reg = registration();
    expect(await rejectsNotThrows(() => reg.periodicSync.register('news'))).toBe(error);
  });

  describe('the tag', () => {
    it('no argument at all rejects with a TypeError saying 1 argument is required', async () => {
      const error = await rejectsNotThrows(() => loose(registration()).register());
      expect(error).toBeInstanceOf(TypeError);
      expect((error as TypeError).message)
        .toBe("Failed to execute 'register' on 'PeriodicSyncManager': 1 argument required");
      expect(periodic.register).not.toHaveBeenCalled();
    });

    it('a Symbol rejects with a TypeError', async () => {
      const error = await rejectsNotThrows(() => loose(registration()).register(Symbol('tag')));
      expect(error).toBeInstanceOf(TypeError);
      expect((error as TypeError).message).toMatch(/Symbol/);
      expect(periodic.register).not.toHaveBeenCalled();
    });

    it('an object whose toString throws rejects with that same error', async () => {
      const error = new Error('from toString');
      expect(await rejection(loose(registration()).register({ toString() { throw error; } }))).toBe(error);
      expect(periodic.register).not.toHaveBeenCalled();
    });

    it.each([
      ['the empty string', '', ''],
      ['a number', 42, '42'],
      ['null', null, 'null'],
      ['an explicit undefined', undefined, 'undefined'],
      ['a boolean', true, 'true'],
      ['an object', { toString: () => 'custom' }, 'custom'],
      ['an array', ['a', 'b'], 'a,b'],
      ['a lone surrogate', '\uD800', '\uD800'],
    ])('converts %s with String()', async (_name, value, tag) => {
      const reg = registration();
      await loose(reg).register(value);
      expect(periodic.register).toHaveBeenCalledWith(reg, tag, 0);
      expect(typeof periodic.register.mock.calls[0][1]).toBe('string');
    });

    it('is converted once', async () => {
      const toString = vi.fn(() => 'once');
      await loose(registration()).register({ toString });
      expect(toString).toHaveBeenCalledTimes(1);
    });
  });

  describe('the options (BackgroundSyncOptions)', () => {
    it.each([
      ['missing', []],
      ['undefined', [undefined]],
      ['null', [null]],
      ['{}', [{}]],
      ['{ minInterval: undefined }', [{ minInterval: undefined }]],
      ['an object with other members only', [{ interval: 5, minInterval_: 6 }]],
      ['an array', [[]]],
    ])('%s → minInterval 0', async (_name, options) => {
      const reg = registration();
      await expect(loose(reg).register('t', ...options)).resolves.toBeUndefined();
      expect(periodic.register).toHaveBeenCalledWith(reg, 't', 0);
    });

    it.each([
      ['a number', 5],
      ['zero', 0],
      ['a string', '{"minInterval":5}'],
      ['the empty string', ''],
      ['true', true],
      ['false', false],
      ['a Symbol', Symbol('options')],
      ['a BigInt', BigInt(5)],
    ])('%s as options rejects with a TypeError', async (_name, options) => {
      const error = await rejectsNotThrows(() => loose(registration()).register('t', options));
      expect(error).toBeInstanceOf(TypeError);
      expect(periodic.register).not.toHaveBeenCalled();
    });

    it('a function is an object and is accepted as the dictionary', async () => {
      const reg = registration();
      await loose(reg).register('t', Object.assign(() => undefined, { minInterval: 7 }));
      expect(periodic.register).toHaveBeenCalledWith(reg, 't', 7);
    });

    it('minInterval is read with [[Get]]: an inherited one counts, and a getter is called exactly once', async () => {
      const reg = registration();
      await loose(reg).register('inherited', Object.create({ minInterval: 9 }));
      const get = vi.fn(() => 11);
      await loose(reg).register('getter', Object.defineProperty({}, 'minInterval', { get, enumerable: true }));
      expect(get).toHaveBeenCalledTimes(1);
      expect(periodic.register.mock.calls.map((call) => call[2])).toEqual([9, 11]);
    });

    it.each<[string, unknown, number]>([
      ['an integer', 43_200_000, 43_200_000],
      ['zero', 0, 0],
      ['-0', -0, 0],
      ['1.9 (the fraction dropped, not rounded)', 1.9, 1],
      ['0.999', 0.999, 0],
      ['-0.9 (truncated to 0, which is in range)', -0.9, 0],
      ['"5"', '5', 5],
      ['" 7 " (ToNumber trims)', ' 7 ', 7],
      ['"0x10"', '0x10', 16],
      ['""', '', 0],
      ['null', null, 0],
      ['true', true, 1],
      ['false', false, 0],
      ['[3]', [3], 3],
      ['an object with valueOf', { valueOf: () => 12.7 }, 12],
      ['an object with toString only', { toString: () => '8' }, 8],
      ['2^53 − 1, the largest', Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
      ['1e3', 1e3, 1000],
    ])('minInterval %s → %d ([EnforceRange] unsigned long long)', async (_name, minInterval, expected) => {
      const reg = registration();
      await expect(reg.periodicSync.register('t', { minInterval: minInterval as number })).resolves.toBeUndefined();
      expect(periodic.register).toHaveBeenCalledTimes(1);
      expect(Object.is(periodic.register.mock.calls[0][2], expected)).toBe(true);
    });

    it.each<[string, unknown]>([
      ['-1', -1],
      ['-1.5', -1.5],
      ['NaN', NaN],
      ['Infinity', Infinity],
      ['-Infinity', -Infinity],
      ['2^53', 2 ** 53],
      ['1e300', 1e300],
      ['"abc" (NaN)', 'abc'],
      ['"-5"', '-5'],
      ['{} (NaN)', {}],
      ['[1, 2] (NaN)', [1, 2]],
      ['a Symbol', Symbol('interval')],
      ['a BigInt', BigInt(5)],
    ])('minInterval %s rejects with a TypeError, the host never asked', async (_name, minInterval) => {
      const error = await rejectsNotThrows(() => loose(registration()).register('t', { minInterval }));
      expect(error).toBeInstanceOf(TypeError);
      expect((error as TypeError).message).toContain('PeriodicSyncManager');
      expect(periodic.register).not.toHaveBeenCalled();
    });

    it('a BigInt object (its valueOf gives a BigInt, which ToNumber refuses) rejects with a TypeError', async () => {
      const error = await rejectsNotThrows(() => loose(registration()).register('t', { minInterval: Object(BigInt(5)) }));
      expect(error).toBeInstanceOf(TypeError);
      expect(periodic.register).not.toHaveBeenCalled();
    });

    it('an object whose valueOf throws: that error propagates, as the rejection', async () => {
      const error = new Error('from valueOf');
      const reason = await rejectsNotThrows(() => loose(registration()).register('t', { minInterval: { valueOf() { throw error; } } }));
      expect(reason).toBe(error);
      expect(periodic.register).not.toHaveBeenCalled();
    });

    it('a minInterval getter that throws: that error propagates', async () => {
      const error = new Error('from the getter');
      const options = Object.defineProperty({}, 'minInterval', { get() { throw error; } });
      expect(await rejection(loose(registration()).register('t', options))).toBe(error);
      expect(periodic.register).not.toHaveBeenCalled();
    });

    it('extra arguments are ignored', async () => {
      const reg = registration();
      await loose(reg).register('t', { minInterval: 4 }, 'extra', { minInterval: 99 });
      expect(periodic.register.mock.calls).toEqual([[reg, 't', 4]]);
    });
  });

  describe('the order of the checks', () => {
    it('the tag is converted before the options: a Symbol tag with bad options gives the tag\'s error', async () => {
      const optionsError = new Error('from minInterval');
      const error = await rejection(loose(registration()).register(Symbol('t'), { minInterval: { valueOf() { throw optionsError; } } }));
      expect(error).toBeInstanceOf(TypeError);
      expect(error).not.toBe(optionsError);
      expect((error as TypeError).message).toMatch(/Symbol/);
      const error2 = await rejection(loose(registration()).register(Symbol('t'), 5));
      expect((error2 as TypeError).message).toMatch(/Symbol/);
      expect((error2 as TypeError).message).not.toMatch(/options/);
    });

    it('the tag\'s toString runs before the options are read, each once', async () => {
      const order: string[] = [];
      const tag = { toString: () => (order.push('tag'), 't') };
      const options = { get minInterval() { order.push('minInterval'); return { valueOf: () => (order.push('valueOf'), 2) }; } };
      const reg = registration();
      await loose(reg).register(tag, options);
      expect(order).toEqual(['tag', 'minInterval', 'valueOf']);
      expect(periodic.register).toHaveBeenCalledWith(reg, 't', 2);
    });

    it('a tag whose toString throws wins over bad options', async () => {
      const tagError = new Error('tag');
      const valueOf = vi.fn(() => 1);
      const error = await rejection(loose(registration()).register({ toString() { throw tagError; } }, { minInterval: { valueOf } }));
      expect(error).toBe(tagError);
      expect(valueOf).not.toHaveBeenCalled();
    });

    it('the arguments are converted before the active worker check', async () => {
      const reg = registration(SCOPE, null);
      expect(await rejection(loose(reg).register(Symbol()))).toBeInstanceOf(TypeError);
      expect(await rejection(loose(reg).register('t', { minInterval: -1 }))).toBeInstanceOf(TypeError);
      expect(await rejection(loose(reg).register('t', 'bad'))).toBeInstanceOf(TypeError);
    });

    it('the arguments are converted before the tag length check', async () => {
      const error = await rejection(loose(registration()).register('x'.repeat(MAX_TAG_LENGTH + 1), { minInterval: NaN }));
      expect(error).toBeInstanceOf(TypeError);
    });
  });

  it('no active worker → InvalidStateError, before the tag length check, the host never asked', async () => {
    const reg = registration(SCOPE, null);
    for (const tag of ['news', 'x'.repeat(MAX_TAG_LENGTH + 1)]) {
      const error = await rejectsNotThrows(() => reg.periodicSync.register(tag, { minInterval: 1000 }));
      expectDOMException(error, 'InvalidStateError');
      expect((error as DOMException).message).toBe('Registration failed - no active Service Worker');
    }
    expect(periodic.register).not.toHaveBeenCalled();
  });

  it('a tag of 10241 characters → InvalidAccessError, the host never asked; exactly 10240 is fine', async () => {
    expect(MAX_TAG_LENGTH).toBe(10240);
    const reg = registration();
    const error = await rejectsNotThrows(() => reg.periodicSync.register('x'.repeat(10241)));
    expectDOMException(error, 'InvalidAccessError');
    expect((error as DOMException).message).toBe('Registration failed - the tag is longer than 10240 characters');
    expect(periodic.register).not.toHaveBeenCalled();
    await expect(reg.periodicSync.register('y'.repeat(10240), { minInterval: 5 })).resolves.toBeUndefined();
    expect(periodic.register).toHaveBeenCalledWith(reg, 'y'.repeat(10240), 5);
  });

  it('the length is that of the converted tag, in UTF-16 code units', async () => {
    const reg = registration();
    const long = { toString: () => 'z'.repeat(10241) };
    expectDOMException(await rejection(loose(reg).register(long)), 'InvalidAccessError');
    await expect(reg.periodicSync.register('😀'.repeat(5120))).resolves.toBeUndefined();
    expectDOMException(await rejection(reg.periodicSync.register('😀'.repeat(5120) + 'x')), 'InvalidAccessError');
    expect(periodic.register).toHaveBeenCalledTimes(1);
  });

  it('re-registering a tag is the host\'s business: each call reaches it with its own interval', async () => {
    const reg = registration();
    await reg.periodicSync.register('news', { minInterval: 1 });
    await reg.periodicSync.register('news', { minInterval: 2 });
    expect(periodic.register.mock.calls.map((call) => call[2])).toEqual([1, 2]);
    expect(stored.get(SCOPE)!.get('news')).toBe(2);
    expect(await reg.periodicSync.getTags()).toEqual(['news']);
  });
});

describe('getTags()', () => {
  it('resolves with what the host lists for the registration, and asks the periodic host only', async () => {
    const reg = registration();
    periodic.getTags.mockResolvedValueOnce(['b', 'a']);
    expect(await reg.periodicSync.getTags()).toEqual(['b', 'a']);
    expect(periodic.getTags).toHaveBeenCalledTimes(1);
    expect(periodic.getTags.mock.calls[0][0]).toBe(reg);
    expect(oneShot.getTags).not.toHaveBeenCalled();
  });

  it('a host that answers synchronously (an array) is fine too', async () => {
    periodic.getTags.mockImplementationOnce((() => ['sync-answer']) as never);
    const result = registration().periodicSync.getTags();
    expect(result).toBeInstanceOf(Promise);
    expect(await result).toEqual(['sync-answer']);
  });

  it('is empty at first, and lists what register() added, per scope', async () => {
    const a = registration(SCOPE);
    const b = registration(OTHER_SCOPE);
    expect(await a.periodicSync.getTags()).toEqual([]);
    await a.periodicSync.register('one');
    await b.periodicSync.register('other');
    await a.periodicSync.register('two');
    expect(await a.periodicSync.getTags()).toEqual(['one', 'two']);
    expect(await b.periodicSync.getTags()).toEqual(['other']);
    // The one-shot manager of the same registration has its own host.
    expect(await a.sync.getTags()).toEqual(['one-shot']);
  });

  it('rejects with the host\'s error itself', async () => {
    const error = new DOMException('gone', 'UnknownError');
    periodic.getTags.mockRejectedValueOnce(error);
    expect(await rejectsNotThrows(() => registration().periodicSync.getTags())).toBe(error);
  });

  it('a host that throws synchronously still gives a rejection', async () => {
    const error = new Error('sync throw');
    periodic.getTags.mockImplementationOnce(() => {
      throw error;
    });
    expect(await rejectsNotThrows(() => registration().periodicSync.getTags())).toBe(error);
  });

  it('takes no arguments: extra ones are ignored', async () => {
    const reg = registration();
    await loose(reg).getTags('x', 1);
    expect(periodic.getTags.mock.calls).toEqual([[reg]]);
  });

  it('needs no active worker (the draft\'s getTags() has no such step)', async () => {
    const reg = registration(SCOPE, null);
    periodic.getTags.mockResolvedValueOnce(['still']);
    expect(await reg.periodicSync.getTags()).toEqual(['still']);
  });
});

describe('unregister(tag)', () => {
  it('resolves with undefined once the host has unregistered, handing it (registration, tag)', async () => {
    const reg = registration();
    await reg.periodicSync.register('news');
    let finish!: () => void;
    periodic.unregister.mockImplementationOnce(async (r, tag) => {
      await new Promise<void>((resolve) => (finish = resolve));
      stored.get(r.scope)!.delete(tag);
    });
    let settled = false;
    const result = reg.periodicSync.unregister('news').finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 5));
    expect(settled).toBe(false);
    finish();
    await expect(result).resolves.toBeUndefined();
    expect(periodic.unregister.mock.calls).toEqual([[reg, 'news']]);
    expect(periodic.unregister.mock.calls[0][0]).toBe(reg);
    expect(await reg.periodicSync.getTags()).toEqual([]);
  });

  it('calls the host synchronously', () => {
    const reg = registration();
    void reg.periodicSync.unregister('a');
    expect(periodic.unregister).toHaveBeenCalledWith(reg, 'a');
  });

  it('no argument rejects with a TypeError saying 1 argument is required, never a throw', async () => {
    const error = await rejectsNotThrows(() => loose(registration()).unregister());
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toBe("Failed to execute 'unregister' on 'PeriodicSyncManager': 1 argument required");
    expect(periodic.unregister).not.toHaveBeenCalled();
  });

  it('a Symbol rejects with a TypeError; a toString that throws rejects with its error', async () => {
    expect(await rejectsNotThrows(() => loose(registration()).unregister(Symbol()))).toBeInstanceOf(TypeError);
    const error = new Error('toString');
    expect(await rejection(loose(registration()).unregister({ toString() { throw error; } }))).toBe(error);
    expect(periodic.unregister).not.toHaveBeenCalled();
  });

  it.each([
    ['a number', 7, '7'],
    ['null', null, 'null'],
    ['an explicit undefined', undefined, 'undefined'],
    ['an object', { toString: () => 'custom' }, 'custom'],
  ])('converts %s with String()', async (_name, value, tag) => {
    const reg = registration();
    await loose(reg).unregister(value);
    expect(periodic.unregister).toHaveBeenCalledWith(reg, tag);
  });

  it('an unknown tag is fine (the host resolves)', async () => {
    await expect(registration().periodicSync.unregister('never registered')).resolves.toBeUndefined();
  });

  it('rejects with the host\'s error itself, a synchronous throw included', async () => {
    const error = new DOMException('gone', 'UnknownError');
    periodic.unregister.mockRejectedValueOnce(error);
    expect(await rejection(registration().periodicSync.unregister('t'))).toBe(error);
    periodic.unregister.mockImplementationOnce(() => {
      throw error;
    });
    expect(await rejectsNotThrows(() => registration().periodicSync.unregister('t'))).toBe(error);
  });

  it('needs no active worker and has no tag length limit (the draft checks neither)', async () => {
    const reg = registration(SCOPE, null);
    await expect(reg.periodicSync.unregister('x'.repeat(MAX_TAG_LENGTH + 1))).resolves.toBeUndefined();
    expect(periodic.unregister).toHaveBeenCalledWith(reg, 'x'.repeat(MAX_TAG_LENGTH + 1));
  });

  it('ignores extra arguments', async () => {
    const reg = registration();
    await loose(reg).unregister('t', { minInterval: -1 });
    expect(periodic.unregister.mock.calls).toEqual([[reg, 't']]);
  });
});

describe('in a document that is no longer fully active (a removed iframe\'s)', () => {
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

  it.each<[string, (m: Registration['periodicSync']) => Promise<unknown>]>([
    ['register()', (m) => m.register('gone', { minInterval: 5 })],
    ['getTags()', (m) => m.getTags()],
    ['unregister()', (m) => m.unregister('gone')],
  ])('%s rejects with an InvalidStateError at once and never reaches the host', async (_name, call) => {
    const reg = registration();
    const error = await rejectsAtOnce(call(reg.periodicSync));
    expectDOMException(error, 'InvalidStateError');
    expect((error as DOMException).message).toBe('The document is not fully active');
    await new Promise((r) => setTimeout(r, 10));
    expect(periodic.register).not.toHaveBeenCalled();
    expect(periodic.getTags).not.toHaveBeenCalled();
    expect(periodic.unregister).not.toHaveBeenCalled();
  });

  it('the document check comes before the active worker check', async () => {
    const error = await rejectsAtOnce(registration(SCOPE, null).periodicSync.register('t'));
    expect((error as DOMException).message).toBe('The document is not fully active');
  });

  it('the brand check and the argument conversion come first (WebIDL)', async () => {
    expect(await rejectsAtOnce(periodicProto.register.call({}, 't'))).toBeInstanceOf(TypeError);
    expect(await rejectsAtOnce(periodicProto.getTags.call({}))).toBeInstanceOf(TypeError);
    expect(await rejectsAtOnce(periodicProto.unregister.call({}, 't'))).toBeInstanceOf(TypeError);
    const m = loose(registration());
    expect(await rejectsAtOnce(m.register())).toBeInstanceOf(TypeError);
    expect(await rejectsAtOnce(m.register('t', { minInterval: -1 }))).toBeInstanceOf(TypeError);
    expect(await rejectsAtOnce(m.register('t', 1))).toBeInstanceOf(TypeError);
    expect(await rejectsAtOnce(m.unregister())).toBeInstanceOf(TypeError);
  });

  it('once the document is back (defaultView again), the same manager works', async () => {
    const reg = registration();
    await rejection(reg.periodicSync.register('t'));
    delete (document as unknown as Record<string, unknown>).defaultView;
    await expect(reg.periodicSync.register('t')).resolves.toBeUndefined();
    expect(periodic.register).toHaveBeenCalledTimes(1);
  });

  it('a global without a document (the service worker) is not affected', async () => {
    vi.stubGlobal('document', undefined);
    const reg = registration();
    await expect(reg.periodicSync.register('worker-side', { minInterval: 1 })).resolves.toBeUndefined();
    expect(await reg.periodicSync.getTags()).toEqual(['worker-side']);
    await expect(reg.periodicSync.unregister('worker-side')).resolves.toBeUndefined();
    expect(await reg.periodicSync.getTags()).toEqual([]);
    expect(periodic.register).toHaveBeenCalledTimes(1);
    expect(periodic.unregister).toHaveBeenCalledTimes(1);
  });
});
