/**
 * pageWakeups() (src/page/wakeups.ts): the page reads no store; it pokes the active workers of its own registration and
 * of the scopes it knows (from register() and from the workers' notices), only while online; the notices arm its
 * timer and name the leases whose locks it waits on.
 *
 * The page's own registration (`own`) is the one navigator.serviceWorker.getRegistration() gives and whose scope
 * the page's URL is under (each test moves the page into scope A with history.replaceState); the other scopes are
 * not above the page's URL.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PROTOCOL_KEY, notice, poke } from '../../../src/protocol';
import { PageWakeups, pageWakeups } from '../../../src/page/wakeups';
import { fakeLocks, useLocks } from '../helpers';

class FakeRegistration {
  active: { postMessage: ReturnType<typeof vi.fn> } | null = { postMessage: vi.fn() };
  constructor(public scope: string) {}
}
const asRegistration = (r: FakeRegistration) => r as unknown as ServiceWorkerRegistration;

const realSetImmediate = (globalThis as unknown as { setImmediate(f: () => void): void }).setImmediate;

/** Lets what runs on the real event loop (BroadcastChannel, settled promises) happen. */
async function realTurns(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => realSetImmediate(() => r()));
}

/** Advances fake time in steps, letting promises settle between. */
async function advance(ms: number, step = 10): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    await vi.advanceTimersByTimeAsync(Math.min(step, ms - t));
    await realTurns(2);
  }
}

let registrations: FakeRegistration[] = [];
let own: FakeRegistration | undefined;
let controller: { postMessage: ReturnType<typeof vi.fn> } | null = null;
let n = 0;
let scopeA: string;
let scopeB: string;
let scopeC: string;
let online = true;
let visibility: 'visible' | 'hidden' = 'visible';
/** Undoes what start() added: its listeners and its channel (the wake-ups have no stop()). */
const cleanups: Array<() => void> = [];

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  n++;
  scopeA = `${location.origin}/a${n}/`;
  scopeB = `${location.origin}/b${n}/`;
  scopeC = `${location.origin}/c${n}/`;
  history.replaceState(null, '', `/a${n}/index.html`);
  registrations = [];
  own = undefined;
  controller = null;
  online = true;
  visibility = 'visible';
  Object.defineProperty(navigator, 'serviceWorker', {
    value: {
      getRegistration: vi.fn(async () => own),
      getRegistrations: vi.fn(async () => registrations),
      get controller() {
        return controller;
      },
    },
    configurable: true,
  });
  Object.defineProperty(navigator, 'onLine', { get: () => online, configurable: true });
  Object.defineProperty(document, 'visibilityState', { get: () => visibility, configurable: true });
});
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  vi.useRealTimers(); // discards the wake-ups' pending timers
  delete (navigator as unknown as Record<string, unknown>).serviceWorker;
  delete (navigator as unknown as Record<string, unknown>).onLine;
  delete (document as unknown as Record<string, unknown>).visibilityState;
  useLocks(undefined);
  vi.restoreAllMocks();
});

function wakeups() {
  const report = vi.fn();
  return { t: pageWakeups(report), report };
}

/** After `advance(ms, step)`, `a` has not been poked, and a check pokes it once. */
async function pokedOnlyByACheck(a: FakeRegistration, t: PageWakeups, ms: number, step?: number): Promise<void> {
  await advance(ms, step);
  expect(pokes(a)).toBe(0);
  await t.check();
  expect(pokes(a)).toBe(1);
}

/** The page's wake-ups with one registration in the origin, at `scope`. */
function alone(scope: string) {
  const a = new FakeRegistration(scope);
  registrations = [a];
  return { a, ...wakeups() };
}

/** The page's wake-ups with its own registration, at scope A, the only one in the origin. */
function ownAlone() {
  const { a, ...rest } = alone(scopeA);
  own = a;
  return { a, ...rest };
}

/** The page's wake-ups with registrations at scopes A and B in the origin; a test makes one the page's `own`. */
function scopesAB() {
  const [a, b] = [scopeA, scopeB].map((scope) => new FakeRegistration(scope));
  registrations = [a, b];
  return { a, b, ...wakeups() };
}

/** The page becomes `state`, as the engine tells it: the state, then a visibilitychange event. */
function becomes(state: 'visible' | 'hidden'): void {
  visibility = state;
  document.dispatchEvent(new Event('visibilitychange'));
}

