/**
 * The one module that owns the IndexedDB schema (docs/semantics.md §5). One database per origin; each record is keyed by
 * service worker scope and tag. Every state change is a compare-and-set: the record is read, checked by the
 * pure state machine and written back in one readwrite transaction, with `durability: 'relaxed'`, as Chromium's own
 * Background Sync store does not flush per registration either: see `write`.
 */
import { openDB, unwrap, IDBPDatabase, IDBPTransaction } from 'idb';
import {
  SyncRecord, Outcome, isSyncRecord, recordKey, applyRegister, claim, renew, isAbandoned, isLockedFiring, nextWake,
} from '../core/registration';
import { RetryPolicy } from '../core/policy';
import {
  AnyRecord, PeriodicRecord, applyPeriodicRegister, claimAny, isPeriodicRecord, periodicKey, settleAny,
} from '../core/periodic';

export const DB_NAME = 'background-sync-polyfill';
/** Bump with a new step in `migrate`; a migration never drops a registration. */
export const DB_VERSION = 3;
export const REGISTRATIONS = 'registrations';
export const META = 'meta';
/** An open blocked this long by a connection of an older version (another tab) fails instead of hanging. */
export const OPEN_TIMEOUT = 5000;

type Db = IDBPDatabase<unknown>;
type Tx = IDBPTransaction<unknown, string[], 'readwrite'>;

/** Storage failed: the web-facing API turns this into an `UnknownError` DOMException (docs/semantics.md §2 step 4). */
export class StorageError extends Error {}
StorageError.prototype.name = 'StorageError';

function migrate(db: Db, oldVersion: number, tx: IDBPTransaction<unknown, string[], 'versionchange'>): void {
  if (oldVersion < 1) {
    db.createObjectStore(REGISTRATIONS, { keyPath: 'id' });
    db.createObjectStore(META);
  }
  // Version 2 drops version 1's `scope` index: a scope's records are a range of primary keys (scopeRange), and the
  // index cost every write an update of its own (500 register() calls: 112 → 75 ms, docs/performance.md).
  if (oldVersion == 1) tx.objectStore(REGISTRATIONS).deleteIndex('scope');
  // Version 3 adds periodic records (docs/semantics.md §7) in a key range of their own, and changes no stored record:
  // every one-shot registration is kept as it is. The version itself is the change. Code of version 2 would see
  // neither periodic records nor their registration order, and its removeScope would leave them behind, so a
  // context still running it (another tab, an old worker) must not share this database: its connection is closed
  // by `blocking` as this upgrade starts, and it cannot open version 3 (VersionError: "created by a newer version").
}

let opening: Promise<Db> | null = null;

/** Opens (once per context) the database; every failure becomes a StorageError that says why. */
export function open(): Promise<Db> {
  if (!opening) {
    const attempt: Promise<Db> = new Promise<Db>((resolve, reject) => {
      if (typeof indexedDB === 'undefined' || !indexedDB) {
        throw new StorageError('IndexedDB is not available in this context');
      }
      const timer = setTimeout(
        () => reject(new StorageError(`opening IndexedDB was blocked for ${OPEN_TIMEOUT} ms by another tab`)),
        OPEN_TIMEOUT,
      );
      openDB(DB_NAME, DB_VERSION, {
        upgrade: (db, oldVersion, _newVersion, tx) => {
          // An aborted upgrade fails the open; its own done promise must not go unhandled.
          tx.done.catch(() => undefined);
          migrate(db, oldVersion, tx);
        },
        // A newer version elsewhere wants to upgrade: let it, and reopen on next use.
        blocking: () => forget(attempt, true),
        terminated: () => forget(attempt, false),
      }).then((db) => {
        clearTimeout(timer);
        resolve(db);
        // Lost the race with the timeout: nobody uses this connection.
        if (opening !== attempt) db.close();
      }, (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      });
    }).catch((e: unknown) => {
      forget(attempt, false);
      throw toStorageError(e, 'open');
    });
    opening = attempt;
  }
  return opening;
}

