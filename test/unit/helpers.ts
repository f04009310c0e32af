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