/** t.start(), with what it adds (listeners, its BroadcastChannel) removed after the test. */
function start(t: PageWakeups): void {
  const added: Array<[EventTarget, string, EventListenerOrEventListenerObject]> = [];
  const spies = [globalThis, document].map((target) => {
    const add = target.addEventListener;
    return vi.spyOn(target, 'addEventListener').mockImplementation(function (this: unknown, type, listener, options) {
      added.push([target, type, listener!]);
      return add.call(target, type, listener, options);
    });
  });
  const channels: BroadcastChannel[] = [];
  const Real = BroadcastChannel;
  globalThis.BroadcastChannel = class extends Real {
    constructor(name: string) {
      super(name);
      channels.push(this);
    }
  };
  try {
    t.start();
  } finally {
    for (const spy of spies) spy.mockRestore();
    globalThis.BroadcastChannel = Real;
  }
  cleanups.push(() => {
    for (const [target, type, listener] of added) target.removeEventListener(type, listener);
    for (const channel of channels) channel.close();
  });
}

const pokes = (r: FakeRegistration) => r.active!.postMessage.mock.calls.length;

describe('pageWakeups().check()', () => {
  it('pokes the active worker of the page\'s own registration, and no registration it does not know', async () => {
    const { a, b, t, report } = scopesAB();
    own = a;
    await t.check();
    expect(a.active!.postMessage).toHaveBeenCalledTimes(1);
    expect(a.active!.postMessage).toHaveBeenCalledWith(poke(true));
    expect(pokes(b)).toBe(0);
    expect(report).not.toHaveBeenCalled();
  });

  it('pokes the scopes it knows from register() and from notices, besides its own', async () => {
    const [a, b, c, d] = [scopeA, scopeB, scopeC, `${location.origin}/unknown${n}/`].map((s) => new FakeRegistration(s));
    registrations = [a, b, c, d];
    own = a;
    const { t } = wakeups();
    t.registered(asRegistration(b));
    t.heard(notice(scopeC, Infinity, []));
    await t.check();
    expect([a, b, c, d].map(pokes)).toEqual([1, 1, 1, 0]);
  });

  it('without a registration of its own, pokes only the scopes it knows; knowing none, pokes nothing', async () => {
    const { a, b, t, report } = scopesAB();
    history.replaceState(null, '', `/elsewhere${n}/index.html`); // under no registration's scope
    await t.check();
    expect([a, b].map(pokes)).toEqual([0, 0]);
    t.registered(asRegistration(b));
    await t.check();
    expect([a, b].map(pokes)).toEqual([0, 1]);
    expect(report).not.toHaveBeenCalled();
  });

  it('pokes nothing while offline', async () => {
    const { a, b, t, report } = scopesAB();
    own = a;
    online = false;
    t.registered(asRegistration(b));
    await t.check();
    expect([a, b].map(pokes)).toEqual([0, 0]);
    expect(report).not.toHaveBeenCalled();
    online = true;
    await t.check();
    expect([a, b].map(pokes)).toEqual([1, 1]);
  });

  it('skips a known registration without an active worker, and one that is gone, without reporting', async () => {
    const { a, t, report } = alone(scopeA);
    a.active = null;
    const b = new FakeRegistration(scopeB);
    t.registered(asRegistration(a));
    t.registered(asRegistration(b)); // b is not among the registrations any more
    await expect(t.check()).resolves.toBeUndefined();
    expect(pokes(b)).toBe(0);
    expect(report).not.toHaveBeenCalled();
  });

  it('does not poke the worker it is told to skip (poked already)', async () => {
    const { a, b, t } = scopesAB();
    own = a;
    t.registered(asRegistration(b));
    await t.check(a.active as unknown as ServiceWorker);
    expect([a, b].map(pokes)).toEqual([0, 1]);
  });

  it('each check pokes again: the worker decides whether anything is due', async () => {
    const { a, t } = ownAlone();
    await Promise.all([t.check(), t.check(), t.check()]);
    expect(pokes(a)).toBe(3);
  });

  it('reads no storage: with IndexedDB gone it pokes all the same and reports nothing', async () => {
    const saved = (globalThis as { indexedDB?: unknown }).indexedDB;
    delete (globalThis as { indexedDB?: unknown }).indexedDB;
    try {
      const { a, t, report } = ownAlone();
      await t.check();
      expect(pokes(a)).toBe(1);
      expect(report).not.toHaveBeenCalled();
    } finally {
      (globalThis as { indexedDB?: unknown }).indexedDB = saved;
    }
  });

  it('never rejects: getRegistrations() rejecting is reported', async () => {
    const error = new DOMException('The operation is insecure.', 'SecurityError');
    own = new FakeRegistration(scopeA);
    registrations = [own];
    (navigator.serviceWorker.getRegistrations as ReturnType<typeof vi.fn>).mockRejectedValue(error);
    const { t, report } = wakeups();
    await expect(t.check()).resolves.toBeUndefined();
    expect(report).toHaveBeenCalledWith(error);
  });
});

