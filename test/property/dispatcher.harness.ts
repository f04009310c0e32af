/**
 * Layer (b2) harness: the whole firing path, SyncManager.register() in pages (stored as the worker that answers the
 * page's request stores it: see answeringHost) and Dispatcher in workers, in 2 or 3 contexts that share ONE
 * fake-indexeddb database. Each context is its own copy of the modules (as a tab or a
 * worker instance is), with its own connection, its own SyncManager and its own Dispatcher with a distinct
 * instance id.
 *
 * Time is vitest's fake clock (setTimeout, setInterval and Date); fake-indexeddb runs on the real setImmediate,
 * which is left alone, so the two cooperate: after each command the harness lets the database work through
 * everything queued (it counts fake-indexeddb's tasks) and runs the timers that are due. The clock moves in
 * steps of at most a second, so the dispatcher's own timers (maxEventDuration, lease renewal every 10 s, the
 * wake-up for a retry or a lapsed lease, the settle batch) fire in order with the database settled between.
 *
 * Random commands: register() from a page of some context (and poke a worker or not), a worker's pass (with the
 * page's view online, offline or none), the app's handler settling an event (succeed, fail; one never settled
 * is cut off by maxEventDuration), handlers that finish at once, a worker's death (its connection is closed
 * under it, its events are over, its lease must lapse and the firing count as a failed attempt), a new worker
 * instance, going offline, and the clock. Some commands start without waiting for the database, so their
 * transactions interleave with the next command's.
 *
 * Every dispatched event is logged (tag, attempt, lastChance, start/end, worker instance); after a drain the
 * four reliability invariants are checked over the log (test/property/invariants.ts).
 */
import fc from 'fast-check';
import { IDBFactory } from 'fake-indexeddb';
import { vi } from 'vitest';
import { Outcome, SyncRecord } from '../../src/core/registration';
import { RetryPolicy } from '../../src/core/policy';
import { Firing, Log, assertInvariants, bounded, neverConcurrent, nothingLost, reregisterHonoured } from './invariants';
import { quotaExceededOnCommit } from '../unit/reliability/faults';
import { advanceCommand, outcomeArb } from './common';
import { fakeLocks, useLocks } from '../unit/helpers';

export const SCOPE = 'https://example.com/app/';
const TAGS = ['a', 'b', 'c'] as const;
export const MAX_CONTEXTS = 3;
/** Copies of the modules: a page and a worker per context, restarted workers, one kept back for the drain. */
const POOL = 10;
export const START = 1_700_000_000_000;
/** The clock moves at most this much before the database settles. */
export const STEP = 1000;

type Store = typeof import('../../src/store/db');
type DispatcherModule = typeof import('../../src/worker/dispatcher');
type SyncManagerModule = typeof import('../../src/web/sync-manager');
type SyncHost = import('../../src/web/sync-manager').SyncHost;

interface Graph {
  store: Store;
  Dispatcher: DispatcherModule['Dispatcher'];
  SyncEvents: ReturnType<typeof import('../../src/web/sync-event').defineSyncEvents>;
  manager: SyncManagerModule;
  /** Called with what this copy's claimDue claimed, before the dispatcher fires it. */
  onClaim: (claimed: SyncRecord[]) => void;
  /** Called with the transitions a settle batch of this copy's store committed (only those it held). */
  onSettled: (instance: string, settled: ReadonlyArray<{ tag: string; outcome: Outcome }>) => void;
  /** Take, in call order, the records this copy's register() calls stored (one connection: they commit in order). */
  onRegistered: Array<(record: SyncRecord) => void>;
}

class ExtendableEvent extends Event {
  waitUntil(_f: unknown): void {
    throw new DOMException('x', 'InvalidStateError');
  }
}
class FakeRegistration {
  constructor(public scope: string, public active: object | null = {}) {}
}

const pool: Graph[] = [];
let observer: Store;
const realSetImmediate = globalThis.setImmediate;

