/**
 * install('window') where the engine has Background Sync but may refuse it (docs/semantics.md §6, §8 and §9): the
 * engine's globals stay, its managers' methods are wrapped, a refused call goes to the worker as a page's request and
 * marks the origin, and the page's wake-ups start only once the origin may hold taken-over tags. The engine is a fake:
 * `SyncManager` and `PeriodicSyncManager` on the global, and `sync` and `periodicSync` getters on
 * `ServiceWorkerRegistration.prototype` that give each registration one manager of its own.
 */
import { Mock, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Answer, PROTOCOL_KEY, Request, isPoke, request } from '../../src/protocol';
import { freshIndexedDB, sleep, until, fakeEngineManagers } from './helpers';

type Install = typeof import('../../src/install');
type Call = (this: object, ...args: unknown[]) => Promise<unknown>;
const g = globalThis as Record<string, unknown>;
const GLOBALS = ['BackgroundSyncPolyfill', 'SyncManager', 'PeriodicSyncManager', 'ServiceWorkerRegistration'];
/** What the page's wake-ups listen to (src/page/wakeups.ts): on the window, and on the document. */
const WAKEUP_EVENTS = ['focus', 'pageshow', 'load', 'online'];

/** A fresh copy of the polyfill, as a new page would load it. */
async function load(): Promise<Install> {
  vi.resetModules();
  return import('../../src/install');
}

const ports: MessagePort[] = [];

/**
 * The page's view of a service worker running the polyfill: it records each request and answers on its port as the
 * worker would, keeping the tags of its scope (one-shot and periodic); pokes are counted.
 */
function answeringWorker() {
  const requests: Request[] = [];
  const tags: string[] = [];
  const periodic: string[] = [];
  let pokes = 0;
  const postMessage = vi.fn((message: Request, transfer?: unknown[]) => {
    if (isPoke(message)) {
      pokes++;
      return;
    }
    const port = transfer![0] as MessagePort;
    ports.push(port);
    requests.push(message);
    let answer: Answer = {};
    if (message.op === 'register') for (const tag of message.tags!) if (tags.indexOf(tag) < 0) tags.push(tag);
    if (message.op === 'periodic' && periodic.indexOf(message.tags![0]) < 0) periodic.push(message.tags![0]);
    if (message.op === 'tags') answer = { tags: tags.slice() };
    if (message.op === 'periodicTags') answer = { tags: periodic.slice() };
    port.postMessage(answer);
  });
  return { postMessage, requests, tags, periodic, pokes: () => pokes };
}
type FakeWorker = ReturnType<typeof answeringWorker>;

/** The engine's methods: each call, with its `this`, goes to these mocks. By default it accepts and has no tags. */
let engine: {
  sync: { register: Mock<Call>; getTags: Mock<Call> };
  periodic: { register: Mock<Call>; getTags: Mock<Call>; unregister: Mock<Call> };
};
let NativeSync: { prototype: Record<string, Call> };
let NativePeriodic: { prototype: Record<string, Call> };
let Registration: new (scope?: string) => { scope: string; active: FakeWorker | null };
/** The engine's registrations, as navigator.serviceWorker.getRegistrations() lists them. */
let registrations: Array<InstanceType<typeof Registration>>;
let getRegistrations: Mock<() => Promise<unknown[]>>;

/** Defines the engine's API on the global, as Chromium has it. */
function defineNative(): void {
  const fake = fakeEngineManagers();
  engine = fake.engine;
  const { SyncManager, PeriodicSyncManager } = fake;
  class ServiceWorkerRegistration {
    active: FakeWorker | null = answeringWorker();
    constructor(public scope = location.origin + '/') {}
  }
  fake.defineGetters(ServiceWorkerRegistration);
  g.SyncManager = SyncManager;
  g.PeriodicSyncManager = PeriodicSyncManager;
  g.ServiceWorkerRegistration = ServiceWorkerRegistration;
  NativeSync = SyncManager as unknown as typeof NativeSync;
  NativePeriodic = PeriodicSyncManager as unknown as typeof NativePeriodic;
  Registration = ServiceWorkerRegistration;
}