describe('pageWakeups().registered()', () => {
  it('pokes nothing by itself (the worker woke itself after answering); later checks poke its scope', async () => {
    const { a, t } = alone(scopeA);
    t.registered(asRegistration(a));
    await pokedOnlyByACheck(a, t, 100);
  });

  it('does not undo what a notice said: the scope is still poked when its retry is due', async () => {
    const { a, t } = alone(scopeA);
    t.heard(notice(scopeA, Date.now() + 5000, []));
    t.registered(asRegistration(a));
    await advance(4900, 100);
    expect(pokes(a)).toBe(0);
    await advance(200, 10);
    expect(pokes(a)).toBe(1);
  });
});

describe('pageWakeups(): the worker\'s notices arm the timer (docs/semantics.md §4)', () => {
  it('a notice of a retry makes the page poke that scope\'s worker when it is due, once', async () => {
    const { a, b, t } = scopesAB();
    t.registered(asRegistration(b));
    t.heard(notice(scopeA, Date.now() + 30000, []));
    await advance(29000, 1000);
    expect(pokes(a)).toBe(0);
    await advance(1100, 10);
    expect(pokes(a)).toBe(1);
    expect(pokes(b)).toBe(0); // known, but not due by time
    await advance(5000, 100);
    expect(pokes(a)).toBe(1);
  });

  it('several scopes: each is poked at its own time, the earliest first', async () => {
    const { a, b, t } = scopesAB();
    t.heard(notice(scopeB, Date.now() + 20000, []));
    t.heard(notice(scopeA, Date.now() + 10000, []));
    await advance(9900, 100);
    expect([a, b].map(pokes)).toEqual([0, 0]);
    await advance(200, 10);
    expect([a, b].map(pokes)).toEqual([1, 0]);
    await advance(9800, 100);
    expect(pokes(b)).toBe(0);
    await advance(200, 10);
    expect(pokes(b)).toBe(1);
    // A's time was forgotten once it was poked: B's timer does not start A's worker again.
    expect(pokes(a)).toBe(1);
  });

  it('a later notice replaces an earlier one; "nothing scheduled" disarms', async () => {
    const { a, t } = alone(scopeA);
    t.heard(notice(scopeA, Date.now() + 1000, []));
    t.heard(notice(scopeA, Infinity, []));
    await advance(3000, 100);
    expect(pokes(a)).toBe(0);
  });

  it('a time already past arms nothing and does not spin; the scope is known to checks', async () => {
    const { a, t } = alone(scopeA);
    t.heard(notice(scopeA, Date.now() - 1, []));
    await pokedOnlyByACheck(a, t, 1000, 10);
  });

  it('the timer does not poke while offline', async () => {
    const { a, t } = alone(scopeA);
    t.heard(notice(scopeA, Date.now() + 1000, []));
    online = false;
    await advance(2000, 100);
    expect(pokes(a)).toBe(0);
  });

  it('arrives on the BroadcastChannel; anything malformed there is ignored', async () => {
    const { a, t } = alone(scopeB);
    start(t);
    await advance(50);
    expect(pokes(a)).toBe(0); // not its own registration, not known
    const channel = new BroadcastChannel(PROTOCOL_KEY);
    channel.postMessage({ [PROTOCOL_KEY]: 1, scope: scopeB, next: 'soon', leases: [] });
    channel.postMessage({ [PROTOCOL_KEY]: 1, scope: scopeB, next: Date.now() + 300, leases: 'all' });
    await realTurns();
    await advance(1000, 50);
    expect(pokes(a)).toBe(0);
    channel.postMessage(notice(scopeB, Date.now() + 500, []));
    channel.close();
    // BroadcastChannel delivers on the real event loop.
    await realTurns();
    await advance(1000, 50);
    expect(pokes(a)).toBe(1);
  });
});

describe('pageWakeups(): a worker\'s death heard through its lock (src/liveness.ts)', () => {
  /** The origin's locks, this page's view of them, a worker context holding the life lock of each lease. */
  function workerHolding(...leases: string[]) {
    const locks = fakeLocks();
    useLocks(locks.context('page'));
    for (const lease of leases) void locks.context('worker').request(`background-sync-polyfill:${lease}`, () => new Promise(() => undefined));
    return { kill: () => locks.kill('worker'), ...scopesAB() };
  }

  it('pokes the scope\'s worker the moment the instance firing there dies, not before, and no other scope', async () => {
    const { kill, a, b, t } = workerHolding(`w${n}`);
    t.registered(asRegistration(b));
    await advance(1);
    t.heard(notice(scopeA, Infinity, [`w${n}`]));
    await advance(5000, 100);
    expect(pokes(a)).toBe(0);
    kill();
    await advance(20);
    expect(pokes(a)).toBe(1);
    expect(pokes(b)).toBe(0);
  });

  it('does not poke for an instance that died after a notice said its firing settled', async () => {
    const { kill, a, t } = workerHolding(`w${n}`);
    t.heard(notice(scopeA, Infinity, [`w${n}`]));
    t.heard(notice(scopeA, Infinity, []));
    kill();
    await advance(50);
    expect(pokes(a)).toBe(0);
  });

  it('a lease whose lock is already free (the instance died before the notice arrived) pokes at once', async () => {
    const { a, t } = workerHolding();
    t.heard(notice(scopeA, Infinity, [`gone${n}`]));
    await advance(20);
    expect(pokes(a)).toBe(1);
  });

  it('without Web Locks (Safari before 15.4) a notice with leases is a notice: no poke, no error', async () => {
    useLocks(undefined);
    const { a, t, report } = alone(scopeA);
    expect(() => t.heard(notice(scopeA, Infinity, [`w${n}`]))).not.toThrow();
    await advance(100);
    expect(pokes(a)).toBe(0);
    expect(report).not.toHaveBeenCalled();
  });
});

