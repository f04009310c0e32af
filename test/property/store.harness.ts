/**
 * Layer (b1) harness: the IndexedDB store (src/store/db.ts) shared by 2 or 3 contexts, each with its own module instance
 * and so its own connection to ONE fake-indexeddb database, as tabs and worker instances have. The clock is
 * injected (`now`), so leases can lapse without waiting. Commands run one at a time or two at once (their
 * transactions then interleave in the database): page-side register(), a worker instance's claimDue pass,
 * settleFirings with the app's outcome, renewAll, worker death (its leases are no longer renewed and lapse), a new
 * worker instance, and time passing (live instances renew every TTL/3, as the dispatcher's heartbeat does).
 *
 * After every command, each `firing` record must belong to a firing the harness saw dispatched (same
 * instance, same attempt): an attempt is never spent without an event. After a drain, the four invariants of
 * the reliability rules are checked over the log (test/property/invariants.ts).
 */
import fc from 'fast-check';
import { IDBFactory } from 'fake-indexeddb';
import { expect, vi } from 'vitest';
import { Outcome, SyncRecord, isLastChance, recordKey } from '../../src/core/registration';
import { RetryPolicy } from '../../src/core/policy';
import { Firing, Log, assertInvariants } from './invariants';
import { advanceCommand, leasePolicyArb, outcomeArb } from './common';

export const SCOPE = 'https://example.com/app/';
export const TTL = 300;
const TAGS = ['a', 'b', 'c'] as const;
export const MAX_CONTEXTS = 3;

type Store = typeof import('../../src/store/db');

/** One module instance of the store per context: its own cached connection. Call setupStores() in beforeAll. */
const stores: Store[] = [];
export async function setupStores(): Promise<void> {
  for (let i = 0; i < MAX_CONTEXTS; i++) {
    vi.resetModules();
    stores.push(await import('../../src/store/db'));
  }
}
export function teardownStores(): void {
  for (const s of stores) s.closeDatabase();
}

interface Context {
  store: Store;
  /** The worker instance id in this context; a new one after a restart. */
  instance: string;
  alive: boolean;
  /** Firings this instance dispatched and has not settled. */
  open: Map<string, Firing>;
}

export interface World {
  policy: RetryPolicy;
  now: number;
  seq: number;
  contexts: Context[];
  generation: number;
  log: Log;
  /** The firing that holds each tag's lease (open, or its worker dead), until the store settles it. */
  holder: Map<string, Firing>;
  /** Dead instances and their context, for late (zombie) settles. */
  dead: Array<{ instance: string; context: number }>;
  /** Firings whose worker has sent its one settle. */
  settledByOwner: Set<Firing>;
}

export type Cmd = fc.AsyncCommand<World, World>;

function tick(w: World): number {
  return ++w.seq;
}

async function records(w: World): Promise<SyncRecord[]> {
  return w.contexts[0].store.list(SCOPE);
}

/**
 * Learns what the store did to firings held by dead instances (reaped as failures inside claimDue), and checks
 * that every `firing` record is one the harness saw dispatched.
 */
async function reconcile(w: World, what: string): Promise<void> {
  const byTag = new Map((await records(w)).map((r): [string, SyncRecord] => [r.tag, r]));
  for (const [tag, f] of Array.from(w.holder.entries())) {
    const r = byTag.get(tag);
    if (!r || r.state !== 'firing' || r.lease !== f.context || r.attempts !== f.attempt) {
      // Its lease is gone: settled by its holder (already recorded), or reaped by a pass as a failed attempt,
      // which only a dead instance's firing may be.
      expect(f.end, `${what}: the lease of a running event was taken: ${JSON.stringify(f)} → ${JSON.stringify(r)}`).toBeDefined();
      if (f.outcome === undefined) f.outcome = 'failure';
      w.holder.delete(tag);
    }
  }
  for (const r of byTag.values()) {
    if (r.state !== 'firing') continue;
    const f = w.holder.get(r.tag);
    expect(f, `${what}: ${JSON.stringify(r.tag)} is firing (lease ${r.lease}, attempt ${r.attempts}) but no event was dispatched for it`).toBeDefined();
    expect([f!.context, f!.attempt], `${what}: the firing record matches the dispatched event`).toEqual([r.lease, r.attempts]);
  }
}

function dispatched(w: World, c: Context, claimed: readonly SyncRecord[]): void {
  for (const r of claimed) {
    const f: Firing = {
      tag: r.tag, context: c.instance, attempt: r.attempts, lastChance: isLastChance(r.attempts, w.policy),
      start: tick(w), startTime: w.now,
    };
    w.log.firings.push(f);
    c.open.set(r.tag, f);
    w.holder.set(r.tag, f);
  }
}

/** A command that may also run concurrently with another (see Both). */
export abstract class Op implements Cmd {
  abstract check(w: Readonly<World>): boolean;
  abstract exec(w: World): Promise<void>;
  async run(w: World): Promise<void> {
    await this.exec(w);
    await reconcile(w, this.toString());
  }
  abstract toString(): string;
}

