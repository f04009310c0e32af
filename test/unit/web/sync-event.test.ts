/**
 * SyncEvent and PeriodicSyncEvent (src/web/sync-event.ts, defineSyncEvents()), their dispatch by dispatchSyncEvent(), and
 * the EventHandler attributes `onsync` and `onperiodicsync` (defineHandler()), against the Background Sync spec, the
 * WICG periodic draft (https://wicg.github.io/periodic-background-sync/) and WebIDL:
 *
 *   dictionary SyncEventInit : ExtendableEventInit { required DOMString tag; boolean lastChance = false; };
 *   interface SyncEvent : ExtendableEvent { constructor(DOMString type, SyncEventInit init);
 *     readonly attribute DOMString tag; readonly attribute boolean lastChance; };
 *   dictionary PeriodicSyncEventInit : ExtendableEventInit { required DOMString tag; };
 *   interface PeriodicSyncEvent : ExtendableEvent { constructor(DOMString type, PeriodicSyncEventInit init);
 *     readonly attribute DOMString tag; };
 *   partial interface ServiceWorkerGlobalScope { attribute EventHandler onsync; attribute EventHandler onperiodicsync; };
 *
 * Where the two events (and their handlers) behave alike, one test runs over both (describe.each over EVENT_KINDS);
 * what is SyncEvent's own (lastChance) is at the end of this file, what is PeriodicSyncEvent's own, and how the two
 * keep apart, in periodic-sync-event.test.ts.
 */
import { describe, expect, it, vi } from 'vitest';
import { ExtendableEvent, sleep } from '../helpers';
import {
  AnySyncEvent, Deferred, EVENT_KINDS, PERIODIC_SYNC_EVENT, ReportingTarget, SYNC_EVENT, SyncEvent, WithHandlers, deferred,
  handlerAccessor, handlerScope, state, thrown, titled,
} from './webidl-helpers';

/** The kinds, each titled by its interface's name. */
const EVENTS = titled(EVENT_KINDS, (kind) => kind.name);

