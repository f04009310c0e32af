import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { freshIndexedDB, sleep } from './helpers';
import { Answer, Request, request } from '../../src/protocol';
import { hasNativeSync } from '../../src/detect';

type Install = typeof import('../../src/install');
const g = globalThis as Record<string, unknown>;
const GLOBALS = ['BackgroundSyncPolyfill', 'SyncManager', 'SyncEvent', 'ServiceWorkerRegistration', 'ServiceWorkerGlobalScope'];

/** A fresh copy of the polyfill, as a new page or worker would load it. */
async function load(): Promise<Install> {
  vi.resetModules();
  return import('../../src/install');
}

/** Every port a fake worker was handed; closed after each test (an open port keeps Node's event loop alive). */
const ports: MessagePort[] = [];

/**
 * The page's view of a service worker running the polyfill: it records each request and answers on its port as the
 * worker host would (src/worker/install.ts), keeping the tags of its scope.
 */
function answeringWorker(tags: string[] = []) {
  const requests: Request[] = [];
  const postMessage = vi.fn((message: Request, transfer: unknown[]) => {
    const port = transfer[0] as MessagePort;
    ports.push(port);
    requests.push(message);
    let answer: Answer = {};
    if (message.op === 'register') for (const tag of message.tags!) if (tags.indexOf(tag) < 0) tags.push(tag);
    if (message.op === 'tags') answer = { tags: tags.slice() };
    if (message.op === 'drop') tags.length = 0;
    port.postMessage(answer);
  });
  return { postMessage, requests, tags };
}
type FakeWorker = ReturnType<typeof answeringWorker>;

/** A ServiceWorkerRegistration class like the engine's, without `sync` unless `native`. */
function defineRegistrationClass(native = false) {
  class ServiceWorkerRegistration {
    constructor(public scope = 'https://example.com/', public active: FakeWorker | null = answeringWorker()) {}
  }
  if (native) {
    Object.defineProperty(ServiceWorkerRegistration.prototype, 'sync', { get() { return 'native'; }, configurable: true });
  }
  g.ServiceWorkerRegistration = ServiceWorkerRegistration;
  return ServiceWorkerRegistration;
}

function defineNative() {
  const NativeSyncManager = class SyncManager {};
  g.SyncManager = NativeSyncManager;
  defineRegistrationClass(true);
  return NativeSyncManager;
}

let warn: ReturnType<typeof vi.spyOn>;
beforeEach(() => {
  freshIndexedDB();
  warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  Object.defineProperty(navigator, 'serviceWorker', {
    value: { getRegistration: async () => undefined, getRegistrations: async () => [] }, configurable: true,
  });
});
afterEach(() => {
  for (const port of ports.splice(0)) port.close();
  for (const name of GLOBALS) delete g[name];
  delete (navigator as unknown as Record<string, unknown>).serviceWorker;
  vi.restoreAllMocks();
});

const api = () => g.BackgroundSyncPolyfill as BackgroundSyncPolyfillGlobal;

describe('hasNativeSync (docs/semantics.md §6)', () => {
  it('is false without SyncManager', async () => {
    defineRegistrationClass(true);
    expect(hasNativeSync()).toBe(false);
  });

  it('is false without ServiceWorkerRegistration', async () => {
    g.SyncManager = class {};
    expect(hasNativeSync()).toBe(false);
  });

  it('is false with SyncManager but no sync on ServiceWorkerRegistration.prototype', async () => {
    g.SyncManager = class {};
    defineRegistrationClass(false);
    expect(hasNativeSync()).toBe(false);
  });

  it('is true with both', async () => {
    defineNative();
    expect(hasNativeSync()).toBe(true);
  });
});

