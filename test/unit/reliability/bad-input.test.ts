/**
 * Bad input through the public API : a table of kinds of input, each with its expected outcome. Every
 * row is run through what an app actually calls: `registration.sync.register()` / `getTags()`,
 * `BackgroundSyncPolyfill.configure()`, the `SyncEvent` global and its `waitUntil`, and messages dispatched at the
 * worker's global scope. The polyfill is installed as in a service worker (the happy-dom window stands in for
 * `self`, as in test/unit/install.worker.test.ts).
 *
 * Promise-returning operations must never throw synchronously (WebIDL): a row that expects a rejection fails
 * if the call throws instead. Rows that only a real browser can produce say what unit-level stand-in they use.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { IDBFactory } from 'fake-indexeddb';
import { PROTOCOL_KEY, PROTOCOL_VERSION, poke } from '../../../src/protocol';
import { closeDatabase, list, storeRegistration } from '../../../src/store/db';
import { MAX_DELAY } from '../../../src/core/policy';
import {
  ExtendableEvent, SyncWorkerRegistration, WorkerRegistration, extendable, freshIndexedDB, installWorkerHalf, sleep, until,
  workerState,
} from '../helpers';

const SCOPE = 'https://example.com/bad-input/';
const g = globalThis as Record<string, unknown>;

type Registration = SyncWorkerRegistration;
type AnySyncManager = { register(...args: unknown[]): Promise<void>; getTags(...args: unknown[]): Promise<string[]> };
type AnySyncEvent = new (...args: unknown[]) => SyncEvent;

let registration: Registration;
let windows: Array<{ frameType: string }> = [];
let handler: (e: SyncEvent) => void = () => undefined;
const fired: Array<{ tag: string; lastChance: boolean }> = [];
const appMessages: unknown[] = [];
const appMessageErrors: unknown[] = [];
let warn: ReturnType<typeof vi.spyOn>;

const sync = () => registration.sync as unknown as AnySyncManager;
const tags = () => registration.sync.getTags();
const SyncEventCtor = () => g.SyncEvent as AnySyncEvent;
const configure = (options: unknown) => BackgroundSyncPolyfill.configure(options as BackgroundSyncPolyfillOptions);
const DEFAULTS = { maxAttempts: 3, initialRetryDelay: 300000, retryDelayFactor: 3, maxEventDuration: 180000 };

/** Dispatches a message event carrying `data` at the worker's global scope; returns the event. */
function post(data: unknown) {
  const message = extendable('message', data);
  dispatchEvent(message);
  return message;
}

/** As the active worker: posts `data` and returns the promise it handed to the event's waitUntil. */
function postToActive(data: unknown, check: (message: ReturnType<typeof post>) => void = () => undefined): unknown {
  workerState('activated');
  const message = post(data);
  check(message);
  return message.waitUntil.mock.calls[0][0];
}

/** A well-formed poke that wakes a pass with nothing to fire: its promise fulfils and the app never sees it. */
function wakesForNothing(kind: string, expected: string, run: () => unknown): Row {
  return {
    kind, expected, run,
    outcome: { resolves: undefined },
    after: () => {
      expect(appMessages).toEqual([]);
      expect(fired).toEqual([]);
    },
  };
}

/** The outcome of a message we must not wake for. */
const NOT_WOKEN: Outcome = { returns: (m) => expect((m as { waitUntil: ReturnType<typeof vi.fn> }).waitUntil).not.toHaveBeenCalled() };

/** Fires `tag` through the worker (activated), with `handle` as the app's sync handler; resolves once it fired. */
async function fireWith(tag: string, handle: (e: SyncEvent) => void): Promise<void> {
  workerState('activated');
  handler = handle;
  await storeRegistration(SCOPE, tag);
  await postToActive(poke(true));
}

beforeAll(async () => {
  const app = { windows: () => windows, fired, handler: () => handler, messages: appMessages };
  ({ registration, warn } = await installWorkerHalf(SCOPE, app));
  addEventListener('messageerror', (e) => void appMessageErrors.push((e as MessageEvent).data));
});
afterAll(() => warn.mockRestore());

