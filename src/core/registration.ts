/**
 * Sync registrations and the spec's state machine, as pure functions over plain records.
 * No DOM, no storage, no timers: every function takes `now` and returns a new record (or null for removed).
 *
 *   applyRegister ─► pending ──claim──► firing ──success──────────────► removed
 *                       ▲                  │  ──failure, last chance──► removed
 *                       │                  │  ──failure──► waiting ──(notBefore passes)──► due again
 *                       └── re-registered while firing, or register() while waiting
 */
import { RetryPolicy, retryDelay } from './policy';

export type SyncState = 'pending' | 'waiting' | 'firing';

export interface SyncRecord {
  /** Primary key: scope and tag (see recordKey). */
  id: string;
  /** The service worker registration's scope URL. */
  scope: string;
  tag: string;
  state: SyncState;
  /** Firings so far; reset to 0 by a re-registration during firing. */
  attempts: number;
  /** A `waiting` registration may fire from this time (ms since the epoch). */
  notBefore: number;
  /** Registration order within the scope, for getTags(). */
  order: number;
  /** register() was called with this tag while it was firing (spec: "reregisteredWhileFiring"). */
  reregistered: boolean;
  /** While `firing`: the worker instance that fired it ('' otherwise)... */
  lease: string;
  /** ...and the time its lease lapses unless that instance renews it. A lapsed lease means the worker died. */
  leaseUntil: number;
  /**
   * The instance holds a Web Lock named after its lease for as long as it lives (src/liveness.ts): the firing is
   * abandoned the moment that lock is free, and `leaseUntil` means nothing. Absent in records of older versions.
   */
  locked?: boolean;
}

export type Outcome = 'success' | 'failure';

/** What liveness reads of a record, one-shot or periodic (./periodic.ts): its state and its lease. */
export type Leased = Pick<SyncRecord, 'lease' | 'leaseUntil' | 'locked' | 'notBefore'> & { state: SyncState };

const STATES: readonly string[] = ['pending', 'waiting', 'firing'];

/**
 * A copy of `record` with `changes`: what `{ ...record, ...changes }` says, written so that the classic scripts, which
 * are ES2017, carry one Object.assign where object spread would be lowered to nested ones (bench/size-budget.json).
 */
export function update<T>(record: T, ...changes: Array<Partial<T> | false | undefined>): T {
  return Object.assign({}, record, ...changes);
}

/** Scope URLs never contain a line feed (the URL serializer escapes it), so this key is unambiguous. */
export function recordKey(scope: string, tag: string): string {
  return scope + '\n' + tag;
}

/** A record as we wrote it; anything else in our store (corrupt, foreign, older code) is not trusted. */
export function isSyncRecord(value: unknown): value is SyncRecord {
  const r = value as SyncRecord;
  return isStoredRecord(r, recordKey) && STATES.indexOf(r.state) >= 0 && typeof r.reregistered === 'boolean';
}

/**
 * What one-shot and periodic records (./periodic.ts) share, as we wrote it: scope and tag, `id` as `key` makes it from
 * them, whole attempts, finite times and order, and the lease.
 */
export function isStoredRecord(r: Leased & { id: string; scope: string; tag: string; attempts: number; order: number }, key: (scope: string, tag: string) => string): boolean {
  return (
    typeof r === 'object' && r !== null &&
    typeof r.scope === 'string' && typeof r.tag === 'string' && r.id === key(r.scope, r.tag) &&
    isCount(r.attempts) && isFinite(r.notBefore) && isFinite(r.order) &&
    typeof r.lease === 'string' && isFinite(r.leaseUntil) && (r.locked === undefined || typeof r.locked === 'boolean')
  );
}

/** A record that is never due nor abandoned (NaN, Infinity) would sit in getTags() forever. */
export function isFinite(n: unknown): boolean {
  return typeof n === 'number' && Number.isFinite(n);
}

export function isCount(n: unknown): boolean {
  return typeof n === 'number' && n >= 0 && n % 1 === 0;
}

/**
 * register(tag), docs/semantics.md §2 steps 5 and 6. Returns the record to store, or `existing` itself when nothing changes.
 * `order` is used only for a new record.
 */