describe('install() with native Background Sync', () => {
  it('installs nothing but the BackgroundSyncPolyfill global, with native true', async () => {
    const Native = defineNative();
    const proto = (g.ServiceWorkerRegistration as { prototype: object }).prototype;
    const syncBefore = Object.getOwnPropertyDescriptor(proto, 'sync');
    (await load()).install('window');
    expect(g.SyncManager).toBe(Native);
    expect(Object.getOwnPropertyDescriptor(proto, 'sync')).toEqual(syncBefore);
    expect(api()).toMatchObject({ native: true, version: '0.0.0-test' });
    expect(Object.isFrozen(api())).toBe(true);
  });

  it('does no WebIDL shaping work where native exists: the polyfill\'s SyncManager stays untouched', async () => {
    defineNative();
    const { install } = await load();
    const { SyncManager } = await import('../../src/web/sync-manager'); // the copy `install` uses
    install('window');
    expect(Object.getOwnPropertyDescriptor(SyncManager.prototype, Symbol.toStringTag)).toBeUndefined();
    expect(Object.getOwnPropertyDescriptor(SyncManager.prototype, 'register')!.enumerable).toBe(false);
  });

  it('shapes SyncManager when it installs instead', async () => {
    defineRegistrationClass(false);
    const { install } = await load();
    const { SyncManager } = await import('../../src/web/sync-manager');
    install('window');
    expect(Object.getOwnPropertyDescriptor(SyncManager.prototype, Symbol.toStringTag)!.value).toBe('SyncManager');
    expect(Object.getOwnPropertyDescriptor(SyncManager.prototype, 'register')!.enumerable).toBe(true);
  });

  it('configure() still validates, so a typo fails the same everywhere', async () => {
    defineNative();
    (await load()).install('window');
    expect(() => api().configure({ maxAttempts: 0 })).toThrow(RangeError);
    expect(() => api().configure(null as unknown as BackgroundSyncPolyfillOptions)).toThrow(TypeError);
    expect(() => api().configure({ maxAttempts: 5 })).not.toThrow();
  });

  it('a preset { force: true } installs the polyfill anyway', async () => {
    const Native = defineNative();
    g.BackgroundSyncPolyfill = { force: true };
    const { install } = await load();
    const { SyncManager } = await import('../../src/web/sync-manager'); // the copy `install` uses
    install('window');
    expect(api().native).toBe(false);
    expect(g.SyncManager).not.toBe(Native);
    expect(g.SyncManager).toBe(SyncManager);
  });
});

describe('install(\'window\') without native support', () => {
  it('defines SyncManager and ServiceWorkerRegistration.prototype.sync like native ones', async () => {
    const Registration = defineRegistrationClass(false);
    (await load()).install('window');
    const { SyncManager } = await import('../../src/web/sync-manager');
    expect(Object.getOwnPropertyDescriptor(globalThis, 'SyncManager'))
      .toEqual({ value: SyncManager, writable: true, enumerable: false, configurable: true });
    const sync = Object.getOwnPropertyDescriptor(Registration.prototype, 'sync')!;
    expect(typeof sync.get).toBe('function');
    expect(sync.set).toBeUndefined();
    expect(sync.enumerable).toBe(true);
    expect(sync.configurable).toBe(true);
    const registration = new Registration() as unknown as ServiceWorkerRegistration;
    expect(registration.sync).toBeInstanceOf(SyncManager);
    expect(registration.sync).toBe(registration.sync);
    expect(api()).toMatchObject({ native: false, version: '0.0.0-test' });
    // Detection afterwards sees a "native" API: that is what a second copy of the script relies on, too.
    expect('SyncManager' in globalThis && 'sync' in Registration.prototype).toBe(true);
  });

  it('register() and getTags() ask the active worker (the page opens no store) and resolve on its answer', async () => {
    const Registration = defineRegistrationClass(false);
    (await load()).install('window');
    const registration = new Registration();
    const worker = registration.active!;
    const sync = (registration as unknown as ServiceWorkerRegistration).sync;
    delete (globalThis as { indexedDB?: unknown }).indexedDB; // a page that touched storage would fail now
    await Promise.all([sync.register('outbox'), sync.register('later')]);
    expect(await sync.getTags()).toEqual(['outbox', 'later']);
    expect(worker.requests).toEqual([request('register', ['outbox', 'later']), request('tags')]);
    expect(worker.tags).toEqual(['outbox', 'later']);
  });

  it('an error the worker answers rejects register() with that DOMException', async () => {
    const Registration = defineRegistrationClass(false);
    (await load()).install('window');
    const registration = new Registration();
    registration.active!.postMessage.mockImplementation((_message: Request, transfer: unknown[]) => {
      ports.push(transfer[0] as MessagePort);
      (transfer[0] as MessagePort).postMessage({ error: ['UnknownError', 'Background Sync storage failed: full'] });
    });
    const error = await (registration as unknown as ServiceWorkerRegistration).sync.register('outbox').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DOMException);
    expect((error as DOMException).name).toBe('UnknownError');
    expect((error as DOMException).message).toBe('Background Sync storage failed: full');
  });

  it('installs nothing without ServiceWorkerRegistration or navigator.serviceWorker', async () => {
    delete (navigator as unknown as Record<string, unknown>).serviceWorker;
    defineRegistrationClass(false);
    (await load()).install('window');
    expect('SyncManager' in globalThis).toBe(false);
    expect(api().native).toBe(false);
    expect(() => api().configure({ checkInterval: 1000 })).not.toThrow();
  });

  it('picks the window half by itself outside a service worker', async () => {
    const Registration = defineRegistrationClass(false);
    (await load()).install();
    expect('sync' in Registration.prototype).toBe(true);
  });
});

