/**
 * Shared test helpers: a fresh fake IndexedDB per test, raw access to the store behind the module's back, and a fake
 * service worker global scope.
 */
import { Mock, MockInstance, vi } from 'vitest';
import { IDBFactory } from 'fake-indexeddb';
import { SyncRecord, recordKey } from '../../src/core/registration';
import { DB_NAME, META, REGISTRATIONS, closeDatabase, open } from '../../src/store/db';
import { SyncEventClass, defineSyncEvents } from '../../src/web/sync-event';

export const SCOPE = 'https://example.com/app/';
export const OTHER_SCOPE = 'https://example.com/other/';

/** A fresh, empty IndexedDB, and no cached connection to the old one. */
export function freshIndexedDB(): IDBFactory {
  closeDatabase();
  const factory = new IDBFactory();
  (globalThis as { indexedDB?: IDBFactory }).indexedDB = factory;
  return factory;
}

/** A valid record; `overrides` change the fields a test is about. */
export function record(overrides: Partial<SyncRecord> = {}): SyncRecord {
  const tag = overrides.tag ?? 'outbox';
  const scope = overrides.scope ?? SCOPE;
  return {
    id: recordKey(scope, tag), scope, tag, state: 'pending', attempts: 0, notBefore: 0, order: 1,
    reregistered: false, lease: '', leaseUntil: 0, ...overrides,
  };
}

/** Writes values into the registrations store as-is (valid, corrupt or foreign). */
export async function putRaw(...values: unknown[]): Promise<void> {
  const db = await open();
  const tx = db.transaction(REGISTRATIONS, 'readwrite');
  for (const value of values) await tx.store.put(value);
  await tx.done;
}

export async function putMeta(key: string, value: unknown): Promise<void> {
  const db = await open();
  await db.put(META, value, key);
}

/** Every value in the registrations store, valid or not, keyed by id. */
export async function rawRecords(): Promise<Map<string, unknown>> {
  const db = await open();
  const all = (await db.getAll(REGISTRATIONS)) as Array<{ id: string }>;
  return new Map(all.map((r) => [r.id, r]));
}

export async function rawRecord(scope: string, tag: string): Promise<SyncRecord | undefined> {
  const db = await open();
  return (await db.get(REGISTRATIONS, recordKey(scope, tag))) as SyncRecord | undefined;
}

/** Opens the database with the raw API (as another tab or another version would). */
export function rawOpen(
  factory: IDBFactory, version: number, upgrade?: (db: IDBDatabase, oldVersion: number) => void,
): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = factory.open(DB_NAME, version);
    request.onupgradeneeded = (e) => upgrade?.(request.result, e.oldVersion);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `condition` until it holds, or fails after `timeout` ms. */
export async function until(condition: () => boolean | Promise<boolean>, timeout = 2000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeout;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await sleep(5);
  }
}

// --- A fake service worker: the happy-dom window stands in for `self` ------------------------------------------

// happy-dom has no ExtendableEvent. Like every engine's, a script-created one throws from waitUntil (docs/semantics.md §4).
export class ExtendableEvent extends Event {
  waitUntil(_f: unknown): void {
    throw new DOMException('x', 'InvalidStateError');
  }
}

/** SyncEvent as the worker half defines it, over the fake ExtendableEvent. */
export function defineTestSyncEvent(): SyncEventClass {
  return defineTestSyncEvents()[0];
}

/** SyncEvent and PeriodicSyncEvent as the worker half defines them, over the fake ExtendableEvent. */
export function defineTestSyncEvents() {
  (globalThis as Record<string, unknown>).ExtendableEvent = ExtendableEvent;
  return defineSyncEvents();
}

/** The worker's ServiceWorkerRegistration: its scope, and which versions are active and installing. */
export class WorkerRegistration {
  constructor(public scope: string, public active: object | null, public installing: object | null = null) {}
}
export type SyncWorkerRegistration = WorkerRegistration & { sync: SyncManager };

/**
 * Makes the global scope the service worker of `scope`, as install('worker') expects it: the interface objects,
 * `registration`, and `clients` whose matchAll() resolves with `windows()`.
 */
export function becomeServiceWorker(scope: string, windows: () => Array<{ frameType: string }>): SyncWorkerRegistration {
  class ServiceWorkerGlobalScope extends EventTarget {}
  Object.assign(globalThis, { ExtendableEvent, ServiceWorkerRegistration: WorkerRegistration, ServiceWorkerGlobalScope });
  const registration = new WorkerRegistration(scope, {}) as SyncWorkerRegistration;
  Object.defineProperty(globalThis, 'registration', { value: registration, configurable: true });
  Object.defineProperty(globalThis, 'clients', { value: { matchAll: vi.fn(async () => windows()) }, configurable: true });
  return registration;
}

