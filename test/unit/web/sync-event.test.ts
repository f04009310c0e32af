import { beforeAll, describe, expect, it, vi } from 'vitest';
import { SyncEventClass, dispatchSyncEvent, defineHandler } from '../../../src/web/sync-event';
import { ExtendableEvent, defineTestSyncEvent } from '../helpers';

/** The accessor defineHandler() puts on `target` as `'on' + type`. */
function handlerAccessor(type: string, target: EventTarget = self): PropertyDescriptor {
  defineHandler(type, target);
  return Object.getOwnPropertyDescriptor(target, 'on' + type)!;
}

let SyncEvent: SyncEventClass;
beforeAll(() => {
  SyncEvent = defineTestSyncEvent();
});

type AnyCtor = new (...args: unknown[]) => SyncEvent;

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Resolves with 'pending' when `promise` has not settled after a few macrotasks. */
async function state(promise: Promise<unknown>): Promise<'pending' | 'fulfilled' | 'rejected'> {
  let result: 'pending' | 'fulfilled' | 'rejected' = 'pending';
  promise.then(() => (result = 'fulfilled'), () => (result = 'rejected'));
  for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 0));
  return result;
}

/**
 * An EventTarget that reports listener exceptions and goes on, as browsers do (DOM "inner invoke": report the
 * exception). happy-dom under vitest rethrows them from dispatchEvent instead.
 */
class ReportingTarget extends EventTarget {
  readonly errors: unknown[] = [];
  addEventListener(type: string, listener: EventListener): void {
    super.addEventListener(type, (event) => {
      try {
        listener.call(this, event);
      } catch (e) {
        this.errors.push(e);
      }
    });
  }
}

describe('SyncEvent constructor', () => {
  it('makes a sync event with tag, lastChance false by default, over ExtendableEvent', () => {
    const event = new SyncEvent('sync', { tag: 'outbox' });
    expect(event.type).toBe('sync');
    expect(event.tag).toBe('outbox');
    expect(event.lastChance).toBe(false);
    expect(event).toBeInstanceOf(SyncEvent);
    expect(event).toBeInstanceOf(ExtendableEvent);
    expect(event).toBeInstanceOf(Event);
    expect(SyncEvent.name).toBe('SyncEvent');
  });

  it.each([
    [true, true], [false, false], [1, true], [0, false], ['', false], ['yes', true], [undefined, false],
  ])('lastChance %o → %s (WebIDL boolean)', (value, expected) => {
    expect(new SyncEvent('sync', { tag: 't', lastChance: value as boolean }).lastChance).toBe(expected);
  });

  it('passes the ExtendableEventInit members through', () => {
    const event = new SyncEvent('custom', { tag: 't', bubbles: true, cancelable: true });
    expect(event.type).toBe('custom');
    expect(event.bubbles).toBe(true);
    expect(event.cancelable).toBe(true);
  });

  it.each([
    ['no arguments', []],
    ['no init', ['sync']],
    ['an empty init', ['sync', {}]],
    ['tag undefined', ['sync', { tag: undefined }]],
    ['a null init', ['sync', null]],
    ['a primitive init', ['sync', 'outbox']],
  ])('throws a TypeError for %s (tag is required)', (_name, args) => {
    expect(() => new (SyncEvent as unknown as AnyCtor)(...args)).toThrow(TypeError);
  });

  it.each([
    ['a number', 42, '42'],
    ['null', null, 'null'],
    ['the empty string', '', ''],
    ['an object', { toString: () => 'custom' }, 'custom'],
  ])('converts a tag given as %s like a DOMString', (_name, tag, expected) => {
    expect(new (SyncEvent as unknown as AnyCtor)('sync', { tag }).tag).toBe(expected);
  });

  it('a Symbol tag or type is a TypeError', () => {
    expect(() => new (SyncEvent as unknown as AnyCtor)('sync', { tag: Symbol() })).toThrow(TypeError);
    expect(() => new (SyncEvent as unknown as AnyCtor)(Symbol(), { tag: 't' })).toThrow(TypeError);
  });

  it('a tag whose toString throws throws that error', () => {
    const error = new Error('from toString');
    expect(() => new (SyncEvent as unknown as AnyCtor)('sync', { tag: { toString() { throw error; } } })).toThrow(error);
  });

  it('cannot be called without new', () => {
    expect(() => (SyncEvent as unknown as (...args: unknown[]) => unknown)('sync', { tag: 't' })).toThrow(TypeError);
  });
});

