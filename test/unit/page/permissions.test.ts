/**
 * The permissions patch a page installs (src/page/permissions.ts, grantPermissions()): where the engine's
 * `Permissions.prototype.query()` rejects "background-sync" or "periodic-background-sync" (it does not know them, as in
 * Firefox and WebKit), the polyfill answers with a status whose state is "granted"; the engine's own answer is kept
 * where it has one, and every other name goes to the engine untouched (docs/semantics.md §7).
 *
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { grantPermissions } from '../../../src/page/permissions';

const g = globalThis as Record<string, unknown>;
const TOUCHED = ['Permissions', 'ServiceWorkerRegistration', 'SyncManager', 'PeriodicSyncManager'];

type Status = EventTarget & { name: string; state: string; onchange: unknown };
type Query = (this: unknown, ...args: unknown[]) => Promise<Status>;

/** The engine's PermissionStatus. */
class EngineStatus extends EventTarget {
  onchange = null;
  constructor(public name: string, public state: string) {
    super();
  }
}

/**
 * An engine's Permissions interface, as Firefox and WebKit have it: query() brand-checks `this` and converts the
 * descriptor (rejecting, never throwing, as a WebIDL promise-returning operation), rejects a name it does not know with
 * a TypeError, and resolves a fresh status for one it knows. `known` maps the names it knows to their state (or to an
 * error it rejects with); `calls` records each call's `this` and arguments, `errors` and `resolved` its answers.
 */
function engine(known: Record<string, string | Error>) {
  const brand = new WeakSet<object>();
  const calls: Array<{ self: unknown; args: unknown[] }> = [];
  const errors: unknown[] = [];
  const resolved: Status[] = [];
  class Permissions {
    constructor() {
      brand.add(this);
    }

    query(_descriptor: unknown): Promise<Status> {
      calls.push({ self: this, args: Array.from(arguments) });
      const reject = (error: unknown) => {
        errors.push(error);
        return Promise.reject(error);
      };
      if (!brand.has(this as object)) return reject(new TypeError("'query' called on an object that does not implement interface Permissions."));
      const descriptor = arguments[0] as { name?: unknown } | null | undefined;
      if (descriptor === null || typeof descriptor !== 'object') {
        return reject(new TypeError('Permissions.query: Argument 1 can\'t be converted to a dictionary.'));
      }
      if (descriptor.name === undefined) return reject(new TypeError('Permissions.query: Missing required \'name\' member of PermissionDescriptor.'));
      const name = String(descriptor.name);
      if (!Object.prototype.hasOwnProperty.call(known, name)) {
        return reject(new TypeError(`Permissions.query: '${name}' (value of 'name' member of PermissionDescriptor) is not a valid value for enumeration PermissionName.`));
      }
      const answer = known[name];
      if (answer instanceof Error) return reject(answer);
      const status = new EngineStatus(name, answer) as unknown as Status;
      resolved.push(status);
      return Promise.resolve(status);
    }
  }
  // A WebIDL operation: writable, enumerable, configurable (a class method is not enumerable).
  Object.defineProperty(Permissions.prototype, 'query', { enumerable: true });
  const original = Permissions.prototype.query;
  return { Permissions, calls, errors, resolved, original };
}
type Engine = ReturnType<typeof engine>;

/** happy-dom has no ServiceWorkerRegistration: one without unregister(), enough for defineSharedGlobals(). */
class FakeRegistration {
  constructor(public scope = 'https://example.com/', public active: object | null = {}) {}
}

const saved = new Map<string, PropertyDescriptor | undefined>();
beforeEach(() => {
  for (const name of TOUCHED) saved.set(name, Object.getOwnPropertyDescriptor(globalThis, name));
  g.ServiceWorkerRegistration = class ServiceWorkerRegistration extends FakeRegistration {};
});
afterEach(() => {
  for (const name of TOUCHED) {
    const descriptor = saved.get(name);
    if (descriptor) Object.defineProperty(globalThis, name, descriptor);
    else delete g[name];
  }
  saved.clear();
  vi.restoreAllMocks();
});

