/**
 * What the tests of the web-facing interfaces share: promise probes, a fake ServiceWorkerRegistration with in-memory
 * hosts, and each pair of interfaces (SyncEvent & PeriodicSyncEvent with onsync & onperiodicsync; SyncManager &
 * PeriodicSyncManager) described alike, so that one test body runs over both where they behave the same
 * (describe.each in sync-event.test.ts and sync-manager.test.ts). What only one of a pair has is tested in its own
 * file (periodic-sync-event.test.ts, periodic-sync-manager.test.ts, and the one-shot files' own blocks).
 */
import { Mock, afterAll, afterEach, beforeAll, beforeEach, expect, vi } from 'vitest';
import { PeriodicSyncEventClass, SyncEventClass, defineHandler, dispatchSyncEvent } from '../../../src/web/sync-event';
import {
  PeriodicHost, PeriodicSyncManager, SyncHost, SyncManager, periodicSyncGetter, setSyncHost, shapeManagers, syncGetter,
} from '../../../src/web/sync-manager';
import { SCOPE, defineTestSyncEvents } from '../helpers';

// --- Promises ----------------------------------------------------------------------------------------------------

export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
export type Deferred = ReturnType<typeof deferred<void>>;

/** Resolves with 'pending' when `promise` has not settled after a few macrotasks. */
export async function state(promise: Promise<unknown>): Promise<'pending' | 'fulfilled' | 'rejected'> {
  let result: 'pending' | 'fulfilled' | 'rejected' = 'pending';
  promise.then(() => (result = 'fulfilled'), () => (result = 'rejected'));
  for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 0));
  return result;
}

/** What `f` throws (fails the test if it does not). */
export function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

/** Settles `promise` and returns its rejection reason; fails the test if it fulfils. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then((v) => {
    throw new Error(`expected a rejection, got ${String(v)}`);
  }, (e: unknown) => e);
}

/** Calls `f`, expects it not to throw but to return a promise, and returns that promise's rejection reason. */
export async function rejectsNotThrows(f: () => unknown): Promise<unknown> {
  let result: unknown;
  expect(() => (result = f())).not.toThrow();
  expect(result).toBeInstanceOf(Promise);
  return rejection(result as Promise<unknown>);
}

/** Resolves with the reason once `promise` has rejected within two microtasks: before any await of the operation. */
export async function rejectsAtOnce(promise: Promise<unknown>): Promise<unknown> {
  let outcome: { reason: unknown } | null = null;
  promise.then(() => {}, (reason: unknown) => (outcome = { reason }));
  await Promise.resolve();
  await Promise.resolve();
  if (!outcome) throw new Error('still pending: the operation awaited before it rejected');
  return (outcome as { reason: unknown }).reason;
}

/** The DOMException `error` is, with its name. */
export function expectDOMException(error: unknown, name: string): void {
  expect(error).toBeInstanceOf(DOMException);
  expect((error as DOMException).name).toBe(name);
}

/** `kinds` as describe.each rows [its name for the title's %s, the kind] (`$name` would print the name in quotes). */
export function titled<K>(kinds: readonly K[], title: (kind: K) => string): Array<[string, K]> {
  return kinds.map((kind) => [title(kind), kind]);
}

// --- Events ------------------------------------------------------------------------------------------------------

/**
 * An EventTarget that reports listener exceptions and goes on, as browsers do (DOM "inner invoke": report the
 * exception). happy-dom under vitest rethrows them from dispatchEvent instead.
 */