function forget(attempt: Promise<Db>, close: boolean): void {
  if (opening !== attempt) return;
  opening = null;
  if (close) attempt.then((db) => db.close(), () => undefined);
}

/** For tests and for a worker that wants a fresh connection. */
export function closeDatabase(): void {
  if (opening) forget(opening, true);
}

function toStorageError(e: unknown, during: string): StorageError {
  if (e instanceof StorageError) return e;
  const err = e as { name?: string; message?: string } | null;
  if (err && err.name === 'VersionError') {
    return new StorageError(`the database "${DB_NAME}" was created by a newer version of background-sync-polyfill`);
  }
  const what = err && err.name ? `${err.name}: ${err.message || ''}` : String(e);
  return new StorageError(`IndexedDB ${during} failed (${what})`);
}

/**
 * Runs `work` in one readwrite transaction and resolves once it has committed. Relaxed durability: the commit has
 * handed the write to the operating system, not waited for its flush to disk. Isolation between contexts is the
 * transaction's whatever its durability, so no two contexts claim one record; what relaxed gives up is a write's
 * survival of an operating-system crash or power cut in the moment before the system flushes it. A killed tab,
 * worker or browser loses nothing (the fault suite SIGKILLs each, docs/reliability.md); the flush costs about
 * one millisecond per register() (docs/performance.md).
 */
async function write<T>(during: string, work: (tx: Tx) => Promise<T>): Promise<T> {
  const db = await open();
  let tx: Tx | undefined;
  try {
    tx = db.transaction([REGISTRATIONS, META], 'readwrite', { durability: 'relaxed' });
    const done = tx.done;
    // Handled here so that a failed request's cause, not done's generic AbortError, is what we report.
    done.catch(() => undefined);
    const result = await work(tx);
    // Commit now rather than after the event loop turns (where the engine has commit()): the requests still in
    // flight are written first.
    if (tx.commit) tx.commit();
    await done;
    return result;
  } catch (e) {
    // All or nothing: requests made before a synchronous throw would otherwise commit.
    try {
      if (tx) tx.abort();
    } catch {
      // Already finished or aborted.
    }
    throw toStorageError((tx && tx.error) || e, during);
  }
}

/**
 * The primary keys of a scope's records, a range each: one seek, where the `scope` index would look each record up
 * again. One-shot keys are scope + line feed + tag (recordKey), periodic ones scope + vertical tab + tag (periodicKey),
 * so a scope's two namespaces are adjacent ranges, and BOTH spans them.
 */
const ONE_SHOT = '\n\u000b';
const PERIODIC = '\u000b\u000c';
const BOTH = '\n\u000c';

function scopeRange(scope: string, keys = ONE_SHOT): IDBKeyRange {
  return IDBKeyRange.bound(scope + keys[0], scope + keys[1], false, true);
}

/** Who claims a registration in the transaction that stores it: a worker that may fire it now (Dispatcher.register). */
export interface Claimant {
  now: number;
  instance: string;
  leaseTtl: number;
  locked: boolean;
}

interface Pending {
  scope: string;
  tag: string;
  claimant?: Claimant;
  /** A periodic register(): [minInterval, now, periodicMinInterval] (applyPeriodicRegister). */
  periodic?: [number, number, number];
  resolve: (record: never) => void;
  reject: (error: unknown) => void;
}
let batch: Pending[] | null = null;

/**
 * register(tag) for one scope: coalesces with an existing record (docs/semantics.md §2 steps 5 and 6). The calls a context
 * makes in one go (a loop of register() calls, say) are written in one transaction: IndexedDB would otherwise
 * run and commit their transactions one after another. They succeed or fail together. With a `claimant`, the same
 * transaction also claims the registration if it is due (claim): one transaction where a register() and the claim of
 * the pass after it would be two. Resolves with the record as stored.
 */
export function storeRegistration(scope: string, tag: string, claimant?: Claimant): Promise<SyncRecord> {
  return queue({ scope, tag, claimant });
}