/** Call in beforeAll: the globals and POOL copies of the modules. */
export async function setupPool(): Promise<void> {
  const g = globalThis as Record<string, unknown>;
  g.ExtendableEvent = ExtendableEvent;
  g.ServiceWorkerRegistration = FakeRegistration;
  for (let i = 0; i < POOL; i++) {
    vi.resetModules();
    const store = await import('../../src/store/db');
    const { Dispatcher } = await import('../../src/worker/dispatcher');
    const { defineSyncEvents } = await import('../../src/web/sync-event');
    const manager = await import('../../src/web/sync-manager');
    const graph: Graph = {
      store, Dispatcher, SyncEvents: defineSyncEvents(), manager,
      onClaim: () => undefined, onSettled: () => undefined, onRegistered: [],
    };
    // Spy on this copy's store, as its dispatcher and the host behind its SyncManager call it, to learn attempts and outcomes.
    const { claimDue, settleFirings, storeRegistration } = store;
    vi.spyOn(store, 'claimDue').mockImplementation(async (...args) => {
      const result = await claimDue(...args);
      // Only one-shot records: periodic sync is not in this model.
      graph.onClaim(result.claimed as SyncRecord[]);
      return result;
    });
    vi.spyOn(store, 'settleFirings').mockImplementation(async (...args) => {
      const result = await settleFirings(...args);
      graph.onSettled(args[4], result);
      return result;
    });
    vi.spyOn(store, 'storeRegistration').mockImplementation(async (...args) => {
      const take = graph.onRegistered.shift();
      const result = await storeRegistration(...args);
      take?.(result);
      return result;
    });
    pool.push(graph);
  }
  vi.resetModules();
  observer = await import('../../src/store/db');
}

export function teardownPool(): void {
  for (const graph of pool) graph.store.closeDatabase();
  observer.closeDatabase();
}

// --- Letting the database and the due timers run ---------------------------------------------------------------

/** fake-indexeddb's tasks not yet run (it schedules every step of its work with setImmediate). */
let queued = 0;
function countingSetImmediate(fn: (...args: unknown[]) => void, ...args: unknown[]) {
  queued++;
  return realSetImmediate(() => {
    queued--;
    fn(...args);
  });
}

function realTask(): Promise<void> {
  return new Promise((resolve) => realSetImmediate(resolve));
}

/** Until the database is idle and no timer is due now (a few idle rounds in a row). */
async function flush(): Promise<void> {
  let idle = 0;
  for (let i = 0; i < 20000; i++) {
    vi.advanceTimersByTime(0);
    await realTask();
    idle = queued === 0 ? idle + 1 : 0;
    if (idle >= 3) return;
  }
  throw new Error('flush: the database never went idle');
}

// --- The world -------------------------------------------------------------------------------------------------

export type Mode = 'hold' | 'resolve' | 'reject';

interface Dispatched {
  firing: Firing;
  mode: Mode;
  settle?: (outcome: Outcome) => void;
  /** Outcome the store applied (from the settle batch it committed). */
  applied?: Outcome;
}

interface Context {
  index: number;
  /** The worker instance's copy of the modules. */
  graph: Graph;
  /** The page's copy (a tab of this context): it outlives the worker. */
  page: Graph;
  dispatcher: InstanceType<Graph['Dispatcher']>;
  alive: boolean;
  online: boolean;
  registration: ServiceWorkerRegistration;
  /** This instance's events whose end the harness has not seen. */
  open: Map<string, Dispatched>;
  /** Its context in the origin's Web Locks. */
  owner: string;
}

export interface World {
  policy: RetryPolicy;
  seq: number;
  contexts: Context[];
  used: number;
  log: Log;
  events: Dispatched[];
  /** The event that holds each tag's lease, until the store settles or reaps it. */
  holder: Map<string, Dispatched>;
  modes: Mode[];
  dispatches: number;
  /** Set by the drain: every new event finishes at once this way. */
  drainMode?: Mode;
  errors: string[];
  /** Storage may fail for a while (Hiccup): failed writes are then expected, reported, and retried. */
  faults: boolean;
  /**
   * One live worker instance at a time (the active worker; a new one only after it died), the other contexts
   * being pages. With storage failing, a live instance whose renewals fail cannot be told from a dead one by
   * another instance, so "never concurrent" under faults is asked of one instance at a time.
   */
  oneWorker: boolean;
  /** The origin's Web Locks, when the run gives its workers liveness by lock (src/liveness.ts); else leases lapse. */
  locks?: ReturnType<typeof fakeLocks>;
}

