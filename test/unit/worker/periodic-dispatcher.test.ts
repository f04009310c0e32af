/**
 * The Dispatcher (src/worker/dispatcher.ts) with periodic records (docs/semantics.md §7): `periodicsync` events, their
 * interval, retries and next periods, unregister while running, and periodic records beside one-shot ones of the same
 * tag. Under a fake clock (setTimeout, setInterval and Date): fake-indexeddb runs on setImmediate, which stays real, so
 * `flush()` lets the store's transactions and the dispatcher's passes finish without moving the clock.
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_POLICY, RetryPolicy } from '../../../src/core/policy';
import { recordKey } from '../../../src/core/registration';
import { periodicKey } from '../../../src/core/periodic';
import * as store from '../../../src/store/db';
import { closeDatabase, listPeriodic, removePeriodic, storePeriodicRegistration, storeRegistration } from '../../../src/store/db';
import { PeriodicSyncEventClass, SyncEventClass } from '../../../src/web/sync-event';
import { Dispatcher, LEASE_TTL } from '../../../src/worker/dispatcher';
import { defineTestSyncEvents, freshIndexedDB, periodicRecord, putRaw, rawPeriodicRecord, rawRecord, useLocks } from '../helpers';

let SyncEvent: SyncEventClass;
let PeriodicSyncEvent: PeriodicSyncEventClass;
beforeAll(() => {
  [SyncEvent, PeriodicSyncEvent] = defineTestSyncEvents();
});

/** The interval of these tests: the policy's periodicMinInterval, one minute. */
const INTERVAL = 60000;
const POLICY: RetryPolicy = {
  ...DEFAULT_POLICY, maxAttempts: 3, initialRetryDelay: 1000, retryDelayFactor: 2, maxEventDuration: 30000,
  periodicMinInterval: INTERVAL,
};

// Dispatchers cannot be stopped: every test has its own scope and a fresh database.
let scope: string;
let n = 0;
beforeEach(() => {
  scope = `https://example.com/periodic-dispatcher-${++n}/`;
  freshIndexedDB();
  useLocks(undefined);
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  vi.setSystemTime(1_700_000_000_000);
});
afterEach(() => {
  vi.useRealTimers();
  closeDatabase();
  useLocks(undefined);
});

interface Fired {
  type: string;
  tag: string;
  /** The event is a PeriodicSyncEvent (else a SyncEvent). */
  periodic: boolean;
  lastChance: unknown;
  hasLastChance: boolean;
  time: number;
  /** Set when the handler's promise settles (if the handler gave one through `hold`). */
  end?: number;
}

type Handler = (event: ExtendableEvent & { tag: string }, fired: Fired) => void;

/** A target listening for both event types: records each event, then runs the handler of its type. */
function target(fired: Fired[], handlers: { sync?: Handler; periodicsync?: Handler } = {}): EventTarget {
  const t = new EventTarget();
  for (const type of ['sync', 'periodicsync'] as const) {
    t.addEventListener(type, (e) => {
      const event = e as ExtendableEvent & { tag: string; lastChance?: boolean };
      const f: Fired = {
        type: e.type, tag: event.tag, periodic: e instanceof PeriodicSyncEvent, lastChance: event.lastChance,
        hasLastChance: 'lastChance' in event, time: Date.now(),
      };
      fired.push(f);
      handlers[type]?.(event, f);
    });
  }
  return t;
}

function dispatcher(t: EventTarget, options: { policy?: Partial<RetryPolicy>; online?: () => boolean; notify?: (next: number, leases: string[]) => void } = {}) {
  const report = vi.fn();
  const d = new Dispatcher({
    scope, target: t, SyncEvent, PeriodicSyncEvent, isOnline: options.online || (() => true), report, notify: options.notify,
  });
  d.policy = { ...POLICY, ...options.policy };
  return { d, report };
}