/**
 * register(tag, {minInterval}) of periodic sync for one scope (docs/semantics.md §7), batched with the context's other
 * register() calls as storeRegistration's are: a new tag takes the next registration order, shared with one-shot
 * tags. Resolves with the record as stored.
 */
export function storePeriodicRegistration(
  scope: string, tag: string, minInterval: number, now: number, periodicMinInterval: number,
): Promise<PeriodicRecord> {
  return queue({ scope, tag, periodic: [minInterval, now, periodicMinInterval] });
}

function queue<T>(item: Omit<Pending, 'resolve' | 'reject'>): Promise<T> {
  return new Promise((resolve, reject) => {
    if (!batch) {
      batch = [];
      Promise.resolve().then(writeBatch);
    }
    batch.push({ ...item, resolve, reject } as Pending);
  });
}

/** A batch item's key: the one-shot or the periodic namespace. */
function keyOf({ scope, tag, periodic }: Pending): string {
  return (periodic ? periodicKey : recordKey)(scope, tag);
}

/** A batch larger than this reads its scopes' records in one request each rather than one per tag. */
const MANY = 16;

/** What is stored under each item's key (undefined where nothing is), read with one getAll per scope. */
async function readScopes(store: { getAll(query: IDBKeyRange): Promise<unknown[]> }, items: Pending[]): Promise<unknown[]> {
  const stored = new Map<string, unknown>();
  const scopes: string[] = [];
  for (const { scope } of items) if (scopes.indexOf(scope) < 0) scopes.push(scope);
  for (const values of await Promise.all(scopes.map((scope) => store.getAll(scopeRange(scope, BOTH))))) {
    // The key path is `id`: every stored value carries its own key.
    for (const value of values) stored.set((value as { id: string }).id, value);
  }
  return items.map((item) => stored.get(keyOf(item)));
}

function writeBatch(): void {
  const items = batch || [];
  batch = null;
  write('write', async (tx) => {
    const store = tx.objectStore(REGISTRATIONS);
    const meta = tx.objectStore(META);
    // Every read goes out at once, and every write: a round trip each rather than one per request. A tag twice
    // in the batch sees the record its first occurrence made, through `made`.
    const [found, counter] = await Promise.all([
      items.length > MANY ? readScopes(store, items) : Promise.all(items.map((item) => store.get(keyOf(item)))),
      // getAll, not get: idb 7 cannot wrap a NaN result, and a corrupt counter must not break register.
      meta.getAll(IDBKeyRange.only('order')),
    ]);
    const made = new Map<string, AnyRecord>();
    /** The record each key ends with, registered by every item of the batch before any is claimed. */
    const last = new Map<string, AnyRecord>();
    let order: number | undefined;
    for (let i = 0; i < items.length; i++) {
      const { scope, tag, periodic: p } = items[i];
      const id = keyOf(items[i]);
      const stored = last.get(id) || found[i];
      const existing = (p ? isPeriodicRecord : isSyncRecord)(stored) ? stored as AnyRecord : undefined;
      if (!existing && order === undefined) order = await lastOrder(store, counter[0]);
      const mine = existing ? 0 : (order = (order as number) + 1);
      const next = p
        ? applyPeriodicRegister(existing as PeriodicRecord | undefined, scope, tag, p[0], p[1], p[2], mine)
        : applyRegister(existing as SyncRecord | undefined, scope, tag, mine);
      if (next !== existing) made.set(id, next);
      last.set(id, next);
    }
    // Claimed after every item is registered: a tag twice in the batch fires once, not as a re-registration. Only a
    // one-shot register() has a claimant.
    for (const item of items) {
      const c = item.claimant;
      const id = keyOf(item);
      const mine = c && claim(last.get(id) as SyncRecord, c.now, c.instance, c.leaseTtl, c.locked);
      if (mine) made.set(id, mine), last.set(id, mine);
    }
    const results = items.map((item) => last.get(keyOf(item)) as AnyRecord);
    const writes: Promise<unknown>[] = [];
    try {
      for (const record of made.values()) writes.push(store.put(record));
      if (order !== undefined) writes.push(meta.put(order, 'order'));
    } catch (e) {
      // All or nothing: abort what the earlier requests wrote. If the transaction had aborted already (a request
      // made after that throws), its own failure is what to report.
      try {
        tx.abort();
      } catch {
        await tx.done;
      }
      throw e;
    }
    await Promise.all(writes);
    return results;
  }).then((results) => {
    for (let i = 0; i < items.length; i++) items[i].resolve(results[i] as never);
  }, (e) => {
    for (const item of items) item.reject(e);
  });
}