beforeEach(async () => {
  freshIndexedDB();
  windows = [{ frameType: 'top-level' }];
  handler = () => undefined;
  // Only the active worker fires: rows about register() keep the worker "installed" so tags stay put.
  workerState('installed');
  configure(DEFAULTS);
  await sleep(5);
  fired.length = 0;
  appMessages.length = 0;
  appMessageErrors.length = 0;
});

// --- The table -------------------------------------------------------------------------------------------------

/** `name` is an error's name (TypeError, RangeError, or a DOMException name); `same` the very error expected. */
type Outcome =
  | { resolves: unknown }
  | { rejects: string; message?: RegExp; same?: unknown }
  | { throws: string; message?: RegExp; same?: unknown }
  | { returns: (value: unknown) => void };

interface Row {
  /** The kind of bad input. */
  kind: string;
  /** The expected outcome, in words (the `outcome` below checks it). */
  expected: string;
  run: () => unknown;
  outcome: Outcome;
  /** Further checks once the call has settled (what was stored, fired, seen by the app). */
  after?: () => void | Promise<void>;
  before?: () => unknown;
  /** For rows a unit test can only approximate: what stands in for the real thing. */
  standIn?: string;
}

const thrower = new Error('toString threw');
const getterError = new Error('getter threw');
const LONG = 10240;
const big = () => 'x'.repeat(16 * 1024 * 1024);

/** register(value) stores exactly `tag`, once, and nothing fires (the worker is not active in these rows). */
const storesExactly = (tag: string) => async () => expect(await tags()).toEqual([tag]);
const storesNothing = async () => expect(await tags()).toEqual([]);

