/**
 * SyncManager and PeriodicSyncManager, and their getters `ServiceWorkerRegistration.prototype.sync` and
 * `.periodicSync` (src/web/sync-manager.ts), where the two behave alike: one test runs over both (describe.each over
 * MANAGER_KINDS). What is PeriodicSyncManager's own (its options, unregister(), and how it keeps apart from
 * SyncManager) is tested in periodic-sync-manager.test.ts.
 *
 *   interface SyncManager {
 *     Promise<undefined> register(DOMString tag);
 *     Promise<sequence<DOMString>> getTags();
 *   };
 *   interface PeriodicSyncManager {
 *     Promise<undefined> register(DOMString tag, optional BackgroundSyncOptions options = {});
 *     Promise<sequence<DOMString>> getTags();
 *     Promise<undefined> unregister(DOMString tag);
 *   };
 *
 * The managers only check and convert their arguments and hand the rest to a host, mocked here (webidl-helpers.ts).
 * The calls below give register() an interval too: SyncManager ignores it, PeriodicSyncManager hands it on.
 */
import { describe, expect, it, vi } from 'vitest';
import { MAX_TAG_LENGTH, shapeManagers } from '../../../src/web/sync-manager';
import { OTHER_SCOPE, SCOPE, sleep } from '../helpers';
import {
  FakeRegistration, MANAGER_KINDS, expectDOMException, expectNoHostCalls, reattachDocument, registration, rejection,
  rejectsAtOnce, rejectsNotThrows, titled, useDetachedDocument, useManagers,
} from './webidl-helpers';

useManagers();

/** The kinds, each titled by its interface's name. */
const MANAGERS = titled(MANAGER_KINDS, (kind) => kind.name);

describe.each(MANAGERS)('%s WebIDL shape', (_name, kind) => {
  const { Class, of } = kind;

  it(`new ${kind.name}() throws a TypeError, and so does calling it without new`, () => {
    expect(() => new (Class as unknown as new () => unknown)()).toThrow(TypeError);
    expect(() => new (Class as unknown as new () => unknown)()).toThrow('Illegal constructor');
    expect(() => (Class as unknown as () => unknown)()).toThrow(TypeError);
  });

  it('is named as its interface, its constructor.length is 0 and its prototype inherits from Object.prototype', () => {
    expect(Class.name).toBe(kind.name);
    expect(Class.length).toBe(0);
    expect(Object.getPrototypeOf(Class.prototype)).toBe(Object.prototype);
    expect(Class.prototype.constructor).toBe(Class);
  });

  it.each(kind.operations)('%s is an enumerable, writable, configurable method on the prototype with length %i and its name', (name, length) => {
    const descriptor = Object.getOwnPropertyDescriptor(Class.prototype, name)!;
    expect(typeof descriptor.value).toBe('function');
    expect(descriptor.enumerable).toBe(true);
    expect(descriptor.writable).toBe(true);
    expect(descriptor.configurable).toBe(true);
    expect(descriptor.value.length).toBe(length);
    expect(descriptor.value.name).toBe(name);
    expect(Object.prototype.hasOwnProperty.call(of(registration()), name)).toBe(false);
  });

  it('the prototype has exactly its operations, the constructor and the toStringTag', () => {
    const operations = kind.operations.map(([name]) => name);
    const byName = (a: string | symbol, b: string | symbol) => String(a).localeCompare(String(b));
    expect(Reflect.ownKeys(Class.prototype).sort(byName)).toEqual(['constructor', ...operations, Symbol.toStringTag].sort(byName));
    // The operations enumerate (for...in), the constructor does not.
    const enumerated: string[] = [];
    for (const key in of(registration())) enumerated.push(key);
    expect(enumerated.sort()).toEqual(operations.sort());
  });

  it('the manager has no own properties', () => {
    expect(Reflect.ownKeys(of(registration()))).toEqual([]);
  });

  it(`toStringTag is ${kind.name}, like a native interface (not enumerable, not writable)`, () => {
    expect(Object.prototype.toString.call(of(registration()))).toBe(`[object ${kind.name}]`);
    expect(Object.prototype.toString.call(Class.prototype)).toBe(`[object ${kind.name}]`);
    expect(Object.getOwnPropertyDescriptor(Class.prototype, Symbol.toStringTag))
      .toEqual({ value: kind.name, writable: false, enumerable: false, configurable: true });
  });

  it('shapeManagers() a second time changes nothing', () => {
    const shape = () => Reflect.ownKeys(Class.prototype).map((key) => [key, Object.getOwnPropertyDescriptor(Class.prototype, key)]);
    const before = shape();
    shapeManagers();
    expect(shape()).toEqual(before);
  });
});