/** Lets the store's transactions, the passes and the zero-delay timers run, without moving the clock. */
async function flush(rounds = 40): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await vi.advanceTimersByTimeAsync(0);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Moves the clock by `ms` (timers due on the way run), then flushes. */
async function advance(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
  await flush();
}

/** A handler whose waitUntil promise the test settles: `release()` or `reject()` the latest event of its tag. */
function holding() {
  const pending: Array<{ resolve: () => void; reject: (e: Error) => void; fired: Fired }> = [];
  const handler: Handler = (event, fired) => {
    event.waitUntil(new Promise<void>((resolve, reject) => pending.push({ resolve, reject, fired })).finally(() => {
      fired.end = Date.now();
    }));
  };
  return {
    handler,
    get count() {
      return pending.length;
    },
    release(i = pending.length - 1) {
      pending[i].resolve();
    },
    reject(i = pending.length - 1) {
      pending[i].reject(new Error('upload failed'));
    },
  };
}

const rejecting: Handler = (event) => event.waitUntil(Promise.reject(new Error('upload failed')));

const rawPeriodic = (tag: string) => rawPeriodicRecord(scope, tag);

/** Registers a periodic tag now, as the worker host does (with the policy's floor). */
function registerPeriodic(tag: string, minInterval = 0, floor = POLICY.periodicMinInterval) {
  return storePeriodicRegistration(scope, tag, minInterval, Date.now(), floor);
}

/**
 * A dispatcher whose periodicsync handler holds each event (holding()), and `tag` registered now and fired one interval
 * on: its first event is running. `running` is the run() that fired it.
 */
async function firstEventHeld(tag = 'news', options: Parameters<typeof dispatcher>[1] = {}) {
  const fired: Fired[] = [];
  const hold = holding();
  const { d, report } = dispatcher(target(fired, { periodicsync: hold.handler }), options);
  await registerPeriodic(tag);
  await advance(INTERVAL);
  const running = d.run();
  await flush();
  return { fired, hold, d, report, running };
}

/** Two events overlapping in time (start of one before the end of the other), per tag and type. */
function overlaps(fired: Fired[]): number {
  let count = 0;
  for (let i = 0; i < fired.length; i++) {
    for (let j = i + 1; j < fired.length; j++) {
      const [a, b] = [fired[i], fired[j]];
      if (a.tag === b.tag && a.type === b.type && (a.end === undefined || b.time < a.end)) count++;
    }
  }
  return count;
}