describe.each(EVENTS)('%s constructor', (_name, kind) => {
  const { Class, type, make } = kind;

  it('makes an event with its type and tag, over ExtendableEvent', () => {
    const event = make(type, { tag: 'outbox' });
    expect(event.type).toBe(type);
    expect(event.tag).toBe('outbox');
    expect(event).toBeInstanceOf(Class);
    expect(event).toBeInstanceOf(ExtendableEvent);
    expect(event).toBeInstanceOf(Event);
    expect(Class.name).toBe(kind.name);
  });

  it('passes the ExtendableEventInit members through, and defaults them', () => {
    const event = make('custom', { tag: 't', bubbles: true, cancelable: true, composed: true });
    expect(event.type).toBe('custom');
    expect(event.bubbles).toBe(true);
    expect(event.cancelable).toBe(true);
    expect([event.bubbles, event.cancelable, event.composed]).toEqual([true, true, true]);
    const plain = make(type, { tag: 't' });
    expect([plain.bubbles, plain.cancelable, plain.composed]).toEqual([false, false, false]);
  });

  it.each([
    ['no arguments', [], /2 arguments required/],
    ['the type only', [type], /2 arguments required/],
    ['an empty init', [type, {}], /required member tag is undefined/],
    ['tag undefined', [type, { tag: undefined }], /required member tag is undefined/],
    ['an init whose tag is only misspelt', [type, { Tag: 'x' }], /required member tag is undefined/],
    ['a null init', [type, null], /must be an object/],
    ['a string init', [type, 'outbox'], /must be an object/],
    ['a number init', [type, 5], /must be an object/],
    ['a boolean init', [type, true], /must be an object/],
  ])('throws a TypeError for %s (tag is required)', (_name, args, message) => {
    const error = thrown(() => make(...args));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toMatch(message);
    expect((error as TypeError).message).toContain(`Failed to construct '${kind.name}'`);
  });

  // The constructor takes its init without `optional`: WPT's idlharness builds a PeriodicSyncEvent with
  // `new PeriodicSyncEvent("tag")`, which every engine rejects (test/wpt's wpt-bugs list).
  it('an explicit undefined init is "no init" too: a TypeError', () => {
    expect(() => make(type, undefined)).toThrow(TypeError);
  });

  it('a function is an object: accepted as the init', () => {
    expect(make(type, Object.assign(() => undefined, { tag: 'fn' })).tag).toBe('fn');
  });

  it('an inherited tag counts (dictionaries are read with [[Get]])', () => {
    expect(make(type, Object.create({ tag: 'inherited' })).tag).toBe('inherited');
  });

  it.each([
    ['a number', 42, '42'],
    ['null', null, 'null'],
    ['the empty string', '', ''],
    ['false', false, 'false'],
    ['an object', { toString: () => 'custom' }, 'custom'],
    ['an array', [1, 2], '1,2'],
    ['a lone surrogate', '\uDC00', '\uDC00'],
  ])('converts a tag given as %s like a DOMString (String())', (_name, tag, expected) => {
    const event = make(type, { tag });
    expect(event.tag).toBe(expected);
    expect(typeof event.tag).toBe('string');
  });

  it('converts the type with String()', () => {
    expect(make(42, { tag: 't' }).type).toBe('42');
    expect(make(null, { tag: 't' }).type).toBe('null');
  });

  it('a Symbol tag or type is a TypeError', () => {
    expect(() => make(type, { tag: Symbol() })).toThrow(TypeError);
    expect(() => make(Symbol(), { tag: 't' })).toThrow(TypeError);
  });

  it('the type is converted before the init is looked at (WebIDL argument order)', () => {
    const error = thrown(() => make(Symbol(), null));
    expect((error as TypeError).message).toMatch(/Symbol/);
  });

  it('a tag whose toString throws throws that error', () => {
    const error = new Error('from toString');
    expect(() => make(type, { tag: { toString() { throw error; } } })).toThrow(error);
  });

  it('a tag getter that throws throws that error', () => {
    const error = new Error('from the getter');
    expect(() => make(type, { get tag() { throw error; } })).toThrow(error);
  });

  it('cannot be called without new', () => {
    expect(() => (Class as unknown as (...args: unknown[]) => unknown)(type, { tag: 't' })).toThrow(TypeError);
  });

  it('the tag is the one given at construction, even if the init changes afterwards', () => {
    const init = { tag: 'before' };
    const event = make(type, init);
    init.tag = 'after';
    expect(event.tag).toBe('before');
  });

  // WebIDL converts a dictionary once, reading each member once: a getter runs once, and one that would change its
  // answer on a second read is not read again.
  it('WebIDL: the tag member is read once', () => {
    const get = vi.fn(() => 'once');
    make(type, Object.defineProperty({}, 'tag', { get, enumerable: true }));
    expect(get).toHaveBeenCalledTimes(1);
  });

  it('WebIDL: a tag getter that answers once then undefined gives that first answer', () => {
    let reads = 0;
    const event = make(type, { get tag() { return reads++ === 0 ? 'first' : undefined; } });
    expect(event.tag).toBe('first');
  });
});