/** A page (or the worker) calls register(tag) through this context's connection. */
export class Register extends Op {
  constructor(readonly context: number, readonly tag: string) {
    super();
  }
  check(w: Readonly<World>): boolean {
    return this.context < w.contexts.length;
  }
  async exec(w: World): Promise<void> {
    const called = tick(w);
    const next = await w.contexts[this.context].store.storeRegistration(SCOPE, this.tag);
    w.log.registrations.push({ tag: this.tag, called, resolved: tick(w), duringFiring: next.state === 'firing' });
  }
  toString(): string {
    return `register(ctx ${this.context}, ${JSON.stringify(this.tag)})`;
  }
}

/** An operation of the live worker instance in one context. */
abstract class LiveOp extends Op {
  constructor(readonly context: number) {
    super();
  }
  check(w: Readonly<World>): boolean {
    return this.context < w.contexts.length && w.contexts[this.context].alive;
  }
}

/** A live worker instance's pass: claims (and so dispatches) everything due. */
export class Claim extends LiveOp {
  async exec(w: World): Promise<void> {
    const c = w.contexts[this.context];
    const { claimed } = await c.store.claimDue(SCOPE, w.now, c.instance, TTL, w.policy);
    // Only one-shot records: periodic sync is not in this model.
    dispatched(w, c, claimed as SyncRecord[]);
  }
  toString(): string {
    return `claimDue(ctx ${this.context})`;
  }
}

/** One of this instance's events settles with the app's outcome. */
export class Settle extends LiveOp {
  constructor(context: number, readonly pick: number, readonly outcome: Outcome) {
    super(context);
  }
  async exec(w: World): Promise<void> {
    const c = w.contexts[this.context];
    const open = Array.from(c.open.values());
    if (!open.length) return;
    const f = open[this.pick % open.length];
    // The event is over now; the store learns it when the write commits.
    c.open.delete(f.tag);
    w.settledByOwner.add(f);
    f.end = tick(w);
    f.endTime = w.now;
    f.outcome = this.outcome;
    await c.store.settleFirings(SCOPE, [{ tag: f.tag, outcome: this.outcome }], w.now, w.policy, c.instance);
    if (w.holder.get(f.tag) === f) w.holder.delete(f.tag);
  }
  toString(): string {
    return `settle(ctx ${this.context}, #${this.pick}, ${this.outcome})`;
  }
}

/**
 * A killed (or only frozen) instance's settle arrives late, for a firing it had not settled (a worker settles
 * each firing once): it counts only if that instance still holds the lease, i.e. nobody reaped the firing
 * yet; otherwise the record must not change.
 */
export class ZombieSettle extends Op {
  constructor(readonly pick: number, readonly outcome: Outcome) {
    super();
  }
  check(w: Readonly<World>): boolean {
    return w.dead.length > 0;
  }
  async exec(w: World): Promise<void> {
    const { instance, context } = w.dead[this.pick % w.dead.length];
    const fired = w.log.firings.filter((f) => f.context === instance && !w.settledByOwner.has(f));
    if (!fired.length) return;
    const f = fired[this.pick % fired.length];
    const before = (await records(w)).find((r) => r.tag === f.tag);
    await w.contexts[context].store.settleFirings(SCOPE, [{ tag: f.tag, outcome: this.outcome }], w.now, w.policy, instance);
    const after = (await records(w)).find((r) => r.tag === f.tag);
    w.settledByOwner.add(f);
    if (before && before.state === 'firing' && before.lease === instance) {
      f.outcome = this.outcome;
      w.holder.delete(f.tag);
    } else {
      expect(after, `${this}: a late settle by ${instance}, which no longer holds ${JSON.stringify(f.tag)}, changed it`).toEqual(before);
    }
  }
  toString(): string {
    return `zombieSettle(#${this.pick}, ${this.outcome})`;
  }
}

export class Renew extends LiveOp {
  async exec(w: World): Promise<void> {
    const c = w.contexts[this.context];
    await c.store.renewAll(SCOPE, Array.from(c.open.keys(), (tag) => recordKey(SCOPE, tag)), w.now, c.instance, TTL);
  }
  toString(): string {
    return `renewAll(ctx ${this.context})`;
  }
}

/** Two operations at once: their transactions interleave in the one database. */
export class Both implements Cmd {
  constructor(readonly a: Op, readonly b: Op) {}
  check(w: Readonly<World>): boolean {
    return this.a.check(w) && this.b.check(w);
  }
  async run(w: World): Promise<void> {
    await Promise.all([this.a.exec(w), this.b.exec(w)]);
    await reconcile(w, this.toString());
  }
  toString(): string {
    return `both(${this.a}, ${this.b})`;
  }
}

/** A command on the worker instance of one context: `act` on it while it is alive (`alive`) or dead. */
class WorkerCmd implements Cmd {
  constructor(
    readonly name: string, readonly alive: boolean, readonly act: (w: World, context: number) => void, readonly context: number,
  ) {}
  check(w: Readonly<World>): boolean {
    return this.context < w.contexts.length && w.contexts[this.context].alive === this.alive;
  }
  async run(w: World): Promise<void> {
    this.act(w, this.context);
  }
  toString(): string {
    return `${this.name}(ctx ${this.context})`;
  }
}