describe('the page-only and worker-only entries (src/page/entry.ts, src/worker/entry.ts)', () => {
  /** Loads a fresh copy of the page-only or worker-only entry, as its script would be loaded, and runs its installHere(). */
  async function installEntry(half: 'page' | 'worker'): Promise<void> {
    vi.resetModules();
    const { installHere } = await (half === 'page' ? import('../../src/page/entry') : import('../../src/worker/entry'));
    installHere();
  }

  it('the page-only entry installs the page half in a window', async () => {
    const Registration = defineRegistrationClass(false);
    await installEntry('page');
    expect('sync' in Registration.prototype).toBe(true);
    expect(typeof g.SyncManager).toBe('function');
    expect(api()).toMatchObject({ native: false, version: '0.0.0-test' });
    expect(warn).not.toHaveBeenCalled();
  });

  it('the worker-only entry in a window installs nothing but the global, and names the script that belongs here', async () => {
    const Registration = defineRegistrationClass(false);
    await installEntry('worker');
    expect('sync' in Registration.prototype).toBe(false);
    expect('SyncManager' in globalThis).toBe(false);
    expect(api()).toMatchObject({ native: false, version: '0.0.0-test' });
    expect(() => api().configure({ maxAttempts: 2 })).not.toThrow();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledWith('background-sync-polyfill:',
      'load background-sync-polyfill.window.min.js here');
  });

  it('where the engine has Background Sync, the wrong entry says nothing (nothing would be installed anyway)', async () => {
    defineNative();
    await installEntry('worker');
    expect(api().native).toBe(true);
    expect(warn).not.toHaveBeenCalled();
  });
});

describe('BackgroundSyncPolyfill.configure()', () => {
  beforeEach(async () => {
    defineRegistrationClass(false);
    (await load()).install('window');
  });

  it.each([
    ['null', null, TypeError],
    ['a number', 5, TypeError],
    ['a string', 'fast', TypeError],
    ['maxAttempts as a string', { maxAttempts: '3' }, TypeError],
    ['maxAttempts 0', { maxAttempts: 0 }, RangeError],
    ['maxAttempts 1.5', { maxAttempts: 1.5 }, RangeError],
    ['initialRetryDelay -1', { initialRetryDelay: -1 }, RangeError],
    ['retryDelayFactor NaN', { retryDelayFactor: NaN }, RangeError],
    ['maxEventDuration Infinity', { maxEventDuration: Infinity }, RangeError],
    ['checkInterval as a string', { checkInterval: '60000' }, TypeError],
    ['checkInterval 0', { checkInterval: 0 }, RangeError],
  ])('rejects %s', (_name, options, error) => {
    expect(() => api().configure(options as BackgroundSyncPolyfillOptions)).toThrow(error);
  });

  it('names the bad option', () => {
    expect(() => api().configure({ checkInterval: -1 })).toThrow(/checkInterval/);
    expect(() => api().configure({ retryDelayFactor: 0 })).toThrow(/retryDelayFactor/);
  });

  it('accepts valid options and an empty object', () => {
    expect(() => api().configure({})).not.toThrow();
    expect(() => api().configure({
      maxAttempts: 5, initialRetryDelay: 1000, retryDelayFactor: 2, maxEventDuration: 60000, checkInterval: 30000,
    })).not.toThrow();
  });
});

