import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PROTOCOL_KEY, notice, poke } from '../../../src/protocol';
import * as store from '../../../src/store/db';
import { closeDatabase, list, storeRegistration } from '../../../src/store/db';
import { PageWakeups } from '../../../src/page/wakeups';
import { fakeLocks, freshIndexedDB, putRaw, record, useLocks } from '../helpers';

class FakeRegistration {
  active = { postMessage: vi.fn() };
  constructor(public scope: string) {}
}

const realSetImmediate = (globalThis as unknown as { setImmediate(f: () => void): void }).setImmediate;

/**
 * Advances fake time in steps, letting IndexedDB (fake-indexeddb runs on the real setImmediate) finish between.
 * PageWakeups cannot be stopped: fake timers keep one test's wake-up timers from running in the next.
 */
async function advance(ms: number, step = 10): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    await vi.advanceTimersByTimeAsync(Math.min(step, ms - t));
    for (let i = 0; i < 5; i++) await new Promise<void>((r) => realSetImmediate(() => r()));
  }
}

let registrations: FakeRegistration[] = [];
let n = 0;
let scopeA: string;
let scopeB: string;
let online = true;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  freshIndexedDB();
  n++;
  scopeA = `https://example.com/a${n}/`;
  scopeB = `https://example.com/b${n}/`;
  registrations = [];
  online = true;
  Object.defineProperty(navigator, 'serviceWorker', {
    value: { getRegistrations: vi.fn(async () => registrations) }, configurable: true,
  });
  Object.defineProperty(navigator, 'onLine', { get: () => online, configurable: true });
});
afterEach(() => {
  vi.useRealTimers(); // discards the wake-ups' pending timers
  delete (navigator as unknown as Record<string, unknown>).serviceWorker;
  delete (navigator as unknown as Record<string, unknown>).onLine;
  useLocks(undefined);
  vi.restoreAllMocks();
  closeDatabase();
});

function wakeups() {
  const report = vi.fn();
  return { t: new PageWakeups(report), report };
}

const pokes = (r: FakeRegistration) => r.active.postMessage.mock.calls.length;

describe('PageWakeups.check()', () => {
  it('reads nothing else when the store is empty', async () => {
    const { t, report } = wakeups();
    await t.check();
    expect(navigator.serviceWorker.getRegistrations).not.toHaveBeenCalled();
    expect(report).not.toHaveBeenCalled();
  });

  it('pokes the worker of each scope with something due, and only those', async () => {
    const a = new FakeRegistration(scopeA);
    const b = new FakeRegistration(scopeB);
    registrations = [a, b];
    await storeRegistration(scopeA, 'due');
    await putRaw(record({ scope: scopeB, tag: 'later', state: 'waiting', attempts: 1, notBefore: Date.now() + 60000 }));
    const { t, report } = wakeups();
    await t.check();
    expect(a.active.postMessage).toHaveBeenCalledTimes(1);
    expect(a.active.postMessage).toHaveBeenCalledWith(poke(true));
    expect(pokes(b)).toBe(0);
    expect(report).not.toHaveBeenCalled();
  });

  it('pokes for an abandoned firing (a dead worker\'s lapsed lease)', async () => {
    const a = new FakeRegistration(scopeA);
    registrations = [a];
    await putRaw(record({ scope: scopeA, state: 'firing', attempts: 1, lease: 'dead', leaseUntil: Date.now() - 1 }));
    await wakeups().t.check();
    expect(pokes(a)).toBe(1);
  });

  it('does not poke for a firing whose lease is running', async () => {
    const a = new FakeRegistration(scopeA);
    registrations = [a];
    await putRaw(record({ scope: scopeA, state: 'firing', attempts: 1, lease: 'live', leaseUntil: Date.now() + 60000 }));
    await wakeups().t.check();
    expect(pokes(a)).toBe(0);
  });

  it('does not poke while offline', async () => {
    const a = new FakeRegistration(scopeA);
    registrations = [a];
    online = false;
    await storeRegistration(scopeA, 'due');
    await wakeups().t.check();
    expect(pokes(a)).toBe(0);
  });

  it('does not poke a registration without an active worker', async () => {
    const a = new FakeRegistration(scopeA);
    (a as { active: unknown }).active = null;
    registrations = [a];
    await storeRegistration(scopeA, 'due');
    const { t, report } = wakeups();
    await t.check();
    expect(report).not.toHaveBeenCalled();
  });

  it('drops the registrations of a scope whose service worker registration is gone (docs/semantics.md §3)', async () => {
    const a = new FakeRegistration(scopeA);
    registrations = [a];
    await storeRegistration(scopeA, 'kept');
    await storeRegistration(scopeB, 'orphan-1');
    await putRaw(record({ scope: scopeB, tag: 'orphan-2', state: 'waiting', attempts: 1, notBefore: Date.now() + 1e6 }));
    await wakeups().t.check();
    expect((await list(scopeB))).toEqual([]);
    expect((await list(scopeA)).map((r) => r.tag)).toEqual(['kept']);
  });

  it('wakes up by itself for the earliest retry and pokes then', async () => {
    const a = new FakeRegistration(scopeA);
    registrations = [a];
    await putRaw(record({ scope: scopeA, state: 'waiting', attempts: 1, notBefore: Date.now() + 60000 }));
    await wakeups().t.check();
    expect(pokes(a)).toBe(0);
    await advance(59000, 1000);
    expect(pokes(a)).toBe(0);
    await advance(1100, 10);
    expect(pokes(a)).toBeGreaterThanOrEqual(1);
  });

  // docs/semantics.md §4: the timer is armed "for the earliest waiting retry". Once that time has passed and the page has
  // poked, nextWake() still returns the (past) retry time, so the page re-checks and pokes every 10 ms for as
  // long as no worker claims the record: a worker that is offline by its own navigator.onLine, still starting,
  // failing on storage, or not running the polyfill. The same happens for an abandoned firing (lapsed lease).
  it.each([
    ['a waiting record whose retry time has passed', { state: 'waiting', attempts: 1, notBefore: -1 }],
    ['an abandoned firing', { state: 'firing', attempts: 1, lease: 'dead', leaseUntil: -1 }],
  ] as const)('does not spin when the worker does not act on a poke: %s', async (_name, fields) => {
    const a = new FakeRegistration(scopeA);
    registrations = [a];
    await putRaw(record({ scope: scopeA, ...fields }));
    await wakeups().t.check();
    expect(pokes(a)).toBe(1);
    await advance(1000, 10);
    // At most a handful of re-checks in a second, not one every 10 ms.
    expect(pokes(a)).toBeLessThanOrEqual(3);
  });

  it('never rejects: a storage failure is reported', async () => {
    delete (globalThis as { indexedDB?: unknown }).indexedDB;
    const { t, report } = wakeups();
    await expect(t.check()).resolves.toBeUndefined();
    expect(report).toHaveBeenCalledWith(expect.objectContaining({ name: 'StorageError' }));
  });

  it('checks asked for during a check are coalesced into one more check', async () => {
    const a = new FakeRegistration(scopeA);
    registrations = [a];
    await storeRegistration(scopeA, 'due');
    const { t } = wakeups();
    await Promise.all([t.check(), t.check(), t.check(), t.check()]);
    expect(pokes(a)).toBe(2);
  });
});