export function applyRegister(existing: SyncRecord | undefined, scope: string, tag: string, order: number): SyncRecord {
  if (!existing) {
    return {
      id: recordKey(scope, tag), scope, tag, state: 'pending', attempts: 0, notBefore: 0, order,
      reregistered: false, lease: '', leaseUntil: 0,
    };
  }
  switch (existing.state) {
    case 'pending':
      return existing;
    case 'waiting':
      // The spec: "registering with an existing tag should bypass any delays". Attempts are kept.
      return update(existing, { state: 'pending', notBefore: 0 });
    case 'firing':
      return existing.reregistered ? existing : update(existing, { reregistered: true });
  }
}

/** May this registration fire now? */
export function isDue(record: SyncRecord, now: number): boolean {
  return record.state === 'pending' || (record.state === 'waiting' && record.notBefore <= now);
}

/**
 * A `firing` record whose worker was terminated mid-event: its lock is free (`dead` holds the leases whose lock
 * was seen free), or, for a record fired without a lock, its lease lapsed.
 */
export function isAbandoned(record: Leased, now: number, dead?: ReadonlySet<string>): boolean {
  return record.state === 'firing' && (record.locked ? !!dead && dead.has(record.lease) : record.leaseUntil <= now);
}

/** A firing whose liveness only its lock can tell: the leases to look up (or wait on) before calling it abandoned. */
export function isLockedFiring(record: Leased): boolean {
  return record.state === 'firing' && !!record.locked;
}

/** Due records and abandoned firings: what a wake-up should act on. */
export function needsWork(record: SyncRecord, now: number, dead?: ReadonlySet<string>): boolean {
  return isDue(record, now) || isAbandoned(record, now, dead);
}

/**
 * Fire a due registration: `firing`, one more attempt, leased to `instance` until `now + leaseTtl`; `locked`: the
 * instance holds the lock of its lease. Returns null when the record is not due (someone else claimed it, or it is
 * still waiting).
 */
export function claim(record: SyncRecord, now: number, instance: string, leaseTtl: number, locked = false): SyncRecord | null {
  if (!isDue(record, now)) return null;
  return update(record, {
    state: 'firing', attempts: record.attempts + 1, notBefore: 0, reregistered: false, lease: instance, leaseUntil: now + leaseTtl,
  }, locked && { locked });
}

/** `lastChance` for a firing with this many attempts (docs/semantics.md §3). */
export function isLastChance(attempts: number, policy: RetryPolicy): boolean {
  return attempts >= policy.maxAttempts;
}

/** Extend the lease of a firing held by `instance`; null if it no longer holds it. */
export function renew(record: SyncRecord, now: number, instance: string, leaseTtl: number): SyncRecord | null {
  if (record.state !== 'firing' || record.lease !== instance) return null;
  return update(record, { leaseUntil: now + leaseTtl });
}

/**
 * The outcome of a firing (docs/semantics.md §3). `instance` must hold the lease, or pass `null` to settle an abandoned
 * firing (isAbandoned, with `dead`) as a failure. Returns the next record, null when the registration is removed, or
 * `undefined` when the record is not this caller's to settle (no longer firing, or leased to another instance).
 */
export function settleOutcome(
  record: SyncRecord, outcome: Outcome, now: number, policy: RetryPolicy, instance: string | null,
  dead?: ReadonlySet<string>,
): SyncRecord | null | undefined {
  if (record.state !== 'firing') return undefined;
  if (instance === null ? !isAbandoned(record, now, dead) : record.lease !== instance) return undefined;
  const idle = update(record, { reregistered: false, lease: '', leaseUntil: 0, locked: undefined });
  if (record.reregistered) return update(idle, { state: 'pending', attempts: 0, notBefore: 0 });
  if (outcome === 'success' || isLastChance(record.attempts, policy)) return null;
  return update(idle, { state: 'waiting', notBefore: now + retryDelay(record.attempts, policy) });
}

/**
 * When something next needs a wake-up: the earliest retry or lease expiry; Infinity if nothing is scheduled.
 * The time may be past (due, but not yet claimed). A locked firing has no time: its lock tells (src/liveness.ts).
 */
export function nextWake(records: readonly Leased[]): number {
  let next = Infinity;
  for (const r of records) {
    if (r.state === 'waiting') next = Math.min(next, r.notBefore);
    else if (r.state === 'firing' && !r.locked) next = Math.min(next, r.leaseUntil);
  }
  return next;
}

/** getTags(): every tag in any state, in registration order. */
export function tagsInOrder(records: readonly SyncRecord[]): string[] {
  return records.slice().sort((a, b) => a.order - b.order).map((r) => r.tag);
}
