/**
 * Layer (a) harness: the pure state machine of src/core/registration.ts, model-based (fast-check commands).
 *
 * The system under test is a map of records driven only through register/claim/renew/settle (and settle with a
 * null instance for an abandoned firing), as the store does inside its transactions. The model beside it is
 * written from docs/semantics.md §2 and §3 directly, field by field; after every command the two must agree. Worker
 * instances come and go: a live instance renews its leases while the clock moves (the dispatcher's heartbeat),
 * a killed one stops, and its firing is reaped as a failed attempt once the lease lapses. Every firing goes in a
 * log, and the four reliability invariants (test/property/invariants.ts) are checked over it after a drain.
 * Used by core.model.test.ts (random runs) and regressions.test.ts (fixed counter-examples).
 */
import fc from 'fast-check';
import {
  Outcome, SyncRecord, SyncState, claim, isAbandoned, isDue, isLastChance, isSyncRecord, needsWork, nextWake,
  recordKey, applyRegister, renew, settleOutcome, tagsInOrder,
} from '../../src/core/registration';
import { MAX_DELAY, RetryPolicy } from '../../src/core/policy';
import { Firing, Log, assertInvariants } from './invariants';
import { leasePolicyArb, outcomeArb } from './common';
import { expect } from 'vitest';

export const SCOPE = 'https://example.com/app/';
/** The lease TTL the harness passes to claim and renew; live instances renew every TTL/3, like the dispatcher. */
export const TTL = 300;
const TAGS = ['a', 'b', '', '\uD800x'] as const;
const SLOTS = 3;

/** A spec-level registration, as docs/semantics.md §2/§3 describe it (not derived from the implementation). */
interface Spec {
  state: SyncState;
  attempts: number;
  reregistered: boolean;
  notBefore: number;
  lease: string;
  leaseUntil: number;
  order: number;
}

export interface Model {
  policy: RetryPolicy;
  now: number;
  seq: number;
  order: number;
  tags: Map<string, Spec>;
  /** Worker instance per slot; `alive` false once killed (until restarted with a new id). */
  slots: Array<{ id: string; alive: boolean }>;
  dead: string[];
  generation: number;
  log: Log;
  /** The open firing per tag (at most one, or the log is already in violation). */
  open: Map<string, Firing>;
  /** The firing that last held each tag, open or not, until its outcome is applied. */
  holder: Map<string, Firing>;
}

export interface Real {
  records: Map<string, SyncRecord>;
}

export type Cmd = fc.Command<Model, Real>;

function tick(m: Model): number {
  return ++m.seq;
}

/** Fails the run with `message` unless `ok` (cheaper than expect() in the hot loop). */
function ensure(ok: boolean, message: string): void {
  if (!ok) throw new Error(message);
}

const FIELDS = ['state', 'attempts', 'reregistered', 'notBefore', 'lease', 'leaseUntil', 'order'] as const;