describe.each(titled(MANAGER_KINDS, (kind) => kind.attribute))('registration.%s', (_name, kind) => {
  const { Class, attribute, getter, of } = kind;

  it(`the getter is named "get ${attribute}", takes no argument and has no prototype (not a constructor)`, () => {
    expect(Object.getOwnPropertyDescriptor(FakeRegistration.prototype, attribute)!.get).toBe(getter);
    expect(getter.name).toBe(`get ${attribute}`);
    expect(getter.length).toBe(0);
    expect(Object.prototype.hasOwnProperty.call(getter, 'prototype')).toBe(false);
    expect(() => new (getter as unknown as new () => unknown)()).toThrow(TypeError);
  });

  it(`is one ${kind.name} per registration, the same on every get ([SameObject])`, () => {
    const a = registration();
    const b = registration();
    const first = of(a);
    expect(first).toBeInstanceOf(Class);
    expect(Object.getPrototypeOf(first)).toBe(Class.prototype);
    expect(of(a)).toBe(first);
    expect(getter.call(a)).toBe(first);
    expect(of(b)).not.toBe(first);
    expect(of(b)).toBe(of(b));
  });

  it.each<[string, () => unknown]>([
    ['a plain object', () => ({})],
    ['undefined', () => undefined],
    ['null', () => null],
    ['a number', () => 1],
    ['the prototype', () => Class.prototype],
    ['a SyncManager', () => registration().sync],
    ['a PeriodicSyncManager', () => registration().periodicSync],
  ])('the getter throws a TypeError "Illegal invocation" on %s', (_name, wrong) => {
    expect(() => getter.call(wrong() as ServiceWorkerRegistration)).toThrow(new TypeError('Illegal invocation'));
  });

  it('a throwing get leaves no manager behind: the registration still gets one, once', () => {
    expect(() => getter.call({} as ServiceWorkerRegistration)).toThrow(TypeError);
    const reg = registration();
    expect(of(reg)).toBe(of(reg));
  });
});

describe.each(MANAGERS)('%s brand checks: methods called on the wrong object reject with a TypeError and never throw', (_name, kind) => {
  const { Class, proto, of, other } = kind;
  const wrongs: Array<[string, () => unknown]> = [
    ['a plain object', () => ({})],
    ['undefined', () => undefined],
    ['null', () => null],
    ['the prototype', () => Class.prototype],
    ['an object made from the prototype', () => Object.create(Class.prototype)],
    ['a registration', () => registration()],
    ['the registration\'s other manager', () => other(registration())],
  ];

  describe.each(kind.operations.map(([name]) => name))(`${kind.name}.prototype.%s`, (name) => {
    it.each(wrongs)('on %s', async (_what, wrong) => {
      const error = await rejectsNotThrows(() => proto[name].call(wrong(), 'tag', { minInterval: 1 }));
      expect(error).toBeInstanceOf(TypeError);
      expect((error as TypeError).message).toBe('Illegal invocation');
      expectNoHostCalls();
    });
  });

  it('the brand check comes before the argument checks (no argument: "Illegal invocation", not "1 argument required")', async () => {
    for (const name of kind.tagOperations) {
      const error = await rejectsNotThrows(() => proto[name].call({}));
      expect((error as TypeError).message).toBe('Illegal invocation');
    }
  });

  it('the brand check comes before converting the arguments (a tag\'s toString is never called)', async () => {
    const toString = vi.fn(() => 'tag');
    const valueOf = vi.fn(() => 5);
    for (const name of kind.tagOperations) {
      await rejectsNotThrows(() => proto[name].call({}, { toString }, { minInterval: { valueOf } }));
    }
    expect(toString).not.toHaveBeenCalled();
    expect(valueOf).not.toHaveBeenCalled();
  });

  it('a manager\'s own methods still work after being called on the wrong object', async () => {
    const reg = registration();
    await rejection(proto.register.call(other(reg), 'x'));
    await expect(of(reg).register('x')).resolves.toBeUndefined();
    expect(kind.host().register).toHaveBeenCalledWith(reg, ...kind.hostArgs('x'));
  });
});