describe('Dispatcher: periodicsync events', () => {
  it('fires a PeriodicSyncEvent (no lastChance) once the interval has passed, not a millisecond before', async () => {
    const fired: Fired[] = [];
    const { d, report } = dispatcher(target(fired));
    const start = Date.now();
    await registerPeriodic('news');
    void d.run();
    await flush();
    expect(fired).toEqual([]);
    await advance(INTERVAL - 1);
    // Asked to look now, one millisecond early: nothing.
    void d.run();
    await flush();
    expect(fired).toEqual([]);
    expect(await rawPeriodic('news')).toMatchObject({ state: 'waiting', attempts: 0, notBefore: start + INTERVAL });
    await advance(1);
    void d.run();
    await flush();
    expect(fired).toEqual([{ type: 'periodicsync', tag: 'news', periodic: true, lastChance: undefined, hasLastChance: false, time: start + INTERVAL }]);
    expect(fired[0].periodic).toBe(true);
    expect(report).not.toHaveBeenCalled();
  });

  it('with no wake-up from outside, its own timer fires it once the time has come (within its 10 ms margin)', async () => {
    const fired: Fired[] = [];
    const { d } = dispatcher(target(fired));
    const start = Date.now();
    await registerPeriodic('news');
    void d.run();
    await flush();
    await advance(INTERVAL - 1);
    expect(fired).toEqual([]);
    await advance(11);
    expect(fired.map((f) => [f.type, f.tag])).toEqual([['periodicsync', 'news']]);
    expect(fired[0].time).toBeGreaterThanOrEqual(start + INTERVAL);
    expect(fired[0].time).toBeLessThanOrEqual(start + INTERVAL + 10);
  });

  it('its minInterval above the floor is its interval', async () => {
    const fired: Fired[] = [];
    const { d } = dispatcher(target(fired));
    const start = Date.now();
    await registerPeriodic('slow', 3 * INTERVAL);
    void d.run();
    await flush();
    await advance(3 * INTERVAL - 1);
    void d.run();
    await flush();
    expect(fired).toEqual([]);
    await advance(11);
    expect(fired.map((f) => f.tag)).toEqual(['slow']);
    expect(fired[0].time).toBeGreaterThanOrEqual(start + 3 * INTERVAL);
  });

  it('a success: the registration stays, waiting one interval from the settle, with 0 attempts', async () => {
    const { fired, hold, d } = await firstEventHeld();
    expect(fired).toHaveLength(1);
    expect(await rawPeriodic('news')).toMatchObject({ state: 'firing', attempts: 1, lease: d.instance });
    await advance(5000);
    hold.release();
    await flush();
    const settledAt = fired[0].end!;
    expect(settledAt).toBe(fired[0].time + 5000);
    expect(await rawPeriodic('news')).toMatchObject({ state: 'waiting', attempts: 0, since: settledAt, notBefore: settledAt + INTERVAL, lease: '' });
    expect((await listPeriodic(scope)).map((r) => r.tag)).toEqual(['news']);
  });

  it('the next event comes one interval after the previous one settled, not after it started, period after period', async () => {
    const { fired, hold, d } = await firstEventHeld();
    for (let period = 1; period <= 3; period++) {
      expect(fired).toHaveLength(period);
      // The handler takes 20 s.
      await advance(20000);
      hold.release();
      await flush();
      const settledAt = fired[period - 1].end!;
      expect(settledAt).toBe(fired[period - 1].time + 20000);
      // One interval after the start (20 s ago) would be too early, and so is 1 ms before one after the settle.
      await vi.advanceTimersByTimeAsync(settledAt + INTERVAL - 1 - Date.now());
      void d.run();
      await flush();
      expect(fired).toHaveLength(period);
      await advance(1);
      void d.run();
      await flush();
      expect(fired).toHaveLength(period + 1);
      expect(fired[period].time).toBe(settledAt + INTERVAL);
    }
    expect(fired.every((f) => f.type === 'periodicsync')).toBe(true);
  });

  it('a rejected waitUntil is retried on the one-shot policy; after maxAttempts it waits for the next period; the record stays', async () => {
    const fired: Fired[] = [];
    const { d, report } = dispatcher(target(fired, { periodicsync: rejecting }));
    const start = Date.now();
    await registerPeriodic('news');
    void d.run();
    await flush();
    await advance(INTERVAL + 10);
    expect(fired).toHaveLength(1);
    const first = fired[0].time;
    expect(await rawPeriodic('news')).toMatchObject({ state: 'waiting', attempts: 1, notBefore: first + 1000, since: start });
    // Retry 1: initialRetryDelay (1 s) after the failure.
    await advance(999);
    expect(fired).toHaveLength(1);
    await advance(11);
    expect(fired).toHaveLength(2);
    expect(fired[1].time - first).toBeGreaterThanOrEqual(1000);
    expect(await rawPeriodic('news')).toMatchObject({ state: 'waiting', attempts: 2, notBefore: fired[1].time + 2000 });
    // Retry 2: initialRetryDelay × retryDelayFactor (2 s).
    await advance(1999);
    expect(fired).toHaveLength(2);
    await advance(11);
    expect(fired).toHaveLength(3);
    // The third (last) attempt failed: the next period, not a removal and not a fourth retry.
    const third = fired[2].time;
    expect(await rawPeriodic('news')).toMatchObject({ state: 'waiting', attempts: 0, since: third, notBefore: third + INTERVAL });
    await advance(INTERVAL - 1);
    void d.run();
    await flush();
    expect(fired).toHaveLength(3);
    await advance(11);
    expect(fired).toHaveLength(4);
    expect(fired[3].time - third).toBeGreaterThanOrEqual(INTERVAL);
    expect(await rawPeriodic('news')).toMatchObject({ state: 'waiting', attempts: 1 });
    // Every event was a PeriodicSyncEvent without lastChance, the last attempt of a period included.
    expect(fired.every((f) => f.type === 'periodicsync' && f.periodic && !f.hasLastChance)).toBe(true);
    expect((await listPeriodic(scope)).map((r) => r.tag)).toEqual(['news']);
    expect(report).not.toHaveBeenCalled();
  });

  it('an event that outlasts maxEventDuration is a failed attempt, retried', async () => {
    const fired: Fired[] = [];
    const never: Handler = (event) => event.waitUntil(new Promise(() => undefined));
    const { d } = dispatcher(target(fired, { periodicsync: never }), { policy: { maxEventDuration: 5000 } });
    await registerPeriodic('news');
    await advance(INTERVAL);
    void d.run();
    await flush();
    expect(fired).toHaveLength(1);
    await advance(4999);
    expect((await rawPeriodic('news'))!.state).toBe('firing');
    // Timed out at 5 s; its outcome is written by the next timer turn (a zero delay is 1 ms on the fake clock here).
    await advance(1);
    await advance(1);
    const r = (await rawPeriodic('news'))!;
    expect(r).toMatchObject({ state: 'waiting', attempts: 1, lease: '' });
    expect(r.notBefore).toBeGreaterThanOrEqual(fired[0].time + 5000 + 1000);
    expect(r.notBefore).toBeLessThanOrEqual(fired[0].time + 5001 + 1000);
    // The retry fires as the next attempt.
    await advance(r.notBefore - Date.now() + 10);
    expect(fired.map((f) => f.type)).toEqual(['periodicsync', 'periodicsync']);
    expect((await rawPeriodic('news'))!.attempts).toBe(2);
  });

  it('never two events of one tag at once, whatever the number of run() calls and dispatchers', async () => {
    const fired: Fired[] = [];
    const hold = holding();
    const t = target(fired, { periodicsync: hold.handler });
    const long = { policy: { maxEventDuration: 10 * LEASE_TTL } };
    const { d } = dispatcher(t, long);
    const other = dispatcher(t, long);
    await registerPeriodic('news');
    await registerPeriodic('other', 0);
    await advance(INTERVAL);
    const runs = [d.run(), d.run(), other.d.run(), d.run(), other.d.run(), d.run(true), other.d.run(true)];
    await flush();
    for (let i = 0; i < 10; i++) void d.run(), void other.d.run();
    await flush();
    expect(fired.map((f) => f.tag).sort()).toEqual(['news', 'other']);
    // Well past the lease time: renewed by its holder, so nobody takes it over.
    await advance(LEASE_TTL * 2);
    void d.run();
    void other.d.run();
    await flush();
    expect(fired).toHaveLength(2);
    hold.release(0);
    hold.release(1);
    await flush();
    await Promise.all(runs);
    // Settled: neither fires again within the interval, however often poked.
    for (let i = 0; i < 5; i++) void d.run(), void other.d.run();
    await advance(INTERVAL - 1);
    expect(fired).toHaveLength(2);
    expect(overlaps(fired)).toBe(0);
  });

  it('renews the lease of a long periodic event (by its record key), so no other instance reaps it', async () => {
    const { fired, d } = await firstEventHeld('news', { policy: { maxEventDuration: 10 * LEASE_TTL } });
    const claimedAt = Date.now();
    expect((await rawPeriodic('news'))!.leaseUntil).toBe(claimedAt + LEASE_TTL);
    for (let i = 0; i < 6; i++) await advance(LEASE_TTL / 3);
    const r = (await rawPeriodic('news'))!;
    expect(r).toMatchObject({ state: 'firing', lease: d.instance, attempts: 1 });
    expect(r.leaseUntil).toBeGreaterThan(Date.now());
    const other = dispatcher(target(fired));
    void other.d.run();
    await flush();
    expect(fired).toHaveLength(1);
    expect((await rawPeriodic('news'))!.lease).toBe(d.instance);
  });

  it('an abandoned periodic firing (a dead instance\'s lapsed lease) is a failed attempt, retried as a PeriodicSyncEvent', async () => {
    const fired: Fired[] = [];
    const { d } = dispatcher(target(fired), { policy: { initialRetryDelay: 0 } });
    const now = Date.now();
    await putRaw(periodicRecord({
      scope, state: 'firing', attempts: 1, notBefore: now - 10, since: now - INTERVAL - 10, lease: 'dead-instance', leaseUntil: now - 1,
    }));
    void d.run();
    await flush();
    expect(fired.map((f) => [f.type, f.tag])).toEqual([['periodicsync', 'news']]);
    // Attempt 2 succeeded: the next period.
    expect(await rawPeriodic('news')).toMatchObject({ state: 'waiting', attempts: 0, since: now, notBefore: now + INTERVAL });
  });

  it('unregister while its event runs: the event finishes, the record is gone, and nothing fires after', async () => {
    const { fired, hold, d, report, running } = await firstEventHeld();
    let done = false;
    void running.then(() => (done = true));
    expect(fired).toHaveLength(1);
    await removePeriodic(scope, 'news');
    await flush();
    // Still running: the dispatcher waits for it.
    expect(done).toBe(false);
    hold.release();
    await flush();
    await running;
    expect(fired[0].end).toBeDefined();
    expect(await rawPeriodic('news')).toBeUndefined();
    expect(await listPeriodic(scope)).toEqual([]);
    for (let i = 0; i < 5; i++) {
      await advance(INTERVAL);
      void d.run();
      await flush();
    }
    expect(fired).toHaveLength(1);
    expect(report).not.toHaveBeenCalled();
  });

  it('unregister while its event runs, then the event fails: no retry follows either', async () => {
    const { fired, hold, d } = await firstEventHeld('news', { policy: { initialRetryDelay: 0 } });
    await removePeriodic(scope, 'news');
    hold.reject();
    await flush();
    await advance(INTERVAL * 2);
    void d.run();
    await flush();
    expect(fired).toHaveLength(1);
    expect(await rawPeriodic('news')).toBeUndefined();
  });

  it('a one-shot "x" and a periodic "x" both fire, each as its own event type, at once, and settle apart', async () => {
    const fired: Fired[] = [];
    const oneShot = holding();
    const periodic = holding();
    const { d, report } = dispatcher(target(fired, { sync: oneShot.handler, periodicsync: periodic.handler }));
    await registerPeriodic('x');
    await advance(INTERVAL);
    await storeRegistration(scope, 'x');
    void d.run();
    await flush();
    expect(fired.map((f) => [f.type, f.tag, f.periodic, f.lastChance]).sort()).toEqual([
      ['periodicsync', 'x', true, undefined],
      ['sync', 'x', false, false],
    ]);
    expect((await rawRecord(scope, 'x'))!.state).toBe('firing');
    expect((await rawPeriodic('x'))!.state).toBe('firing');
    // The periodic one succeeds while the one-shot one still runs.
    periodic.release();
    await flush();
    expect(await rawPeriodic('x')).toMatchObject({ state: 'waiting', attempts: 0, notBefore: Date.now() + INTERVAL });
    expect(await rawRecord(scope, 'x')).toMatchObject({ state: 'firing', attempts: 1, lease: d.instance });
    // The one-shot one fails: its own retry, the periodic record untouched.
    const periodicAfter = await rawPeriodic('x');
    oneShot.reject();
    await flush();
    expect(await rawRecord(scope, 'x')).toMatchObject({ state: 'waiting', attempts: 1, notBefore: Date.now() + 1000 });
    expect(await rawPeriodic('x')).toEqual(periodicAfter);
    // The one-shot retry fires as a SyncEvent (then succeeds and is removed); the periodic one waits for its period.
    await advance(1010);
    expect(fired.slice(2).map((f) => [f.type, f.tag])).toEqual([['sync', 'x']]);
    oneShot.release();
    await flush();
    expect(await rawRecord(scope, 'x')).toBeUndefined();
    expect((await rawPeriodic('x'))!.state).toBe('waiting');
    expect(report).not.toHaveBeenCalled();
  });

  it('register() of a one-shot "x" (claimed in its own transaction) fires a sync event only; the periodic "x" waits', async () => {
    const fired: Fired[] = [];
    const { d } = dispatcher(target(fired));
    await registerPeriodic('x');
    const fire = await d.register(['x']);
    void fire();
    await flush();
    expect(fired.map((f) => f.type)).toEqual(['sync']);
    expect(await rawRecord(scope, 'x')).toBeUndefined();
    expect(await rawPeriodic('x')).toMatchObject({ state: 'waiting', attempts: 0 });
  });

  it('offline: nothing fires, the record is not claimed; online again, it fires', async () => {
    const fired: Fired[] = [];
    let online = false;
    const { d } = dispatcher(target(fired), { online: () => online });
    await registerPeriodic('news');
    await advance(INTERVAL + 10);
    void d.run();
    await flush();
    // A page saying it is online: the worker's own view waits up to ONLINE_LAG, then gives up.
    void d.run(true);
    await advance(6000);
    expect(fired).toEqual([]);
    expect(await rawPeriodic('news')).toMatchObject({ state: 'waiting', attempts: 0, lease: '' });
    online = true;
    // A page saying it is offline holds this pass back.
    void d.run(false);
    await flush();
    expect(fired).toEqual([]);
    void d.run();
    await flush();
    expect(fired.map((f) => [f.type, f.tag])).toEqual([['periodicsync', 'news']]);
  });

  it('an inactive worker (installing, waiting) fires no periodic event', async () => {
    const fired: Fired[] = [];
    let active = false;
    const d = new Dispatcher({ scope, target: target(fired), SyncEvent, PeriodicSyncEvent, isOnline: () => true, report: vi.fn(), isActive: () => active });
    d.policy = POLICY;
    await registerPeriodic('news');
    await advance(INTERVAL + 10);
    void d.run();
    await flush();
    expect(fired).toEqual([]);
    active = true;
    void d.run();
    await flush();
    expect(fired).toHaveLength(1);
  });

  it('notify() tells the pages the next periodic time, and the next period\'s after a success', async () => {
    const fired: Fired[] = [];
    const notices: Array<[number, string[]]> = [];
    const hold = holding();
    const { d } = dispatcher(target(fired, { periodicsync: hold.handler }), { notify: (next, leases) => notices.push([next, leases]) });
    const start = Date.now();
    await registerPeriodic('news');
    await registerPeriodic('later', 2 * INTERVAL);
    void d.run();
    await flush();
    expect(notices).toEqual([[start + INTERVAL, []]]);
    await advance(INTERVAL + 10);
    expect(fired).toHaveLength(1);
    // While it runs (no Web Locks): its lease expiry comes first.
    expect(notices.at(-1)).toEqual([fired[0].time + LEASE_TTL, []]);
    await advance(100);
    hold.release();
    await flush();
    const settledAt = fired[0].end!;
    // Then the earlier of "later" and news's next period.
    expect(notices.at(-1)).toEqual([Math.min(start + 2 * INTERVAL, settledAt + INTERVAL), []]);
    expect(notices.at(-1)![0]).toBe(start + 2 * INTERVAL);
  });

  it('notify(): a one-shot retry due before the periodic time comes first; the periodic time after it', async () => {
    const fired: Fired[] = [];
    const notices: Array<[number, string[]]> = [];
    let failed = false;
    const { d } = dispatcher(target(fired, {
      sync: (event) => {
        if (!failed) {
          failed = true;
          rejecting(event, fired[0]);
        }
      },
    }), { notify: (next, leases) => notices.push([next, leases]) });
    const start = Date.now();
    await registerPeriodic('news');
    await storeRegistration(scope, 'outbox');
    void d.run();
    await flush();
    const failedAt = fired[0].time;
    expect(notices.at(-1)).toEqual([failedAt + 1000, []]);
    await advance(1010);
    expect(fired.map((f) => f.type)).toEqual(['sync', 'sync']);
    expect(notices.at(-1)).toEqual([start + INTERVAL, []]);
  });

  it('a new minInterval registered meanwhile moves the wake-up: the event fires at the new time', async () => {
    const fired: Fired[] = [];
    const notices: Array<[number, string[]]> = [];
    const { d } = dispatcher(target(fired), { notify: (next, leases) => notices.push([next, leases]) });
    const start = Date.now();
    await registerPeriodic('news', 3 * INTERVAL);
    void d.run();
    await flush();
    expect(notices.at(-1)).toEqual([start + 3 * INTERVAL, []]);
    await advance(1000);
    await registerPeriodic('news', 0);
    void d.run();
    await flush();
    expect(notices.at(-1)).toEqual([start + INTERVAL, []]);
    await advance(INTERVAL - 1000 + 10);
    expect(fired.map((f) => f.tag)).toEqual(['news']);
  });

  it('claimDue is handed record keys as the running set: a periodic "x" running keeps a one-shot "x" fireable', async () => {
    const { fired, hold, d } = await firstEventHeld('x');
    const claims = vi.spyOn(store, 'claimDue');
    await storeRegistration(scope, 'x');
    void d.run();
    await flush();
    const running = claims.mock.calls.at(-1)![5] as ReadonlySet<string>;
    expect(Array.from(running)).toEqual([periodicKey(scope, 'x')]);
    expect(fired.map((f) => f.type)).toEqual(['periodicsync', 'sync']);
    expect(recordKey(scope, 'x')).not.toBe(periodicKey(scope, 'x'));
    hold.release();
    await flush();
    claims.mockRestore();
  });
});