/** The record and the model agree on every field, and the record is one the store would accept. */
function compare(m: Model, r: Real, after: string): void {
  for (const tag of TAGS) {
    const spec = m.tags.get(tag);
    const rec = r.records.get(tag);
    if (!spec) {
      ensure(rec === undefined, `${after}: ${JSON.stringify(tag)} should be gone, is ${JSON.stringify(rec)}`);
      continue;
    }
    ensure(rec !== undefined, `${after}: ${JSON.stringify(tag)} should exist as ${JSON.stringify(spec)}`);
    ensure(isSyncRecord(rec), `${after}: invalid record ${JSON.stringify(rec)}`);
    ensure(rec!.id === recordKey(SCOPE, tag) && rec!.scope === SCOPE && rec!.tag === tag, `${after}: wrong key ${JSON.stringify(rec)}`);
    for (const field of FIELDS) {
      ensure(Object.is(rec![field], spec[field]),
        `${after}: ${JSON.stringify(tag)}.${field} is ${JSON.stringify(rec![field])}, the spec model says ${JSON.stringify(spec[field])}` +
        `\n  record: ${JSON.stringify(rec)}\n  model:  ${JSON.stringify(spec)}`);
    }
  }
  const records = Array.from(r.records.values());
  // getTags() order is registration order.
  const byOrder = Array.from(m.tags.entries()).sort((a, b) => a[1].order - b[1].order).map(([tag]) => tag);
  ensure(JSON.stringify(tagsInOrder(records)) === JSON.stringify(byOrder), `${after}: getTags order ${JSON.stringify(tagsInOrder(records))}, expected ${JSON.stringify(byOrder)}`);
  // nextWake is the earliest retry or lease expiry, and something needs work at that time.
  const wake = nextWake(records);
  let expected = Infinity;
  for (const s of m.tags.values()) {
    if (s.state === 'waiting') expected = Math.min(expected, s.notBefore);
    else if (s.state === 'firing') expected = Math.min(expected, s.leaseUntil);
  }
  ensure(wake === expected, `${after}: nextWake ${wake}, expected ${expected}`);
  if (wake !== Infinity) ensure(records.some((rec) => needsWork(rec, wake)), `${after}: nothing needs work at nextWake`);
}

/** Closes a firing: its event is over (settled, or its worker died). */
function end(m: Model, tag: string, outcome: Outcome, seq: number): void {
  const f = m.open.get(tag);
  if (!f) return;
  f.end = seq;
  f.endTime = m.now;
  f.outcome = outcome;
  m.open.delete(tag);
}

/** docs/semantics.md §3, the outcome of a firing, on the model. */
function specSettle(m: Model, tag: string, spec: Spec, outcome: Outcome): void {
  if (spec.reregistered) {
    m.tags.set(tag, { ...spec, state: 'pending', attempts: 0, notBefore: 0, reregistered: false, lease: '', leaseUntil: 0 });
  } else if (outcome === 'success' || spec.attempts >= m.policy.maxAttempts) {
    m.tags.delete(tag);
  } else {
    const delay = Math.min(m.policy.initialRetryDelay * Math.pow(m.policy.retryDelayFactor, spec.attempts - 1), MAX_DELAY);
    m.tags.set(tag, {
      ...spec, state: 'waiting', notBefore: m.now + (m.policy.initialRetryDelay === 0 ? 0 : delay), reregistered: false,
      lease: '', leaseUntil: 0,
    });
  }
}

function store(r: Real, tag: string, next: SyncRecord | null | undefined): void {
  if (next === undefined) return;
  if (next === null) r.records.delete(tag);
  else r.records.set(tag, next);
}

export class Register implements Cmd {
  constructor(readonly tag: string) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const called = tick(m);
    const existing = r.records.get(this.tag);
    const next = applyRegister(existing, SCOPE, this.tag, m.order + 1);
    if (!existing) m.order++;
    store(r, this.tag, next);
    const spec = m.tags.get(this.tag);
    if (!spec) {
      m.tags.set(this.tag, {
        state: 'pending', attempts: 0, reregistered: false, notBefore: 0, lease: '', leaseUntil: 0, order: m.order,
      });
    } else if (spec.state === 'waiting') {
      // "registering with an existing tag should bypass any delays"; the attempt count is kept.
      m.tags.set(this.tag, { ...spec, state: 'pending', notBefore: 0 });
    } else if (spec.state === 'firing') {
      m.tags.set(this.tag, { ...spec, reregistered: true });
    }
    m.log.registrations.push({ tag: this.tag, called, resolved: tick(m), duringFiring: next.state === 'firing' });
    compare(m, r, this.toString());
  }
  toString(): string {
    return `register(${JSON.stringify(this.tag)})`;
  }
}