describe.each(MANAGERS)('%s register(tag)', (_name, kind) => {
  const { of, host, hostArgs } = kind;

  it('resolves with undefined once the host has registered, and hands it the registration and the tag', async () => {
    const reg = registration();
    let finish!: () => void;
    host().register.mockImplementationOnce(() => new Promise<void>((resolve) => (finish = resolve)));
    let settled = false;
    const result = of(reg).register('outbox', { minInterval: 86_400_000 }).finally(() => (settled = true));
    await sleep(5);
    expect(settled).toBe(false); // waits for the host
    finish();
    await expect(result).resolves.toBeUndefined();
    expect(host().register).toHaveBeenCalledTimes(1);
    expect(host().register).toHaveBeenCalledWith(reg, ...hostArgs('outbox', 86_400_000));
    expect(host().register.mock.calls[0][0]).toBe(reg);
    expect(kind.otherHost().register).not.toHaveBeenCalled();
  });

  it('hands the host the registration it was called on, and nothing else', async () => {
    const a = registration(SCOPE);
    const b = registration(OTHER_SCOPE);
    await of(a).register('one', { minInterval: 1 });
    await of(b).register('two', { minInterval: 2 });
    expect(host().register.mock.calls).toEqual([[a, ...hostArgs('one', 1)], [b, ...hostArgs('two', 2)]]);
    expect(host().register.mock.calls[0][0]).toBe(a);
    expect(host().register.mock.calls[1][0]).toBe(b);
    expect(host().getTags).not.toHaveBeenCalled();
    expect(await of(a).getTags()).toEqual(['one']);
    expect(await of(b).getTags()).toEqual(['two']);
  });

  // A page's register() calls of one turn travel as one request (src/page/host.ts): that needs the host called in
  // the same turn, before any await.
  it('calls the host synchronously, before returning its promise', () => {
    const reg = registration();
    void of(reg).register('a');
    void of(reg).register('b', { minInterval: 3 });
    expect(host().register.mock.calls.map((call) => call.slice(1))).toEqual([hostArgs('a'), hostArgs('b', 3)]);
  });

  it('rejects with the host\'s error itself (the DOMException the worker raised)', async () => {
    const error = new DOMException('Background Sync storage failed: quota', 'UnknownError');
    host().register.mockRejectedValueOnce(error);
    expect(await rejection(of(registration()).register('outbox'))).toBe(error);
  });

  it('a host that throws synchronously still gives a rejection, never a throw', async () => {
    const error = new DOMException('x', 'InvalidAccessError');
    host().register.mockImplementationOnce(() => {
      throw error;
    });
    expect(await rejectsNotThrows(() => of(registration()).register('outbox'))).toBe(error);
  });

  it('no argument at all rejects with a TypeError saying 1 argument is required (not a synchronous throw)', async () => {
    const error = await rejectsNotThrows(() => of(registration()).register());
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toBe(`Failed to execute 'register' on '${kind.name}': 1 argument required`);
    expect(host().register).not.toHaveBeenCalled();
  });

  it('a Symbol rejects with a TypeError', async () => {
    const error = await rejectsNotThrows(() => of(registration()).register(Symbol('tag')));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toMatch(/Symbol/);
    expect(host().register).not.toHaveBeenCalled();
  });

  it('an object whose toString throws rejects with that same error', async () => {
    const error = new Error('from toString');
    expect(await rejection(of(registration()).register({ toString() { throw error; } }))).toBe(error);
    expect(host().register).not.toHaveBeenCalled();
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
  ])('converts %s like a DOMString (String())', async (_name, value, tag) => {
    const reg = registration();
    await of(reg).register(value);
    expect(host().register).toHaveBeenCalledWith(reg, ...hostArgs(tag));
    expect(typeof host().register.mock.calls[0][1]).toBe('string');
    expect(await of(reg).getTags()).toEqual([tag]);
  });

  it('the tag is converted once', async () => {
    const toString = vi.fn(() => 'once');
    await of(registration()).register({ toString });
    expect(toString).toHaveBeenCalledTimes(1);
  });

  it('no active worker → InvalidStateError, before the tag length check, the host never asked', async () => {
    const reg = registration(SCOPE, null);
    for (const tag of ['outbox', 'x'.repeat(MAX_TAG_LENGTH + 1)]) {
      const error = await rejectsNotThrows(() => of(reg).register(tag, { minInterval: 1000 }));
      expectDOMException(error, 'InvalidStateError');
      expect((error as DOMException).message).toBe('Registration failed - no active Service Worker');
    }
    expect(host().register).not.toHaveBeenCalled();
  });

  it('argument conversion comes before the active worker check', async () => {
    expect(await rejection(of(registration(SCOPE, null)).register(Symbol()))).toBeInstanceOf(TypeError);
  });

  it('a tag of 10241 characters → InvalidAccessError, the host never asked; 10240 is fine (Chromium\'s limit)', async () => {
    expect(MAX_TAG_LENGTH).toBe(10240);
    const reg = registration();
    const error = await rejectsNotThrows(() => of(reg).register('x'.repeat(10241)));
    expectDOMException(error, 'InvalidAccessError');
    expect((error as DOMException).message).toBe('Registration failed - the tag is longer than 10240 characters');
    expect(host().register).not.toHaveBeenCalled();
    await expect(of(reg).register('y'.repeat(10240), { minInterval: 5 })).resolves.toBeUndefined();
    expect(host().register).toHaveBeenCalledWith(reg, ...hostArgs('y'.repeat(10240), 5));
    expect(await of(reg).getTags()).toEqual(['y'.repeat(10240)]);
  });

  it('the length is that of the converted tag, in UTF-16 code units: 5120 emoji are 10240 and pass, one more does not', async () => {
    const reg = registration();
    const long = { toString: () => 'z'.repeat(10241) };
    expectDOMException(await rejection(of(reg).register(long)), 'InvalidAccessError');
    await expect(of(reg).register('😀'.repeat(5120))).resolves.toBeUndefined();
    expectDOMException(await rejection(of(reg).register('😀'.repeat(5120) + 'x')), 'InvalidAccessError');
    expect(host().register).toHaveBeenCalledTimes(1);
  });
});

