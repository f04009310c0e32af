/**
 * Fires sync events in the service worker (docs/semantics.md §3 and §7): claims what is due from the store under a lease
 * held by this worker instance, one-shot and periodic alike, dispatches a SyncEvent or a PeriodicSyncEvent for each,
 * bounds it by maxEventDuration and settles the outcome. Firings are known by their record's key (`id`), so a one-shot
 * "x" and a periodic "x" never touch.
 */
import * as store from '../store/db';
import { DEFAULT_POLICY, MAX_DELAY, RetryPolicy } from '../core/policy';
import { Leased, Outcome, SyncRecord, isLastChance, nextWake, recordKey } from '../core/registration';
import { AnyRecord } from '../core/periodic';
import { PeriodicSyncEventClass, SyncEventClass, dispatchSyncEvent } from '../web/sync-event';
import { describe, trace } from '../debug';
import { deadAmong, holdForLife, watch } from '../liveness';

/**
 * Where the engine has no Web Locks (src/liveness.ts), a firing's lease lapses this long after its last renewal: a
 * worker killed mid-event is noticed by then. With them, its death is noticed at once and this means nothing.
 */
export const LEASE_TTL = 30000;
const RENEW_EVERY = LEASE_TTL / 3;
/**
 * A page that saw the network come back pokes once, but the worker's navigator.onLine can lag behind the
 * page's (Chromium fires no `online` in workers): wait this long for it rather than lose the wake-up.
 */
export const ONLINE_LAG = 5000;
/** Looks again every ms for the first 20 ms (Chromium updates the worker a few ms after the page), then backs off. */
const ONLINE_POLL_FIRST = 1;
const ONLINE_POLL_FINE = 20;
const ONLINE_POLL_MAX = 100;

interface DispatcherOptions {
  /** The service worker registration's scope: whose records this dispatcher claims. */
  scope: string;
  /** Where sync events are dispatched: the worker's global scope. */
  target: EventTarget;
  SyncEvent: SyncEventClass;
  PeriodicSyncEvent: PeriodicSyncEventClass;
  /** The worker's own view of connectivity. */
  isOnline: () => boolean;
  report: (error: unknown) => void;
  /** Is this instance the registration's active worker? Native fires only there. Default: always. */
  isActive?: () => boolean;
  /**
   * Told after each pass what the pages of the scope may want to know: when something is next due (a retry; Infinity
   * for nothing) and the leases of firings under a lock, which a page can wait on to hear of a death.
   */
  notify?: (next: number, leases: string[]) => void;
  /**
   * Where the engine has the API (docs/semantics.md §8): the keys of the records whose tags the engine itself holds.
   * None of them fires while it does; the dispatcher looks again every ENGINE_RECHECK ms.
   */
  engineHolds?: () => Promise<string[]>;
}

/** How often a tag the engine also holds is looked at again (docs/semantics.md §8). */
export const ENGINE_RECHECK = 1000;

export class Dispatcher {
  policy: RetryPolicy = DEFAULT_POLICY;
  /** Identifies this worker instance in leases: a new instance (after termination) never matches. */
  readonly instance = Math.random().toString(36).slice(2) + Date.now().toString(36);
  /** Resolves true once this instance holds the lock of its lease (src/liveness.ts), false without Web Locks. */
  private readonly locked = holdForLife(this.instance);
  /** Record key → the promise of its running event, including the write of its outcome. */
  private readonly firing = new Map<string, Promise<void>>();
  private passes: Promise<void> = Promise.resolve();
  private passQueued = false;
  /** The view of the page whose poke queued the next pass; undefined for other wake-ups. */
  private pageOnline: boolean | undefined;
  private wakeTimer: ReturnType<typeof setTimeout> | undefined;
  private renewTimer: ReturnType<typeof setInterval> | undefined;
  private settling: Array<{ tag: string; periodic?: boolean; outcome: Outcome; done: () => void; fail: (e: unknown) => void }> = [];
  /** Keys of records this instance may have claimed in a register() transaction not yet done: running, for a pass. */
  private readonly registering = new Set<string>();
  /** What the last pass told the pages (notify): a register() that fires tells them the same, with this lease. */
  private next = Infinity;
  private suspects: string[] = [];