describe('SyncEvent WebIDL shape', () => {
  it.each(['tag', 'lastChance'])('%s is an enumerable, configurable getter on the prototype, with no setter', (name) => {
    const descriptor = Object.getOwnPropertyDescriptor(SyncEvent.prototype, name)!;
    expect(typeof descriptor.get).toBe('function');
    expect(descriptor.set).toBeUndefined();
    expect(descriptor.enumerable).toBe(true);
    expect(descriptor.configurable).toBe(true);
    const event = new SyncEvent('sync', { tag: 't' });
    expect(Object.prototype.hasOwnProperty.call(event, name)).toBe(false);
  });

  it('tag and lastChance are read-only', () => {
    const event = new SyncEvent('sync', { tag: 't' });
    expect(() => ((event as unknown as Record<string, unknown>).tag = 'x')).toThrow(TypeError);
    expect(() => ((event as unknown as Record<string, unknown>).lastChance = true)).toThrow(TypeError);
    expect(event.tag).toBe('t');
    expect(event.lastChance).toBe(false);
  });

  it('waitUntil is an enumerable method on the prototype with length 1', () => {
    const descriptor = Object.getOwnPropertyDescriptor(SyncEvent.prototype, 'waitUntil')!;
    expect(typeof descriptor.value).toBe('function');
    expect(descriptor.enumerable).toBe(true);
    expect(descriptor.value.length).toBe(1);
  });

  it.each(['tag', 'lastChance'])('the %s getter throws a TypeError on a wrong this', (name) => {
    const get = Object.getOwnPropertyDescriptor(SyncEvent.prototype, name)!.get!;
    for (const wrong of [{}, undefined, new ExtendableEvent('sync'), new Event('sync'), SyncEvent.prototype]) {
      expect(() => get.call(wrong)).toThrow(TypeError);
    }
  });

  it('waitUntil throws a TypeError on a wrong this', () => {
    for (const wrong of [{}, new ExtendableEvent('sync'), SyncEvent.prototype]) {
      expect(() => SyncEvent.prototype.waitUntil.call(wrong, Promise.resolve())).toThrow(TypeError);
    }
  });

  it('toStringTag is SyncEvent', () => {
    expect(Object.prototype.toString.call(new SyncEvent('sync', { tag: 't' }))).toBe('[object SyncEvent]');
    expect(Object.getOwnPropertyDescriptor(SyncEvent.prototype, Symbol.toStringTag))
      .toEqual({ value: 'SyncEvent', writable: false, enumerable: false, configurable: true });
  });

  it('constructor.length is 2 and the prototype chain is SyncEvent → ExtendableEvent', () => {
    expect(SyncEvent.length).toBe(2);
    expect(Object.getPrototypeOf(SyncEvent.prototype)).toBe(ExtendableEvent.prototype);
  });
});

describe('waitUntil', () => {
  it('outside dispatch throws InvalidStateError (as on any script-created ExtendableEvent)', () => {
    const event = new SyncEvent('sync', { tag: 't' });
    let error: unknown;
    try {
      event.waitUntil(Promise.resolve());
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DOMException);
    expect((error as DOMException).name).toBe('InvalidStateError');
  });

  it('outside dispatch, dispatched directly with dispatchEvent, still throws', () => {
    const target = new EventTarget();
    const event = new SyncEvent('sync', { tag: 't' });
    let error: unknown;
    target.addEventListener('sync', (e) => {
      try {
        (e as SyncEvent).waitUntil(Promise.resolve());
      } catch (err) {
        error = err;
      }
    });
    target.dispatchEvent(event);
    expect((error as DOMException).name).toBe('InvalidStateError');
  });

  it('without an argument during dispatch throws a TypeError', async () => {
    const target = new EventTarget();
    let error: unknown;
    target.addEventListener('sync', (e) => {
      try {
        (e as unknown as { waitUntil(): void }).waitUntil();
      } catch (err) {
        error = err;
      }
    });
    await dispatchSyncEvent(SyncEvent, target, 't', false);
    expect(error).toBeInstanceOf(TypeError);
  });

  it('after every promise settled (a task later) throws InvalidStateError again', async () => {
    const target = new EventTarget();
    let captured: SyncEvent | undefined;
    target.addEventListener('sync', (e) => {
      captured = e as SyncEvent;
      captured.waitUntil(Promise.resolve());
    });
    await dispatchSyncEvent(SyncEvent, target, 't', false);
    await new Promise((r) => setTimeout(r, 5));
    expect(() => captured!.waitUntil(Promise.resolve())).toThrow(expect.objectContaining({ name: 'InvalidStateError' }));
  });
});