/** One registration of the engine's, listed by getRegistrations(), whose scope the page is under. */
function newRegistration() {
  const registration = new Registration();
  registrations.push(registration);
  return {
    registration,
    worker: registration.active!,
    sync: (registration as unknown as ServiceWorkerRegistration).sync,
    periodicSync: (registration as unknown as ServiceWorkerRegistration).periodicSync,
  };
}

/** Records the types of the listeners added to the window and the document from now on. */
function listeners() {
  const onWindow = vi.spyOn(globalThis, 'addEventListener');
  const onDocument = vi.spyOn(document, 'addEventListener');
  return {
    window: () => onWindow.mock.calls.map((call) => call[0]).filter((type) => WAKEUP_EVENTS.includes(type)),
    document: () => onDocument.mock.calls.map((call) => call[0]),
  };
}

const notAllowed = () => new DOMException('Permission denied.', 'NotAllowedError');
const disabled = () => new DOMException('Background Sync is disabled.', 'UnknownError');
const api = () => g.BackgroundSyncPolyfill as BackgroundSyncPolyfillGlobal;

beforeEach(() => {
  freshIndexedDB();
  localStorage.clear();
  vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  defineNative();
  registrations = [];
  getRegistrations = vi.fn(async () => registrations.slice());
  Object.defineProperty(navigator, 'serviceWorker', {
    value: { getRegistration: async () => registrations[0], getRegistrations, controller: null }, configurable: true,
  });
});

afterEach(() => {
  for (const port of ports.splice(0)) port.close();
  for (const name of GLOBALS) delete g[name];
  delete (navigator as unknown as Record<string, unknown>).serviceWorker;
  localStorage.clear();
  vi.restoreAllMocks();
});

describe('installing where the engine has the API', () => {
  it('keeps the engine\'s globals and getters, and wraps its managers\' methods in place', async () => {
    const proto = (g.ServiceWorkerRegistration as { prototype: object }).prototype;
    const before = {
      SyncManager: Object.getOwnPropertyDescriptor(globalThis, 'SyncManager'),
      PeriodicSyncManager: Object.getOwnPropertyDescriptor(globalThis, 'PeriodicSyncManager'),
      sync: Object.getOwnPropertyDescriptor(proto, 'sync'),
      periodicSync: Object.getOwnPropertyDescriptor(proto, 'periodicSync'),
    };
    const methods = [NativeSync.prototype.register, NativeSync.prototype.getTags, NativePeriodic.prototype.register,
      NativePeriodic.prototype.getTags, NativePeriodic.prototype.unregister];
    (await load()).install('window');
    expect(api().native).toBe(true);
    expect(Object.getOwnPropertyDescriptor(globalThis, 'SyncManager')).toEqual(before.SyncManager);
    expect(Object.getOwnPropertyDescriptor(globalThis, 'PeriodicSyncManager')).toEqual(before.PeriodicSyncManager);
    expect(Object.getOwnPropertyDescriptor(proto, 'sync')).toEqual(before.sync);
    expect(Object.getOwnPropertyDescriptor(proto, 'periodicSync')).toEqual(before.periodicSync);
    const after = [NativeSync.prototype.register, NativeSync.prototype.getTags, NativePeriodic.prototype.register,
      NativePeriodic.prototype.getTags, NativePeriodic.prototype.unregister];
    after.forEach((wrapper, i) => {
      expect(wrapper).not.toBe(methods[i]);
      expect(wrapper.name).toBe(methods[i].name);
    });
    // registration.sync is still the engine's manager, and its calls reach the engine.
    const { sync } = newRegistration();
    expect(sync).toBeInstanceOf(g.SyncManager as new () => unknown);
    await sync.register('outbox');
    expect(engine.sync.register).toHaveBeenCalledWith('outbox');
    expect(engine.sync.register.mock.contexts[0]).toBe(sync);
  });

  it('a call the engine accepts stays the engine\'s: no request, no mark, no wake-ups', async () => {
    const added = listeners();
    (await load()).install('window');
    const { sync, periodicSync, worker } = newRegistration();
    await sync.register('outbox');
    await periodicSync.register('news', { minInterval: 1000 } as BackgroundSyncOptions);
    expect(await sync.getTags()).toEqual([]);
    await sleep(10);
    expect(worker.postMessage).not.toHaveBeenCalled();
    expect(getRegistrations).not.toHaveBeenCalled();
    expect(localStorage.getItem(PROTOCOL_KEY)).toBeNull();
    expect(added.window()).toEqual([]);
    expect(added.document()).not.toContain('visibilitychange');
  });

  it('a rejection that is not a refusal reaches the app as the engine gave it, and marks nothing', async () => {
    const error = new DOMException('Registration failed - no active Service Worker', 'InvalidStateError');
    engine.sync.register.mockRejectedValue(error);
    const added = listeners();
    (await load()).install('window');
    const { sync, worker } = newRegistration();
    expect(await sync.register('outbox').then(() => null, (e: unknown) => e)).toBe(error);
    await sleep(10);
    expect(worker.postMessage).not.toHaveBeenCalled();
    expect(localStorage.getItem(PROTOCOL_KEY)).toBeNull();
    expect(added.window()).toEqual([]);
  });
});