const TABLE: Row[] = [
  // register(tag): WebIDL DOMString conversion (docs/semantics.md §1)
  { kind: 'register(Symbol())', expected: 'rejects TypeError, nothing stored', run: () => sync().register(Symbol('t')), outcome: { rejects: 'TypeError', message: /Symbol/ }, after: storesNothing },
  { kind: 'register(object whose toString throws)', expected: 'rejects with that same error', run: () => sync().register({ toString() { throw thrower; } }), outcome: { rejects: 'Error', same: thrower }, after: storesNothing },
  { kind: 'register(Proxy whose @@toPrimitive lookup throws)', expected: 'rejects with that same error', run: () => sync().register(new Proxy({}, { get() { throw getterError; } })), outcome: { rejects: 'Error', same: getterError }, after: storesNothing },
  { kind: 'register(object whose @@toPrimitive returns a Symbol)', expected: 'rejects TypeError', run: () => sync().register({ [Symbol.toPrimitive]: () => Symbol('s') }), outcome: { rejects: 'TypeError' }, after: storesNothing },
  { kind: 'register() with no argument', expected: 'rejects TypeError (1 argument required)', run: () => sync().register(), outcome: { rejects: 'TypeError', message: /1 argument required/ }, after: storesNothing },
  { kind: 'register("")', expected: 'resolves undefined; "" is a valid tag', run: () => sync().register(''), outcome: { resolves: undefined }, after: storesExactly('') },
  { kind: `register(a tag of exactly ${LONG} characters)`, expected: 'resolves; stored whole', run: () => sync().register('l'.repeat(LONG)), outcome: { resolves: undefined }, after: storesExactly('l'.repeat(LONG)) },
  { kind: `register(a tag of ${LONG + 1} characters)`, expected: 'rejects InvalidAccessError (Chromium\'s limit), nothing stored', run: () => sync().register('l'.repeat(LONG + 1)), outcome: { rejects: 'InvalidAccessError', message: /longer than 10240/ }, after: storesNothing },
  { kind: 'register(a megabyte-long tag)', expected: 'rejects InvalidAccessError without touching storage', run: () => sync().register('m'.repeat(1 << 20)), outcome: { rejects: 'InvalidAccessError' }, after: storesNothing },
  { kind: 'register(5120 emoji: 10240 UTF-16 code units)', expected: 'resolves (the limit counts string length, as JS does)', run: () => sync().register('😀'.repeat(5120)), outcome: { resolves: undefined }, after: storesExactly('😀'.repeat(5120)) },
  { kind: 'register(a lone high surrogate "\\uD800")', expected: 'resolves; kept as is (DOMString, not USVString: no U+FFFD)', run: () => sync().register('\uD800'), outcome: { resolves: undefined }, after: storesExactly('\uD800') },
  { kind: 'register(a lone low surrogate inside text "x\\uDC00y")', expected: 'resolves; kept as is', run: () => sync().register('x\uDC00y'), outcome: { resolves: undefined }, after: storesExactly('x\uDC00y') },
  { kind: 'register(a reversed surrogate pair "\\uDC00\\uD800")', expected: 'resolves; kept as is', run: () => sync().register('\uDC00\uD800'), outcome: { resolves: undefined }, after: storesExactly('\uDC00\uD800') },
  { kind: 'register(NUL and control characters)', expected: 'resolves; kept as is', run: () => sync().register('a\u0000b\u0007\u001b'), outcome: { resolves: undefined }, after: storesExactly('a\u0000b\u0007\u001b') },
  { kind: 'register("a\\nb"), a line feed (our key separator)', expected: 'resolves; distinct from "a" and "b"', before: async () => { await sync().register('a'); await sync().register('b'); }, run: () => sync().register('a\nb'), outcome: { resolves: undefined }, after: async () => expect(await tags()).toEqual(['a', 'b', 'a\nb']) },
  { kind: 'register of NFC "é" and NFD "e\\u0301"', expected: 'two distinct tags: no Unicode normalization', before: () => sync().register('\u00e9'), run: () => sync().register('e\u0301'), outcome: { resolves: undefined }, after: async () => expect(await tags()).toEqual(['\u00e9', 'e\u0301']) },
  { kind: 'register(RTL override, zero-width joiner, a family emoji)', expected: 'resolves; kept as is', run: () => sync().register('\u202Eevil\u200D👩‍👩‍👧'), outcome: { resolves: undefined }, after: storesExactly('\u202Eevil\u200D👩‍👩‍👧') },
  { kind: 'register(a tag that looks like our protocol key)', expected: 'resolves; just a tag', run: () => sync().register(PROTOCOL_KEY), outcome: { resolves: undefined }, after: storesExactly(PROTOCOL_KEY) },
  { kind: 'register(42), register(-0), register(NaN)', expected: 'converted with String(): "42", "0", "NaN"', before: async () => { await sync().register(42); await sync().register(-0); }, run: () => sync().register(NaN), outcome: { resolves: undefined }, after: async () => expect(await tags()).toEqual(['42', '0', 'NaN']) },
  { kind: 'register(null), register(undefined)', expected: 'converted: "null", "undefined" (an explicit undefined is an argument)', before: () => sync().register(null), run: () => sync().register(undefined), outcome: { resolves: undefined }, after: async () => expect(await tags()).toEqual(['null', 'undefined']) },
  { kind: 'register(["a", "b"]), register(10n)', expected: 'converted: "a,b", "10"', before: () => sync().register(['a', 'b']), run: () => sync().register(BigInt(10)), outcome: { resolves: undefined }, after: async () => expect(await tags()).toEqual(['a,b', '10']) },
  { kind: 'register(object whose toString returns an object, valueOf 5)', expected: 'converted through valueOf: "5"', run: () => sync().register({ toString: () => ({}), valueOf: () => 5 }), outcome: { resolves: undefined }, after: storesExactly('5') },
  { kind: 'register("t", extra arguments)', expected: 'resolves; extra arguments ignored', run: () => sync().register('t', { minInterval: 1 }, 3), outcome: { resolves: undefined }, after: storesExactly('t') },
  // register(): where it is called from
  { kind: 'register() on a wrong this (a plain object)', expected: 'rejects TypeError (Illegal invocation), never throws', run: () => (SyncManager.prototype.register as (...a: unknown[]) => Promise<void>).call({}, 't'), outcome: { rejects: 'TypeError', message: /Illegal invocation/ } },
  { kind: 'register() before activation (installing, no active worker)', expected: 'rejects InvalidStateError "no active Service Worker", before the tag is even checked', run: () => (new WorkerRegistration(SCOPE, null, {}) as Registration).sync.register('x'.repeat(LONG + 1)), outcome: { rejects: 'InvalidStateError', message: /no active Service Worker/ }, after: storesNothing },
  {
    kind: 'register() on an unregistered registration',
    expected: 'once its worker is gone (active null): rejects InvalidStateError',
    standIn: 'a registration object whose active worker is null, as after unregister() once the worker is redundant',
    run: () => (new WorkerRegistration(SCOPE, null) as Registration).sync.register('gone'),
    outcome: { rejects: 'InvalidStateError' },
    after: storesNothing,
  },
  {
    kind: 'register() on an unregistered registration whose worker still runs',
    expected: 'resolves, and the first worker of the next registration of the scope drops the tag, as Chromium drops an unregistered scope\'s tags',
    standIn: 'the install event of the next registration\'s first worker: dispatched at this worker\'s global while its registration has no active worker',
    run: () => (new WorkerRegistration(SCOPE, {}) as Registration).sync.register('orphan'),
    outcome: { resolves: undefined },
    after: async () => {
      expect(await tags()).toEqual(['orphan']);
      const active = registration.active;
      registration.active = null;
      try {
        dispatchEvent(extendable('install'));
        await until(async () => (await list(SCOPE)).length === 0, 2000, 'the sweep at install');
      } finally {
        registration.active = active;
      }
    },
  },
  {
    kind: 'register() in a detached iframe',
    expected: 'rejects UnknownError that names the cause; nothing stored, nothing thrown',
    standIn: 'the frame\'s storage is gone: indexedDB.open() throws InvalidStateError, as a detached document\'s factory does; the real thing is for the browser tests',
    before: () => {
      closeDatabase();
      const factory = g.indexedDB as IDBFactory;
      vi.spyOn(factory, 'open').mockImplementation(() => {
        throw new DOMException('The document is detached.', 'InvalidStateError');
      });
    },
    run: () => sync().register('from-iframe'),
    outcome: { rejects: 'UnknownError', message: /InvalidStateError/ },
    after: async () => {
      vi.restoreAllMocks();
      warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
      expect(await tags()).toEqual([]);
    },
  },
  { kind: 'register() from the worker with no window open', expected: 'rejects InvalidAccessError (docs/semantics.md §2 step 3)', before: () => (windows = []), run: () => sync().register('t'), outcome: { rejects: 'InvalidAccessError', message: /without a window/ }, after: storesNothing },
  { kind: 'register() from the worker with only a nested frame open', expected: 'rejects InvalidAccessError: only top-level windows count', before: () => (windows = [{ frameType: 'nested' }]), run: () => sync().register('t'), outcome: { rejects: 'InvalidAccessError' }, after: storesNothing },
  { kind: 'getTags() on a wrong this', expected: 'rejects TypeError, never throws', run: () => (SyncManager.prototype.getTags as (...a: unknown[]) => Promise<string[]>).call(Object.create(SyncManager.prototype)), outcome: { rejects: 'TypeError' } },
  { kind: 'getTags(with, arguments)', expected: 'resolves; arguments ignored', before: () => sync().register('t'), run: () => sync().getTags('x', 1), outcome: { resolves: ['t'] } },
  { kind: 'new SyncManager()', expected: 'throws TypeError (Illegal constructor)', run: () => new (SyncManager as unknown as new () => unknown)(), outcome: { throws: 'TypeError', message: /Illegal constructor/ } },

  // configure(): a TypeError or RangeError that names the option
  { kind: 'configure() with no argument', expected: 'throws TypeError: options must be an object', run: () => (BackgroundSyncPolyfill.configure as () => void)(), outcome: { throws: 'TypeError', message: /options must be an object/ } },
  { kind: 'configure(null)', expected: 'throws TypeError', run: () => configure(null), outcome: { throws: 'TypeError', message: /options must be an object/ } },
  { kind: 'configure("fast")', expected: 'throws TypeError', run: () => configure('fast'), outcome: { throws: 'TypeError' } },
  { kind: 'configure({ maxAttempts: "3" })', expected: 'throws TypeError naming maxAttempts', run: () => configure({ maxAttempts: '3' }), outcome: { throws: 'TypeError', message: /maxAttempts must be a number, got string/ } },
  { kind: 'configure({ maxAttempts: 0 })', expected: 'throws RangeError naming maxAttempts', run: () => configure({ maxAttempts: 0 }), outcome: { throws: 'RangeError', message: /maxAttempts/ } },
  { kind: 'configure({ maxAttempts: -1 })', expected: 'throws RangeError naming maxAttempts', run: () => configure({ maxAttempts: -1 }), outcome: { throws: 'RangeError', message: /maxAttempts .* got -1/ } },
  { kind: 'configure({ maxAttempts: 2.5 })', expected: 'throws RangeError: an integer', run: () => configure({ maxAttempts: 2.5 }), outcome: { throws: 'RangeError', message: /maxAttempts must be an integer/ } },
  { kind: 'configure({ maxAttempts: NaN })', expected: 'throws RangeError naming maxAttempts', run: () => configure({ maxAttempts: NaN }), outcome: { throws: 'RangeError', message: /maxAttempts .* got NaN/ } },
  { kind: 'configure({ maxAttempts: Infinity })', expected: 'throws RangeError', run: () => configure({ maxAttempts: Infinity }), outcome: { throws: 'RangeError', message: /maxAttempts/ } },
  { kind: 'configure({ maxAttempts: 2 ** 31 }) (huge)', expected: 'throws RangeError: at most 2147483647', run: () => configure({ maxAttempts: 2 ** 31 }), outcome: { throws: 'RangeError', message: /maxAttempts .*2147483647/ } },
  { kind: 'configure({ initialRetryDelay: -1 })', expected: 'throws RangeError naming initialRetryDelay', run: () => configure({ initialRetryDelay: -1 }), outcome: { throws: 'RangeError', message: /initialRetryDelay/ } },
  { kind: 'configure({ initialRetryDelay: 1e20 })', expected: 'throws RangeError naming initialRetryDelay', run: () => configure({ initialRetryDelay: 1e20 }), outcome: { throws: 'RangeError', message: /initialRetryDelay/ } },
  { kind: 'configure({ retryDelayFactor: 0.5 })', expected: 'throws RangeError naming retryDelayFactor (delays must not shrink)', run: () => configure({ retryDelayFactor: 0.5 }), outcome: { throws: 'RangeError', message: /retryDelayFactor/ } },
  { kind: 'configure({ retryDelayFactor: NaN })', expected: 'throws RangeError naming retryDelayFactor', run: () => configure({ retryDelayFactor: NaN }), outcome: { throws: 'RangeError', message: /retryDelayFactor/ } },
  { kind: 'configure({ maxEventDuration: 0 })', expected: 'throws RangeError naming maxEventDuration', run: () => configure({ maxEventDuration: 0 }), outcome: { throws: 'RangeError', message: /maxEventDuration/ } },
  { kind: 'configure({ maxEventDuration: "60000" })', expected: 'throws TypeError naming maxEventDuration', run: () => configure({ maxEventDuration: '60000' }), outcome: { throws: 'TypeError', message: /maxEventDuration/ } },
  { kind: 'configure({ maxEventDuration: 60000n }) (a BigInt)', expected: 'throws TypeError naming maxEventDuration', run: () => configure({ maxEventDuration: BigInt(60000) }), outcome: { throws: 'TypeError', message: /maxEventDuration must be a number, got bigint/ } },
  { kind: 'configure({ maxEventDuration: new Number(5) })', expected: 'throws TypeError: a Number object is not a number', run: () => configure({ maxEventDuration: Object(5) }), outcome: { throws: 'TypeError', message: /maxEventDuration/ } },
  { kind: 'configure({ checkInterval: -5 })', expected: 'throws RangeError naming checkInterval', run: () => configure({ checkInterval: -5 }), outcome: { throws: 'RangeError', message: /checkInterval/ } },
  { kind: 'configure({ debug: "yes" })', expected: 'throws TypeError naming debug', run: () => configure({ debug: 'yes' }), outcome: { throws: 'TypeError', message: /debug must be a boolean/ } },
  { kind: 'configure(options whose getter throws)', expected: 'throws that same error', run: () => configure({ get maxAttempts() { throw getterError; } }), outcome: { throws: 'Error', same: getterError } },
  {
    kind: 'configure({ maxAttempts: 1, maxEventDuration: -1 }): one good option, one bad',
    expected: 'throws RangeError and changes nothing (maxAttempts stays 3: the first firing is not the last chance)',
    run: () => configure({ maxAttempts: 1, maxEventDuration: -1 }),
    outcome: { throws: 'RangeError', message: /maxEventDuration/ },
    after: async () => {
      await fireWith('unchanged', () => undefined);
      expect(fired).toEqual([{ tag: 'unchanged', lastChance: false }]);
    },
  },
  { kind: 'configure({ maxAtempts: 5 }) (a misspelt option)', expected: 'returns; unknown members are ignored, as in a WebIDL dictionary', run: () => configure({ maxAtempts: 5 }), outcome: { returns: (v) => expect(v).toBeUndefined() } },
  { kind: `configure() at the limits (1, 0, 1, ${MAX_DELAY})`, expected: 'returns', run: () => configure({ maxAttempts: 1, initialRetryDelay: 0, retryDelayFactor: 1, maxEventDuration: MAX_DELAY }), outcome: { returns: (v) => expect(v).toBeUndefined() } },

  // new SyncEvent(type, init)
  { kind: 'new SyncEvent("sync")', expected: 'throws TypeError: 2 arguments required', run: () => new (SyncEventCtor())('sync'), outcome: { throws: 'TypeError', message: /2 arguments required/ } },
  { kind: 'new SyncEvent("sync", {})', expected: 'throws TypeError: tag is required', run: () => new (SyncEventCtor())('sync', {}), outcome: { throws: 'TypeError', message: /tag/ } },
  { kind: 'new SyncEvent("sync", null)', expected: 'throws TypeError', run: () => new (SyncEventCtor())('sync', null), outcome: { throws: 'TypeError' } },
  { kind: 'new SyncEvent("sync", "outbox") (a string init)', expected: 'throws TypeError: the init must be an object', run: () => new (SyncEventCtor())('sync', 'outbox'), outcome: { throws: 'TypeError' } },
  { kind: 'new SyncEvent("sync", { tag: undefined })', expected: 'throws TypeError: tag is required', run: () => new (SyncEventCtor())('sync', { tag: undefined }), outcome: { throws: 'TypeError' } },
  { kind: 'new SyncEvent("sync", { tag: Symbol() })', expected: 'throws TypeError', run: () => new (SyncEventCtor())('sync', { tag: Symbol('t') }), outcome: { throws: 'TypeError' } },
  { kind: 'new SyncEvent(Symbol(), { tag: "t" })', expected: 'throws TypeError', run: () => new (SyncEventCtor())(Symbol('type'), { tag: 't' }), outcome: { throws: 'TypeError' } },
  { kind: 'new SyncEvent("sync", { get tag() { throw } })', expected: 'throws that same error', run: () => new (SyncEventCtor())('sync', { get tag() { throw getterError; } }), outcome: { throws: 'Error', same: getterError } },
  { kind: 'SyncEvent("sync", { tag: "t" }) without new', expected: 'throws TypeError', run: () => (SyncEventCtor() as unknown as (...a: unknown[]) => unknown)('sync', { tag: 't' }), outcome: { throws: 'TypeError' } },
  { kind: 'new SyncEvent("sync", { tag: null, lastChance: "no" })', expected: 'tag "null"; lastChance true (WebIDL boolean: a non-empty string is true)', run: () => new (SyncEventCtor())('sync', { tag: null, lastChance: 'no' }), outcome: { returns: (e) => expect([(e as SyncEvent).tag, (e as SyncEvent).lastChance]).toEqual(['null', true]) } },
  { kind: 'new SyncEvent("", { tag: "", lastChance: 0 })', expected: 'type "", tag "", lastChance false', run: () => new (SyncEventCtor())('', { tag: '', lastChance: 0 }), outcome: { returns: (e) => expect([(e as SyncEvent).type, (e as SyncEvent).tag, (e as SyncEvent).lastChance]).toEqual(['', '', false]) } },
  { kind: 'new SyncEvent("sync", a function with a tag property)', expected: 'a callable object is a valid dictionary: tag taken from it', run: () => new (SyncEventCtor())('sync', Object.assign(() => undefined, { tag: 'fn' })), outcome: { returns: (e) => expect((e as SyncEvent).tag).toBe('fn') } },

  // waitUntil()
  {
    kind: 'waitUntil() called late, after the event and its promises are done',
    expected: 'throws InvalidStateError',
    before: async () => {
      let captured: SyncEvent | undefined;
      await fireWith('late', (e) => (captured = e));
      await sleep(5);
      lateEvent = captured;
    },
    run: () => lateEvent!.waitUntil(Promise.resolve()),
    outcome: { throws: 'InvalidStateError' },
  },
  {
    kind: 'waitUntil(42), not a promise',
    expected: 'accepted as a fulfilled promise: the sync succeeds and the registration is removed',
    run: () => fireWith('non-promise', (e) => e.waitUntil(42 as unknown as Promise<unknown>)),
    outcome: { resolves: undefined },
    after: async () => {
      expect(fired.map((f) => f.tag)).toEqual(['non-promise']);
      await until(async () => (await list(SCOPE)).length === 0, 5000, 'removal after success');
    },
  },
  {
    kind: 'waitUntil(a thenable that rejects)',
    expected: 'the sync fails: the registration waits for its retry with 1 attempt',
    run: () => fireWith('thenable', (e) => e.waitUntil({ then: (_: unknown, reject: (e: Error) => void) => reject(new Error('no')) } as unknown as Promise<unknown>)),
    outcome: { resolves: undefined },
    after: async () => expect((await list(SCOPE))[0]).toMatchObject({ tag: 'thenable', state: 'waiting', attempts: 1 }),
  },
  {
    kind: 'waitUntil() with no argument, during dispatch',
    expected: 'throws TypeError inside the handler; the listener error does not decide the outcome (the sync succeeds)',
    run: () => fireWith('no-arg', (e) => {
      let error: unknown;
      try {
        (e.waitUntil as () => void)();
      } catch (err) {
        error = err;
      }
      noArgError = error;
    }),
    outcome: { resolves: undefined },
    after: async () => {
      expect(noArgError).toBeInstanceOf(TypeError);
      await until(async () => (await list(SCOPE)).length === 0, 5000, 'removal after success');
    },
  },
  { kind: 'waitUntil on a wrong this', expected: 'throws TypeError (Illegal invocation)', run: () => (SyncEventCtor().prototype.waitUntil as (p: unknown) => void).call(new ExtendableEvent('sync'), Promise.resolve()), outcome: { throws: 'TypeError', message: /Illegal invocation/ } },

  // Messages posted to the worker
  wakesForNothing(
    'a forged but well-formed poke, nothing registered',
    'swallowed (the app never sees it), wakes a pass that fires nothing; its promise fulfils',
    () => postToActive(poke(true)),
  ),
  {
    kind: 'a forged poke saying offline, with a registration pending',
    expected: 'that pass fires nothing; the next wake-up (with no page view) fires it',
    before: () => storeRegistration(SCOPE, 'pending'),
    run: () => postToActive(poke(false)),
    outcome: { resolves: undefined },
    after: async () => {
      expect(fired).toEqual([]);
      dispatchEvent(new Event('online'));
      await until(() => fired.length === 1, 5000, 'the next pass');
      expect(appMessages).toEqual([]);
    },
  },
  ...([
    ['a malformed poke (online: "yes")', { [PROTOCOL_KEY]: PROTOCOL_VERSION, online: 'yes' }],
    ['a poke of another version', { [PROTOCOL_KEY]: PROTOCOL_VERSION + 1, online: true }],
    ['our key with a null value', { [PROTOCOL_KEY]: null }],
    ['our key with an object value', { [PROTOCOL_KEY]: { nested: [1, 2, 3] }, online: true }],
  ] as Array<[string, unknown]>).map(([kind, data]): Row => ({
    kind: `${kind} posted to the worker`,
    expected: 'swallowed without throwing or waking; the app never sees it',
    run: () => post(data),
    outcome: NOT_WOKEN,
    after: () => expect(appMessages).toEqual([]),
  })),
  {
    kind: 'an oversized malformed message with our key (a 16 MB string as its value)',
    expected: 'swallowed without waking; the app never sees it',
    run: () => post({ [PROTOCOL_KEY]: big() }),
    outcome: NOT_WOKEN,
    after: () => expect(appMessages).toEqual([]),
  },
  wakesForNothing(
    'an oversized well-formed poke (16 MB of extra fields)',
    'a poke like any other: one pass, the extra data ignored; the app never sees it',
    () => postToActive({ ...poke(true), payload: big() }, (message) => expect(message.waitUntil).toHaveBeenCalledTimes(1)),
  ),
  {
    kind: 'an oversized app message (a 16 MB string)',
    expected: 'reaches the app untouched; we do not wake',
    run: () => post(big()),
    outcome: NOT_WOKEN,
    after: () => {
      expect(appMessages).toHaveLength(1);
      expect((appMessages[0] as string).length).toBe(16 * 1024 * 1024);
    },
  },
  ...([
    ['an app message that is our key as a string', PROTOCOL_KEY],
    ['an app message holding a poke inside an array', [poke(true)]],
    ['an app message with no data', undefined],
    ['an app message that is deeply nested', JSON.parse('['.repeat(5000) + ']'.repeat(5000)) as unknown],
  ] as Array<[string, unknown]>).map(([kind, data]): Row => ({
    kind,
    expected: 'reaches the app untouched; we do not wake',
    run: () => post(data),
    outcome: NOT_WOKEN,
    after: () => expect(appMessages).toEqual([data]),
  })),
  {
    kind: 'a messageerror event (a message that could not be deserialized)',
    expected: 'ignored by us; the app\'s messageerror handler gets it',
    run: () => dispatchEvent(extendable('messageerror', null)),
    outcome: { returns: (v) => expect(v).toBe(true) },
    after: () => expect(appMessageErrors).toEqual([null]),
  },
];