describe('dispatchSyncEvent', () => {
  it('dispatches a SyncEvent named sync with the tag and lastChance, and returns a promise', async () => {
    const target = new EventTarget();
    const seen: SyncEvent[] = [];
    target.addEventListener('sync', (e) => seen.push(e as SyncEvent));
    const result = dispatchSyncEvent(SyncEvent, target, 'outbox', true);
    expect(result).toBeInstanceOf(Promise);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeInstanceOf(SyncEvent);
    expect(seen[0].type).toBe('sync');
    expect(seen[0].tag).toBe('outbox');
    expect(seen[0].lastChance).toBe(true);
    await result;
  });

  it('with no listener fulfils', async () => {
    expect(await state(dispatchSyncEvent(SyncEvent, new EventTarget(), 't', false))).toBe('fulfilled');
  });

  it('with no waitUntil fulfils', async () => {
    const target = new EventTarget();
    target.addEventListener('sync', () => undefined);
    expect(await state(dispatchSyncEvent(SyncEvent, target, 't', false))).toBe('fulfilled');
  });

  it('waits for waitUntil promises and fulfils when they all fulfil', async () => {
    const target = new EventTarget();
    const a = deferred();
    const b = deferred();
    target.addEventListener('sync', (e) => (e as SyncEvent).waitUntil(a.promise));
    target.addEventListener('sync', (e) => {
      (e as SyncEvent).waitUntil(b.promise);
      (e as SyncEvent).waitUntil(42 as unknown as Promise<number>); // a plain value is a fulfilled promise
    });
    const result = dispatchSyncEvent(SyncEvent, target, 't', false);
    expect(await state(result)).toBe('pending');
    a.resolve();
    expect(await state(result)).toBe('pending');
    b.resolve();
    expect(await state(result)).toBe('fulfilled');
  });

  // As Chromium and the ServiceWorker spec's extend lifetime promises: the event ends when none is pending.
  it('rejects with the first rejection once every waitUntil promise has settled', async () => {
    const target = new EventTarget();
    const first = new Error('first');
    const later = deferred();
    const slow = deferred();
    target.addEventListener('sync', (e) => {
      (e as SyncEvent).waitUntil(slow.promise);
      (e as SyncEvent).waitUntil(later.promise);
      (e as SyncEvent).waitUntil(Promise.resolve());
      (e as SyncEvent).waitUntil(Promise.reject(first));
    });
    const result = dispatchSyncEvent(SyncEvent, target, 't', false);
    later.reject(new Error('second'));
    expect(await state(result)).toBe('pending');
    slow.resolve();
    await expect(result).rejects.toBe(first);
  });

  it('a rejection does not end the event early: a waitUntil while others are pending is still accepted', async () => {
    const target = new EventTarget();
    const slow = deferred();
    let captured!: SyncEvent;
    target.addEventListener('sync', (e) => {
      captured = e as SyncEvent;
      captured.waitUntil(slow.promise);
      captured.waitUntil(Promise.reject(new Error('x')));
    });
    const result = dispatchSyncEvent(SyncEvent, target, 't', false);
    await new Promise((r) => setTimeout(r, 5));
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
      target.addEventListener('sync', (e) => (e as SyncEvent).waitUntil(Promise.reject(new Error('x'))));
      await dispatchSyncEvent(SyncEvent, target, 't', false).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 10));
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });

  type Deferred = ReturnType<typeof deferred<void>>;
  // A waitUntil added after the listener returned: [when, the listener, what happens before the first look, how
  // the late promise settles, and the outcome then].
  it.each<[string, (event: SyncEvent, first: Deferred, second: Deferred) => void, (first: Deferred) => unknown, (second: Deferred) => void, string]>([
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
        await new Promise((r) => setTimeout(r, 5));
        first.resolve();
      },
      (second) => second.resolve(),
      'fulfilled',
    ],
  ])('awaits a waitUntil added %s', async (_when, listen, start, settleLate, outcome) => {
    const target = new EventTarget();
    const first = deferred();
    const second = deferred();
    target.addEventListener('sync', (e) => listen(e as SyncEvent, first, second));
    const result = dispatchSyncEvent(SyncEvent, target, 't', false);
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
    target.addEventListener('sync', (e) => {
      const event = e as SyncEvent;
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
    const outcome = await dispatchSyncEvent(SyncEvent, target, 't', false).then(() => 'fulfilled', (e) => e);
    await new Promise((r) => setTimeout(r, 5));
    // Natively the call throws here (the pending count drops in a microtask); either way is fine, losing it is not.
    if (accepted) expect(outcome).toBe(late);
    else expect(outcome).toBe('fulfilled');
  });

  it('a listener that throws is reported and does not decide the outcome', async () => {
    const target = new ReportingTarget();
    const boom = new Error('listener bug');
    target.addEventListener('sync', () => {
      throw boom;
    });
    target.addEventListener('sync', (e) => (e as SyncEvent).waitUntil(Promise.resolve()));
    expect(await state(dispatchSyncEvent(SyncEvent, target, 't', false))).toBe('fulfilled');
    expect(target.errors).toEqual([boom]);
  });

  it('a listener that throws after waitUntil(a rejecting promise): the promise decides', async () => {
    const target = new ReportingTarget();
    target.addEventListener('sync', (e) => {
      (e as SyncEvent).waitUntil(Promise.reject(new Error('x')));
      throw new Error('listener bug');
    });
    expect(await state(dispatchSyncEvent(SyncEvent, target, 't', false))).toBe('rejected');
  });

  it('a listener that throws and calls no waitUntil: fulfilled', async () => {
    const target = new ReportingTarget();
    target.addEventListener('sync', () => {
      throw new Error('listener bug');
    });
    expect(await state(dispatchSyncEvent(SyncEvent, target, 't', false))).toBe('fulfilled');
  });

  it('other event types are not dispatched', async () => {
    const target = new EventTarget();
    const other = vi.fn();
    target.addEventListener('message', other);
    await dispatchSyncEvent(SyncEvent, target, 't', false);
    expect(other).not.toHaveBeenCalled();
  });
});