/** Only the active worker fires: makes this worker (`self.serviceWorker`) one in `state`. */
export function workerState(state: 'installed' | 'activated'): void {
  Object.defineProperty(globalThis, 'serviceWorker', { value: { state }, configurable: true });
}

/**
 * Installs the polyfill's worker half (install('worker')) in a fresh fake ServiceWorkerGlobalScope of `scope`, its
 * worker "installed" and console.warn silenced (the spy returned, for the caller to restore), then the app's script:
 * listenForSync(app.fired, app.handler) and a message listener recording in `app.messages`.
 */
export async function installWorkerHalf(scope: string, app: {
  windows: () => Array<{ frameType: string }>;
  fired: Array<{ tag: string; lastChance: boolean }>;
  handler: () => (event: SyncEvent) => void;
  messages: unknown[];
}): Promise<{ registration: SyncWorkerRegistration; warn: MockInstance<typeof console.warn> }> {
  freshIndexedDB();
  const registration = becomeServiceWorker(scope, app.windows);
  workerState('installed');
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  const { install } = await import('../../src/install');
  install('worker');
  listenForSync(app.fired, app.handler);
  addEventListener('message', (e) => void app.messages.push((e as MessageEvent).data));
  return { registration, warn };
}

/**
 * The app's sync listener, added after the polyfill as the app's script would: records each event in `fired`, then
 * hands it to the handler `handler()` returns at that moment.
 */
export function listenForSync(fired: Array<{ tag: string; lastChance: boolean }>, handler: () => (event: SyncEvent) => void): void {
  addEventListener('sync', (e) => {
    const event = e as SyncEvent;
    fired.push({ tag: event.tag, lastChance: event.lastChance });
    handler()(event);
  });
}

/**
 * An event like the engine's ExtendableMessageEvent / FetchEvent, whose waitUntil records its promises; `ports` are
 * the message's transferred ports (a page's request carries the port its answer goes back on).
 */
export function extendable(
  type: string, data?: unknown, ports?: ReadonlyArray<unknown>,
): Event & { data?: unknown; ports?: ReadonlyArray<unknown>; waitUntil: Mock } {
  const event = new Event(type) as Event & { data?: unknown; ports?: ReadonlyArray<unknown>; waitUntil: Mock };
  event.data = data;
  if (ports) event.ports = ports;
  event.waitUntil = vi.fn();
  return event;
}

/**
 * An origin's Web Lock manager, as contexts see it (https://w3c.github.io/web-locks/): `context(name)` is one
 * context's `navigator.locks`; `kill(name)` tears that context down, which frees every lock it held and drops its
 * requests. Exclusive locks only, granted in request order, asynchronously. Node 20 and happy-dom have no Web Locks,
 * and the `web-locks` package runs on worker_threads, not in one test context.
 */
export function fakeLocks() {
  const held = new Map<string, string>();
  const queue: Array<{ name: string; owner: string; grant: () => void }> = [];
  const free = (name: string) => {
    held.delete(name);
    const i = queue.findIndex((w) => w.name === name);
    if (i >= 0) queue.splice(i, 1)[0].grant();
  };
  const context = (owner: string) => ({
    request(name: string, a: unknown, b?: unknown): Promise<unknown> {
      const options = (typeof a === 'function' ? {} : a) as { ifAvailable?: boolean };
      const callback = (typeof a === 'function' ? a : b) as (lock: unknown) => unknown;
      return new Promise((resolve, reject) => {
        const grant = () => {
          held.set(name, owner);
          Promise.resolve().then(() => callback({ name, mode: 'exclusive' })).then((value) => {
            if (held.get(name) === owner) free(name);
            resolve(value);
          }, (e: unknown) => {
            if (held.get(name) === owner) free(name);
            reject(e);
          });
        };
        if (!held.has(name)) Promise.resolve().then(grant);
        else if (options.ifAvailable) Promise.resolve().then(() => callback(null)).then(resolve, reject);
        else queue.push({ name, owner, grant });
      });
    },
    async query() {
      return {
        held: Array.from(held, ([name, owner]) => ({ name, mode: 'exclusive', clientId: owner })),
        pending: queue.map(({ name, owner }) => ({ name, mode: 'exclusive', clientId: owner })),
      };
    },
  });
  const kill = (owner: string) => {
    for (let i = queue.length - 1; i >= 0; i--) if (queue[i].owner === owner) queue.splice(i, 1);
    for (const [name, o] of Array.from(held)) if (o === owner) free(name);
  };
  return { context, kill, held };
}