export class ReportingTarget extends EventTarget {
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

/** The accessor defineHandler() puts on `target` as `'on' + type`. */
export function handlerAccessor(type: string, target: EventTarget = self): PropertyDescriptor {
  defineHandler(type, target);
  return Object.getOwnPropertyDescriptor(target, 'on' + type)!;
}

export type HandlerName = 'onsync' | 'onperiodicsync';
export type WithHandlers = EventTarget & Record<HandlerName, unknown>;

/** A global-like target with onsync and onperiodicsync on itself, as the worker installs them on its [Global] scope. */
export function handlerScope(): WithHandlers {
  const target = new EventTarget() as WithHandlers;
  Object.defineProperty(target, 'onsync', handlerAccessor('sync', target));
  Object.defineProperty(target, 'onperiodicsync', handlerAccessor('periodicsync', target));
  return target;
}

/**
 * SyncEvent and PeriodicSyncEvent as the worker half defines them, over the fake ExtendableEvent. Defined when a test
 * file imports this module (happy-dom's globals are there by then), so that describe.each can name them.
 */
export const [SyncEvent, PeriodicSyncEvent] = defineTestSyncEvents();
/** An event of either class: what both have. */
export type AnySyncEvent = InstanceType<SyncEventClass> | InstanceType<PeriodicSyncEventClass>;

export interface EventKind {
  name: 'SyncEvent' | 'PeriodicSyncEvent';
  Class: SyncEventClass | PeriodicSyncEventClass;
  /** Its event type (what the dispatcher fires), and the other event's. */
  type: 'sync' | 'periodicsync';
  other: 'sync' | 'periodicsync';
  /** Its EventHandler attribute on the worker's global. */
  handler: HandlerName;
  /** Its own attributes (the prototype's getters). */
  attributes: readonly string[];
  /** `new Class(...args)`, with any arguments, as script could call it. */
  make(...args: unknown[]): AnySyncEvent;
  /** Dispatches an event of this kind at `target`, as the worker's dispatcher does. */
  fire(target: EventTarget, tag?: string, lastChance?: boolean): Promise<void>;
}

function eventKind(
  name: EventKind['name'], Class: EventKind['Class'], type: EventKind['type'], attributes: readonly string[],
): EventKind {
  const other = type === 'sync' ? 'periodicsync' : 'sync';
  return {
    name, Class, type, other, handler: `on${type}`, attributes,
    make: (...args) => new (Class as unknown as new (...a: unknown[]) => AnySyncEvent)(...args),
    fire: (target, tag = 't', lastChance = false) => dispatchSyncEvent(Class, target, tag, lastChance, type),
  };
}

export const SYNC_EVENT = eventKind('SyncEvent', SyncEvent, 'sync', ['tag', 'lastChance']);
export const PERIODIC_SYNC_EVENT = eventKind('PeriodicSyncEvent', PeriodicSyncEvent, 'periodicsync', ['tag']);
export const EVENT_KINDS: readonly EventKind[] = [SYNC_EVENT, PERIODIC_SYNC_EVENT];

// --- Managers ----------------------------------------------------------------------------------------------------

// happy-dom has no ServiceWorkerRegistration: a minimal one, with `sync` and `periodicSync` installed as
// src/web/globals.ts installs them.
export class FakeRegistration {
  constructor(public scope: string, public active: object | null = {}) {}
}
export type Registration = ServiceWorkerRegistration & FakeRegistration;

export function registration(scope = SCOPE, active: object | null = {}): Registration {
  return new FakeRegistration(scope, active) as unknown as Registration;
}

/**
 * The managers only check their arguments and hand the rest to a host (the worker's store, or a page's request to
 * the worker; those are tested in test/unit/worker/, test/unit/install.worker.test.ts and test/unit/page/). These
 * hosts keep tags per scope in memory, in registration order, a repeat keeping its place, as the real ones do.
 */
export type TestSyncHost = SyncHost & {
  register: Mock<(registration: ServiceWorkerRegistration, tag: string) => Promise<void>>;
  getTags: Mock<(registration: ServiceWorkerRegistration) => Promise<string[]>>;
};
export type TestPeriodicHost = PeriodicHost & {
  register: Mock<(registration: ServiceWorkerRegistration, tag: string, minInterval: number) => Promise<void>>;
  getTags: Mock<(registration: ServiceWorkerRegistration) => Promise<string[]>>;
  unregister: Mock<(registration: ServiceWorkerRegistration, tag: string) => Promise<void>>;
};

/** This test's hosts, and the periodic host's store: per scope, each tag's minInterval. */
export const hosts = {} as { sync: TestSyncHost; periodic: TestPeriodicHost; intervals: Map<string, Map<string, number>> };

function memoryHosts(): typeof hosts {
  const tags = new Map<string, string[]>();
  const intervals = new Map<string, Map<string, number>>();
  const of = (registration: ServiceWorkerRegistration) => {
    let scope = intervals.get(registration.scope);
    if (!scope) intervals.set(registration.scope, (scope = new Map()));
    return scope;
  };
  const sync: TestSyncHost = {
    register: vi.fn(async (registration: ServiceWorkerRegistration, tag: string) => {
      const list = tags.get(registration.scope) || [];
      if (list.indexOf(tag) < 0) list.push(tag);
      tags.set(registration.scope, list);
    }),
    getTags: vi.fn(async (registration: ServiceWorkerRegistration) => (tags.get(registration.scope) || []).slice()),
  };
  const periodic: TestPeriodicHost = {
    register: vi.fn(async (registration: ServiceWorkerRegistration, tag: string, minInterval: number) => {
      of(registration).set(tag, minInterval);
    }),
    getTags: vi.fn(async (registration: ServiceWorkerRegistration) => Array.from(of(registration).keys())),
    unregister: vi.fn(async (registration: ServiceWorkerRegistration, tag: string) => {
      of(registration).delete(tag);
    }),
  };
  return { sync, periodic, intervals };
}

/** Every host operation: none of them may be reached when a manager refuses a call. */
export function expectNoHostCalls(): void {
  for (const mock of [hosts.sync.register, hosts.sync.getTags, hosts.periodic.register, hosts.periodic.getTags, hosts.periodic.unregister]) {
    expect(mock).not.toHaveBeenCalled();
  }
}

/**
 * For the file's tests: the managers shaped as install() does, the fake ServiceWorkerRegistration as the global one
 * (put back afterwards), and fresh memory hosts for each test.
 */
export function useManagers(): void {
  const g = globalThis as Record<string, unknown>;
  let saved: PropertyDescriptor | undefined;
  beforeAll(() => {
    shapeManagers(); // as install() does
    saved = Object.getOwnPropertyDescriptor(globalThis, 'ServiceWorkerRegistration');
    g.ServiceWorkerRegistration = FakeRegistration;
    Object.defineProperty(FakeRegistration.prototype, 'sync', { get: syncGetter, enumerable: true, configurable: true });
    Object.defineProperty(FakeRegistration.prototype, 'periodicSync', { get: periodicSyncGetter, enumerable: true, configurable: true });
  });
  afterAll(() => {
    if (saved) Object.defineProperty(globalThis, 'ServiceWorkerRegistration', saved);
    else delete g.ServiceWorkerRegistration;
  });
  beforeEach(() => {
    Object.assign(hosts, memoryHosts());
    setSyncHost(hosts.sync, hosts.periodic);
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
}

/**
 * For a describe block: the document is no longer fully active (a removed iframe's has no browsing context, and
 * defaultView is null). Its realm may never run the rest of an async operation (Firefox drops that realm's promise
 * jobs), so the operations reject before they await.
 */
export function useDetachedDocument(): void {
  beforeEach(() => {
    Object.defineProperty(document, 'defaultView', { value: null, configurable: true });
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    reattachDocument();
  });
}

/** Gives the document its defaultView back. */
export function reattachDocument(): void {
  delete (document as unknown as Record<string, unknown>).defaultView;
}

type Method = (...args: unknown[]) => Promise<unknown>;
export type LooseManager = Record<'register' | 'getTags' | 'unregister', Method>;

export interface ManagerKind {
  name: 'SyncManager' | 'PeriodicSyncManager';
  Class: typeof SyncManager | typeof PeriodicSyncManager;
  /** Its attribute of ServiceWorkerRegistration.prototype, and that attribute's getter. */
  attribute: 'sync' | 'periodicSync';
  getter: (this: ServiceWorkerRegistration) => object;
  /** Its operations and their lengths. */
  operations: ReadonlyArray<readonly [string, number]>;
  /** The operations that take a tag. */
  tagOperations: readonly string[];
  /** Its prototype's methods, to call on anything. */
  proto: Record<string, Method>;
  /** The manager of `reg` (and the other kind's), with its methods taking anything, as script could call them. */
  of(reg: Registration): LooseManager;
  other(reg: Registration): LooseManager;
  /** Its host, and the other kind's. */
  host(): TestSyncHost | TestPeriodicHost;
  otherHost(): TestSyncHost | TestPeriodicHost;
  /** What its host's register() is handed after the registration, for `register(tag, { minInterval })`. */
  hostArgs(tag: string, minInterval?: number): unknown[];
}

export const SYNC_MANAGER: ManagerKind = {
  name: 'SyncManager', Class: SyncManager, attribute: 'sync', getter: syncGetter,
  operations: [['register', 1], ['getTags', 0]], tagOperations: ['register'],
  proto: SyncManager.prototype as unknown as Record<string, Method>,
  of: (reg) => reg.sync as unknown as LooseManager,
  other: (reg) => reg.periodicSync as unknown as LooseManager,
  host: () => hosts.sync,
  otherHost: () => hosts.periodic,
  hostArgs: (tag) => [tag],
};

export const PERIODIC_SYNC_MANAGER: ManagerKind = {
  name: 'PeriodicSyncManager', Class: PeriodicSyncManager, attribute: 'periodicSync', getter: periodicSyncGetter,
  operations: [['register', 1], ['getTags', 0], ['unregister', 1]], tagOperations: ['register', 'unregister'],
  proto: PeriodicSyncManager.prototype as unknown as Record<string, Method>,
  of: (reg) => reg.periodicSync as unknown as LooseManager,
  other: (reg) => reg.sync as unknown as LooseManager,
  host: () => hosts.periodic,
  otherHost: () => hosts.sync,
  hostArgs: (tag, minInterval = 0) => [tag, minInterval],
};

export const MANAGER_KINDS: readonly ManagerKind[] = [SYNC_MANAGER, PERIODIC_SYNC_MANAGER];