let lateEvent: SyncEvent | undefined;
let noArgError: unknown;

const DOM_ERRORS = ['InvalidStateError', 'InvalidAccessError', 'UnknownError'];

function checkError(error: unknown, name: string, message?: RegExp, same?: unknown): void {
  if (same !== undefined) expect(error).toBe(same);
  expect((error as Error).name).toBe(name);
  if (name === 'TypeError') expect(error).toBeInstanceOf(TypeError);
  if (name === 'RangeError') expect(error).toBeInstanceOf(RangeError);
  if (DOM_ERRORS.includes(name)) expect(error).toBeInstanceOf(DOMException);
  if (message) expect((error as Error).message).toMatch(message);
}

describe('bad input through the public API', () => {
  it('the table has at least 25 kinds, each described', () => {
    expect(TABLE.length).toBeGreaterThanOrEqual(25);
    expect(new Set(TABLE.map((r) => r.kind)).size).toBe(TABLE.length);
    for (const row of TABLE) expect(row.expected.length).toBeGreaterThan(0);
  });

  it.each(TABLE.map((row) => [row.kind, row.expected, row] as const))('%s → %s', async (_kind, _expected, row) => {
    await row.before?.();
    const { outcome } = row;
    let result: unknown;
    let thrown: { error: unknown } | undefined;
    try {
      result = row.run();
    } catch (error) {
      thrown = { error };
    }
    if ('throws' in outcome) {
      expect(thrown, 'expected a synchronous throw').toBeDefined();
      checkError(thrown!.error, outcome.throws, outcome.message, outcome.same);
    } else {
      if (thrown) throw new Error(`threw synchronously instead: ${String(thrown.error)}`);
      if ('rejects' in outcome) {
        expect(result).toBeInstanceOf(Promise);
        const error = await (result as Promise<unknown>).then((v) => {
          throw new Error(`expected a rejection, got ${String(v)}`);
        }, (e: unknown) => e);
        checkError(error, outcome.rejects, outcome.message, outcome.same);
      } else if ('resolves' in outcome) {
        expect(result).toBeInstanceOf(Promise);
        expect(await result).toEqual(outcome.resolves);
      } else {
        outcome.returns(result);
      }
    }
    await row.after?.();
  });
});