export type Cmd = fc.AsyncCommand<World, World>;

function tick(w: World): number {
  return ++w.seq;
}

/** Commands name a context 0..2; a world with 2 contexts maps 2 to 0. */
function at(w: Readonly<World>, context: number): Context {
  return w.contexts[context % w.contexts.length];
}

/** The event is over, with the app's outcome (a timeout or the worker's death is a failure). */
function endEvent(w: World, c: Context, e: Dispatched, outcome: Outcome): void {
  if (e.firing.end !== undefined) return;
  e.firing.outcome = outcome;
  e.firing.end = tick(w);
  e.firing.endTime = Date.now();
  c.open.delete(e.firing.tag);
}

/** Events whose maxEventDuration has passed are over: the dispatcher has counted them as failed. */
function closeTimedOut(w: World): void {
  for (const c of w.contexts) {
    for (const e of Array.from(c.open.values())) {
      if (Date.now() >= e.firing.startTime! + w.policy.maxEventDuration) endEvent(w, c, e, 'failure');
    }
  }
}

function contextFor(w: World, index: number, graph: Graph, page: Graph): Context {
  const target = new EventTarget();
  const report = (error: unknown) => {
    // A dead worker's writes fail (its connection is gone); a live one must never fail.
    if (c.alive && !w.faults) w.errors.push(`worker ${index} (${c.dispatcher.instance}) reported: ${String(error)}`);
  };
  // The dispatcher takes the lock of its lease as it is made: made as its own context, it holds it until killed.
  const owner = `worker-${w.used}`;
  if (w.locks) useLocks(w.locks.context(owner));
  const dispatcher = new graph.Dispatcher({ scope: SCOPE, target, SyncEvent: graph.SyncEvents[0], PeriodicSyncEvent: graph.SyncEvents[1], isOnline: () => c.online, report });
  dispatcher.policy = w.policy;
  const c: Context = {
    index, graph, page, dispatcher, alive: true, online: true, open: new Map(), owner,
    registration: new FakeRegistration(SCOPE) as unknown as ServiceWorkerRegistration,
  };
  const attempts = new Map<string, number>();
  graph.onClaim = (claimed) => {
    for (const r of claimed) if (r.lease === dispatcher.instance) attempts.set(r.tag, r.attempts);
  };
  graph.onSettled = (instance, batch) => {
    if (instance !== dispatcher.instance) return;
    for (const { tag, outcome } of batch) {
      const e = w.holder.get(tag);
      if (e && e.firing.context === instance && e.applied === undefined) e.applied = outcome;
    }
  };
  target.addEventListener('sync', (ev) => {
    const event = ev as SyncEvent;
    closeTimedOut(w);
    const mode = w.drainMode ?? w.modes[w.dispatches++ % w.modes.length];
    const firing: Firing = {
      tag: event.tag, context: dispatcher.instance, attempt: attempts.get(event.tag) ?? -1, lastChance: event.lastChance,
      start: tick(w), startTime: Date.now(),
    };
    const e: Dispatched = { firing, mode };
    w.log.firings.push(firing);
    w.events.push(e);
    const previous = w.holder.get(event.tag);
    if (previous) release(w, previous, `dispatch of ${JSON.stringify(event.tag)}`);
    w.holder.set(event.tag, e);
    c.open.set(event.tag, e);
    if (!c.alive) {
      // The claim was in flight when the worker died: its attempt is spent, but the event never really ran.
      event.waitUntil(new Promise<void>(() => undefined));
      endEvent(w, c, e, 'failure');
    } else if (mode === 'hold') {
      event.waitUntil(new Promise<void>((resolve, reject) => {
        e.settle = (outcome) => (outcome === 'success' ? resolve() : reject(new Error('the app failed')));
      }));
    } else {
      if (mode === 'reject') event.waitUntil(Promise.reject(new Error('the app failed at once')));
      endEvent(w, c, e, mode === 'reject' ? 'failure' : 'success');
    }
  });
  return c;
}