describe('PageWakeups.registered()', () => {
  it('pokes the registration\'s worker while online', () => {
    const a = new FakeRegistration(scopeA);
    wakeups().t.registered(a as unknown as ServiceWorkerRegistration);
    expect(a.active.postMessage).toHaveBeenCalledWith(poke(true));
  });

  it('does nothing offline', () => {
    const a = new FakeRegistration(scopeA);
    online = false;
    wakeups().t.registered(a as unknown as ServiceWorkerRegistration);
    expect(pokes(a)).toBe(0);
  });
});

describe('PageWakeups: register() reads nothing; the worker\'s notices arm the timer (docs/semantics.md §4)', () => {
  const reads = () => (navigator.serviceWorker.getRegistrations as ReturnType<typeof vi.fn>).mock.calls.length;

  it('a burst of registrations pokes and reads neither the store nor the registrations afterwards', async () => {
    const a = new FakeRegistration(scopeA);
    registrations = [a];
    await storeRegistration(scopeA, 'due');
    const { t } = wakeups();
    for (let i = 0; i < 20; i++) {
      t.registered(a as unknown as ServiceWorkerRegistration);
      await advance(100);
    }
    await advance(6000, 100);
    expect(pokes(a)).toBe(20);
    expect(reads()).toBe(0);
  });

  it('a notice of a retry makes the page poke that scope\'s worker when it is due, without reading the store', async () => {
    const a = new FakeRegistration(scopeA);
    const b = new FakeRegistration(scopeB);
    registrations = [a, b];
    const { t } = wakeups();
    t.heard(notice(scopeA, Date.now() + 30000, []));
    await advance(29000, 1000);
    expect(pokes(a)).toBe(0);
    await advance(1100, 10);
    expect(pokes(a)).toBe(1);
    expect(pokes(b)).toBe(0);
    await advance(5000, 100);
    expect(pokes(a)).toBe(1);
  });

  it('a later notice replaces an earlier one; "nothing scheduled" disarms', async () => {
    const a = new FakeRegistration(scopeA);
    registrations = [a];
    const { t } = wakeups();
    t.heard(notice(scopeA, Date.now() + 1000, []));
    t.heard(notice(scopeA, Infinity, []));
    await advance(3000, 100);
    expect(pokes(a)).toBe(0);
  });

  it('arrives on the BroadcastChannel; anything malformed there is ignored', async () => {
    const a = new FakeRegistration(scopeA);
    registrations = [a];
    wakeups().t.start();
    await advance(50);
    a.active.postMessage.mockClear();
    const channel = new BroadcastChannel(PROTOCOL_KEY);
    channel.postMessage({ [PROTOCOL_KEY]: 1, scope: scopeA, next: 'soon', leases: [] });
    channel.postMessage(notice(scopeA, Date.now() + 500, []));
    channel.close();
    await vi.waitFor(() => expect(pokes(a)).toBe(0));
    // BroadcastChannel delivers on the real event loop.
    for (let i = 0; i < 20; i++) await new Promise<void>((r) => realSetImmediate(() => r()));
    await advance(1000, 50);
    expect(pokes(a)).toBe(1);
  });
});

