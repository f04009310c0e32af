/**
 * Storage faults injected into fake-indexeddb the way real engines produce them, and the plumbing to watch for
 * unhandled rejections and to run the database under vitest's fake clock.
 */
import { vi } from 'vitest';
import {
  IDBDatabase as FakeDatabase, IDBObjectStore as FakeObjectStore, IDBTransaction as FakeTransaction,
} from 'fake-indexeddb';

/** fake-indexeddb's internals these injectors use (not part of its typed API). */
interface RawTransaction {
  mode: string;
  _state: string;
  _rollbackLog: unknown[];
  _requests: Array<{ request: { readyState: string } }>;
  _abort(name: string | null): void;
  _start(): void;
}
interface RawObjectStore {
  name: string;
  _rawObjectStore: { storeRecord: (...args: unknown[]) => unknown };
  transaction: IDBTransaction;
}

/**
 * Chromium's quota failure: a readwrite transaction that wrote something aborts when it commits, with
 * `transaction.error` a QuotaExceededError; every request in it had succeeded. Reads still work.
 */
export function quotaExceededOnCommit(): { restore(): void } {
  const proto = FakeTransaction.prototype as unknown as RawTransaction;
  const start = proto._start;
  const spy = vi.spyOn(proto, '_start').mockImplementation(function (this: RawTransaction) {
    const committing = this._state !== 'finished' && this.mode === 'readwrite' && this._rollbackLog.length > 0 &&
      this._requests.every((r) => r.request.readyState === 'done');
    if (committing) this._abort('QuotaExceededError');
    else start.call(this);
  });
  return { restore: () => spy.mockRestore() };
}

/**
 * Firefox's quota failure: a put request fails with an error event (QuotaExceededError, or `name`), which aborts
 * its transaction with that error. Only stores named in `stores` (all when omitted).
 */
export function putRequestFails(name = 'QuotaExceededError', stores?: string[]): { restore(): void } {
  const put = FakeObjectStore.prototype.put;
  const spy = vi.spyOn(FakeObjectStore.prototype, 'put').mockImplementation(function (this: IDBObjectStore, ...args) {
    const self = this as unknown as RawObjectStore;
    if (stores && stores.indexOf(self.name) < 0) return put.apply(this, args as Parameters<typeof put>);
    const raw = self._rawObjectStore;
    const storeRecord = raw.storeRecord;
    raw.storeRecord = () => {
      throw new DOMException('The current transaction exceeded its quota limitations.', name);
    };
    try {
      return put.apply(this, args as Parameters<typeof put>);
    } finally {
      raw.storeRecord = storeRecord;
    }
  });
  return { restore: () => spy.mockRestore() };
}

/** `put` throws synchronously (a DataCloneError, or a quota check made at the call). */
export function putThrows(name = 'QuotaExceededError'): { restore(): void } {
  const spy = vi.spyOn(FakeObjectStore.prototype, 'put').mockImplementation(() => {
    throw new DOMException('The quota has been exceeded.', name);
  });
  return { restore: () => spy.mockRestore() };
}

/** The transaction is aborted right after its `n`-th put (1-based, any store) is made: a transition cut mid-way. */
export function abortAfterPut(n: number): { restore(): void } {
  const put = FakeObjectStore.prototype.put;
  let calls = 0;
  const spy = vi.spyOn(FakeObjectStore.prototype, 'put').mockImplementation(function (this: IDBObjectStore, ...args) {
    const request = put.apply(this, args as Parameters<typeof put>);
    if (++calls === n) this.transaction.abort();
    return request;
  });
  return { restore: () => spy.mockRestore() };
}

/** Creating the schema fails (QuotaExceededError from createObjectStore): the upgrade transaction aborts. */
export function upgradeFails(): { restore(): void } {
  const spy = vi.spyOn(FakeDatabase.prototype, 'createObjectStore').mockImplementation(() => {
    throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
  });
  return { restore: () => spy.mockRestore() };
}

// --- Unhandled rejections --------------------------------------------------------------------------------------

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => void unhandled.push(reason);

/** Starts recording unhandled rejections (vitest also reports them and fails the run; this names the test). */
export function watchUnhandledRejections(): () => void {
  process.on('unhandledRejection', onUnhandled);
  return () => process.off('unhandledRejection', onUnhandled);
}

/** The unhandled rejections since the last call, after giving pending ones a few turns to surface. */
export async function takeUnhandledRejections(): Promise<string[]> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  return unhandled.splice(0).map((r) => (r instanceof Error || r instanceof DOMException ? `${r.name}: ${r.message}` : String(r)));
}

// --- The database under the fake clock -------------------------------------------------------------------------

const realSetImmediate = globalThis.setImmediate;
let queued = 0;

/**
 * Fakes setTimeout, setInterval and Date, and counts fake-indexeddb's tasks (it runs on the real setImmediate)
 * so that `settle()` can wait until the database is idle. Returns the undo.
 */
export function fakeClock(now = 1_700_000_000_000): () => void {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'], now });
  queued = 0;
  globalThis.setImmediate = ((fn: (...args: unknown[]) => void, ...args: unknown[]) => {
    queued++;
    return realSetImmediate(() => {
      queued--;
      fn(...args);
    });
  }) as typeof setImmediate;
  return () => {
    globalThis.setImmediate = realSetImmediate;
    vi.useRealTimers();
  };
}

/** Lets the database and every timer due now run, until all is idle. */
export async function settle(): Promise<void> {
  let idle = 0;
  for (let i = 0; i < 20000 && idle < 3; i++) {
    vi.advanceTimersByTime(0);
    await new Promise((r) => realSetImmediate(r));
    idle = queued === 0 ? idle + 1 : 0;
  }
  if (idle < 3) throw new Error('the database never went idle');
}

/** Moves the fake clock by `ms` in steps of at most a second, the database settling after each. */
export async function advance(ms: number): Promise<void> {
  const target = Date.now() + ms;
  await settle();
  while (Date.now() < target) {
    vi.advanceTimersByTime(Math.min(1000, target - Date.now()));
    await settle();
  }
}
