/**
 * Periodic Background Sync registrations (docs/semantics.md §7), as pure functions over plain records, beside one-shot
 * sync's (./registration.ts). No DOM, no storage, no timers: every function takes `now` and returns a new record.
 * A periodic record carries the one-shot record's lease fields, so liveness (isAbandoned, isLockedFiring, nextWake in
 * ./registration.ts) reads both alike; its key lies in a namespace of its own (periodicKey), so a periodic "x" and a
 * one-shot "x" never touch.
 *
 *   register ─► waiting ──(notBefore passes: claim)──► firing ──success─────────────────► waiting, one interval on
 *                  ▲                                      │  ──failure, attempts left────► waiting, the retry delay on
 *                  └──────────────────────────────────────┘  ──failure, the last attempt─► waiting, one interval on
 *
 * A periodic registration is never dropped by its outcome: only unregister() removes it.
 */
import { RetryPolicy, retryDelay, MAX_DELAY } from './policy';
import { SyncRecord, claim, isAbandoned, isCount, isFinite, isLastChance, isStoredRecord, settleOutcome, update } from './registration';

export interface PeriodicRecord {
  /** Primary key: scope and tag, in the periodic namespace (periodicKey). */
  id: string;
  scope: string;
  tag: string;
  periodic: true;
  /** As the app registered it, in ms (`[EnforceRange] unsigned long long`, docs/semantics.md §7). */
  minInterval: number;
  state: 'waiting' | 'firing';
  /** Failed attempts in the current period; 0 again after a success or once the period's attempts are spent. */
  attempts: number;
  /** It may fire from this time (ms since the epoch): one interval after `since`, or a retry's time. */
  notBefore: number;
  /** When the current period began: register() or the settling of the previous period's last event. */
  since: number;
  /** Registration order within the scope's periodic tags, for getTags(). */
  order: number;
  /** While `firing`: the worker instance that fired it ('' otherwise), and when its lease lapses. */
  lease: string;
  leaseUntil: number;
  /** The instance held the Web Lock of its lease (src/liveness.ts): its lock, not `leaseUntil`, tells its death. */
  locked?: boolean;
}

/**
 * The periodic namespace: scope, a vertical tab, tag. One-shot keys use a line feed (recordKey), so a scope's periodic
 * records are the key range just above its one-shot ones, and neither range holds the other's.
 */
export function periodicKey(scope: string, tag: string): string {
  return scope + '\u000b' + tag;
}

/** The interval a registration fires at: its own minInterval, but never more often than `periodicMinInterval`. */
export function periodicInterval(minInterval: number, periodicMinInterval: number): number {
  return Math.min(Math.max(minInterval, periodicMinInterval), MAX_DELAY);
}

/** A record as we wrote it; anything else in the periodic namespace is not trusted. */
export function isPeriodicRecord(value: unknown): value is PeriodicRecord {
  const r = value as PeriodicRecord;
  return (
    isStoredRecord(r, periodicKey) && r.periodic === true && (r.state === 'waiting' || r.state === 'firing') &&
    isCount(r.minInterval) && r.minInterval <= Number.MAX_SAFE_INTEGER && isFinite(r.since)
  );
}

/**
 * register(tag, {minInterval}) (docs/semantics.md §7). A new tag waits one interval from `now`. An existing one keeps
 * its schedule when `minInterval` is the same (returned unchanged); otherwise it takes the new interval from the start
 * of its current period, and a retry or a running event keeps its own time. `order` is used only for a new record.
 */
export function applyPeriodicRegister(
  existing: PeriodicRecord | undefined, scope: string, tag: string, minInterval: number, now: number,
  periodicMinInterval: number, order: number,
): PeriodicRecord {
  if (!existing) {
    return {
      id: periodicKey(scope, tag), scope, tag, periodic: true, minInterval, state: 'waiting', attempts: 0,
      notBefore: now + periodicInterval(minInterval, periodicMinInterval), since: now, order, lease: '', leaseUntil: 0,
    };
  }
  if (existing.minInterval === minInterval) return existing;
  const next = update(existing, { minInterval });
  if (existing.state === 'waiting' && existing.attempts === 0) {
    next.notBefore = existing.since + periodicInterval(minInterval, periodicMinInterval);
  }
  return next;
}

/** May this registration fire now? */
export function isPeriodicDue(record: PeriodicRecord, now: number): boolean {
  return record.state === 'waiting' && record.notBefore <= now;
}

/**
 * Fire a due registration: `firing`, one more attempt, leased to `instance` until `now + leaseTtl`. Returns null when it
 * is not due (someone else claimed it, or its time has not come).
 */
export function claimPeriodic(
  record: PeriodicRecord, now: number, instance: string, leaseTtl: number, locked = false,
): PeriodicRecord | null {
  if (!isPeriodicDue(record, now)) return null;
  return update(record, { state: 'firing', attempts: record.attempts + 1, lease: instance, leaseUntil: now + leaseTtl }, locked && { locked });
}

/**
 * The outcome of a firing (docs/semantics.md §7): a success starts the next period; a failure is retried on the one-shot
 * policy, and after the last attempt the next period starts. `instance` must hold the lease, or pass null to settle an
 * abandoned firing (isAbandoned, with `dead`) as a failure. Returns the next record, or undefined when it is not this
 * caller's to settle. Never null: an outcome never removes a periodic registration.
 */
export function settlePeriodic(
  record: PeriodicRecord, outcome: 'success' | 'failure', now: number, policy: RetryPolicy, periodicMinInterval: number,
  instance: string | null, dead?: ReadonlySet<string>,
): PeriodicRecord | undefined {
  if (record.state !== 'firing') return undefined;
  if (instance === null ? !isAbandoned(record, now, dead) : record.lease !== instance) return undefined;
  const idle = update(record, { state: 'waiting', lease: '', leaseUntil: 0, locked: undefined });
  if (outcome === 'failure' && !isLastChance(record.attempts, policy)) {
    return update(idle, { notBefore: now + retryDelay(record.attempts, policy) });
  }
  return update(idle, { attempts: 0, since: now, notBefore: now + periodicInterval(record.minInterval, periodicMinInterval) });
}

/** A record of either namespace, as the dispatcher claims and settles them together. */
export type AnyRecord = SyncRecord | PeriodicRecord;

function isPeriodic(record: AnyRecord): record is PeriodicRecord {
  return (record as PeriodicRecord).periodic === true;
}

/** claim() or claimPeriodic(), as the record is. */
export function claimAny(record: AnyRecord, now: number, instance: string, leaseTtl: number, locked?: boolean): AnyRecord | null {
  return isPeriodic(record) ? claimPeriodic(record, now, instance, leaseTtl, locked) : claim(record, now, instance, leaseTtl, locked);
}

/**
 * settleOutcome() or settlePeriodic() (with the policy's periodicMinInterval), as the record is: the next record, null
 * when a one-shot registration is removed, undefined when it is not this caller's to settle.
 */
export function settleAny(
  record: AnyRecord, outcome: 'success' | 'failure', now: number, policy: RetryPolicy, instance: string | null,
  dead?: ReadonlySet<string>,
): AnyRecord | null | undefined {
  return isPeriodic(record)
    ? settlePeriodic(record, outcome, now, policy, policy.periodicMinInterval, instance, dead)
    : settleOutcome(record, outcome, now, policy, instance, dead);
}
