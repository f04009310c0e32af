/** Shared test helpers: a fresh fake IndexedDB per test, and raw access to the store behind the module's back. */
import { IDBFactory } from 'fake-indexeddb';
import { SyncRecord, recordKey } from '../../src/core/registration';
import { DB_NAME, META, REGISTRATIONS, closeDatabase, open } from '../../src/store/db';

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
