/**
 * The takeover of a refusing engine's calls (src/web/takeover.ts, docs/semantics.md §8): what counts as a refusal
 * (refused()), and takeOver() over a fake engine: `SyncManager` and `PeriodicSyncManager` classes put on the global,
 * whose prototype methods hand each call to a mock this file controls (`engine`). The polyfill's own managers are the
 * real ones (src/web/sync-manager.ts) over mocked hosts (setSyncHost), so that what a taken-over call does on the
 * polyfill's side is seen there, with the registration `registrationOf` gave.
 */
import { Mock, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { refused, takeOver } from '../../../src/web/takeover';
import { setSyncHost } from '../../../src/web/sync-manager';
import { rejection } from './webidl-helpers';
import { fakeEngineManagers } from '../helpers';

const g = globalThis as Record<string, unknown>;
const TOUCHED = ['SyncManager', 'PeriodicSyncManager', 'ServiceWorkerRegistration'];

describe('refused(): what the polyfill takes over', () => {
  it.each([
    ['a NotAllowedError DOMException', new DOMException('Permission denied.', 'NotAllowedError')],
    ['a NotAllowedError with another message', new DOMException('Registration failed - permission denied', 'NotAllowedError')],
    ['an Error named NotAllowedError', Object.assign(new Error('denied'), { name: 'NotAllowedError' })],
    ['UnknownError "Background Sync is disabled."', new DOMException('Background Sync is disabled.', 'UnknownError')],
    ['AbortError "Background Sync is disabled."', new DOMException('Background Sync is disabled.', 'AbortError')],
    ['a plain Error "Background Sync is disabled."', new Error('Background Sync is disabled.')],
    ['"Periodic Background Sync is disabled."', new DOMException('Periodic Background Sync is disabled.', 'UnknownError')],
  ])('%s: yes', (_name, error) => {
    expect(refused(error)).toBe(true);
  });

  it.each([
    ['InvalidStateError', new DOMException('Registration failed - no active Service Worker', 'InvalidStateError')],
    ['InvalidAccessError', new DOMException('Registration failed - the tag is too long', 'InvalidAccessError')],
    ['a TypeError', new TypeError("Failed to execute 'register' on 'SyncManager': 1 argument required")],
    ['an UnknownError about storage', new DOMException('Background Sync storage failed: full', 'UnknownError')],
    ['an AbortError with another message', new DOMException('The operation was aborted.', 'AbortError')],
    ['null', null],
    ['undefined', undefined],
    ['the string "NotAllowedError"', 'NotAllowedError'],
    ['the string "Background Sync is disabled."', 'Background Sync is disabled.'],
    ['0', 0],
    ['an empty object', {}],
  ])('%s: no', (_name, error) => {
    expect(refused(error)).toBe(false);
  });
});

// --- A fake engine --------------------------------------------------------------------------------------------------

type Call = (this: object, ...args: unknown[]) => Promise<unknown>;
interface Engine {
  sync: { register: Mock<Call>; getTags: Mock<Call> };
  periodic: { register: Mock<Call>; getTags: Mock<Call>; unregister: Mock<Call> };
}

let engine: Engine;
/** The engine's classes as put on the global, and their prototype methods as they were before takeOver(). */
let NativeSync: { prototype: Record<string, Call> };
let NativePeriodic: { prototype: Record<string, Call> };
let originals: Map<string, Call>;

/**
 * Puts the engine's SyncManager and PeriodicSyncManager on the global: their methods have WebIDL's lengths (register 1,
 * getTags 0, unregister 1) and attributes (writable, enumerable, configurable), and hand each call, with its `this`,
 * to `engine`. By default the engine accepts everything and has no tags. `attributes` replaces the methods'
 * attributes; without `periodic` there is no PeriodicSyncManager.
 */
function defineEngine({ periodic = true, attributes = { writable: true, enumerable: true, configurable: true } } = {}) {
  const fake = fakeEngineManagers();
  engine = fake.engine;
  const { SyncManager, PeriodicSyncManager } = fake;
  originals = new Map();
  for (const [name, Class] of [['SyncManager', SyncManager], ['PeriodicSyncManager', PeriodicSyncManager]] as const) {
    for (const method of Object.getOwnPropertyNames(Class.prototype)) {
      if (method == 'constructor') continue;
      Object.defineProperty(Class.prototype, method, attributes);
      originals.set(`${name}.${method}`, (Class.prototype as unknown as Record<string, Call>)[method]);
    }
  }
  g.SyncManager = SyncManager;
  NativeSync = SyncManager as unknown as typeof NativeSync;
  NativePeriodic = PeriodicSyncManager as unknown as typeof NativePeriodic;
  if (periodic) g.PeriodicSyncManager = PeriodicSyncManager;
}

/** The engine's ServiceWorkerRegistration, as the polyfill's getters check it: one with an active worker. */
class Registration {
  active: object | null = {};
  constructor(public scope = 'https://example.com/app/') {}
}
const asRegistration = (r: Registration) => r as unknown as ServiceWorkerRegistration;

/** The polyfill's hosts: what its managers hand a call to once they have checked it. */
const hosts = {
  sync: { register: vi.fn(), getTags: vi.fn() },
  periodic: { register: vi.fn(), getTags: vi.fn(), unregister: vi.fn() },
};
/** The tags the polyfill holds, one-shot and periodic. */
let ours: { sync: string[]; periodic: string[] };

/** One registration, its native managers, and what takeOver() is given. */
let registration: Registration;
let nativeSync: { register: Call; getTags: Call };
let nativePeriodic: { register: Call; getTags: Call; unregister: Call };
let registrationOf: Mock<(manager: object) => Promise<ServiceWorkerRegistration | undefined>>;
let inUse: Mock<() => boolean>;

/** takeOver() with `registrationOf` knowing the registration of both native managers, and `inUse` true. */
function install(): void {
  takeOver(registrationOf, inUse);
}

beforeEach(() => {
  for (const name of TOUCHED) delete g[name];
  g.ServiceWorkerRegistration = Registration;
  defineEngine();
  registration = new Registration();
  nativeSync = Object.create(NativeSync.prototype);
  nativePeriodic = Object.create(NativePeriodic.prototype);
  registrationOf = vi.fn(async (manager: object) =>
    manager === nativeSync || manager === nativePeriodic ? asRegistration(registration) : undefined);
  inUse = vi.fn(() => true);
  ours = { sync: [], periodic: [] };
  hosts.sync.register = vi.fn(async (_r: unknown, tag: string) => void ours.sync.push(tag));
  hosts.sync.getTags = vi.fn(async () => ours.sync.slice());
  hosts.periodic.register = vi.fn(async (_r: unknown, tag: string) => void ours.periodic.push(tag));
  hosts.periodic.getTags = vi.fn(async () => ours.periodic.slice());
  hosts.periodic.unregister = vi.fn(async (_r: unknown, tag: string) => void (ours.periodic = ours.periodic.filter((t) => t !== tag)));
  setSyncHost(hosts.sync, hosts.periodic);
});

afterEach(() => {
  for (const name of TOUCHED) delete g[name];
});

const notAllowed = () => new DOMException('Permission denied.', 'NotAllowedError');
const disabled = () => new DOMException('Background Sync is disabled.', 'UnknownError');

describe('takeOver(): register()', () => {
  it.each([
    ['NotAllowedError', notAllowed],
    ['"Background Sync is disabled."', disabled],
  ])('one the engine refuses (%s) goes to the polyfill\'s manager of the registration, with the same tag', async (_name, error) => {
    engine.sync.register.mockImplementation(async () => {
      throw error();
    });
    install();
    await expect(nativeSync.register('outbox')).resolves.toBeUndefined();
    expect(engine.sync.register).toHaveBeenCalledTimes(1);
    expect(engine.sync.register.mock.contexts[0]).toBe(nativeSync);
    expect(engine.sync.register).toHaveBeenCalledWith('outbox');
    expect(registrationOf).toHaveBeenCalledWith(nativeSync);
    expect(hosts.sync.register).toHaveBeenCalledTimes(1);
    expect(hosts.sync.register).toHaveBeenCalledWith(registration, 'outbox');
    expect(hosts.periodic.register).not.toHaveBeenCalled();
    expect(ours.sync).toEqual(['outbox']);
  });

  it('a refused periodic register() goes to the polyfill with the same tag and minInterval', async () => {
    engine.periodic.register.mockRejectedValue(notAllowed());
    install();
    await expect(nativePeriodic.register('news', { minInterval: 86400000 })).resolves.toBeUndefined();
    expect(engine.periodic.register).toHaveBeenCalledWith('news', { minInterval: 86400000 });
    expect(engine.periodic.register.mock.contexts[0]).toBe(nativePeriodic);
    expect(registrationOf).toHaveBeenCalledWith(nativePeriodic);
    expect(hosts.periodic.register).toHaveBeenCalledTimes(1);
    expect(hosts.periodic.register).toHaveBeenCalledWith(registration, 'news', 86400000);
    expect(hosts.sync.register).not.toHaveBeenCalled();
  });

  it('a refused periodic register() without options goes to the polyfill with minInterval 0', async () => {
    engine.periodic.register.mockRejectedValue(disabled());
    install();
    await nativePeriodic.register('news');
    expect(hosts.periodic.register).toHaveBeenCalledWith(registration, 'news', 0);
  });

  it('the polyfill\'s answer is the answer: its rejection reaches the caller', async () => {
    engine.sync.register.mockRejectedValue(notAllowed());
    const failure = new DOMException('Background Sync storage failed: full', 'UnknownError');
    hosts.sync.register.mockRejectedValue(failure);
    install();
    expect(await rejection(nativeSync.register('outbox'))).toBe(failure);
  });

  it('the polyfill\'s own checks apply to a taken-over call: no active worker → its InvalidStateError', async () => {
    engine.sync.register.mockRejectedValue(notAllowed());
    registration.active = null;
    install();
    const error = await rejection(nativeSync.register('outbox'));
    expect(error).toBeInstanceOf(DOMException);
    expect((error as DOMException).name).toBe('InvalidStateError');
    expect(hosts.sync.register).not.toHaveBeenCalled();
  });

  it.each([
    ['InvalidStateError', () => new DOMException('Registration failed - no active Service Worker', 'InvalidStateError')],
    ['InvalidAccessError', () => new DOMException('Registration failed - the tag is too long', 'InvalidAccessError')],
    ['TypeError', () => new TypeError("Failed to execute 'register' on 'SyncManager': 1 argument required")],
    ['an UnknownError of another kind', () => new DOMException('Something else', 'UnknownError')],
  ])('a rejection that is not a refusal (%s) stays the engine\'s: the same object, the polyfill untouched', async (_name, make) => {
    const error = make();
    const periodicError = make();
    engine.sync.register.mockRejectedValue(error);
    engine.periodic.register.mockRejectedValue(periodicError);
    inUse.mockReturnValue(false);
    install();
    expect(await rejection(nativeSync.register('outbox'))).toBe(error);
    expect(await rejection(nativePeriodic.register('news', { minInterval: 5 }))).toBe(periodicError);
    expect(registrationOf).not.toHaveBeenCalled();
    expect(hosts.sync.register).not.toHaveBeenCalled();
    expect(hosts.periodic.register).not.toHaveBeenCalled();
  });

  it('a call the engine accepts stays the engine\'s: nothing is stored twice, nor is the registration looked up', async () => {
    engine.sync.register.mockResolvedValue(undefined);
    engine.periodic.register.mockResolvedValue(undefined);
    inUse.mockReturnValue(false);
    install();
    await expect(nativeSync.register('outbox')).resolves.toBeUndefined();
    await expect(nativePeriodic.register('news', { minInterval: 5 })).resolves.toBeUndefined();
    expect(engine.sync.register).toHaveBeenCalledWith('outbox');
    expect(engine.periodic.register).toHaveBeenCalledWith('news', { minInterval: 5 });
    expect(registrationOf).not.toHaveBeenCalled();
    expect(hosts.sync.register).not.toHaveBeenCalled();
    expect(hosts.periodic.register).not.toHaveBeenCalled();
    expect(ours).toEqual({ sync: [], periodic: [] });
  });

  it('a registration it cannot find (registrationOf resolves undefined): the engine\'s refusal stands, the same object', async () => {
    const error = notAllowed();
    const periodicError = disabled();
    engine.sync.register.mockRejectedValue(error);
    engine.periodic.register.mockRejectedValue(periodicError);
    registrationOf.mockResolvedValue(undefined);
    inUse.mockReturnValue(false);
    install();
    expect(await rejection(nativeSync.register('outbox'))).toBe(error);
    expect(await rejection(nativePeriodic.register('news'))).toBe(periodicError);
    expect(registrationOf).toHaveBeenCalledTimes(2);
    expect(hosts.sync.register).not.toHaveBeenCalled();
    expect(hosts.periodic.register).not.toHaveBeenCalled();
  });

  it('a register() is taken over wherever the engine refuses it, the polyfill in use or not', async () => {
    engine.sync.register.mockRejectedValue(notAllowed());
    inUse.mockReturnValue(false);
    install();
    await nativeSync.register('outbox');
    expect(hosts.sync.register).toHaveBeenCalledWith(registration, 'outbox');
  });

  // One registration per tag (docs/semantics.md §8): never one on each side, which would fire twice at once.
  it.each([['sync', () => nativeSync, 'outbox'], ['periodic', () => nativePeriodic, 'news']] as const)(
    '%s: a tag the polyfill holds stays the polyfill\'s: register() goes there without asking the engine', async (kind, manager, tag) => {
      ours[kind] = [tag];
      install();
      await expect(manager().register(tag)).resolves.toBeUndefined();
      expect(engine[kind].register).not.toHaveBeenCalled();
      expect(hosts[kind].register).toHaveBeenCalledTimes(1);
    },
  );

  it.each([['sync', () => nativeSync, 'outbox'], ['periodic', () => nativePeriodic, 'news']] as const)(
    '%s: other tags the polyfill holds change nothing: the engine takes the call', async (kind, manager, tag) => {
      ours[kind] = ['another'];
      install();
      await manager().register(tag);
      expect(engine[kind].register).toHaveBeenCalledTimes(1);
      expect(hosts[kind].register).not.toHaveBeenCalled();
    },
  );

  it.each([['sync', () => nativeSync, 'outbox'], ['periodic', () => nativePeriodic, 'news']] as const)(
    '%s: a refused call for a tag the engine holds is taken over too (the dispatcher fires it once the engine\'s is done)', async (kind, manager, tag) => {
      engine[kind].register.mockRejectedValue(notAllowed());
      engine[kind].getTags.mockResolvedValue(['x', tag]);
      install();
      await expect(manager().register(tag)).resolves.toBeUndefined();
      expect(hosts[kind].register).toHaveBeenCalledTimes(1);
    },
  );

  it('returns the engine\'s own methods, by interface, as they were before the wrapping', async () => {
    const before = { sync: NativeSync.prototype.getTags, periodic: NativePeriodic.prototype.register };
    const engineMethods = takeOver(registrationOf, inUse);
    expect(engineMethods.SyncManager.getTags).toBe(before.sync);
    expect(engineMethods.PeriodicSyncManager.register).toBe(before.periodic);
    expect(NativeSync.prototype.getTags).not.toBe(before.sync);
  });

  it('a refused call whose engine refuses getTags() too is taken over (Electron)', async () => {
    engine.sync.register.mockRejectedValue(disabled());
    engine.sync.getTags.mockRejectedValue(disabled());
    install();
    await nativeSync.register('outbox');
    expect(hosts.sync.register).toHaveBeenCalledWith(registration, 'outbox');
  });

  it('the polyfill\'s tags unreadable: the engine takes the call as if the polyfill held nothing', async () => {
    hosts.sync.getTags.mockRejectedValue(new DOMException('Background Sync storage failed', 'UnknownError'));
    install();
    await nativeSync.register('outbox');
    expect(engine.sync.register).toHaveBeenCalledWith('outbox');
  });
});

describe('takeOver(): getTags()', () => {
  it('resolves with the engine\'s tags followed by the polyfill\'s, each once', async () => {
    engine.sync.getTags.mockResolvedValue(['a', 'b', 'c']);
    ours.sync = ['d', 'b', 'e', 'a'];
    install();
    expect(await nativeSync.getTags()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(engine.sync.getTags.mock.contexts[0]).toBe(nativeSync);
    expect(registrationOf).toHaveBeenCalledWith(nativeSync);
    expect(hosts.sync.getTags).toHaveBeenCalledWith(registration);
  });

  it('the same for periodic tags, from the periodic host only', async () => {
    engine.periodic.getTags.mockResolvedValue(['weekly']);
    ours.periodic = ['daily', 'weekly'];
    ours.sync = ['one-shot'];
    install();
    expect(await nativePeriodic.getTags()).toEqual(['weekly', 'daily']);
    expect(hosts.sync.getTags).not.toHaveBeenCalled();
  });

  it('asks the polyfill only while inUse() is true, asking inUse() on each call', async () => {
    engine.sync.getTags.mockResolvedValue(['engine']);
    ours.sync = ['ours'];
    inUse.mockReturnValue(false);
    install();
    expect(inUse).not.toHaveBeenCalled();
    expect(await nativeSync.getTags()).toEqual(['engine']);
    expect(inUse).toHaveBeenCalledTimes(1);
    expect(registrationOf).not.toHaveBeenCalled();
    expect(hosts.sync.getTags).not.toHaveBeenCalled();
    inUse.mockReturnValue(true);
    expect(await nativeSync.getTags()).toEqual(['engine', 'ours']);
    expect(inUse).toHaveBeenCalledTimes(2);
    expect(hosts.sync.getTags).toHaveBeenCalledTimes(1);
  });

  it('the engine\'s empty list and the polyfill\'s: the polyfill\'s', async () => {
    ours.sync = ['x', 'y'];
    install();
    expect(await nativeSync.getTags()).toEqual(['x', 'y']);
  });

  it('both empty: []', async () => {
    install();
    expect(await nativeSync.getTags()).toEqual([]);
  });

  it.each([
    ['NotAllowedError', notAllowed],
    ['"Background Sync is disabled."', disabled],
  ])('refused by the engine (%s): the polyfill\'s tags, the engine counting as having none', async (_name, error) => {
    engine.sync.getTags.mockImplementation(async () => {
      throw error();
    });
    engine.periodic.getTags.mockImplementation(async () => {
      throw error();
    });
    ours.sync = ['outbox'];
    ours.periodic = ['news'];
    install();
    expect(await nativeSync.getTags()).toEqual(['outbox']);
    expect(await nativePeriodic.getTags()).toEqual(['news']);
  });

  // getTags() always resolves with a sequence: where the engine refuses it and the polyfill is not in use, [] (the
  // engine "has none", docs/semantics.md §8).
  it('refused by the engine while the polyfill is not in use: []', async () => {
    engine.sync.getTags.mockRejectedValue(notAllowed());
    inUse.mockReturnValue(false);
    install();
    expect(await nativeSync.getTags()).toEqual([]);
  });

  it('refused by the engine and the polyfill in use but holding nothing: []', async () => {
    engine.sync.getTags.mockRejectedValue(notAllowed());
    install();
    expect(await nativeSync.getTags()).toEqual([]);
  });

  it('a rejection that is not a refusal stays the engine\'s (the same object), even with the polyfill in use', async () => {
    const error = new DOMException('The document is not fully active', 'InvalidStateError');
    engine.sync.getTags.mockRejectedValue(error);
    ours.sync = ['outbox'];
    install();
    expect(await rejection(nativeSync.getTags())).toBe(error);
  });

  // The polyfill holds nothing for a registration it cannot name (in a page: one no longer among getRegistrations()):
  // the engine's tags are the answer (docs/semantics.md §8).
  it('a registration it cannot find: the engine\'s tags', async () => {
    engine.sync.getTags.mockResolvedValue(['engine']);
    registrationOf.mockResolvedValue(undefined);
    install();
    expect(await nativeSync.getTags()).toEqual(['engine']);
  });
});

describe('takeOver(): periodicSync.unregister()', () => {
  it('unregisters the tag from both the engine and the polyfill, and resolves with undefined', async () => {
    ours.periodic = ['news', 'weekly'];
    install();
    await expect(nativePeriodic.unregister('news')).resolves.toBeUndefined();
    expect(engine.periodic.unregister).toHaveBeenCalledWith('news');
    expect(engine.periodic.unregister.mock.contexts[0]).toBe(nativePeriodic);
    expect(registrationOf).toHaveBeenCalledWith(nativePeriodic);
    expect(hosts.periodic.unregister).toHaveBeenCalledWith(registration, 'news');
    expect(ours.periodic).toEqual(['weekly']);
  });

  it('refused by the engine: still the polyfill\'s, and resolves', async () => {
    engine.periodic.unregister.mockRejectedValue(notAllowed());
    ours.periodic = ['news'];
    install();
    await expect(nativePeriodic.unregister('news')).resolves.toBeUndefined();
    expect(hosts.periodic.unregister).toHaveBeenCalledWith(registration, 'news');
  });

  it('only the engine\'s while the polyfill is not in use', async () => {
    inUse.mockReturnValue(false);
    install();
    await expect(nativePeriodic.unregister('news')).resolves.toBeUndefined();
    expect(engine.periodic.unregister).toHaveBeenCalledWith('news');
    expect(registrationOf).not.toHaveBeenCalled();
    expect(hosts.periodic.unregister).not.toHaveBeenCalled();
  });

  it('a rejection that is not a refusal stays the engine\'s', async () => {
    const error = new TypeError("Failed to execute 'unregister' on 'PeriodicSyncManager': 1 argument required");
    engine.periodic.unregister.mockRejectedValue(error);
    install();
    expect(await rejection(nativePeriodic.unregister('news'))).toBe(error);
  });
});

describe('takeOver(): the wrapped methods', () => {
  const METHODS = [
    ['SyncManager', 'register', 1],
    ['SyncManager', 'getTags', 0],
    ['PeriodicSyncManager', 'register', 1],
    ['PeriodicSyncManager', 'getTags', 0],
    ['PeriodicSyncManager', 'unregister', 1],
  ] as const;
  const proto = (name: string) => (name == 'SyncManager' ? NativeSync : NativePeriodic).prototype;

  it.each([
    ['WebIDL\'s (writable, enumerable, configurable)', { writable: true, enumerable: true, configurable: true }],
    ['other ones (read-only, not enumerable)', { writable: false, enumerable: false, configurable: true }],
  ])('replace the native ones in place, keeping their name, length and attributes: %s', (_name, attributes) => {
    defineEngine({ attributes });
    install();
    for (const [iface, method, length] of METHODS) {
      const native = originals.get(`${iface}.${method}`)!;
      const descriptor = Object.getOwnPropertyDescriptor(proto(iface), method)!;
      expect(descriptor.value, `${iface}.${method}`).not.toBe(native);
      expect(typeof descriptor.value).toBe('function');
      expect(descriptor.value.name, `${iface}.${method}`).toBe(method);
      expect(native.length).toBe(length);
      expect(descriptor.value.length, `${iface}.${method}`).toBe(length);
      expect({ ...descriptor, value: undefined }).toEqual({ ...attributes, value: undefined });
    }
  });

  it('keep the engine\'s globals: the same classes stay on the global', () => {
    install();
    expect(g.SyncManager).toBe(NativeSync);
    expect(g.PeriodicSyncManager).toBe(NativePeriodic);
  });

  it('an engine without PeriodicSyncManager is fine: SyncManager is wrapped, and no PeriodicSyncManager appears', async () => {
    delete g.PeriodicSyncManager;
    defineEngine({ periodic: false });
    nativeSync = Object.create(NativeSync.prototype);
    engine.sync.register.mockRejectedValue(notAllowed());
    expect(() => install()).not.toThrow();
    expect('PeriodicSyncManager' in globalThis).toBe(false);
    expect(NativeSync.prototype.register).not.toBe(originals.get('SyncManager.register'));
    await nativeSync.register('outbox');
    expect(hosts.sync.register).toHaveBeenCalledWith(registration, 'outbox');
    // The periodic class the global never had stays unwrapped.
    expect(NativePeriodic.prototype.register).toBe(originals.get('PeriodicSyncManager.register'));
  });
});