/** Installs an engine knowing `known` as the global Permissions, then the polyfill's shared globals. */
function install(known: Record<string, string | Error> = { geolocation: 'prompt', notifications: 'denied' }): Engine & { permissions: { query: Query } } {
  const e = engine(known);
  g.Permissions = e.Permissions;
  grantPermissions();
  return { ...e, permissions: new e.Permissions() as unknown as { query: Query } };
}

/** Settles `promise` and returns its rejection reason; fails the test if it fulfils. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then((v) => {
    throw new Error(`expected a rejection, got ${JSON.stringify(v)}`);
  }, (e: unknown) => e);
}

describe('the patched query()', () => {
  it('replaces the engine\'s on Permissions.prototype, as a method like it: named query, length 1, writable, enumerable, configurable', () => {
    const e = install();
    const descriptor = Object.getOwnPropertyDescriptor(e.Permissions.prototype, 'query')!;
    expect(descriptor.value).not.toBe(e.original);
    expect(typeof descriptor.value).toBe('function');
    expect(descriptor.value.name).toBe('query');
    expect(descriptor.value.length).toBe(1);
    expect(e.permissions.query).toBe(descriptor.value); // what navigator.permissions.query is
    expect([descriptor.writable, descriptor.enumerable, descriptor.configurable]).toEqual([true, true, true]);
    // Its name is a non-writable, configurable own property, as a function's name is.
    expect(Object.getOwnPropertyDescriptor(descriptor.value, 'name'))
      .toEqual({ value: 'query', writable: false, enumerable: false, configurable: true });
  });

  it('returns a promise and never throws, for any argument', () => {
    const { permissions } = install();
    for (const args of [[], [undefined], [null], ['background-sync'], [{ name: 'background-sync' }], [{ name: 'x' }]]) {
      let result: unknown;
      expect(() => (result = permissions.query(...args))).not.toThrow();
      expect(result).toBeInstanceOf(Promise);
      (result as Promise<unknown>).catch(() => undefined);
    }
  });
});

describe('where the engine does not know the two names (it rejects them)', () => {
  it.each(['background-sync', 'periodic-background-sync'])('%s resolves with a granted status named as asked, an EventTarget with onchange null', async (name) => {
    const e = install();
    const descriptor = { name };
    const status = await e.permissions.query(descriptor);
    expect(status.state).toBe('granted');
    expect(status.name).toBe(name);
    expect(status.onchange).toBeNull();
    expect(status).toBeInstanceOf(EventTarget);
    // The engine was asked first, with the same this and descriptor, and did reject.
    expect(e.calls).toHaveLength(1);
    expect(e.calls[0].self).toBe(e.permissions);
    expect(e.calls[0].args[0]).toBe(descriptor);
    expect(e.errors).toHaveLength(1);
    expect(e.errors[0]).toBeInstanceOf(TypeError);
  });

  it('the granted status works as an EventTarget: a change listener can be added and is called', async () => {
    const { permissions } = install();
    const status = await permissions.query({ name: 'periodic-background-sync' });
    const listener = vi.fn();
    status.addEventListener('change', listener);
    status.dispatchEvent(new Event('change'));
    expect(listener).toHaveBeenCalledTimes(1);
    status.removeEventListener('change', listener);
    status.onchange = () => undefined; // assignable, as the attribute is
    expect(typeof status.onchange).toBe('function');
  });

  it('each name gets its own status: asking for both gives one of each', async () => {
    const { permissions } = install();
    const [a, b] = await Promise.all([
      permissions.query({ name: 'background-sync' }),
      permissions.query({ name: 'periodic-background-sync' }),
    ]);
    expect([a.name, a.state, b.name, b.state]).toEqual(['background-sync', 'granted', 'periodic-background-sync', 'granted']);
    expect(a).not.toBe(b);
  });

  it('extra descriptor members and extra arguments go to the engine as given', async () => {
    const e = install();
    const descriptor = { name: 'background-sync', userVisibleOnly: true };
    await e.permissions.query(descriptor, 'extra');
    expect(e.calls[0].args).toEqual([descriptor, 'extra']);
    expect(e.calls[0].args[0]).toBe(descriptor);
  });

  it.each([
    ['BACKGROUND-SYNC (names are case-sensitive)', 'BACKGROUND-SYNC'],
    ['background_sync', 'background_sync'],
    ['"background-sync " with a space', 'background-sync '],
    ['periodic-sync', 'periodic-sync'],
  ])('a near miss (%s) is not granted: the engine\'s rejection propagates', async (_name, name) => {
    const e = install();
    const error = await rejection(e.permissions.query({ name }));
    expect(error).toBe(e.errors[0]);
  });
});

describe('where the engine knows the two names (it resolves)', () => {
  it.each([
    ['denied', 'background-sync'],
    ['prompt', 'background-sync'],
    ['granted', 'background-sync'],
    ['denied', 'periodic-background-sync'],
    ['prompt', 'periodic-background-sync'],
  ])('its answer (%s for %s) is kept: the very status the engine resolved', async (state, name) => {
    const e = install({ [name]: state });
    const status = await e.permissions.query({ name });
    expect(e.resolved).toHaveLength(1);
    expect(status).toBe(e.resolved[0]);
    expect(status).toBeInstanceOf(EngineStatus);
    expect(status.state).toBe(state);
    expect(status.name).toBe(name);
    expect(e.calls).toHaveLength(1);
    expect(e.errors).toEqual([]);
  });

  it('one name known and the other not: the known one keeps the engine\'s answer, the other is granted', async () => {
    const e = install({ 'background-sync': 'denied' });
    expect((await e.permissions.query({ name: 'background-sync' })).state).toBe('denied');
    expect((await e.permissions.query({ name: 'periodic-background-sync' })).state).toBe('granted');
  });
});

describe('every other name goes to the engine untouched', () => {
  it.each([
    ['an unknown name', { name: 'unknown-thing' }],
    ['the empty name', { name: '' }],
    ['a name the engine does not know yet', { name: 'midi' }],
    ['a descriptor without name', {}],
  ])('%s: the engine\'s rejection propagates, the same error object', async (_what, descriptor) => {
    const e = install();
    const error = await rejection(e.permissions.query(descriptor));
    expect(e.errors).toHaveLength(1);
    expect(error).toBe(e.errors[0]);
    expect(error).toBeInstanceOf(TypeError);
  });

  it.each([
    ['no argument', []],
    ['undefined', [undefined]],
    ['null', [null]],
    ['a string naming a granted permission (not a descriptor)', ['background-sync']],
    ['a number', [5]],
  ])('%s: the engine\'s rejection propagates, the same error object', async (_what, args) => {
    const e = install();
    const error = await rejection(e.permissions.query(...args));
    expect(error).toBe(e.errors[0]);
  });

  it('an engine rejecting another name with something else than a TypeError: that same value', async () => {
    const error = new DOMException('The document is not fully active', 'InvalidStateError');
    const e = install({ geolocation: error });
    expect(await rejection(e.permissions.query({ name: 'geolocation' }))).toBe(error);
  });

  it.each([
    ['geolocation', 'prompt'],
    ['notifications', 'denied'],
    ['camera', 'granted'],
  ])('%s: the engine\'s resolution passes through (%s)', async (name, state) => {
    const e = install({ geolocation: 'prompt', notifications: 'denied', camera: 'granted' });
    const status = await e.permissions.query({ name });
    expect(status).toBeInstanceOf(EngineStatus);
    expect(status.name).toBe(name);
    expect(status.state).toBe(state);
    expect(e.calls).toHaveLength(1);
  });
});

describe('a this that is not a Permissions goes to the engine', () => {
  it.each([
    ['a plain object', () => ({})],
    ['undefined', () => undefined],
    ['an object made from the prototype', (e: Engine) => Object.create(e.Permissions.prototype)],
  ])('%s, asking for another name: the engine gets that this and its rejection propagates', async (_what, make) => {
    const e = install();
    const self = make(e);
    const error = await rejection((e.permissions.query as Query).call(self, { name: 'geolocation' }));
    expect(e.calls).toHaveLength(1);
    expect(e.calls[0].self).toBe(self);
    expect(error).toBe(e.errors[0]);
    expect((error as TypeError).message).toMatch(/does not implement interface Permissions/);
  });

  // The engine rejects a wrong `this` with a TypeError before it looks at the descriptor; the patch cannot tell that
  // TypeError from the one for an unknown name and answers "granted" instead of the brand check's rejection.
  it('asking for background-sync with a wrong this rejects with the engine\'s brand-check TypeError', async () => {
    const e = install();
    const error = await rejection((e.permissions.query as Query).call({}, { name: 'background-sync' }));
    expect(error).toBe(e.errors[0]);
  });
});

describe('the name as WebIDL converts it', () => {
  // PermissionDescriptor's name is converted to a string (ToString) by the engine; the patch compares the raw value,
  // so a name that converts to one of the two is not granted.
  it('a name that converts to "periodic-background-sync" (a String object) is granted too', async () => {
    const { permissions } = install();
    // eslint-disable-next-line no-new-wrappers
    const status = await permissions.query({ name: new String('periodic-background-sync') });
    expect(status.state).toBe('granted');
  });

  it('a name read through a getter is granted, named as the getter answers', async () => {
    const { permissions } = install();
    const get = vi.fn(() => 'background-sync');
    const status = await permissions.query(Object.defineProperty({}, 'name', { get, enumerable: true }));
    expect(status.state).toBe('granted');
    expect(status.name).toBe('background-sync');
    expect(get).toHaveBeenCalled();
  });
});

describe('installing', () => {
  it('without a Permissions global, nothing breaks and nothing is defined', () => {
    delete g.Permissions;
    expect(() => grantPermissions()).not.toThrow();
    expect(g.Permissions).toBeUndefined();
  });

  it.each([
    ['no query', {}],
    ['a query that is not a function', { query: 'nope' }],
  ])('a Permissions with %s is left alone', (_what, proto) => {
    function Permissions() {}
    Object.assign(Permissions.prototype, proto);
    const before = Object.getOwnPropertyDescriptor(Permissions.prototype, 'query');
    g.Permissions = Permissions;
    expect(() => grantPermissions()).not.toThrow();
    expect(Object.getOwnPropertyDescriptor(Permissions.prototype, 'query')).toEqual(before);
  });

  it('a query inherited by Permissions.prototype is wrapped on Permissions.prototype itself', async () => {
    const e = engine({ geolocation: 'prompt' });
    class Sub extends e.Permissions {}
    g.Permissions = Sub;
    grantPermissions();
    expect(Object.prototype.hasOwnProperty.call(Sub.prototype, 'query')).toBe(true);
    expect(e.Permissions.prototype.query).toBe(e.original);
    const permissions = new Sub() as unknown as { query: Query };
    expect((await permissions.query({ name: 'background-sync' })).state).toBe('granted');
    expect((await permissions.query({ name: 'geolocation' })).state).toBe('prompt');
  });

  it('installing twice still grants once, keeps the engine\'s answers and rejections, and is named query', async () => {
    const e = install();
    grantPermissions();
    const query = e.Permissions.prototype.query as unknown as Query;
    expect(query.name).toBe('query');
    const status = await e.permissions.query({ name: 'background-sync' });
    expect([status.name, status.state]).toEqual(['background-sync', 'granted']);
    expect((await e.permissions.query({ name: 'geolocation' })).state).toBe('prompt');
    const error = await rejection(e.permissions.query({ name: 'unknown' }));
    expect(error).toBe(e.errors[e.errors.length - 1]);
    // Each query reached the engine exactly once.
    expect(e.calls).toHaveLength(3);
  });
});