/** The highest order given so far, from the stored counter. */
async function lastOrder(store: { getAll(): Promise<unknown[]> }, counter: unknown): Promise<number> {
  if (typeof counter === 'number' && Number.isFinite(counter)) return counter;
  // Rebuild a corrupt or missing counter after the highest order stored, so getTags() keeps its order.
  let order = 0;
  for (const r of (await store.getAll()).filter(isAnyRecord)) order = Math.max(order, r.order);
  return order;
}

/** Every valid one-shot record of a scope, in registration order. */
export function list(scope: string): Promise<SyncRecord[]> {
  return listed(scope, ONE_SHOT, isSyncRecord);
}

/** Every valid record of a scope's namespace `keys` that passes `valid`, in registration order. */
async function listed<T extends { order: number }>(scope: string, keys: string, valid: (value: unknown) => value is T): Promise<T[]> {
  const db = await open();
  try {
    const records = (await db.transaction(REGISTRATIONS).store.getAll(scopeRange(scope, keys))).filter(valid);
    return records.sort((a, b) => a.order - b.order);
  } catch (e) {
    throw toStorageError(e, 'read');
  }
}

/** A record of either namespace that we wrote; anything else is not trusted. */
function isAnyRecord(value: unknown): value is AnyRecord {
  return isSyncRecord(value) || isPeriodicRecord(value);
}

/**
 * One pass of the dispatcher (docs/semantics.md §3 and §7): abandoned firings are settled as failed attempts, then every
 * due record of the scope, one-shot or periodic, is claimed by `instance` (`locked`: it holds the lock of its lease,
 * src/liveness.ts). `running`: the keys (`id`) of the records whose events `instance` is still running. `dead`: leases
 * whose lock was seen free. Returns the claimed records (no other context can claim them) and `suspects`: the leases
 * of other instances' locked firings not known dead, for the caller to look up or wait on.
 */
export function claimDue(
  scope: string, now: number, instance: string, leaseTtl: number, policy: RetryPolicy,
  running: ReadonlySet<string> = new Set(), locked = false, dead?: ReadonlySet<string>,
): Promise<{ claimed: AnyRecord[]; next: number; reaped: Array<{ tag: string; next: AnyRecord | null }>; suspects: string[] }> {
  return write('write', async (tx) => {
    const store = tx.objectStore(REGISTRATIONS);
    const claimed: AnyRecord[] = [];
    const kept: AnyRecord[] = [];
    const reaped: Array<{ tag: string; next: AnyRecord | null }> = [];
    const suspects = new Set<string>();
    // Raw requests, not idb's promises: a claim of everything due writes each record, and a promise and two
    // listeners per request were a fifth of a 1,000-tag claim's time. A failed one fails the transaction.
    const raw = unwrap(store);
    // Both namespaces in one seek: one-shot keys (line feed) and periodic ones (vertical tab) are adjacent ranges.
    for (const record of (await store.getAll(scopeRange(scope, BOTH))).filter(isAnyRecord)) {
      let current: AnyRecord | null | undefined = record;
      const ours = record.lease === instance;
      // Ours and still running: alive, whatever the lease's time says (renewals may have failed). Ours and not
      // running: its outcome was never written, so it was abandoned.
      const gone = ours
        ? record.state === 'firing' && !running.has(record.id) && (record.locked || record.leaseUntil <= now)
        : isAbandoned(record, now, dead);
      if (gone) {
        current = settleAny(record, 'failure', now, policy, null, ours ? new Set([instance]) : dead);
        reaped.push({ tag: record.tag, next: current || null });
      } else if (!ours && isLockedFiring(record)) {
        suspects.add(record.lease);
      }
      // Not while this instance still runs an event of the same key: a registration removed and registered again
      // during its event waits for that event to end, so that one key never has two events in flight.
      const mine = current && !running.has(record.id) && claimAny(current, now, instance, leaseTtl, locked);
      if (mine) claimed.push(mine);
      const next = mine || current;
      if (next) kept.push(next);
      if (next !== record) next ? raw.put(next) : raw.delete(record.id);
    }
    return {
      claimed: claimed.sort((a, b) => a.order - b.order), next: nextWake(kept), reaped, suspects: Array.from(suspects),
    };
  });
}