describe.each(EVENTS)('%s WebIDL shape', (_name, kind) => {
  const { Class, type, make, attributes } = kind;

  it('constructor.length is 2 (type and the required init), and the prototype chain is the event → ExtendableEvent', () => {
    expect(Class.length).toBe(2);
    expect(Object.getPrototypeOf(Class.prototype)).toBe(ExtendableEvent.prototype);
    expect(Object.getPrototypeOf(Class)).toBe(ExtendableEvent);
  });

  it('the prototype\'s own members are the constructor, its attributes, waitUntil and the toStringTag', () => {
    expect(Reflect.ownKeys(Class.prototype).map(String).sort())
      .toEqual(['Symbol(Symbol.toStringTag)', 'constructor', ...attributes, 'waitUntil'].sort());
  });

  it.each(attributes)('%s is an enumerable, configurable getter on the prototype, named "get" and its name, with no setter', (name) => {
    const descriptor = Object.getOwnPropertyDescriptor(Class.prototype, name)!;
    expect(typeof descriptor.get).toBe('function');
    expect(descriptor.get!.name).toBe(`get ${name}`);
    expect(descriptor.set).toBeUndefined();
    expect(descriptor.enumerable).toBe(true);
    expect(descriptor.configurable).toBe(true);
    expect(Object.prototype.hasOwnProperty.call(make(type, { tag: 't' }), name)).toBe(false);
  });

  it.each(attributes)('%s is read-only (a strict-mode assignment throws, the value stays)', (name) => {
    const event = make(type, { tag: 't' }) as unknown as Record<string, unknown>;
    const before = event[name];
    expect(before).toBe(name === 'tag' ? 't' : false);
    expect(() => (event[name] = name === 'tag' ? 'x' : true)).toThrow(TypeError);
    expect(event[name]).toBe(before);
  });

  // WebIDL would have waitUntil on ExtendableEvent.prototype only; the polyfill's events carry their own, since a
  // script-created ExtendableEvent's throws (docs/semantics.md §4).
  it('waitUntil is an enumerable method of the prototype with length 1, not ExtendableEvent\'s', () => {
    const descriptor = Object.getOwnPropertyDescriptor(Class.prototype, 'waitUntil')!;
    expect(typeof descriptor.value).toBe('function');
    expect(descriptor.enumerable).toBe(true);
    expect(descriptor.value.length).toBe(1);
    expect(descriptor.value).not.toBe(ExtendableEvent.prototype.waitUntil);
  });

  it(`toStringTag is ${kind.name} (not enumerable, not writable)`, () => {
    expect(Object.prototype.toString.call(make(type, { tag: 't' }))).toBe(`[object ${kind.name}]`);
    expect(Object.getOwnPropertyDescriptor(Class.prototype, Symbol.toStringTag))
      .toEqual({ value: kind.name, writable: false, enumerable: false, configurable: true });
  });

  it.each(attributes)('the %s getter throws a TypeError on objects that are no event of the polyfill', (name) => {
    const get = Object.getOwnPropertyDescriptor(Class.prototype, name)!.get!;
    for (const wrong of [{}, undefined, null, new ExtendableEvent(type), new Event(type), Class.prototype, Object.create(Class.prototype)]) {
      expect(() => get.call(wrong)).toThrow(new TypeError('Illegal invocation'));
    }
  });

  it('waitUntil throws a TypeError on objects that are no event of the polyfill', () => {
    for (const wrong of [{}, new ExtendableEvent(type), Class.prototype]) {
      expect(() => Class.prototype.waitUntil.call(wrong, Promise.resolve())).toThrow(TypeError);
    }
  });
});