/**
 * The record of this event's tag no longer holds its lease: its worker settled it with the app's outcome, or
 * the worker died and another reaped it as a failed attempt. Anything else is an error.
 */
function release(w: World, e: Dispatched, what: string): void {
  w.holder.delete(e.firing.tag);
  const alive = w.contexts.some((c) => c.alive && c.dispatcher.instance === e.firing.context);
  if (e.firing.end === undefined) {
    w.errors.push(`${what}: ${JSON.stringify(e.firing.tag)} left firing while its event still runs: ${JSON.stringify(e.firing)}`);
  } else if (!w.faults && (e.applied === undefined ? alive : e.applied !== e.firing.outcome)) {
    // (With storage faults a live worker's settle may fail; its firing is then reaped as a failure.)
    w.errors.push(`${what}: the store applied ${e.applied ?? 'a reap (failure)'} to an event the app ended with ` +
      `${e.firing.outcome} (worker ${alive ? 'alive' : 'dead'}): ${JSON.stringify(e.firing)}`);
  }
}

/** What the store did to the firings of dead or finished workers, and no firing record without an event. */
async function reconcile(w: World, what: string): Promise<void> {
  const records = await observer.list(SCOPE);
  const byTag = new Map(records.map((r): [string, SyncRecord] => [r.tag, r]));
  for (const [tag, e] of Array.from(w.holder.entries())) {
    const r = byTag.get(tag);
    if (!r || r.state !== 'firing' || r.lease !== e.firing.context || r.attempts !== e.firing.attempt) release(w, e, what);
  }
  for (const r of records) {
    if (r.state !== 'firing') continue;
    const e = w.holder.get(r.tag);
    if (!e || e.firing.context !== r.lease || e.firing.attempt !== r.attempts) {
      w.errors.push(`${what}: ${JSON.stringify(r.tag)} is firing (lease ${r.lease}, attempt ${r.attempts}) with no event dispatched for it`);
    }
  }
}

async function settled(w: World, what: string, wait = true): Promise<void> {
  if (wait) await flush();
  closeTimedOut(w);
  if (wait) await reconcile(w, what);
}

// --- Commands --------------------------------------------------------------------------------------------------

/**
 * The host behind SyncManager in this harness: the page's request as the worker that answers it handles it
 * (src/worker/install.ts): it stores the tag through its own connection (the engine starts an instance to answer
 * the message, so a page whose worker died still registers), resolves, and then wakes a dispatcher, here the one of
 * the context `poked` (none: nothing is woken).
 */
function answeringHost(c: Context, poked: Context | null): SyncHost {
  return {
    register: (_registration, tag) => c.page.store.storeRegistration(SCOPE, tag).then(() => {
      // Fire only after the promise has resolved (docs/semantics.md §2 step 7).
      setTimeout(() => {
        if (poked && poked.alive) void poked.dispatcher.run(true);
      }, 0);
    }),
    getTags: () => c.page.store.list(SCOPE).then((records) => records.map((r) => r.tag)),
  };
}

/** A page of this context calls registration.sync.register(tag); the worker that stores it pokes a dispatcher afterwards. */
export class Register implements Cmd {
  constructor(readonly context: number, readonly tag: string, readonly poke: number | null, readonly wait: boolean) {}
  check(w: Readonly<World>): boolean {
    return w.contexts.length > 0;
  }
  async run(w: World): Promise<void> {
    const c = at(w, this.context);
    const poked = this.poke === null ? null : w.contexts[this.poke % w.contexts.length];
    // Periodic sync is not part of this model: its host is never called.
    c.page.manager.setSyncHost(answeringHost(c, poked), {} as never);
    const called = tick(w);
    const sync = c.page.manager.syncGetter.call(c.registration);
    let stored: SyncRecord | undefined;
    c.page.onRegistered.push((record) => (stored = record));
    const done = sync.register(this.tag).then(() => {
      w.log.registrations.push({ tag: this.tag, called, resolved: tick(w), duringFiring: stored!.state === 'firing' });
    }, (e: unknown) => {
      // Under a storage fault register() rejects (and stores nothing): not a registration.
      if (!w.faults) w.errors.push(`${this}: register() rejected: ${String(e)}`);
    });
    if (this.wait) {
      await flush();
      await done;
    }
    await settled(w, this.toString(), this.wait);
  }
  toString(): string {
    return `register(ctx ${this.context}, ${JSON.stringify(this.tag)}, poke ${this.poke ?? 'none'}${this.wait ? '' : ', no wait'})`;
  }
}