describe('a refused call taken over (docs/semantics.md §8)', () => {
  it.each([
    ['NotAllowedError', notAllowed],
    ['"Background Sync is disabled."', disabled],
  ])('register() refused with %s asks the worker, resolves, sets the mark and starts the wake-ups', async (_name, error) => {
    engine.sync.register.mockImplementation(async () => {
      throw error();
    });
    const added = listeners();
    (await load()).install('window');
    const { sync, worker } = newRegistration();
    expect(added.window()).toEqual([]);
    await expect(sync.register('outbox')).resolves.toBeUndefined();
    expect(engine.sync.register).toHaveBeenCalledTimes(1);
    expect(worker.requests).toEqual([request('register', ['outbox'])]);
    expect(worker.tags).toEqual(['outbox']);
    expect(localStorage.getItem(PROTOCOL_KEY)).toBe('1');
    expect(added.window()).toEqual(expect.arrayContaining(WAKEUP_EVENTS));
    expect(added.document()).toContain('visibilitychange');
  });

  it('a refused periodic register() asks the worker with its minInterval, and sets the mark', async () => {
    engine.periodic.register.mockRejectedValue(notAllowed());
    (await load()).install('window');
    const { periodicSync, worker } = newRegistration();
    await expect(periodicSync.register('news', { minInterval: 3600000 } as BackgroundSyncOptions)).resolves.toBeUndefined();
    expect(worker.requests).toEqual([request('periodic', ['news'], 3600000)]);
    expect(localStorage.getItem(PROTOCOL_KEY)).toBe('1');
  });

  it('goes to the registration whose manager was called, among several', async () => {
    engine.sync.register.mockRejectedValue(notAllowed());
    (await load()).install('window');
    const first = newRegistration();
    const second = newRegistration();
    await second.sync.register('outbox');
    expect(first.worker.requests).toEqual([]);
    expect(second.worker.requests).toEqual([request('register', ['outbox'])]);
  });

  it('a registration that getRegistrations() does not list: the engine\'s refusal stands, nothing marked', async () => {
    const error = notAllowed();
    engine.sync.register.mockRejectedValue(error);
    (await load()).install('window');
    const { sync, worker } = newRegistration();
    registrations.length = 0;
    expect(await sync.register('outbox').then(() => null, (e: unknown) => e)).toBe(error);
    expect(worker.postMessage).not.toHaveBeenCalled();
    expect(localStorage.getItem(PROTOCOL_KEY)).toBeNull();
  });

  it('without storage (localStorage throws, as in an opaque origin) the page still takes over its own calls', async () => {
    const storage = Object.getOwnPropertyDescriptor(globalThis, 'localStorage')!;
    const read = vi.fn(() => {
      throw new DOMException('The operation is insecure.', 'SecurityError');
    });
    Object.defineProperty(globalThis, 'localStorage', { get: read, configurable: true });
    try {
      engine.sync.register.mockRejectedValue(notAllowed());
      const added = listeners();
      (await load()).install('window');
      await sleep(5); // the look for the mark, after the load, throws nothing
      expect(read).toHaveBeenCalled();
      expect(added.window()).toEqual([]);
      const { sync, worker } = newRegistration();
      await expect(sync.register('outbox')).resolves.toBeUndefined();
      expect(worker.requests).toEqual([request('register', ['outbox'])]);
      expect(added.window()).toEqual(expect.arrayContaining(WAKEUP_EVENTS));
    } finally {
      Object.defineProperty(globalThis, 'localStorage', storage);
    }
  });
});