  private readonly scope!: string;
  private readonly target!: EventTarget;
  private readonly SyncEvent!: SyncEventClass;
  private readonly PeriodicSyncEvent!: PeriodicSyncEventClass;
  private readonly isOnline!: () => boolean;
  private readonly report!: (error: unknown) => void;
  /** Absent: always active. */
  private readonly isActive?: () => boolean;
  private readonly notify?: (next: number, leases: string[]) => void;
  private readonly engineHolds?: () => Promise<string[]>;

  // The options become the fields of the same names: the fewest bytes in the classic script (bench/size-budget.json).
  constructor(options: DispatcherOptions) {
    Object.assign(this, options);
  }

  /**
   * Wakes the dispatcher. The promise settles once the pass is done and every event running by then has
   * settled: hand it to the waking event's waitUntil to keep the worker alive. It never rejects.
   * `pageOnline` is the view of the page that poked, if any.
   */
  run(pageOnline?: boolean): Promise<void> {
    if (pageOnline !== undefined) this.pageOnline = pageOnline;
    if (!this.passQueued) {
      this.passQueued = true;
      this.passes = this.passes.then(() => {
        this.passQueued = false;
        return this.pass();
      }).catch(this.report);
    }
    return this.idle();
  }

  /**
   * register() for this worker's SyncManager or a page's request (docs/semantics.md §2): stores `tags` and, where this
   * instance may fire now, claims them in the same transaction. Resolves, once that has committed, with what fires
   * them: call it after the caller's promise has resolved (§2 step 7). It returns what run() returns.
   */
  async register(tags: readonly string[]): Promise<() => Promise<void>> {
    // Held before the claim, as in a pass: a lease of ours in the store always has its lock held.
    const claimant = this.isOnline() && (!this.isActive || this.isActive())
      ? { now: Date.now(), instance: this.instance, leaseTtl: LEASE_TTL, locked: await this.locked }
      : undefined;
    // Running for a pass until fired: what the transaction claims is not an abandoned firing of ours.
    const mark = (on: boolean) => {
      for (const tag of tags) {
        const id = recordKey(this.scope, tag);
        on ? this.registering.add(id) : this.registering.delete(id);
      }
    };
    mark(true);
    let records: SyncRecord[];
    try {
      // A tag whose event this instance still runs (its registration removed and registered again), or which the
      // engine also holds (docs/semantics.md §8), is stored unclaimed: a later pass claims it, so one tag never has
      // two events in flight.
      const held = claimant && this.engineHolds ? await this.held() : [];
      records = await Promise.all(tags.map((tag) => {
        const key = recordKey(this.scope, tag);
        return store.storeRegistration(this.scope, tag, this.firing.has(key) || held.indexOf(key) >= 0 ? undefined : claimant);
      }));
    } catch (e) {
      mark(false);
      throw e;
    }
    for (const record of records) trace(`register("${record.tag}") → ${describe(record)}`);
    // A tag twice among `tags` is one record.
    const claimed = Array.from(new Set(records)).filter((r) => r.state == 'firing' && r.lease == this.instance && !r.reregistered);
    return () => {
      mark(false);
      if (!claimed.length) return this.run();
      for (const record of claimed) this.fire(record, !!claimant && claimant.locked);
      // Without Web Locks, the leases' expiry is a time to look again, here and in the pages (a killed worker's
      // firing is reaped then), as after a pass.
      this.scheduled(claimed, !!claimant && claimant.locked);
      return this.idle();
    };
  }