describe('PageWakeups: a worker\'s death heard through its lock (src/liveness.ts)', () => {
  /**
   * The origin's locks, this page's view of them, a worker context holding the life lock of each lease, and the
   * registrations of scope A (and B) whose pokes the test counts.
   */
  function workerHolding(...leases: string[]) {
    const locks = fakeLocks();
    useLocks(locks.context('page'));
    for (const lease of leases) void locks.context('worker').request(`background-sync-polyfill:${lease}`, () => new Promise(() => undefined));
    const a = new FakeRegistration(scopeA);
    const b = new FakeRegistration(scopeB);
    registrations = [a, b];
    return { kill: () => locks.kill('worker'), a, b, t: wakeups().t };
  }

  it('pokes the scope\'s worker the moment the instance firing there dies, not before', async () => {
    const { kill, a, t } = workerHolding('w1');
    await advance(1);
    t.heard(notice(scopeA, Infinity, ['w1']));
    await advance(5000, 100);
    expect(pokes(a)).toBe(0);
    kill();
    await advance(20);
    expect(pokes(a)).toBe(1);
  });

  it('does not poke for an instance that died after a notice said its firing settled', async () => {
    const { kill, a, t } = workerHolding('w1');
    t.heard(notice(scopeA, Infinity, ['w1']));
    t.heard(notice(scopeA, Infinity, []));
    kill();
    await advance(50);
    expect(pokes(a)).toBe(0);
  });

  it('a check pokes at once for a locked firing whose lock is free, and watches one whose lock is held', async () => {
    const { kill, a, b, t } = workerHolding('alive');
    await putRaw(
      record({ scope: scopeA, tag: 'x', state: 'firing', attempts: 1, lease: 'gone', leaseUntil: Date.now() + 1e6, locked: true }),
      record({ scope: scopeB, tag: 'y', state: 'firing', attempts: 1, lease: 'alive', leaseUntil: Date.now() - 1, locked: true }),
    );
    await t.check();
    expect(pokes(a)).toBe(1);
    expect(pokes(b)).toBe(0);
    kill();
    await advance(20);
    expect(pokes(b)).toBe(1);
  });
});

describe('PageWakeups: back online', () => {
  it('pokes the page\'s own registration and the other scopes it knows of at once, reading no store', async () => {
    const own = new FakeRegistration(scopeA);
    const other = new FakeRegistration(scopeB);
    const unknown = new FakeRegistration('https://example.com/unknown/');
    registrations = [own, other, unknown];
    await storeRegistration(scopeB, 'due');
    const getRegistration = vi.fn(async () => own);
    Object.assign(navigator.serviceWorker, { getRegistration });
    const { t, report } = wakeups();
    t.start();
    await advance(50);
    own.active.postMessage.mockClear();
    other.active.postMessage.mockClear();
    const listAll = vi.spyOn(store, 'listAll');
    dispatchEvent(new Event('online'));
    await advance(20);
    expect(own.active.postMessage).toHaveBeenCalledWith(poke(true));
    expect(pokes(other)).toBe(1);
    expect(pokes(unknown)).toBe(0);
    expect(listAll).not.toHaveBeenCalled();
    expect(report).not.toHaveBeenCalled();
  });

  it('checks at once when the page has no registration of its own', async () => {
    const other = new FakeRegistration(scopeB);
    registrations = [other];
    await storeRegistration(scopeB, 'due');
    Object.assign(navigator.serviceWorker, { getRegistration: vi.fn(async () => undefined) });
    const { t, report } = wakeups();
    t.start();
    await advance(50);
    other.active.postMessage.mockClear();
    dispatchEvent(new Event('online'));
    await advance(50);
    // At least once within 50 ms (the earlier test's wake-ups still listen, and check too), not after 1 s.
    expect(pokes(other)).toBeGreaterThanOrEqual(1);
    expect(report).not.toHaveBeenCalled();
  });

  it('does not poke when the page went offline again before its registration was found', async () => {
    const own = new FakeRegistration(scopeA);
    let found!: (r: FakeRegistration) => void;
    Object.assign(navigator.serviceWorker, { getRegistration: () => new Promise((resolve) => { found = resolve; }) });
    const { t } = wakeups();
    t.start();
    await advance(50);
    dispatchEvent(new Event('online'));
    online = false;
    found(own);
    await advance(50);
    expect(pokes(own)).toBe(0);
  });
});