/** Makes `locks` this context's `navigator.locks` (undefined: none, as in Safari before 15.4). */
export function useLocks(locks: unknown): void {
  Object.defineProperty(navigator, 'locks', { value: locks, configurable: true });
}

// --- The worker half of a test file, pages' requests to it, and periodic records ----------------------------------
// (test/unit/worker/requests.test.ts, periodic-requests.test.ts, periodic-dispatcher.test.ts, store/periodic-db.test.ts)
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { IDBObjectStore as FakeObjectStore } from 'fake-indexeddb';
import { Answer, PROTOCOL_KEY, PROTOCOL_VERSION } from '../../src/protocol';
import { DEFAULT_POLICY } from '../../src/core/policy';
import { PeriodicRecord, periodicKey } from '../../src/core/periodic';
import { Dispatcher } from '../../src/worker/dispatcher';

/** What a file's worker half (useWorkerHalf) holds; the fields are set afresh, or cleared, before each test. */
export interface WorkerHalf {
  registration: SyncWorkerRegistration;
  /** What clients.matchAll() resolves with: one top-level window unless the test says otherwise. */
  windows: Array<{ frameType: string }>;
  /** The app's sync events. */
  fired: Array<{ tag: string; lastChance: boolean }>;
  /** The app's periodicsync events: each one's tag, whether it is a PeriodicSyncEvent, and whether it has lastChance. */
  periodicFired: Array<{ tag: string; periodic: boolean; hasLastChance: boolean }>;
  /** The messages the app's script received (a page's request to the polyfill must never be among them). */
  appMessages: unknown[];
  /** console.warn, silenced. */
  warn: MockInstance<typeof console.warn>;
  /** A spy on Dispatcher.prototype.run, new for each test. */
  runs: MockInstance<Dispatcher['run']>;
}

/**
 * Installs the worker half once for the file (installWorkerHalf in the service worker of `scope`; the app's script also
 * records its periodicsync events), and gives each test a fresh start: an empty database, one top-level window, the
 * worker "installed" (only the active worker fires: most tests keep it so, so that what they store stays put) with an
 * active version, `reset()` (a policy, say), 5 ms for the last test's work to end, then every record cleared and `runs`
 * spied on afresh. Call at the top level of a test file.
 */
export function useWorkerHalf(scope: string, reset: () => void = () => undefined): WorkerHalf {
  const half = { windows: [], fired: [], periodicFired: [], appMessages: [] } as unknown as WorkerHalf;
  beforeAll(async () => {
    const app = { windows: () => half.windows, fired: half.fired, handler: () => () => undefined, messages: half.appMessages };
    ({ registration: half.registration, warn: half.warn } = await installWorkerHalf(scope, app));
    const PeriodicSyncEvent = (globalThis as unknown as { PeriodicSyncEvent: new () => PeriodicSyncEvent }).PeriodicSyncEvent;
    addEventListener('periodicsync', (e) => {
      const event = e as PeriodicSyncEvent;
      half.periodicFired.push({ tag: event.tag, periodic: e instanceof PeriodicSyncEvent, hasLastChance: 'lastChance' in event });
    });
  });
  afterAll(() => half.warn.mockRestore());
  beforeEach(async () => {
    freshIndexedDB();
    half.windows = [{ frameType: 'top-level' }];
    workerState('installed');
    half.registration.active = {};
    reset();
    await sleep(5);
    half.fired.length = 0;
    half.periodicFired.length = 0;
    half.appMessages.length = 0;
    half.warn.mockClear();
    half.runs?.mockRestore();
    half.runs = vi.spyOn(Dispatcher.prototype, 'run');
  });
  return half;
}

/** A port as the engine hands it over: what the worker posts on it is recorded. */
export function fakePort() {
  return { postMessage: vi.fn<(answer: Answer) => void>() };
}

/**
 * Posts `data` to the worker (this global scope) as a page's request with a port; resolves once the promise the worker
 * handed to the event's waitUntil has settled (it must fulfil), with the event and the port.
 */