  /**
   * periodicSync.register() for this worker's PeriodicSyncManager or a page's request (docs/semantics.md §7): stores
   * the tag, then arms the wake-up for its first event and tells the pages, without a pass: a pass reads every record
   * of the scope, which made 1,000 register() calls cost a thousand such reads (docs/performance.md).
   */
  async registerPeriodic(tag: string, minInterval: number): Promise<void> {
    const record = await store.storePeriodicRegistration(this.scope, tag, minInterval, Date.now(), this.policy.periodicMinInterval);
    this.scheduled([record], !!this.firing.size && await this.locked);
  }

  /**
   * Makes the wake-up (here, and in the pages through notify) no later than the earliest time `records` need: `locked`,
   * this instance has firings under its lock, whose lease the pages may watch.
   */
  private scheduled(records: readonly Leased[], locked: boolean): void {
    const next = nextWake(records);
    if (next < this.next) this.wakeAt(this.next = next);
    if (this.notify) this.notify(this.next, locked ? [this.instance, ...this.suspects] : this.suspects);
  }

  /** Settles when no pass is queued and nothing is firing, including what a settle fires again. */
  private idle(): Promise<void> {
    const passes = this.passes;
    return passes.then(() => {
      const running = Array.from(this.firing.values());
      if (running.length) return Promise.all(running).then(() => this.idle());
      return this.passes === passes ? undefined : this.idle();
    });
  }

  private async pass(): Promise<void> {
    // A page's view counts for the pass it asked for only, so a stale or forged one cannot stall later passes.
    const pageOnline = this.pageOnline;
    this.pageOnline = undefined;
    if (pageOnline === false) return;
    if (this.isActive && !this.isActive()) return;
    // The worker's own view can lag behind the page's (Chromium updates it a few ms later): a page's word waits for it.
    if (pageOnline && !this.isOnline()) await this.waitOnline();
    if (!this.isOnline()) return;
    // Held before the first claim, so that a lease of ours in the store always has its lock held.
    const locked = await this.locked;
    const held = await this.held();
    let result = await store.claimDue(this.scope, Date.now(), this.instance, LEASE_TTL, this.policy, this.running(held), locked);
    // Fired as soon as claimed: a claim whose worker dies before its event starts still counts as an attempt.
    for (const record of result.claimed) this.fire(record, locked);
    const reaped = result.reaped;
    if (result.suspects.length) {
      // Firings under other instances' locks, read before this look-up: a free lock means a dead instance.
      const dead = await deadAmong(result.suspects);
      if (dead.size) {
        result = await store.claimDue(
          this.scope, Date.now(), this.instance, LEASE_TTL, this.policy, this.running(held), locked, dead,
        );
        for (const record of result.claimed) this.fire(record, locked);
        reaped.push(...result.reaped);
      }
      for (const lease of result.suspects) watch(lease, () => void this.run());
    }
    for (const { tag, next: after } of reaped) trace(`"${tag}" was firing in a worker that died: failed attempt, ${describe(after)}`);
    // A record left to the engine is looked at again in a while.
    this.wakeAt(this.next = held.length && (await this.waitsForEngine(held)) ? Math.min(result.next, Date.now() + ENGINE_RECHECK) : result.next);
    this.suspects = result.suspects;
    if (this.notify) this.notify(result.next, locked && this.firing.size ? [this.instance, ...result.suspects] : result.suspects);
  }

  /**
   * The keys of the records not to claim now: whose firing by this instance is not abandoned (running, or claimed by a
   * register() under way), and `held`, the engine's.
   */
  private running(held: string[] = []): Set<string> {
    const running = new Set(this.firing.keys());
    for (const key of this.registering) running.add(key);
    for (const key of held) running.add(key);
    return running;
  }

  /** Does the store hold a record of the scope among `held`, the engine's? Never rejects. */
  private async waitsForEngine(held: string[]): Promise<boolean> {
    try {
      const records: Array<{ id: string }> = [...await store.list(this.scope), ...await store.listPeriodic(this.scope)];
      return records.some((record) => held.indexOf(record.id) >= 0);
    } catch (e) {
      return false;
    }
  }