describe.each(MANAGERS)('%s getTags()', (_name, kind) => {
  const { of, other, host } = kind;

  it('resolves with what its own host lists for the registration', async () => {
    const reg = registration();
    host().getTags.mockResolvedValueOnce(['b', 'a']);
    expect(await of(reg).getTags()).toEqual(['b', 'a']);
    expect(host().getTags).toHaveBeenCalledTimes(1);
    expect(host().getTags).toHaveBeenCalledWith(reg);
    expect(host().getTags.mock.calls[0][0]).toBe(reg);
    expect(kind.otherHost().getTags).not.toHaveBeenCalled();
  });

  it('a host that answers synchronously (an array) is fine too', async () => {
    host().getTags.mockImplementationOnce((() => ['sync-answer']) as never);
    const result = of(registration()).getTags();
    expect(result).toBeInstanceOf(Promise);
    expect(await result).toEqual(['sync-answer']);
  });

  it('is empty at first, then lists tags in registration order, coalescing repeats, per registration scope', async () => {
    const a = registration(SCOPE);
    const b = registration(OTHER_SCOPE);
    expect(await of(a).getTags()).toEqual([]);
    await of(a).register('one');
    await of(b).register('other');
    await of(a).register('two');
    await of(a).register('one');
    await of(a).register('three');
    expect(await of(a).getTags()).toEqual(['one', 'two', 'three']);
    expect(await of(b).getTags()).toEqual(['other']);
    // The other manager of the same registration has its own host.
    expect(await other(a).getTags()).toEqual([]);
  });

  it('two registration objects for the same scope see the same tags', async () => {
    await of(registration(SCOPE)).register('shared');
    expect(await of(registration(SCOPE)).getTags()).toEqual(['shared']);
  });

  it('rejects with the host\'s error itself', async () => {
    const error = new DOMException('Background Sync storage failed: gone', 'UnknownError');
    host().getTags.mockRejectedValueOnce(error);
    expect(await rejectsNotThrows(() => of(registration()).getTags())).toBe(error);
  });

  it('a host that throws synchronously still gives a rejection', async () => {
    const error = new Error('sync throw');
    host().getTags.mockImplementationOnce(() => {
      throw error;
    });
    expect(await rejectsNotThrows(() => of(registration()).getTags())).toBe(error);
  });

  it('takes no arguments: extra ones are ignored', async () => {
    const reg = registration();
    await of(reg).getTags('x', 1);
    expect(host().getTags.mock.calls).toEqual([[reg]]);
  });

  it('needs no active worker (getTags() has no such step)', async () => {
    const reg = registration(SCOPE, null);
    host().getTags.mockResolvedValueOnce(['still']);
    expect(await of(reg).getTags()).toEqual(['still']);
  });
});

