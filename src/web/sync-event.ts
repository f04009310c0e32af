/**
 * SyncEvent and PeriodicSyncEvent (docs/semantics.md §1 and §7) and their own extend-lifetime bookkeeping
 * (docs/semantics.md §4): a script-created ExtendableEvent throws from the native waitUntil, so these events collect the
 * promises themselves and the dispatcher hands the combined promise to the real event that woke the worker.
 */
import { domError, illegalInvocation, toDOMString, webIDLInterface } from './errors';

interface EventState {
  tag: string;
  lastChance: boolean;
  /** Set by the dispatcher while listeners run. */
  dispatching: boolean;
  /** Promises passed to waitUntil whose settling has not been counted yet. */
  pending: number;
  /** The first rejection among them: the event failed. */
  failed: boolean;
  error: unknown;
  /** Set by dispatchSyncEvent: called once nothing is pending after dispatch. */
  finish: (() => void) | null;
}

const states = new WeakMap<object, EventState>();

/** The state of an event of class `Class` (by default either): the brand check of its getters and waitUntil. */
function stateOf(event: unknown, Class?: Function): EventState {
  const state = states.get(event as object);
  if (!state || (Class && !(event instanceof Class))) throw illegalInvocation();
  return state;
}

/**
 * The constructor's checks, in WebIDL's order (the type, then the dictionary: SyncEventInit's `lastChance`, which a
 * PeriodicSyncEventInit does not have, before the required `tag`, each read once). Returns the converted type and the
 * event's state.
 */
function construct(name: string, args: IArguments): [string, EventState] {
  const what = `Failed to construct '${name}'`;
  if (args.length < 2) throw new TypeError(`${what}: 2 arguments required`);
  const type = toDOMString(args[0], what);
  const init = args[1] as SyncEventInit;
  if (init === null || (typeof init !== 'object' && typeof init !== 'function')) {
    throw new TypeError(`${what}: the init dictionary must be an object`);
  }
  const lastChance = name == 'SyncEvent' && !!init.lastChance;
  const tag = init.tag;
  if (tag === undefined) throw new TypeError(`${what}: required member tag is undefined`);
  return [type, { tag: toDOMString(tag, what), lastChance, dispatching: false, pending: 0, failed: false, error: undefined, finish: null }];
}

/** Both events' waitUntil. */
function waitUntil(event: unknown, args: IArguments): void {
  const state = stateOf(event);
  if (args.length < 1) throw new TypeError("Failed to execute 'waitUntil' on 'ExtendableEvent': 1 argument required");
  if (!state.dispatching && state.pending === 0) {
    throw domError('InvalidStateError', 'The event handler is already finished and no extend lifetime promises are outstanding.');
  }
  state.pending++;
  // As the ServiceWorker spec's "extend lifetime promises": the count drops in a microtask after f settles,
  // so a waitUntil from f's own reactions is still in time.
  const settled = () => Promise.resolve().then(() => {
    if (--state.pending === 0 && !state.dispatching && state.finish) state.finish();
  });
  Promise.resolve(args[0]).then(settled, (error: unknown) => {
    if (!state.failed) {
      state.failed = true;
      state.error = error;
    }
    return settled();
  });
}

/**
 * Defines SyncEvent and PeriodicSyncEvent over the worker's ExtendableEvent: pages have no ExtendableEvent, so this runs
 * in the worker only. Where the engine has its own (docs/semantics.md §8) they extend those instead, so that the events
 * the polyfill fires for calls it took over are `instanceof` the engine's classes.
 */
export function defineSyncEvents(Base: typeof ExtendableEvent = ExtendableEvent, PeriodicBase = Base) {
  class SyncEvent extends Base {
    constructor(_type: string, init: SyncEventInit) {
      const [type, state] = construct('SyncEvent', arguments);
      super(type, init);
      states.set(this, state);
    }

    get tag(): string {
      return stateOf(this, SyncEvent).tag;
    }

    get lastChance(): boolean {
      return stateOf(this, SyncEvent).lastChance;
    }

    waitUntil(_f: Promise<unknown>): void {
      waitUntil(this, arguments);
    }
  }
  // PeriodicSyncEvent : ExtendableEvent, as the draft has it: not a SyncEvent, and without lastChance.
  class PeriodicSyncEvent extends PeriodicBase {
    constructor(_type: string, init: ExtendableEventInit & { tag: string }) {
      const [type, state] = construct('PeriodicSyncEvent', arguments);
      super(type, init);
      states.set(this, state);
    }

    get tag(): string {
      return stateOf(this, PeriodicSyncEvent).tag;
    }

    waitUntil(_f: Promise<unknown>): void {
      waitUntil(this, arguments);
    }
  }
  webIDLInterface(SyncEvent, 'SyncEvent');
  webIDLInterface(PeriodicSyncEvent, 'PeriodicSyncEvent');
  return [SyncEvent, PeriodicSyncEvent] as const;
}

export type SyncEventClass = ReturnType<typeof defineSyncEvents>[0];
export type PeriodicSyncEventClass = ReturnType<typeof defineSyncEvents>[1];

/**
 * Dispatches an event of `Event` (a SyncEvent, or a PeriodicSyncEvent, whose constructor does not read lastChance) of
 * `type` at `target` and returns the outcome once no `waitUntil` promise is pending: it fulfils when all fulfilled (or
 * none was given) and rejects with the first rejection. Listener exceptions are reported by dispatchEvent itself and do
 * not decide the outcome (docs/semantics.md §3).
 */
export function dispatchSyncEvent(
  Event: SyncEventClass | PeriodicSyncEventClass, target: EventTarget, tag: string, lastChance: boolean, type = 'sync',
): Promise<void> {
  const event = new Event(type, { tag, lastChance });
  const state = stateOf(event);
  state.dispatching = true;
  try {
    target.dispatchEvent(event);
  } finally {
    state.dispatching = false;
  }
  return new Promise<void>((resolve, reject) => {
    state.finish = () => (state.failed ? reject(state.error) : resolve());
    if (state.pending === 0) state.finish();
  });
}

/**
 * Defines `self.onsync` or `self.onperiodicsync` (docs/semantics.md §1 and §7): the EventHandler attribute `'on' + type`
 * of `target` (the worker's global), kept in the listener list where it was first set. ServiceWorkerGlobalScope is
 * [Global]: WebIDL puts its attributes on the instance, as Chromium has onsync. As WebIDL has an attribute of a
 * [Global] interface: a `this` of undefined or null is the global, any other `this` but the global is a TypeError.
 */
export function defineHandler(type: string, target: EventTarget = self): void {
  let handler: Function | null = null;
  let listener: EventListener | null = null;
  const check = (that: unknown) => {
    if (that != null && that !== target) throw illegalInvocation();
  };
  const name = 'on' + type;
  // Accessors of an object literal with a computed name, so that they are named "get onsync" and "set onsync" and
  // have no prototype, as WebIDL has them.
  const accessors = {
    get [name](): Function | null {
      check(this);
      return handler;
    },
    set [name](value: unknown) {
      check(this);
      handler = typeof value === 'function' ? value : null;
      if (!handler) {
        if (listener) target.removeEventListener(type, listener);
        listener = null;
      } else if (!listener) {
        // A removed listener is not called, even by a dispatch under way: handler is set whenever this runs.
        listener = (event) => handler!.call(target, event);
        target.addEventListener(type, listener);
      }
    },
  };
  Object.defineProperty(target, name, { ...Object.getOwnPropertyDescriptor(accessors, name), enumerable: true, configurable: true });
}