describe('the mark (docs/semantics.md §8)', () => {
  it('is looked for once, after a setTimeout, not during install(); found, it starts the wake-ups, which poke', async () => {
    localStorage.setItem(PROTOCOL_KEY, '1');
    const { worker } = newRegistration();
    const getItem = vi.spyOn(localStorage, 'getItem');
    const added = listeners();
    (await load()).install('window');
    expect(getItem).not.toHaveBeenCalled();
    expect(added.window()).toEqual([]);
    await Promise.resolve();
    expect(added.window()).toEqual([]);
    await sleep(5);
    expect(getItem).toHaveBeenCalledWith(PROTOCOL_KEY);
    expect(getItem).toHaveBeenCalledTimes(1);
    expect(added.window()).toEqual(expect.arrayContaining(WAKEUP_EVENTS));
    expect(added.document()).toContain('visibilitychange');
    // The first check pokes the worker of the page's own registration.
    await until(() => worker.pokes() > 0, 1000, 'a poke');
  });

  it('not found: no wake-ups after the timer either', async () => {
    const { worker } = newRegistration();
    const added = listeners();
    (await load()).install('window');
    await sleep(10);
    expect(added.window()).toEqual([]);
    expect(added.document()).not.toContain('visibilitychange');
    expect(worker.pokes()).toBe(0);
  });

  it('getTags(): without the mark, the engine\'s only (the worker is not asked); with it, the engine\'s then the worker\'s', async () => {
    engine.sync.getTags.mockResolvedValue(['engine', 'both']);
    engine.periodic.getTags.mockResolvedValue(['weekly']);
    (await load()).install('window');
    const { sync, periodicSync, worker } = newRegistration();
    worker.tags.push('both', 'ours');
    worker.periodic.push('daily');
    expect(await sync.getTags()).toEqual(['engine', 'both']);
    expect(await periodicSync.getTags()).toEqual(['weekly']);
    expect(worker.requests).toEqual([]);
    localStorage.setItem(PROTOCOL_KEY, '1'); // another page of the origin had a call taken over
    expect(await sync.getTags()).toEqual(['engine', 'both', 'ours']);
    expect(await periodicSync.getTags()).toEqual(['weekly', 'daily']);
    expect(worker.requests).toEqual([request('tags'), request('periodicTags')]);
  });

  it('with the mark, periodicSync.unregister() goes to the engine and the worker', async () => {
    localStorage.setItem(PROTOCOL_KEY, '1');
    (await load()).install('window');
    const { periodicSync, worker } = newRegistration();
    await expect(periodicSync.unregister('news')).resolves.toBeUndefined();
    expect(engine.periodic.unregister).toHaveBeenCalledWith('news');
    expect(worker.requests).toEqual([request('unregister', ['news'])]);
  });
});

describe('BackgroundSyncPolyfill.wake() in a page (docs/semantics.md §9)', () => {
  it('resolves at once where nothing is in use, poking no worker', async () => {
    const { worker } = newRegistration();
    (await load()).install('window');
    let settled = false;
    const woken = api().wake().then((value) => {
      settled = true;
      return value;
    });
    await Promise.resolve();
    await Promise.resolve();
    expect(settled).toBe(true);
    await expect(woken).resolves.toBeUndefined();
    await sleep(5);
    expect(getRegistrations).not.toHaveBeenCalled();
    expect(worker.pokes()).toBe(0);
  });

  it('once a call was taken over, pokes the workers and settles after', async () => {
    engine.sync.register.mockRejectedValue(notAllowed());
    (await load()).install('window');
    const { sync, worker } = newRegistration();
    await sync.register('outbox');
    await until(() => worker.pokes() > 0, 1000, 'the first check\'s poke');
    await sleep(5);
    const before = worker.pokes();
    await expect(api().wake()).resolves.toBeUndefined();
    expect(worker.pokes()).toBe(before + 1);
  });

  it('never rejects, even when the workers cannot be listed', async () => {
    localStorage.setItem(PROTOCOL_KEY, '1');
    (await load()).install('window');
    await sleep(5);
    getRegistrations.mockRejectedValue(new DOMException('The operation is insecure.', 'SecurityError'));
    await expect(api().wake()).resolves.toBeUndefined();
    expect(console.warn).toHaveBeenCalledWith('background-sync-polyfill:', expect.any(DOMException));
  });
});