describe.each(MANAGERS)('%s in a document that is no longer fully active (a removed iframe\'s)', (_name, kind) => {
  const { proto, of, host } = kind;
  useDetachedDocument();

  it.each(kind.operations.map(([name]) => name))('%s() rejects with an InvalidStateError at once and never reaches the host', async (name) => {
    const reg = registration();
    const error = await rejectsAtOnce(of(reg)[name as 'register']('gone', { minInterval: 5 }));
    expectDOMException(error, 'InvalidStateError');
    expect((error as DOMException).message).toBe('The document is not fully active');
    await sleep(10);
    expectNoHostCalls();
    reattachDocument();
    expect(await of(reg).getTags()).toEqual([]);
  });

  it('the document check comes before the active worker check', async () => {
    const error = await rejectsAtOnce(of(registration(SCOPE, null)).register('t'));
    expect((error as DOMException).message).toBe('The document is not fully active');
  });

  it('the brand check and the argument conversion come first (WebIDL)', async () => {
    for (const [name] of kind.operations) expect(await rejectsAtOnce(proto[name].call({}, 't'))).toBeInstanceOf(TypeError);
    const m = of(registration());
    for (const name of kind.tagOperations) {
      expect(await rejectsAtOnce(m[name as 'register']())).toBeInstanceOf(TypeError);
      expect(await rejectsAtOnce(proto[name].call(m))).toBeInstanceOf(TypeError);
    }
  });

  it('once the document is back (defaultView again), the same manager works', async () => {
    const reg = registration();
    await rejection(of(reg).register('t'));
    reattachDocument();
    await expect(of(reg).register('t')).resolves.toBeUndefined();
    expect(host().register).toHaveBeenCalledTimes(1);
  });

  it('a global without a document (the service worker) is not affected', async () => {
    vi.stubGlobal('document', undefined);
    const reg = registration();
    await expect(of(reg).register('worker-side', { minInterval: 1 })).resolves.toBeUndefined();
    expect(await of(reg).getTags()).toEqual(['worker-side']);
    expect(host().register).toHaveBeenCalledTimes(1);
  });
});