describe.each(EVENTS)('%s waitUntil', (_name, kind) => {
  const { type, make, fire } = kind;

  it('outside dispatch throws an InvalidStateError (as on any script-created ExtendableEvent)', () => {
    const error = thrown(() => make(type, { tag: 't' }).waitUntil(Promise.resolve()));
    expect(error).toBeInstanceOf(DOMException);
    expect((error as DOMException).name).toBe('InvalidStateError');
  });

  it('dispatched with plain dispatchEvent (not by the polyfill), still throws', () => {
    const target = new EventTarget();
    let error: unknown;
    target.addEventListener(type, (e) => {
      error = thrown(() => (e as AnySyncEvent).waitUntil(Promise.resolve()));
    });
    target.dispatchEvent(make(type, { tag: 't' }));
    expect((error as DOMException).name).toBe('InvalidStateError');
  });

  it('without an argument during dispatch throws a TypeError', async () => {
    const target = new EventTarget();
    let error: unknown;
    target.addEventListener(type, (e) => {
      error = thrown(() => (e as unknown as { waitUntil(): void }).waitUntil());
    });
    await fire(target);
    expect(error).toBeInstanceOf(TypeError);
  });

  it('after a dispatch with nothing pending, throws an InvalidStateError at once', async () => {
    const target = new EventTarget();
    let captured!: AnySyncEvent;
    target.addEventListener(type, (e) => void (captured = e as AnySyncEvent));
    const result = fire(target);
    const error = thrown(() => captured.waitUntil(Promise.resolve()));
    expect((error as DOMException).name).toBe('InvalidStateError');
    expect(await state(result)).toBe('fulfilled');
  });

  it('after every promise settled (a task later), throws an InvalidStateError again', async () => {
    const target = new EventTarget();
    let captured!: AnySyncEvent;
    target.addEventListener(type, (e) => {
      captured = e as AnySyncEvent;
      captured.waitUntil(Promise.resolve());
    });
    await fire(target);
    await sleep(5);
    expect((thrown(() => captured.waitUntil(Promise.resolve())) as DOMException).name).toBe('InvalidStateError');
  });

  it('while a promise is pending, a waitUntil after dispatch is accepted and counts', async () => {
    const target = new EventTarget();
    const slow = deferred();
    const late = deferred();
    let captured!: AnySyncEvent;
    target.addEventListener(type, (e) => {
      captured = e as AnySyncEvent;
      captured.waitUntil(slow.promise);
    });
    const result = fire(target);
    await sleep(1);
    expect(() => captured.waitUntil(late.promise)).not.toThrow();
    slow.resolve();
    expect(await state(result)).toBe('pending');
    late.reject(new Error('late'));
    await expect(result).rejects.toThrow('late');
  });
});

