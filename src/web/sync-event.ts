/**
 * SyncEvent (docs/semantics.md §1) and its own extend-lifetime bookkeeping (docs/semantics.md §4): a script-created ExtendableEvent
 * throws from the native waitUntil, so SyncEvent collects the promises itself and the dispatcher hands the
 * combined promise to the real event that woke the worker.
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

function stateOf(event: unknown): EventState {
  const state = states.get(event as object);
  if (!state) throw illegalInvocation();
  return state;
}

const CONSTRUCT = "Failed to construct 'SyncEvent'";

/** Defines SyncEvent over the worker's ExtendableEvent: pages have no ExtendableEvent, so this runs in the worker only. */
export function defineSyncEvent() {
  class SyncEvent extends ExtendableEvent {
    constructor(type: string, init: SyncEventInit) {
      if (arguments.length < 2) throw new TypeError(`${CONSTRUCT}: 2 arguments required`);
      // WebIDL converts the arguments in order: type, then the dictionary.
      type = toDOMString(type, CONSTRUCT);
      if (init === null || (typeof init !== 'object' && typeof init !== 'function')) {
        throw new TypeError(`${CONSTRUCT}: the init dictionary must be an object`);
      }
      if (init.tag === undefined) throw new TypeError(`${CONSTRUCT}: required member tag is undefined`);
      const tag = toDOMString(init.tag, CONSTRUCT);
      super(type, init);
      states.set(this, {
        tag, lastChance: !!init.lastChance, dispatching: false, pending: 0, failed: false, error: undefined, finish: null,
      });
    }

    get tag(): string {
      return stateOf(this).tag;
    }

    get lastChance(): boolean {
      return stateOf(this).lastChance;
    }

    waitUntil(f: Promise<unknown>): void {
      const state = stateOf(this);
      if (arguments.length < 1) throw new TypeError("Failed to execute 'waitUntil' on 'ExtendableEvent': 1 argument required");
      if (!state.dispatching && state.pending === 0) {
        throw domError('InvalidStateError', 'The event handler is already finished and no extend lifetime promises are outstanding.');
      }
      state.pending++;
      // As the ServiceWorker spec's "extend lifetime promises": the count drops in a microtask after f settles,
      // so a waitUntil from f's own reactions is still in time.
      const settled = () => Promise.resolve().then(() => {
        if (--state.pending === 0 && !state.dispatching && state.finish) state.finish();
      });
      Promise.resolve(f).then(settled, (error: unknown) => {
        if (!state.failed) {
          state.failed = true;
          state.error = error;
        }
        return settled();
      });
    }
  }
  webIDLInterface(SyncEvent, 'SyncEvent');
  return SyncEvent;
}

export type SyncEventClass = ReturnType<typeof defineSyncEvent>;

/**
 * Dispatches a `sync` event at `target` and returns the outcome once no `waitUntil` promise is pending: it
 * fulfils when all fulfilled (or none was given) and rejects with the first rejection. Listener exceptions are reported by
 * dispatchEvent itself and do not decide the outcome (docs/semantics.md §3).
 */
export function dispatchSyncEvent(
  SyncEvent: SyncEventClass, target: EventTarget, tag: string, lastChance: boolean,
): Promise<void> {
  const event = new SyncEvent('sync', { tag, lastChance });
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
 * `self.onsync` (docs/semantics.md §1): the EventHandler attribute of `target` (the worker's global), kept in the
 * listener list where it was first set. As WebIDL has an attribute of a [Global] interface: a `this` of undefined or
 * null is the global, any other `this` but the global is a TypeError.
 */
export function onsyncAccessor(target: EventTarget = self): PropertyDescriptor {
  let handler: Function | null = null;
  let listener: EventListener | null = null;
  const check = (that: unknown) => {
    if (that != null && that !== target) throw illegalInvocation();
  };
  // Accessors of an object literal, so that they are named "get onsync" and "set onsync", as WebIDL has them.
  const accessors = {
    get onsync(): Function | null {
      check(this);
      return handler;
    },
    set onsync(value: unknown) {
      check(this);
      handler = typeof value === 'function' ? value : null;
      if (!handler) {
        if (listener) target.removeEventListener('sync', listener);
        listener = null;
      } else if (!listener) {
        // A removed listener is not called, even by a dispatch under way: handler is set whenever this runs.
        listener = (event) => handler!.call(target, event);
        target.addEventListener('sync', listener);
      }
    },
  };
  return { ...Object.getOwnPropertyDescriptor(accessors, 'onsync'), enumerable: true, configurable: true };
}