  /** The keys of the records whose tags the engine holds (engineHolds); none where it cannot say. */
  private held(): Promise<string[]> {
    return this.engineHolds ? this.engineHolds().catch(() => []) : Promise.resolve([]);
  }

  /**
   * Looks at the worker's own navigator.onLine every millisecond or so at first, then backs off to 100 ms steps, for
   * at most ONLINE_LAG.
   */
  private async waitOnline(): Promise<void> {
    const start = Date.now();
    for (let step = ONLINE_POLL_FIRST; !this.isOnline() && Date.now() - start < ONLINE_LAG;) {
      await new Promise((resolve) => setTimeout(resolve, step));
      if (Date.now() - start > ONLINE_POLL_FINE) step = Math.min(step * 2, ONLINE_POLL_MAX);
    }
  }

  /** While the worker lives, wake up for the earliest retry or lease expiry. */
  private wakeAt(time: number): void {
    clearTimeout(this.wakeTimer);
    if (time !== Infinity) {
      this.wakeTimer = setTimeout(() => this.run(), Math.min(Math.max(time - Date.now(), 0) + 10, MAX_DELAY));
    }
  }

  private fire(record: AnyRecord, locked: boolean): void {
    const { tag, id } = record;
    const periodic = (record as { periodic?: boolean }).periodic;
    // A periodic event has no lastChance: its registration stays after its last attempt (docs/semantics.md §7).
    const lastChance = !periodic && isLastChance(record.attempts, this.policy);
    trace(`${periodic ? 'periodic ' : ''}"${tag}" firing, attempt ${record.attempts} of ${this.policy.maxAttempts}${lastChance ? ', lastChance' : ''}`);
    const outcome = new Promise<Outcome>((resolve) => {
      const timer = setTimeout(() => resolve('failure'), this.policy.maxEventDuration);
      const decide = (result: Outcome) => {
        clearTimeout(timer);
        resolve(result);
      };
      dispatchSyncEvent(periodic ? this.PeriodicSyncEvent : this.SyncEvent, this.target, tag, lastChance, periodic ? 'periodicsync' : 'sync')
        .then(() => decide('success'), () => decide('failure'));
    });
    const done = outcome
      .then((result) => this.recordOutcome(tag, periodic, result))
      .then(() => {
        this.finished(id);
        // Fire what is pending again (re-registered), re-arm the wake-up for a retry now waiting, and tell the pages
        // what runs now. Even after a success: without this pass a waiting new version of the worker (skipWaiting)
        // stayed waiting after the last event ended, in half of the fault suite's worker-update runs in Chromium.
        void this.run();
      }, (e) => {
        // The record keeps its lease, which lapses, and it is retried as a failed attempt.
        this.finished(id);
        this.report(e);
      });
    this.firing.set(id, done);
    // Under a lock, liveness needs no heartbeat.
    if (this.firing.size === 1 && !locked) {
      this.renewTimer = setInterval(() => {
        store.renewAll(this.scope, Array.from(this.firing.keys()), Date.now(), this.instance, LEASE_TTL).catch(this.report);
      }, RENEW_EVERY);
    }
  }

  private finished(id: string): void {
    this.firing.delete(id);
    if (!this.firing.size) clearInterval(this.renewTimer);
  }

  /** Writes an event's outcome to the store, in batches: events that end together are written in one transaction. */
  private recordOutcome(tag: string, periodic: boolean | undefined, outcome: Outcome): Promise<void> {
    return new Promise<void>((done, fail) => {
      if (!this.settling.length) {
        setTimeout(() => {
          const batch = this.settling;
          this.settling = [];
          store.settleFirings(this.scope, batch, Date.now(), this.policy, this.instance).then((settled) => {
            for (const s of settled) trace(`"${s.tag}" ${s.outcome} → ${describe(s.next)}`);
            for (const item of batch) item.done();
          }, (e) => {
            for (const item of batch) item.fail(e);
          });
        }, 0);
      }
      this.settling.push({ tag, periodic, outcome, done, fail });
    });
  }
}