/** Something wakes this context's worker (a poke with the page's view, a fetch, its start). */
export class Run implements Cmd {
  constructor(readonly context: number, readonly pageOnline: boolean | undefined, readonly wait: boolean) {}
  check(w: Readonly<World>): boolean {
    return at(w, this.context).alive;
  }
  async run(w: World): Promise<void> {
    void at(w, this.context).dispatcher.run(this.pageOnline);
    await settled(w, this.toString(), this.wait);
  }
  toString(): string {
    return `run(ctx ${this.context}, page online ${this.pageOnline}${this.wait ? '' : ', no wait'})`;
  }
}

/** The app's handler for one held event settles. */
export class Settle implements Cmd {
  constructor(readonly pick: number, readonly outcome: Outcome) {}
  check(): boolean {
    return true;
  }
  async run(w: World): Promise<void> {
    closeTimedOut(w);
    const held = w.contexts.filter((c) => c.alive).flatMap((c) => Array.from(c.open.values()).map((e) => ({ c, e })))
      .filter(({ e }) => e.mode === 'hold');
    if (!held.length) return;
    const { c, e } = held[this.pick % held.length];
    endEvent(w, c, e, this.outcome);
    e.settle!(this.outcome);
    await settled(w, this.toString());
  }
  toString(): string {
    return `settle(#${this.pick}, ${this.outcome})`;
  }
}

/** The worker instance is terminated: its connection is closed under it and its events are over. */
export class Kill implements Cmd {
  constructor(readonly context: number) {}
  check(w: Readonly<World>): boolean {
    return at(w, this.context).alive;
  }
  async run(w: World): Promise<void> {
    await kill(w, this.context % w.contexts.length);
    await settled(w, this.toString());
  }
  toString(): string {
    return `kill(ctx ${this.context})`;
  }
}

async function kill(w: World, index: number): Promise<void> {
  const c = w.contexts[index];
  c.alive = false;
  for (const e of Array.from(c.open.values())) endEvent(w, c, e, 'failure');
  // Everything this copy does from now on fails: renewals, settles, passes. Its lease lapses, or its lock is freed.
  const db = await c.graph.store.open();
  db.close();
  if (w.locks) w.locks.kill(c.owner);
}

/** A new worker instance (a new copy of the modules) in this slot; a worker's start is a chance to fire. */
export class Restart implements Cmd {
  constructor(readonly context: number) {}
  check(w: Readonly<World>): boolean {
    // One copy stays back for the drain.
    return !at(w, this.context).alive && w.used < POOL - 1 && !(w.oneWorker && w.contexts.some((c) => c.alive));
  }
  async run(w: World): Promise<void> {
    restart(w, this.context % w.contexts.length);
    await settled(w, this.toString());
  }
  toString(): string {
    return `restart(ctx ${this.context})`;
  }
}

/** A new worker instance in this context (started, unless `start` is false: a page-only context). */
function restart(w: World, index: number, start = true): void {
  const page = w.contexts[index] ? w.contexts[index].page : pool[w.used++];
  const c = contextFor(w, index, pool[w.used++], page);
  w.contexts[index] = c;
  if (start) void c.dispatcher.run();
  else c.alive = false;
}

export class Online implements Cmd {
  constructor(readonly context: number, readonly online: boolean) {}
  check(w: Readonly<World>): boolean {
    return w.contexts.length > 0;
  }
  async run(w: World): Promise<void> {
    at(w, this.context).online = this.online;
  }
  toString(): string {
    return `online(ctx ${this.context}, ${this.online})`;
  }
}