describe('onsync (EventHandler attribute)', () => {
  type WithOnsync = EventTarget & { onsync: unknown };
  /** A global-like target with onsync defined on itself, as the worker installs it on its [Global] scope. */
  const scope = () => {
    const target = new EventTarget() as WithOnsync;
    Object.defineProperty(target, 'onsync', handlerAccessor('sync', target));
    return target;
  };
  const descriptor = handlerAccessor('sync', new EventTarget());
  const fire = (target: EventTarget, tag = 't') => dispatchSyncEvent(SyncEvent, target, tag, false);
  /** `target` has no handler: onsync reads null, and a sync event at it does not reach `handler`. */
  const expectNoHandler = async (target: WithOnsync, handler: () => void) => {
    expect(target.onsync).toBeNull();
    await fire(target);
    expect(handler).not.toHaveBeenCalled();
  };

  it('is an enumerable, configurable accessor', () => {
    expect(descriptor.enumerable).toBe(true);
    expect(descriptor.configurable).toBe(true);
    expect(typeof descriptor.get).toBe('function');
    expect(typeof descriptor.set).toBe('function');
  });

  it('starts null', () => {
    expect(scope().onsync).toBeNull();
  });

  it('a function assigned is returned and receives sync events, with this = the target', async () => {
    const target = scope();
    const handler = vi.fn(function (this: unknown, _e: Event) {
      expect(this).toBe(target);
    });
    target.onsync = handler;
    expect(target.onsync).toBe(handler);
    await fire(target, 'outbox');
    expect(handler).toHaveBeenCalledTimes(1);
    expect((handler.mock.calls[0][0] as SyncEvent).tag).toBe('outbox');
  });

  it('its waitUntil decides the outcome', async () => {
    const target = scope();
    target.onsync = (e: SyncEvent) => e.waitUntil(Promise.reject(new Error('no')));
    expect(await state(fire(target))).toBe('rejected');
  });

  it('null removes it', async () => {
    const target = scope();
    const handler = vi.fn();
    target.onsync = handler;
    target.onsync = null;
    await expectNoHandler(target, handler);
  });

  it.each([
    ['a string', 'alert(1)'],
    ['an object', { handleEvent() {} }],
    ['a number', 5],
    ['undefined', undefined],
  ])('a non-callable value (%s) becomes null and removes the handler', async (_name, value) => {
    const target = scope();
    const handler = vi.fn();
    target.onsync = handler;
    target.onsync = value;
    await expectNoHandler(target, handler);
  });

  it('reassigning keeps one listener, at the position where it was first set', async () => {
    const target = scope();
    const calls: string[] = [];
    target.addEventListener('sync', () => calls.push('before'));
    target.onsync = () => calls.push('first');
    target.addEventListener('sync', () => calls.push('after'));
    target.onsync = () => calls.push('second');
    await fire(target);
    expect(calls).toEqual(['before', 'second', 'after']);
  });

  it('after null, a new handler goes to the end of the listener list', async () => {
    const target = scope();
    const calls: string[] = [];
    target.onsync = () => calls.push('old');
    target.addEventListener('sync', () => calls.push('listener'));
    target.onsync = null;
    target.onsync = () => calls.push('new');
    await fire(target);
    expect(calls).toEqual(['listener', 'new']);
  });

  it('the same function assigned twice is called once', async () => {
    const target = scope();
    const handler = vi.fn();
    target.onsync = handler;
    target.onsync = handler;
    await fire(target);
    expect(handler).toHaveBeenCalledTimes(1);
  });

  it('is per target', async () => {
    const a = scope();
    const b = scope();
    const handler = vi.fn();
    a.onsync = handler;
    await expectNoHandler(b, handler);
  });

  it('does not react to other event types', async () => {
    const target = scope();
    const handler = vi.fn();
    target.onsync = handler;
    target.dispatchEvent(new Event('message'));
    expect(handler).not.toHaveBeenCalled();
  });

  describe('its this (WebIDL: an attribute of a [Global] interface)', () => {
    const accessorOf = (target: WithOnsync) => Object.getOwnPropertyDescriptor(target, 'onsync')!;

    it.each([
      ['a plain object', {}],
      ['another target', new EventTarget()],
      ['another scope with its own onsync', scope()],
      ['a function', () => {}],
      ['a primitive', 1],
    ])('the getter and the setter throw a TypeError for %s, and change nothing', async (_name, wrong) => {
      const target = scope();
      const handler = vi.fn();
      target.onsync = handler;
      const { get, set } = accessorOf(target);
      expect(() => get!.call(wrong)).toThrow(TypeError);
      expect(() => set!.call(wrong, () => {})).toThrow(TypeError);
      expect(() => set!.call(wrong, null)).toThrow(TypeError);
      expect(target.onsync).toBe(handler);
      await fire(target);
      expect(handler).toHaveBeenCalledTimes(1);
    });

    it.each([
      ['undefined', undefined],
      ['null', null],
    ])('a this of %s is the global it was made for', async (_name, nothing) => {
      const target = scope();
      const { get, set } = accessorOf(target);
      const handler = vi.fn();
      set!.call(nothing, handler);
      expect(get!.call(nothing)).toBe(handler);
      expect(target.onsync).toBe(handler);
      await fire(target);
      expect(handler).toHaveBeenCalledTimes(1);
      set!.call(nothing, null);
      expect(target.onsync).toBeNull();
      await fire(target);
      expect(handler).toHaveBeenCalledTimes(1);
    });

    it('without a target, it is made for self', () => {
      const { get } = handlerAccessor('sync');
      expect(get!.call(self)).toBeNull();
      expect(get!.call(undefined)).toBeNull();
      expect(() => get!.call({})).toThrow(TypeError);
    });

    it('its accessors have WebIDL\'s names and lengths', () => {
      expect(descriptor.get!.name).toBe('get onsync');
      expect(descriptor.get!.length).toBe(0);
      expect(descriptor.set!.name).toBe('set onsync');
      expect(descriptor.set!.length).toBe(1);
    });
  });
});