/**
 * Settles firings held by `instance`, one-shot or (`periodic`) periodic. Returns each transition made (null: removed);
 * outcomes for records this instance no longer holds are ignored.
 */
export function settleFirings(
  scope: string, outcomes: ReadonlyArray<{ tag: string; outcome: Outcome; periodic?: boolean }>, now: number,
  policy: RetryPolicy, instance: string,
): Promise<Array<{ tag: string; outcome: Outcome; next: AnyRecord | null }>> {
  return write('write', async (tx) => {
    const store = tx.objectStore(REGISTRATIONS);
    const settled: Array<{ tag: string; outcome: Outcome; next: AnyRecord | null }> = [];
    // Every read goes out at once, then every write: a round trip each rather than two per record.
    const records = await Promise.all(outcomes.map(({ tag, periodic }) => store.get((periodic ? periodicKey : recordKey)(scope, tag))));
    // Raw requests, as in claimDue: the commit waits for them, and a failed one fails the transaction.
    const raw = unwrap(store);
    for (let i = 0; i < outcomes.length; i++) {
      const { tag, outcome } = outcomes[i];
      const record = records[i];
      const next = isAnyRecord(record) ? settleAny(record, outcome, now, policy, instance) : undefined;
      if (next === undefined) continue;
      next ? raw.put(next) : raw.delete(record.id);
      settled.push({ tag, outcome, next });
    }
    return settled;
  });
}

/** Extends the leases `instance` holds on these records, by key (`id`): a heartbeat while their events run. */
export function renewAll(scope: string, ids: readonly string[], now: number, instance: string, leaseTtl: number) {
  return write('write', async (tx) => {
    const store = tx.objectStore(REGISTRATIONS);
    for (const id of ids) {
      const record = await store.get(id);
      // renew() reads only the state and the lease, which both namespaces share.
      const next = isAnyRecord(record) && record.scope === scope && renew(record as SyncRecord, now, instance, leaseTtl);
      if (next) await store.put(next);
    }
  });
}

/** Drops every registration of a scope, one-shot and periodic: its service worker registration is gone (as Chromium does). */
export function removeScope(scope: string): Promise<void> {
  return write('write', (tx) => tx.objectStore(REGISTRATIONS).delete(scopeRange(scope, BOTH)));
}

// Periodic Background Sync (docs/semantics.md §7): records in the same store, keyed in a namespace of their own
// (periodicKey), the key range just above the scope's one-shot records.

/** Every valid periodic record of a scope, in registration order. */
export function listPeriodic(scope: string): Promise<PeriodicRecord[]> {
  return listed(scope, PERIODIC, isPeriodicRecord);
}

/** unregister(tag) of periodic sync: removes the tag if it is there; a running event finishes, and nothing follows. */
export function removePeriodic(scope: string, tag: string): Promise<void> {
  return write('write', (tx) => tx.objectStore(REGISTRATIONS).delete(periodicKey(scope, tag)));
}