export const Advance = advanceCommand(advance, settled);

/**
 * Storage refuses every write for `ms` (quota exceeded at commit, as Chromium reports it; reads still work),
 * while the clock moves: renewals, settles, claims and register() calls made meanwhile fail and are reported.
 */
export class Hiccup implements Cmd {
  constructor(readonly ms: number) {}
  check(w: Readonly<World>): boolean {
    return w.faults;
  }
  async run(w: World): Promise<void> {
    await flush();
    const fault = quotaExceededOnCommit();
    try {
      await advance(w, this.ms);
    } finally {
      fault.restore();
    }
    await settled(w, this.toString());
  }
  toString(): string {
    return `hiccup(${this.ms})`;
  }
}

/** Moves the clock in steps (or at once: only when no event runs, so no lease needs renewing on the way). */
async function advance(w: World, ms: number, atOnce = false): Promise<void> {
  const target = Date.now() + ms;
  await flush();
  while (Date.now() < target) {
    vi.advanceTimersByTime(atOnce ? target - Date.now() : Math.min(STEP, target - Date.now()));
    closeTimedOut(w);
    await flush();
  }
}

const ctxArb = fc.integer({ min: 0, max: MAX_CONTEXTS - 1 });
const tagArb = fc.constantFrom(...TAGS);
const registerArb = fc.tuple(ctxArb, tagArb, fc.option(fc.nat(2), { freq: 4 }), fc.boolean())
  .map(([c, t, p, wait]) => new Register(c, t, p, wait));
const settleArb = fc.tuple(fc.nat(3), outcomeArb).map(([p, o]) => new Settle(p, o));
export const commandArbs: Array<fc.Arbitrary<Cmd>> = [
  registerArb,
  registerArb,
  registerArb,
  fc.tuple(ctxArb, fc.constantFrom(true, true, false, undefined), fc.boolean()).map(([c, o, wait]) => new Run(c, o, wait)),
  settleArb,
  settleArb,
  ctxArb.map((c) => new Kill(c)),
  ctxArb.map((c) => new Restart(c)),
  fc.tuple(ctxArb, fc.boolean()).map(([c, o]) => new Online(c, o)),
  fc.oneof(
    fc.integer({ min: 0, max: 5000 }),
    fc.integer({ min: 20000, max: 40000 }), // around the 30 s lease
    fc.integer({ min: 0, max: 120000 }),
  ).map((ms) => new Advance(ms)),
];

export const policyArb: fc.Arbitrary<RetryPolicy> = fc.record({
  maxAttempts: fc.integer({ min: 1, max: 4 }),
  initialRetryDelay: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 20000 })),
  retryDelayFactor: fc.oneof(fc.constant(1), fc.integer({ min: 2, max: 3 })),
  // Shorter and longer than the 30 s lease, which must then be renewed.
  maxEventDuration: fc.oneof(fc.integer({ min: 1000, max: 20000 }), fc.integer({ min: 30000, max: 90000 })),
  periodicMinInterval: fc.constant(43200000),
});
export const modesArb = fc.array(fc.constantFrom<Mode>('hold', 'hold', 'resolve', 'reject'), { minLength: 1, maxLength: 6 });

/**
 * The world ends the way it eventually does: every context online, held events settle with `outcome`, and every
 * new event finishes at once with it; a live worker (a new one if all died) keeps being woken and the clock
 * moves until nothing is stored or firing.
 */