describe('loading twice and presets', () => {
  it('a second copy of the script installs nothing', async () => {
    defineRegistrationClass(false);
    (await load()).install('window');
    const first = api();
    const firstSyncManager = g.SyncManager;
    (await load()).install('window');
    expect(api()).toBe(first);
    expect(g.SyncManager).toBe(firstSyncManager);
  });

  it('preset options are applied; bad ones are reported, not thrown, and the API is still installed', async () => {
    defineRegistrationClass(false);
    g.BackgroundSyncPolyfill = { maxAttempts: 'many' };
    const { install } = await load();
    expect(() => install('window')).not.toThrow();
    expect(api().native).toBe(false);
    expect(typeof api().version).toBe('string');
    expect(warn).toHaveBeenCalledWith('background-sync-polyfill:', expect.any(TypeError));
  });

  it('valid preset options are not reported', async () => {
    defineRegistrationClass(false);
    g.BackgroundSyncPolyfill = { maxAttempts: 5, checkInterval: 1000 };
    (await load()).install('window');
    await sleep(5);
    expect(warn).not.toHaveBeenCalled();
  });
});

// The state transitions are the worker's: their trace lines are tested in install.worker.test.ts.
describe('configure({ debug })', () => {
  it.each([['yes'], [1], [null]])('rejects debug: %j with a TypeError that names it', async (value) => {
    defineRegistrationClass();
    (await load()).install('window');
    expect(() => api().configure({ debug: value as never })).toThrow(/debug must be a boolean/);
    expect(() => api().configure({ debug: value as never })).toThrow(TypeError);
  });
});

describe('unregister() drops the registration\'s tags (docs/semantics.md §3)', () => {
  it('asks the worker that was active to drop once the engine\'s unregister() resolves true, and not on false', async () => {
    const Registration = defineRegistrationClass();
    let result = true;
    // The engine's unregister(): on success the registration loses its active worker.
    (Registration.prototype as unknown as { unregister: () => Promise<boolean> }).unregister = async function (this: { active: unknown }) {
      if (result) this.active = null;
      return result;
    };
    (await load()).install('window');
    const gone = new Registration('https://example.com/gone/');
    const kept = new Registration('https://example.com/kept/');
    const goneWorker = gone.active!;
    await (gone as unknown as ServiceWorkerRegistration).sync.register('a');
    await (kept as unknown as ServiceWorkerRegistration).sync.register('b');
    result = false;
    expect(await (kept as unknown as ServiceWorkerRegistration).unregister()).toBe(false);
    expect(await (kept as unknown as ServiceWorkerRegistration).sync.getTags()).toEqual(['b']);
    expect(kept.active!.requests.map((r) => r.op)).toEqual(['register', 'tags']);
    result = true;
    expect(await (gone as unknown as ServiceWorkerRegistration).unregister()).toBe(true);
    expect(gone.active).toBeNull();
    expect(goneWorker.requests).toEqual([request('register', ['a']), request('drop')]);
    expect(goneWorker.tags).toEqual([]);
    expect(kept.active!.tags).toEqual(['b']);
    expect((Registration.prototype as unknown as { unregister: () => unknown }).unregister.name).toBe('unregister');
  });
});