/** claim() by a live instance: fires only a due registration. */
export class Claim implements Cmd {
  constructor(readonly slot: number, readonly tag: string) {}
  check(m: Readonly<Model>): boolean {
    return m.slots[this.slot].alive;
  }
  run(m: Model, r: Real): void {
    const instance = m.slots[this.slot].id;
    const existing = r.records.get(this.tag);
    const next = existing ? claim(existing, m.now, instance, TTL) : null;
    const spec = m.tags.get(this.tag);
    const due = !!spec && (spec.state === 'pending' || (spec.state === 'waiting' && spec.notBefore <= m.now));
    ensure((next !== null) === due, `${this}: claimed ${next !== null}, but due is ${due}`);
    if (!next || !spec) return;
    store(r, this.tag, next);
    m.tags.set(this.tag, {
      ...spec, state: 'firing', attempts: spec.attempts + 1, notBefore: 0, reregistered: false, lease: instance,
      leaseUntil: m.now + TTL,
    });
    const firing: Firing = {
      tag: this.tag, context: instance, attempt: next.attempts, lastChance: isLastChance(next.attempts, m.policy),
      start: tick(m), startTime: m.now,
    };
    m.log.firings.push(firing);
    m.open.set(this.tag, firing);
    m.holder.set(this.tag, firing);
    compare(m, r, this.toString());
  }
  toString(): string {
    return `claim(slot ${this.slot}, ${JSON.stringify(this.tag)})`;
  }
}

/** settle() by a live instance, holder or not: only the holder's outcome counts. */
export class Settle implements Cmd {
  constructor(readonly slot: number, readonly tag: string, readonly outcome: Outcome) {}
  check(m: Readonly<Model>): boolean {
    return m.slots[this.slot].alive;
  }
  run(m: Model, r: Real): void {
    settleAs(m, r, m.slots[this.slot].id, this.tag, this.outcome, this.toString());
  }
  toString(): string {
    return `settle(slot ${this.slot}, ${JSON.stringify(this.tag)}, ${this.outcome})`;
  }
}

/**
 * A killed instance's late settle (it was only frozen, or its last write was in flight): accepted only if it
 * still holds the lease, i.e. nobody reaped the firing yet.
 */
export class ZombieSettle implements Cmd {
  constructor(readonly pick: number, readonly tag: string, readonly outcome: Outcome) {}
  check(m: Readonly<Model>): boolean {
    return m.dead.length > 0;
  }
  run(m: Model, r: Real): void {
    settleAs(m, r, m.dead[this.pick % m.dead.length], this.tag, this.outcome, this.toString());
  }
  toString(): string {
    return `zombieSettle(#${this.pick}, ${JSON.stringify(this.tag)}, ${this.outcome})`;
  }
}

function settleAs(m: Model, r: Real, instance: string, tag: string, outcome: Outcome, what: string): void {
  const existing = r.records.get(tag);
  const next = existing ? settleOutcome(existing, outcome, m.now, m.policy, instance) : undefined;
  const spec = m.tags.get(tag);
  const mine = !!spec && spec.state === 'firing' && spec.lease === instance;
  ensure((next !== undefined) === mine, `${what}: settle accepted ${next !== undefined}, but holds the lease ${mine}`);
  if (next === undefined || !spec) return;
  store(r, tag, next);
  // A live holder's event ends now with this outcome; a dead holder's ended when it died, but its outcome is
  // the one the store applies now.
  const holder = m.holder.get(tag)!;
  if (m.open.get(tag) === holder) end(m, tag, outcome, tick(m));
  else holder.outcome = outcome;
  m.holder.delete(tag);
  specSettle(m, tag, spec, outcome);
  compare(m, r, what);
}

/** What claimDue does first: a firing whose lease lapsed is settled as a failed attempt (instance null). */
export class Reap implements Cmd {
  constructor(readonly tag: string) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    reap(m, r, this.tag, this.toString());
  }
  toString(): string {
    return `reap(${JSON.stringify(this.tag)})`;
  }
}