export async function sendRequest(data: unknown) {
  const port = fakePort();
  const event = extendable('message', data, [port]);
  dispatchEvent(event);
  expect(event.waitUntil).toHaveBeenCalledTimes(1);
  await expect(event.waitUntil.mock.calls[0][0]).resolves.toBeUndefined();
  return { event, port };
}

/** The one answer posted on `port`. */
export function answerOn(port: ReturnType<typeof fakePort>): Answer {
  expect(port.postMessage).toHaveBeenCalledTimes(1);
  return port.postMessage.mock.calls[0][0];
}

/** A request as src/protocol.ts builds it, with the fields as given (malformed ones included). */
export function rawRequest(op: string, fields: Record<string, unknown> = {}) {
  return { [PROTOCOL_KEY]: PROTOCOL_VERSION, op, ...fields };
}

/** Sends `data` as a page's request (sendRequest) and resolves with the one answer posted on its port. */
export async function ask(data: unknown): Promise<Answer> {
  return answerOn((await sendRequest(data)).port);
}

/** Storage broken: the connection closed and IndexedDB gone, as in a context without it. */
export function breakStorage(): void {
  closeDatabase();
  delete (globalThis as { indexedDB?: unknown }).indexedDB;
}

/** What each of `calls` (promises, or values) rejects with; null for one that fulfils. */
export function rejections(calls: ReadonlyArray<unknown>): Promise<unknown[]> {
  return Promise.all(calls.map((call) => Promise.resolve(call).then(() => null, (e: unknown) => e)));
}

/** What the message of a storage failure with IndexedDB missing says. */
const STORAGE_FAILED = /^Background Sync storage failed: .*IndexedDB is not available/;

/** `error` is the DOMException a storage failure with IndexedDB missing rejects with: UnknownError, saying why. */
export function expectStorageFailure(error: unknown): void {
  expect(error).toBeInstanceOf(DOMException);
  expect((error as DOMException).name).toBe('UnknownError');
  expect((error as DOMException).message).toMatch(STORAGE_FAILED);
}

/** The worker's answer to a request when storage fails with IndexedDB missing: no tags, UnknownError saying why. */
export function expectStorageFailureAnswer(answer: Answer): void {
  expect(answer.tags).toBeUndefined();
  expect(answer.error![0]).toBe('UnknownError');
  expect(answer.error![1]).toMatch(STORAGE_FAILED);
}

/**
 * A register() in the worker with `windows` open and none of them a top-level window rejects with InvalidAccessError
 * and `message`, and 20 ms on, the dispatcher has not been woken.
 */
export async function expectRefusedWithoutWindow(
  half: WorkerHalf, windows: Array<{ frameType: string }>, register: () => Promise<unknown>, message: string,
): Promise<void> {
  half.windows = windows;
  const [error] = await rejections([register()]);
  expect(error).toBeInstanceOf(DOMException);
  expect((error as DOMException).name).toBe('InvalidAccessError');
  expect((error as DOMException).message).toBe(message);
  await sleep(20);
  expect(half.runs).not.toHaveBeenCalled();
}

/**
 * A register() in the worker asks for the window clients, uncontrolled ones included, and one top-level window among
 * nested frames is enough: it resolves.
 */
export async function expectOneTopLevelWindowEnough(half: WorkerHalf, register: () => Promise<unknown>): Promise<void> {
  half.windows = [{ frameType: 'nested' }, { frameType: 'top-level' }];
  const matchAll = (globalThis as unknown as { clients: { matchAll: Mock } }).clients.matchAll;
  matchAll.mockClear();
  await expect(register()).resolves.toBeUndefined();
  expect(matchAll).toHaveBeenCalledWith({ type: 'window', includeUncontrolled: true });
}

/** The ports handed over in each test, closed after it (an open port keeps Node's event loop alive). Call in a describe. */
export function portsClosedAfterEach(): MessagePort[] {
  const ports: MessagePort[] = [];
  afterEach(() => {
    for (const port of ports.splice(0)) port.close();
  });
  return ports;
}

/** The page's view of the worker of this global scope: its postMessage delivers here, cloned, with its ports (kept in `ports`). */
export function workerSeenByPage(ports: MessagePort[]): ServiceWorker {
  return {
    postMessage(message: unknown, transfer: MessagePort[]) {
      ports.push(...transfer);
      dispatchEvent(extendable('message', structuredClone(message), transfer));
    },
  } as unknown as ServiceWorker;
}

/** A time for records to be at (ms since the epoch). */
export const FIXED_NOW = 1_700_000_000_000;