async function drain(w: World, outcome: Outcome): Promise<void> {
  w.drainMode = outcome === 'success' ? 'resolve' : 'reject';
  for (const c of w.contexts) c.online = true;
  closeTimedOut(w);
  for (const c of w.contexts) {
    if (!c.alive) continue;
    for (const e of Array.from(c.open.values())) {
      endEvent(w, c, e, outcome);
      e.settle?.(outcome);
    }
  }
  if (!w.contexts.some((c) => c.alive)) restart(w, 0);
  await settled(w, 'drain');
  for (let round = 0; ; round++) {
    for (const c of w.contexts) if (c.alive) void c.dispatcher.run();
    await settled(w, 'drain: run');
    const records = await observer.list(SCOPE);
    const open = w.contexts.some((c) => c.alive && c.open.size > 0);
    if (!records.length && !open) break;
    if (round >= 300) {
      w.errors.push(`drain: after 300 rounds (${Date.now() - START} ms) still stored: ${JSON.stringify(records)}`);
      break;
    }
    // Nothing runs but timers now: jump to the next retry or lease expiry (at least a step).
    const wake = Math.min(...records.map((r) => (r.state === 'waiting' ? r.notBefore : r.state === 'firing' ? r.leaseUntil : 0)));
    await advance(w, open ? STEP : Math.max(wake - Date.now() + 20, STEP), !open);
  }
  // Nothing left to do: every live worker's run() settles (within a minute: a pass may wait a while for the
  // worker's own onLine to catch up with a page's).
  for (const c of w.contexts.filter((x) => x.alive)) {
    let done = false;
    void c.dispatcher.run().then(() => (done = true));
    for (let waited = 0; !done && waited <= 60000; waited += STEP) await advance(w, STEP);
    if (!done) w.errors.push(`drain: worker ${c.index}'s run() never settled with nothing to do`);
  }
}

/** The four invariants' violations too, to go with the harness's own errors. */
function invariantReport(w: World, remaining: string[]): string {
  try {
    assertInvariants(w.log, w.policy.maxAttempts, remaining);
    return '(the four invariants hold)';
  } catch (e) {
    return (e as Error).message;
  }
}

/** One run: 2 or 3 contexts, the commands, a drain, then the checks. */
export async function runWorld(
  policy: RetryPolicy, n: number, modes: Mode[], cmds: Iterable<Cmd>, outcome: Outcome, faults: boolean,
  oneWorker = faults, locks = false,
): Promise<void> {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'], now: START });
  globalThis.setImmediate = countingSetImmediate as typeof setImmediate;
  queued = 0;
  const w: World = {
    policy, seq: 0, contexts: [], used: 0, log: { firings: [], registrations: [] }, events: [],
    holder: new Map(), modes, dispatches: 0, errors: [], faults, oneWorker, locks: locks ? fakeLocks() : undefined,
  };
  useLocks(w.locks ? w.locks.context('observer') : undefined);
  try {
    for (const graph of pool) {
      graph.store.closeDatabase();
      graph.onRegistered = [];
    }
    observer.closeDatabase();
    (globalThis as { indexedDB?: unknown }).indexedDB = new IDBFactory();
    for (let i = 0; i < n; i++) {
      restart(w, i, !(oneWorker && i > 0));
    }
    await settled(w, 'start');
    await fc.asyncModelRun(() => ({ model: w, real: w }), cmds);
    await drain(w, outcome);
    const remaining = (await observer.list(SCOPE)).map((r) => r.tag);
    if (!faults) {
      if (w.errors.length) throw new Error(`${w.errors.join('\n')}\n${invariantReport(w, remaining)}`);
      assertInvariants(w.log, policy.maxAttempts, remaining);
    } else {
      // Under storage faults delivery is at least once: an outcome that could not be written is retried, so a
      // tag may fire again after a success and its attempt count may not move by one. Only those two checks of
      // "bounded" are dropped; never concurrent, nothing lost and re-register honoured hold as without faults.
      const violations = [
        ...w.errors,
        ...neverConcurrent(w.log),
        ...bounded(w.log, policy.maxAttempts).filter((v) => !v.startsWith('fired again after') && !v.startsWith('attempt did not')),
        ...nothingLost(w.log, remaining),
        ...reregisterHonoured(w.log),
      ];
      if (violations.length) throw new Error(`${violations.join('\n')}\nfirings: ${JSON.stringify(w.log.firings)}`);
    }
  } finally {
    vi.clearAllTimers();
    vi.useRealTimers();
    // Let whatever the dead workers had in flight fail against the old database before the next run.
    for (let i = 0; i < 50 && queued > 0; i++) await realTask();
    globalThis.setImmediate = realSetImmediate;
    useLocks(undefined);
  }
}