function reap(m: Model, r: Real, tag: string, what: string): void {
  const existing = r.records.get(tag);
  const next = existing ? settleOutcome(existing, 'failure', m.now, m.policy, null) : undefined;
  const spec = m.tags.get(tag);
  const lapsed = !!spec && spec.state === 'firing' && spec.leaseUntil <= m.now;
  ensure((next !== undefined) === lapsed, `${what}: reaped ${next !== undefined}, but lapsed ${lapsed}`);
  ensure((existing ? isAbandoned(existing, m.now) : false) === lapsed, `${what}: isAbandoned disagrees with the lease`);
  if (next === undefined || !spec) return;
  // Only a dead instance's lease can lapse: live ones renew. (If this fails, the harness is wrong.)
  const holder = m.holder.get(tag)!;
  ensure(!m.open.has(tag), `${what}: reaping a firing whose worker is alive`);
  holder.outcome = 'failure';
  m.holder.delete(tag);
  store(r, tag, next);
  specSettle(m, tag, spec, 'failure');
  compare(m, r, what);
}

/** renew() by any live instance: extends only a lease it holds. */
export class Renew implements Cmd {
  constructor(readonly slot: number, readonly tag: string) {}
  check(m: Readonly<Model>): boolean {
    return m.slots[this.slot].alive;
  }
  run(m: Model, r: Real): void {
    renewAs(m, r, m.slots[this.slot].id, this.tag, this.toString());
  }
  toString(): string {
    return `renew(slot ${this.slot}, ${JSON.stringify(this.tag)})`;
  }
}

function renewAs(m: Model, r: Real, instance: string, tag: string, what: string): void {
  const existing = r.records.get(tag);
  const next = existing ? renew(existing, m.now, instance, TTL) : null;
  const spec = m.tags.get(tag);
  const mine = !!spec && spec.state === 'firing' && spec.lease === instance;
  ensure((next !== null) === mine, `${what}: renewed ${next !== null}, but holds the lease ${mine}`);
  if (!next || !spec) return;
  store(r, tag, next);
  m.tags.set(tag, { ...spec, leaseUntil: m.now + TTL });
  compare(m, r, what);
}

/** One claimDue pass by a live instance: reap what lapsed, then claim everything due, in registration order. */
export class Pass implements Cmd {
  constructor(readonly slot: number) {}
  check(m: Readonly<Model>): boolean {
    return m.slots[this.slot].alive;
  }
  run(m: Model, r: Real): void {
    pass(m, r, this.slot, this.toString());
  }
  toString(): string {
    return `pass(slot ${this.slot})`;
  }
}

function pass(m: Model, r: Real, slot: number, what: string): void {
  const tags = tagsInOrder(Array.from(r.records.values()));
  for (const tag of tags) {
    if (isAbandoned(r.records.get(tag)!, m.now)) reap(m, r, tag, what);
  }
  for (const tag of tagsInOrder(Array.from(r.records.values()))) {
    if (isDue(r.records.get(tag)!, m.now)) new Claim(slot, tag).run(m, r);
  }
}

/** A worker instance is terminated: its events end there, its leases are no longer renewed. */
export class Kill implements Cmd {
  constructor(readonly slot: number) {}
  check(m: Readonly<Model>): boolean {
    return m.slots[this.slot].alive;
  }
  run(m: Model, r: Real): void {
    kill(m, this.slot);
    compare(m, r, this.toString());
  }
  toString(): string {
    return `kill(slot ${this.slot})`;
  }
}

function kill(m: Model, slot: number): void {
  const { id } = m.slots[slot];
  m.slots[slot] = { id, alive: false };
  m.dead.push(id);
  const seq = tick(m);
  for (const [tag, f] of Array.from(m.open.entries())) {
    if (f.context === id) {
      f.end = seq;
      f.endTime = m.now;
      m.open.delete(tag);
    }
  }
}

/** A new worker instance in the slot, with a new id (never the dead one's). */
export class Restart implements Cmd {
  constructor(readonly slot: number) {}
  check(m: Readonly<Model>): boolean {
    return !m.slots[this.slot].alive;
  }
  run(m: Model): void {
    m.slots[this.slot] = { id: `w${this.slot}.${++m.generation}`, alive: true };
  }
  toString(): string {
    return `restart(slot ${this.slot})`;
  }
}