/** A valid periodic record, waiting one default periodicMinInterval (12 h) from FIXED_NOW; `overrides` change the rest. */
export function periodicRecord(overrides: Partial<PeriodicRecord> = {}): PeriodicRecord {
  const tag = overrides.tag ?? 'news';
  const scope = overrides.scope ?? SCOPE;
  return {
    id: periodicKey(scope, tag), scope, tag, periodic: true, minInterval: 0, state: 'waiting', attempts: 0,
    notBefore: FIXED_NOW + DEFAULT_POLICY.periodicMinInterval, since: FIXED_NOW, order: 1, lease: '', leaseUntil: 0,
    ...overrides,
  };
}

/** What is stored under the periodic key of (scope, tag), as-is. */
export async function rawPeriodicRecord(scope: string, tag: string): Promise<PeriodicRecord | undefined> {
  const db = await open();
  return (await db.get(REGISTRATIONS, periodicKey(scope, tag))) as PeriodicRecord | undefined;
}

/** Counts the readwrite transactions opened from now on (until vi.restoreAllMocks()): the returned function says how many. */
export function countReadwrite(): () => number {
  const db = IDBDatabase.prototype as unknown as { transaction: (...args: unknown[]) => unknown };
  const original = db.transaction;
  let n = 0;
  vi.spyOn(db, 'transaction').mockImplementation(function (this: unknown, ...args: unknown[]) {
    if (args[1] === 'readwrite') n++;
    return original.apply(this, args);
  });
  return () => n;
}

/**
 * Makes the registrations store's put() throw QuotaExceededError on the calls `fails` picks (counting them from 1),
 * until vi.restoreAllMocks().
 */
export function failPuts(fails: (call: number) => boolean = () => true): void {
  const put = FakeObjectStore.prototype.put;
  let calls = 0;
  vi.spyOn(FakeObjectStore.prototype, 'put').mockImplementation(function (this: IDBObjectStore, ...args) {
    if (this.name === REGISTRATIONS && fails(++calls)) throw new DOMException('quota', 'QuotaExceededError');
    return put.apply(this, args as Parameters<typeof put>);
  });
}

/** A method of a fake engine's SyncManager or PeriodicSyncManager (the takeover tests, docs/semantics.md §8). */
export type EngineCall = (this: object, ...args: unknown[]) => Promise<unknown>;
/** What a fake engine's managers answer: mocks, by default accepting, with no tags. */
export interface FakeEngine {
  sync: { register: Mock<EngineCall>; getTags: Mock<EngineCall> };
  periodic: { register: Mock<EngineCall>; getTags: Mock<EngineCall>; unregister: Mock<EngineCall> };
}

/**
 * The engine's SyncManager and PeriodicSyncManager as Chromium has them, whose methods call `engine`'s mocks with the
 * same `this` and arguments (the takeover tests, docs/semantics.md §8).
 */
export function fakeEngineManagers() {
  const engine: FakeEngine = {
    sync: { register: vi.fn<EngineCall>(async () => undefined), getTags: vi.fn<EngineCall>(async () => []) },
    periodic: {
      register: vi.fn<EngineCall>(async () => undefined), getTags: vi.fn<EngineCall>(async () => []),
      unregister: vi.fn<EngineCall>(async () => undefined),
    },
  };
  class SyncManager {
    register(_tag: string) {
      return engine.sync.register.apply(this, Array.from(arguments));
    }

    getTags() {
      return engine.sync.getTags.apply(this, Array.from(arguments));
    }
  }
  class PeriodicSyncManager {
    register(_tag: string) {
      return engine.periodic.register.apply(this, Array.from(arguments));
    }

    getTags() {
      return engine.periodic.getTags.apply(this, Array.from(arguments));
    }

    unregister(_tag: string) {
      return engine.periodic.unregister.apply(this, Array.from(arguments));
    }
  }
  /**
   * Gives `Registration` the engine's `sync` and `periodicSync` getters: one manager of each class per registration.
   */
  const defineGetters = (Registration: { prototype: object }) => {
    for (const [name, Class] of [['sync', SyncManager], ['periodicSync', PeriodicSyncManager]] as const) {
      const managers = new WeakMap<object, object>();
      Object.defineProperty(Registration.prototype, name, {
        get(this: object) {
          if (!managers.has(this)) managers.set(this, Object.create(Class.prototype));
          return managers.get(this);
        },
        enumerable: true, configurable: true,
      });
    }
  };
  return { engine, SyncManager, PeriodicSyncManager, defineGetters };
}