/** The worker instance in this context is terminated: no more renewals, its events are over. */
export class Kill extends WorkerCmd {
  constructor(context: number) {
    super('kill', true, kill, context);
  }
}

function kill(w: World, context: number): void {
  const c = w.contexts[context];
  c.alive = false;
  const seq = tick(w);
  for (const f of c.open.values()) {
    f.end = seq;
    f.endTime = w.now;
  }
  c.open.clear();
  w.dead.push({ instance: c.instance, context });
  // A new instance gets a new connection.
  c.store.closeDatabase();
}

/** A new worker instance in this context, after its last one died. */
export class Restart extends WorkerCmd {
  constructor(context: number) {
    super('restart', false, restart, context);
  }
}

function restart(w: World, context: number): void {
  const c = w.contexts[context];
  c.instance = `w${context}.${++w.generation}`;
  c.alive = true;
}

export const Advance = advanceCommand(advance, reconcile);

/** Moves the clock; live instances holding leases renew them every TTL/3 on the way. */
async function advance(w: World, ms: number): Promise<void> {
  const target = w.now + ms;
  while (w.now < target) {
    const live = w.contexts.filter((c) => c.alive && c.open.size > 0);
    w.now = live.length ? Math.min(target, w.now + TTL / 3) : target;
    for (const c of live) await c.store.renewAll(SCOPE, Array.from(c.open.keys(), (tag) => recordKey(SCOPE, tag)), w.now, c.instance, TTL);
  }
}

const ctxArb = fc.integer({ min: 0, max: MAX_CONTEXTS - 1 });
const tagArb = fc.constantFrom(...TAGS);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.tuple(ctxArb, tagArb).map(([c, t]) => new Register(c, t)),
  ctxArb.map((c) => new Claim(c)),
  fc.tuple(ctxArb, fc.nat(3), outcomeArb).map(([c, p, o]) => new Settle(c, p, o)),
  ctxArb.map((c) => new Renew(c)),
);
export const commandArbs: Array<fc.Arbitrary<Cmd>> = [
  opArb,
  opArb,
  fc.tuple(opArb, opArb).map(([a, b]) => new Both(a, b)),
  fc.tuple(fc.nat(3), outcomeArb).map(([p, o]) => new ZombieSettle(p, o)),
  ctxArb.map((c) => new Kill(c)),
  ctxArb.map((c) => new Restart(c)),
  fc.oneof(fc.integer({ min: 0, max: 2 * TTL }), fc.integer({ min: 0, max: 20 * TTL })).map((ms) => new Advance(ms)),
];

export const policyArb: fc.Arbitrary<RetryPolicy> = leasePolicyArb(TTL);

/** Every live event settles with `outcome`; one instance stays and passes until nothing is stored. */
async function drain(w: World, outcome: Outcome): Promise<void> {
  for (let i = 0; i < w.contexts.length; i++) {
    const c = w.contexts[i];
    if (!c.alive) continue;
    for (let n = c.open.size; n > 0; n--) await new Settle(i, 0, outcome).exec(w);
  }
  for (let i = 1; i < w.contexts.length; i++) if (w.contexts[i].alive) kill(w, i);
  if (!w.contexts[0].alive) restart(w, 0);
  await reconcile(w, 'drain');
  for (let round = 0; ; round++) {
    const left = await records(w);
    if (!left.length) return;
    expect(round, `drain: still ${left.map((r) => r.tag)} after 100 rounds`).toBeLessThan(100);
    const wake = Math.min(...left.map((r) => (r.state === 'waiting' ? r.notBefore : r.state === 'firing' ? r.leaseUntil : w.now)));
    if (wake > w.now) await advance(w, wake - w.now);
    await new Claim(0).run(w);
    for (let n = w.contexts[0].open.size; n > 0; n--) await new Settle(0, 0, outcome).run(w);
  }
}


/** One run: 2 or 3 contexts over a fresh database, the commands, a drain, then the four invariants. */
export async function runStore(policy: RetryPolicy, n: number, cmds: Iterable<Cmd>, outcome: Outcome): Promise<void> {
  for (const s of stores) s.closeDatabase();
  (globalThis as { indexedDB?: unknown }).indexedDB = new IDBFactory();
  const w: World = {
    policy, now: 1_700_000_000_000, seq: 0, generation: 0, log: { firings: [], registrations: [] },
    holder: new Map(), dead: [], settledByOwner: new Set(),
    contexts: stores.slice(0, n).map((store, i) => ({ store, instance: `w${i}.0`, alive: true, open: new Map() })),
  };
  await fc.asyncModelRun(() => ({ model: w, real: w }), cmds);
  await drain(w, outcome);
  assertInvariants(w.log, policy.maxAttempts, (await records(w)).map((r) => r.tag));
}