describe.each(EVENTS)('dispatchSyncEvent(%s, target, tag, lastChance, type)', (_name, kind) => {
  const { Class, type, fire } = kind;

  it('dispatches an event of its class and type with the tag, synchronously, and returns a promise', async () => {
    const target = new EventTarget();
    const seen: AnySyncEvent[] = [];
    target.addEventListener(type, (e) => seen.push(e as AnySyncEvent));
    const result = fire(target, 'outbox', true);
    expect(result).toBeInstanceOf(Promise);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeInstanceOf(Class);
    expect(seen[0].type).toBe(type);
    expect(seen[0].tag).toBe('outbox');
    await expect(result).resolves.toBeUndefined();
  });

  it('reaches its own listeners only: the other event\'s and other types\' listeners are not called', async () => {
    const target = new EventTarget();
    const other = vi.fn();
    const message = vi.fn();
    const own = vi.fn();
    target.addEventListener(kind.other, other);
    target.addEventListener('message', message);
    target.addEventListener(type, own);
    await fire(target);
    expect(other).not.toHaveBeenCalled();
    expect(message).not.toHaveBeenCalled();
    expect(own).toHaveBeenCalledTimes(1);
  });

  it('with no listener fulfils', async () => {
    expect(await state(fire(new EventTarget()))).toBe('fulfilled');
  });

  it('with listeners that call no waitUntil fulfils', async () => {
    const target = new EventTarget();
    target.addEventListener(type, () => undefined);
    expect(await state(fire(target))).toBe('fulfilled');
  });

  it.each([
    ['in call order', [0, 1]],
    ['in reverse order', [1, 0]],
  ])('fulfils only when every waitUntil promise has fulfilled (settled %s)', async (_order, order) => {
    const target = new EventTarget();
    const promises = [deferred(), deferred()];
    target.addEventListener(type, (e) => (e as AnySyncEvent).waitUntil(promises[0].promise));
    target.addEventListener(type, (e) => {
      (e as AnySyncEvent).waitUntil(promises[1].promise);
      (e as AnySyncEvent).waitUntil(42 as unknown as Promise<number>); // a plain value is a fulfilled promise
    });
    const result = fire(target);
    expect(await state(result)).toBe('pending');
    promises[order[0]].resolve();
    expect(await state(result)).toBe('pending');
    promises[order[1]].resolve();
    expect(await state(result)).toBe('fulfilled');
    await expect(result).resolves.toBeUndefined();
  });

  // As Chromium and the ServiceWorker spec's extend lifetime promises: the event ends when none is pending.
  it('rejects with the first rejection, once every waitUntil promise has settled', async () => {
    const target = new EventTarget();
    const first = new Error('first');
    const later = deferred();
    const slow = deferred();
    target.addEventListener(type, (e) => {
      const event = e as AnySyncEvent;
      event.waitUntil(slow.promise);
      event.waitUntil(later.promise);
      event.waitUntil(Promise.resolve());
      event.waitUntil(Promise.reject(first));
    });
    const result = fire(target);
    later.reject(new Error('second'));
    expect(await state(result)).toBe('pending'); // slow is still pending
    slow.resolve();
    await expect(result).rejects.toBe(first);
  });

  it('the first rejection in time, not in call order, is the outcome', async () => {
    const target = new EventTarget();
    const early = deferred();
    const late = deferred();
    target.addEventListener(type, (e) => {
      (e as AnySyncEvent).waitUntil(early.promise);
      (e as AnySyncEvent).waitUntil(late.promise);
    });
    const result = fire(target);
    const lateError = new Error('called last, rejected first');
    late.reject(lateError);
    await sleep(1);
    early.reject(new Error('called first, rejected last'));
    await expect(result).rejects.toBe(lateError);
  });

  it('a rejection given as a non-Error value is the outcome as is', async () => {
    const target = new EventTarget();
    target.addEventListener(type, (e) => (e as AnySyncEvent).waitUntil(Promise.reject('plain')));
    await expect(fire(target)).rejects.toBe('plain');
  });

  it('a rejection does not end the event early: a waitUntil while others are pending is still accepted', async () => {
    const target = new EventTarget();
    const slow = deferred();
    let captured!: AnySyncEvent;
    target.addEventListener(type, (e) => {
      captured = e as AnySyncEvent;
      captured.waitUntil(slow.promise);
      captured.waitUntil(Promise.reject(new Error('x')));
    });
    const result = fire(target);
    await sleep(5);
    expect(() => captured.waitUntil(Promise.resolve())).not.toThrow();
    slow.resolve();
    expect(await state(result)).toBe('rejected');
  });

  it('a rejected promise passed to waitUntil is handled (no unhandled rejection)', async () => {
    const unhandled = vi.fn();
    const process = (globalThis as unknown as { process: { on(e: string, f: () => void): void; off(e: string, f: () => void): void } }).process;
    process.on('unhandledRejection', unhandled);
    try {
      const target = new EventTarget();
      target.addEventListener(type, (e) => (e as AnySyncEvent).waitUntil(Promise.reject(new Error('x'))));
      await fire(target).catch(() => undefined);
      await sleep(10);
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });

  it('each dispatch has its own bookkeeping: one failing does not touch the next', async () => {
    const target = new EventTarget();
    let fail = true;
    target.addEventListener(type, (e) => {
      (e as AnySyncEvent).waitUntil(fail ? Promise.reject(new Error('x')) : Promise.resolve());
    });
    const one = fire(target, 'a');
    fail = false;
    const two = fire(target, 'b');
    expect(await state(one)).toBe('rejected');
    expect(await state(two)).toBe('fulfilled');
  });

  // A waitUntil added after the listener returned: [when, the listener, what happens before the first look, how
  // the late promise settles, and the outcome then].
  it.each<[string, (event: AnySyncEvent, first: Deferred, second: Deferred) => void, (first: Deferred) => unknown, (second: Deferred) => void, string]>([
    [
      'from within a pending promise\'s reaction',
      (event, first, second) => {
        event.waitUntil(first.promise);
        first.promise.then(() => event.waitUntil(second.promise));
      },
      (first) => first.resolve(),
      (second) => second.reject(new Error('late failure')),
      'rejected',
    ],
    [
      'from a waitUntil promise\'s own chain (fetch().then(...) style)',
      (event, _first, second) => event.waitUntil(Promise.resolve().then(() => event.waitUntil(second.promise))),
      () => undefined,
      (second) => second.resolve(),
      'fulfilled',
    ],
    [
      'from a timer while an earlier promise is still pending',
      (event, first, second) => {
        event.waitUntil(first.promise);
        setTimeout(() => event.waitUntil(second.promise), 0);
      },
      async (first) => {
        await sleep(5);
        first.resolve();
      },
      (second) => second.resolve(),
      'fulfilled',
    ],
  ])('awaits a waitUntil added %s', async (_when, listen, start, settleLate, outcome) => {
    const target = new EventTarget();
    const first = deferred();
    const second = deferred();
    target.addEventListener(type, (e) => listen(e as AnySyncEvent, first, second));
    const result = fire(target);
    await start(first);
    expect(await state(result)).toBe('pending');
    settleLate(second);
    expect(await state(result)).toBe(outcome);
  });

  // docs/semantics.md §3/§4: waitUntil either throws InvalidStateError or its promise counts towards the outcome. Here the
  // call comes a few microtasks after the first promise fulfilled: the implementation still accepts it (its
  // pending count drops a task later) but the outcome has already fulfilled, so the rejection is lost.
  it('a waitUntil that is accepted is always part of the outcome, even a few microtasks after the rest settled', async () => {
    const target = new EventTarget();
    const late = new Error('late failure');
    let accepted = false;
    target.addEventListener(type, (e) => {
      const event = e as AnySyncEvent;
      const first = Promise.resolve();
      event.waitUntil(first);
      first.then(() => 0).then(() => 0).then(() => 0).then(() => {
        const second = Promise.reject(late);
        second.catch(() => undefined); // handled here whether or not waitUntil takes it
        try {
          event.waitUntil(second);
          accepted = true;
        } catch (error) {
          // Too late: the spec's InvalidStateError, and `accepted` stays false.
          expect((error as DOMException).name).toBe('InvalidStateError');
        }
      });
    });
    const outcome = await fire(target).then(() => 'fulfilled', (e) => e);
    await sleep(5);
    // Natively the call throws here (the pending count drops in a microtask); either way is fine, losing it is not.
    if (accepted) expect(outcome).toBe(late);
    else expect(outcome).toBe('fulfilled');
  });

  it('a listener that throws is reported and does not decide the outcome', async () => {
    const target = new ReportingTarget();
    const boom = new Error('listener bug');
    target.addEventListener(type, () => {
      throw boom;
    });
    target.addEventListener(type, (e) => (e as AnySyncEvent).waitUntil(Promise.resolve()));
    expect(await state(fire(target))).toBe('fulfilled');
    expect(target.errors).toEqual([boom]);
  });

  it.each([
    ['a rejecting promise): the promise decides', () => Promise.reject(new Error('x')), 'rejected'],
    ['a fulfilling promise): fulfilled', () => Promise.resolve(), 'fulfilled'],
    ['nothing, calling no waitUntil): fulfilled', null, 'fulfilled'],
  ])('a listener that throws after waitUntil(%s', async (_name, promise, outcome) => {
    const target = new ReportingTarget();
    target.addEventListener(type, (e) => {
      if (promise) (e as AnySyncEvent).waitUntil(promise());
      throw new Error('listener bug');
    });
    expect(await state(fire(target))).toBe(outcome);
    expect(target.errors).toHaveLength(1);
  });
});

describe.each(titled(EVENT_KINDS, (kind) => kind.handler))('%s (EventHandler attribute)', (_name, kind) => {
  const { Class, type, handler: on, fire } = kind;
  const descriptor = handlerAccessor(type, new EventTarget());
  /** `target` has no handler: the attribute reads null, and an event at it does not reach `handler`. */
  const expectNoHandler = async (target: WithHandlers, handler: () => void) => {
    expect(target[on]).toBeNull();
    await fire(target);
    expect(handler).not.toHaveBeenCalled();
  };

  it('is an enumerable, configurable accessor', () => {
    expect(descriptor.enumerable).toBe(true);
    expect(descriptor.configurable).toBe(true);
    expect(typeof descriptor.get).toBe('function');
    expect(typeof descriptor.set).toBe('function');
    expect('value' in descriptor).toBe(false);
    expect('writable' in descriptor).toBe(false);
  });

  it(`its accessors are named "get ${on}" and "set ${on}", with lengths 0 and 1 and no prototype`, () => {
    expect(descriptor.get!.name).toBe(`get ${on}`);
    expect(descriptor.set!.name).toBe(`set ${on}`);
    expect(descriptor.get!.length).toBe(0);
    expect(descriptor.set!.length).toBe(1);
    expect(Object.prototype.hasOwnProperty.call(descriptor.get, 'prototype')).toBe(false);
    expect(Object.prototype.hasOwnProperty.call(descriptor.set, 'prototype')).toBe(false);
    expect(() => new (descriptor.get as unknown as new () => unknown)()).toThrow(TypeError);
  });

  it('starts null', () => {
    expect(handlerScope()[on]).toBeNull();
  });

  it('a function assigned is returned, and called for its event with this = the target and the event', async () => {
    const target = handlerScope();
    const handler = vi.fn(function (this: unknown, _e: Event) {
      expect(this).toBe(target);
    });
    target[on] = handler;
    expect(target[on]).toBe(handler);
    await fire(target, 'outbox');
    expect(handler).toHaveBeenCalledTimes(1);
    expect(handler.mock.contexts[0]).toBe(target);
    expect(handler.mock.calls[0][0]).toBeInstanceOf(Class);
    expect((handler.mock.calls[0][0] as AnySyncEvent).tag).toBe('outbox');
  });

  it('its waitUntil decides the outcome', async () => {
    const target = handlerScope();
    const error = new Error('no');
    target[on] = (e: AnySyncEvent) => e.waitUntil(Promise.reject(error));
    const result = fire(target);
    expect(await state(result)).toBe('rejected');
    await expect(result).rejects.toBe(error);
  });

  it.each([
    ['null', null],
    ['undefined', undefined],
    ['a string', 'alert(1)'],
    ['a number', 5],
    ['an object with handleEvent', { handleEvent() {} }],
    ['a Symbol', Symbol('h')],
  ])('a non-function (%s) reads back as null and removes the handler', async (_name, value) => {
    const target = handlerScope();
    const handler = vi.fn();
    target[on] = handler;
    target[on] = value;
    await expectNoHandler(target, handler);
  });

  it('a class (callable by typeof) is kept as the handler', () => {
    const target = handlerScope();
    class Handler {}
    target[on] = Handler;
    expect(target[on]).toBe(Handler);
  });

  it('the other event and other event types do not call it; its own event does', async () => {
    const target = handlerScope();
    const handler = vi.fn();
    target[on] = handler;
    await (kind === SYNC_EVENT ? PERIODIC_SYNC_EVENT : SYNC_EVENT).fire(target);
    target.dispatchEvent(new Event('message'));
    expect(handler).not.toHaveBeenCalled();
    await fire(target);
    expect(handler).toHaveBeenCalledTimes(1);
  });

  it('reassigning keeps one listener, at the position where it was first set', async () => {
    const target = handlerScope();
    const calls: string[] = [];
    target.addEventListener(type, () => calls.push('before'));
    target[on] = () => calls.push('first');
    target.addEventListener(type, () => calls.push('after'));
    target[on] = () => calls.push('second');
    await fire(target);
    expect(calls).toEqual(['before', 'second', 'after']);
  });

  it('after null, a new handler goes to the end of the listener list', async () => {
    const target = handlerScope();
    const calls: string[] = [];
    target[on] = () => calls.push('old');
    target.addEventListener(type, () => calls.push('listener'));
    target[on] = null;
    target[on] = () => calls.push('new');
    await fire(target);
    expect(calls).toEqual(['listener', 'new']);
  });

  it('the same function assigned twice is called once', async () => {
    const target = handlerScope();
    const handler = vi.fn();
    target[on] = handler;
    target[on] = handler;
    await fire(target);
    expect(handler).toHaveBeenCalledTimes(1);
  });

  it('is per target', async () => {
    const a = handlerScope();
    const b = handlerScope();
    const handler = vi.fn();
    a[on] = handler;
    await expectNoHandler(b, handler);
  });

  describe('its this (WebIDL: an attribute of a [Global] interface)', () => {
    const accessorOf = (target: WithHandlers) => Object.getOwnPropertyDescriptor(target, on)!;

    it.each<[string, () => unknown]>([
      ['a plain object', () => ({})],
      ['another target', () => new EventTarget()],
      [`another scope with its own ${on}`, () => handlerScope()],
      ['a function', () => () => {}],
      ['a primitive', () => 1],
    ])('the getter and the setter throw a TypeError for %s, and change nothing', async (_name, wrong) => {
      const target = handlerScope();
      const handler = vi.fn();
      target[on] = handler;
      const { get, set } = accessorOf(target);
      expect(() => get!.call(wrong())).toThrow(TypeError);
      expect(() => set!.call(wrong(), () => {})).toThrow(TypeError);
      expect(() => set!.call(wrong(), null)).toThrow(TypeError);
      expect(target[on]).toBe(handler);
      await fire(target);
      expect(handler).toHaveBeenCalledTimes(1);
    });

    it.each([
      ['undefined', undefined],
      ['null', null],
    ])('a this of %s is the global it was made for', async (_name, nothing) => {
      const target = handlerScope();
      const { get, set } = accessorOf(target);
      const handler = vi.fn();
      set!.call(nothing, handler);
      expect(get!.call(nothing)).toBe(handler);
      expect(target[on]).toBe(handler);
      await fire(target);
      expect(handler).toHaveBeenCalledTimes(1);
      set!.call(nothing, null);
      expect(target[on]).toBeNull();
      await fire(target);
      expect(handler).toHaveBeenCalledTimes(1);
    });

    it('without a target, it is made for self', () => {
      const { get } = handlerAccessor(type);
      expect(get!.call(self)).toBeNull();
      expect(get!.call(undefined)).toBeNull();
      expect(() => get!.call({})).toThrow(TypeError);
    });
  });
});

// What only SyncEvent has: lastChance (PeriodicSyncEvent's lack of it: periodic-sync-event.test.ts).
describe('SyncEvent lastChance', () => {
  it('is false by default', () => {
    expect(new SyncEvent('sync', { tag: 'outbox' }).lastChance).toBe(false);
  });

  it.each([
    [true, true], [false, false], [1, true], [0, false], ['', false], ['yes', true], [undefined, false],
  ])('lastChance %o → %s (WebIDL boolean)', (value, expected) => {
    expect(new SyncEvent('sync', { tag: 't', lastChance: value as boolean }).lastChance).toBe(expected);
  });

  it('dispatchSyncEvent hands it to the event', async () => {
    const target = new EventTarget();
    const seen: SyncEvent[] = [];
    target.addEventListener('sync', (e) => seen.push(e as SyncEvent));
    await SYNC_EVENT.fire(target, 'outbox', true);
    await SYNC_EVENT.fire(target, 'outbox', false);
    expect(seen.map((event) => event.lastChance)).toEqual([true, false]);
  });
});