describe('pageWakeups(): back online', () => {
  it('pokes the running workers on the channel and the controller at once, then its own and the known scopes', async () => {
    const ownReg = new FakeRegistration(scopeA);
    const other = new FakeRegistration(scopeB);
    const unknown = new FakeRegistration(scopeC);
    registrations = [ownReg, other, unknown];
    own = ownReg;
    controller = ownReg.active; // the page's controller is its own registration's active worker
    const heard: unknown[] = [];
    const listener = new BroadcastChannel(PROTOCOL_KEY);
    listener.onmessage = (e) => void heard.push(e.data);
    cleanups.push(() => listener.close());
    const { t, report } = wakeups();
    t.registered(asRegistration(other));
    start(t);
    await advance(50);
    ownReg.active!.postMessage.mockClear();
    other.active!.postMessage.mockClear();
    dispatchEvent(new Event('online'));
    expect(ownReg.active!.postMessage).toHaveBeenCalledWith(poke(true)); // the controller, synchronously
    await realTurns();
    await advance(20);
    expect(heard).toEqual([poke(true)]);
    expect(pokes(ownReg)).toBe(1); // not poked again by the check
    expect(pokes(other)).toBe(1);
    expect(pokes(unknown)).toBe(0);
    expect(report).not.toHaveBeenCalled();
  });

  it('without a controller, its own registration\'s worker is poked by the check', async () => {
    const { a: ownReg, t } = ownAlone();
    start(t);
    await advance(50);
    ownReg.active!.postMessage.mockClear();
    dispatchEvent(new Event('online'));
    await advance(20);
    expect(pokes(ownReg)).toBe(1);
  });

  it('does not poke when the page went offline again before its registrations were found', async () => {
    const { a: ownReg, t } = ownAlone();
    start(t);
    await advance(50);
    ownReg.active!.postMessage.mockClear();
    let found!: (r: FakeRegistration[]) => void;
    (navigator.serviceWorker.getRegistrations as ReturnType<typeof vi.fn>)
      .mockImplementation(() => new Promise((resolve) => (found = resolve)));
    dispatchEvent(new Event('online'));
    await advance(10);
    online = false;
    found([ownReg]);
    await advance(50);
    expect(pokes(ownReg)).toBe(0);
  });
});

describe('pageWakeups().start(): when the page checks', () => {
  it('at once when the page is visible, and on focus, pageshow and load', async () => {
    const { a, t } = ownAlone();
    start(t);
    await advance(20);
    expect(pokes(a)).toBe(1);
    for (const [i, type] of ['focus', 'pageshow', 'load'].entries()) {
      dispatchEvent(new Event(type));
      await advance(20);
      expect(pokes(a)).toBe(i + 2);
    }
  });

  it('periodically while visible, every checkInterval (60 s unless configured), and not while hidden', async () => {
    const { a, t } = ownAlone();
    start(t);
    await advance(20);
    expect(pokes(a)).toBe(1);
    await advance(60000, 1000);
    expect(pokes(a)).toBe(2);
    t.setCheckInterval(10000); // checks at once, then every 10 s
    await advance(20);
    expect(pokes(a)).toBe(3);
    await advance(20000, 1000);
    expect(pokes(a)).toBe(5);
    becomes('hidden');
    await advance(60000, 1000);
    expect(pokes(a)).toBe(5);
    becomes('visible');
    await advance(20);
    expect(pokes(a)).toBe(6);
  });

  it('a page that starts hidden does not check until it becomes visible', async () => {
    const { a, t } = ownAlone();
    visibility = 'hidden';
    start(t);
    await advance(120000, 1000);
    expect(pokes(a)).toBe(0);
    becomes('visible');
    await advance(20);
    expect(pokes(a)).toBe(1);
  });
});