/** Time passes; live instances renew the leases they hold every TTL/3, as the dispatcher's heartbeat does. */
export class Advance implements Cmd {
  constructor(readonly ms: number) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    advance(m, r, this.ms);
  }
  toString(): string {
    return `advance(${this.ms})`;
  }
}

function advance(m: Model, r: Real, ms: number): void {
  const target = m.now + ms;
  while (m.now < target) {
    const heldByLive = Array.from(m.tags.entries()).filter(([, s]) => s.state === 'firing' && m.slots.some((x) => x.alive && x.id === s.lease));
    m.now = heldByLive.length ? Math.min(target, m.now + TTL / 3) : target;
    for (const [tag, s] of heldByLive) renewAs(m, r, s.lease, tag, `heartbeat at ${m.now}`);
  }
}

const tagArb = fc.constantFrom(...TAGS);
const slotArb = fc.integer({ min: 0, max: SLOTS - 1 });
export const commandArbs: Array<fc.Arbitrary<Cmd>> = [
  tagArb.map((t) => new Register(t)),
  fc.tuple(slotArb, tagArb).map(([s, t]) => new Claim(s, t)),
  fc.tuple(slotArb, tagArb, outcomeArb).map(([s, t, o]) => new Settle(s, t, o)),
  fc.tuple(fc.nat(5), tagArb, outcomeArb).map(([p, t, o]) => new ZombieSettle(p, t, o)),
  tagArb.map((t) => new Reap(t)),
  fc.tuple(slotArb, tagArb).map(([s, t]) => new Renew(s, t)),
  slotArb.map((s) => new Pass(s)),
  slotArb.map((s) => new Kill(s)),
  slotArb.map((s) => new Restart(s)),
  fc.oneof(fc.integer({ min: 0, max: 2 * TTL }), fc.integer({ min: 0, max: 30 * TTL })).map((ms) => new Advance(ms)),
];

export const policyArb: fc.Arbitrary<RetryPolicy> = leasePolicyArb(TTL);

export function newModel(policy: RetryPolicy): Model {
  return {
    policy, now: 1_700_000_000_000, seq: 0, order: 0, tags: new Map(),
    slots: Array.from({ length: SLOTS }, (_, i) => ({ id: `w${i}.0`, alive: true })), dead: [], generation: 0,
    log: { firings: [], registrations: [] }, open: new Map(), holder: new Map(),
  };
}

/**
 * Ends the run the way the world eventually does: live events settle with `outcome`, every instance but one
 * dies, and that one keeps passing and settling (with `outcome`) until nothing is stored.
 */
export function drain(m: Model, r: Real, outcome: Outcome): void {
  for (let slot = 0; slot < SLOTS; slot++) {
    for (const [tag, f] of Array.from(m.open.entries())) {
      if (f.context === m.slots[slot].id) settleAs(m, r, f.context, tag, outcome, 'drain: settle a live event');
    }
  }
  for (let slot = 1; slot < SLOTS; slot++) if (m.slots[slot].alive) kill(m, slot);
  if (!m.slots[0].alive) new Restart(0).run(m);
  for (let round = 0; r.records.size > 0; round++) {
    ensure(round < 100, 'drain: still records after 100 rounds');
    const wake = nextWake(Array.from(r.records.values()));
    if (wake !== Infinity && wake > m.now) advance(m, r, wake - m.now);
    pass(m, r, 0, 'drain: pass');
    for (const [tag, f] of Array.from(m.open.entries())) settleAs(m, r, f.context, tag, outcome, 'drain: settle');
  }
}


/** One run: the commands against the spec model, a drain, then the four invariants over the log. */
export function runCore(policy: RetryPolicy, cmds: Iterable<Cmd>, outcome: Outcome): void {
  const model = newModel(policy);
  const real: Real = { records: new Map() };
  fc.modelRun(() => ({ model, real }), cmds);
  drain(model, real, outcome);
  assertInvariants(model.log, policy.maxAttempts, Array.from(real.records.keys()));
}