/**
 * unregister() and register() of a tag while its event runs, with an interval shorter than the event (periodicMinInterval
 * below maxEventDuration): the new registration comes due while the old event (A) still runs. It must wait for A: a
 * pass does not claim a record whose key this instance still runs (claimDue's `running`), so A's outcome can never
 * settle the new registration's firing, and one registration never has two events in flight (docs/semantics.md §3, §7).
 */
describe('unregister and register again while the event runs', () => {
  async function reregisterDuringEvent() {
    const { fired, hold, d } = await firstEventHeld('x', { policy: { maxEventDuration: 10 * LEASE_TTL } });
    expect(fired).toHaveLength(1);
    // A runs; the app unregisters the tag and registers it again.
    await removePeriodic(scope, 'x');
    await registerPeriodic('x');
    void d.run();
    await flush();
    // The new registration is due one interval later, A still running: it waits.
    await advance(INTERVAL + 10);
    void d.run();
    await flush();
    return { fired, hold, d };
  }

  it('the new registration does not fire while the old event runs, and stays waiting', async () => {
    const { fired, hold } = await reregisterDuringEvent();
    expect(fired).toHaveLength(1);
    expect((await rawPeriodic('x'))!.state).toBe('waiting');
    hold.release(0);
    await flush();
  });

  it('once the old event ends, its outcome leaves the new registration alone, which then fires once', async () => {
    const { fired, hold } = await reregisterDuringEvent();
    hold.release(0);
    await flush();
    // A's settle found a waiting record, not its own firing: ignored. The pass after it claims the new registration.
    expect(fired).toHaveLength(2);
    expect((await rawPeriodic('x'))!).toMatchObject({ state: 'firing', attempts: 1 });
    await advance(INTERVAL + 10);
    await flush();
    // B has not ended: no other event of "x" may have started since.
    expect(fired[1].end).toBeUndefined();
    expect(fired).toHaveLength(2);
    hold.release(1);
    await flush();
  });
});
