/**
 * The worker host (src/worker/install.ts) through install('worker'), over the fake ServiceWorkerGlobalScope of
 * test/unit/helpers.ts: the requests pages send it (src/protocol.ts `Request`, answered on the port sent with it),
 * the install-event sweep of an earlier registration's tags, and registration.sync called in the worker (the top-level
 * window check, the store, the wake-up after resolving, storage failures as UnknownError). Its own file: the worker
 * half adds listeners to `self` that cannot be removed.
 */
import { MockInstance, afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { Answer, PROTOCOL_KEY, PROTOCOL_VERSION, request } from '../../../src/protocol';
import { closeDatabase, list, storeRegistration } from '../../../src/store/db';
import { Dispatcher } from '../../../src/worker/dispatcher';
import { dropTags, pageHost } from '../../../src/page/host';
import {
  SyncWorkerRegistration, extendable, freshIndexedDB, installWorkerHalf, sleep, until, workerState,
} from '../helpers';

const SCOPE = 'https://example.com/requests/';
const OTHER = 'https://example.com/requests-other/';
const g = globalThis as Record<string, unknown>;

let registration: SyncWorkerRegistration;
let windows: Array<{ frameType: string }> = [];
const fired: Array<{ tag: string; lastChance: boolean }> = [];
const appMessages: unknown[] = [];
let warn: MockInstance<typeof console.warn>;
let runs: MockInstance<Dispatcher['run']>;

const tagsOf = async (scope: string) => (await list(scope)).map((r) => r.tag);

/** A port as the engine hands it over: what the worker posts on it is recorded. */
function fakePort() {
  return { postMessage: vi.fn<(answer: Answer) => void>() };
}

/**
 * Posts `data` to the worker as a page's request with a port; resolves once the promise the worker handed to the
 * event's waitUntil has settled (it must fulfil), with the event and the port.
 */
async function send(data: unknown) {
  const port = fakePort();
  const event = extendable('message', data, [port]);
  dispatchEvent(event);
  expect(event.waitUntil).toHaveBeenCalledTimes(1);
  await expect(event.waitUntil.mock.calls[0][0]).resolves.toBeUndefined();
  return { event, port };
}

/** The one answer posted on `port`. */
function answerOn(port: ReturnType<typeof fakePort>): Answer {
  expect(port.postMessage).toHaveBeenCalledTimes(1);
  return port.postMessage.mock.calls[0][0];
}

beforeAll(async () => {
  const app = { windows: () => windows, fired, handler: () => () => undefined, messages: appMessages };
  ({ registration, warn } = await installWorkerHalf(SCOPE, app));
});
afterAll(() => warn.mockRestore());

beforeEach(async () => {
  freshIndexedDB();
  windows = [{ frameType: 'top-level' }];
  // Only the active worker fires: most tests keep it "installed" so that what they store stays put.
  workerState('installed');
  registration.active = {};
  await sleep(5);
  fired.length = 0;
  appMessages.length = 0;
  warn.mockClear();
  runs?.mockRestore();
  runs = vi.spyOn(Dispatcher.prototype, 'run');
});

describe('a page\'s request (src/protocol.ts), answered on its port', () => {
  it('"register" stores the tags in order and answers {}; the app never sees the message', async () => {
    const { port } = await send(request('register', ['a', 'b', 'c']));
    expect(answerOn(port)).toEqual({});
    expect(await tagsOf(SCOPE)).toEqual(['a', 'b', 'c']);
    expect(await list(SCOPE)).toEqual(expect.arrayContaining([expect.objectContaining({ tag: 'a', state: 'pending', attempts: 0 })]));
    expect(appMessages).toEqual([]);
  });

  it('"register" coalesces a repeated tag and one already stored, as register() does', async () => {
    await storeRegistration(SCOPE, 'b');
    const { port } = await send(request('register', ['a', 'b', 'a']));
    expect(answerOn(port)).toEqual({});
    expect(await tagsOf(SCOPE)).toEqual(['b', 'a']);
  });

  it('"register" stores under the worker\'s own scope, whatever page asked', async () => {
    await send(request('register', ['mine']));
    expect(await tagsOf(SCOPE)).toEqual(['mine']);
    expect(await tagsOf(OTHER)).toEqual([]);
  });

  it('"register" answers first, then wakes the dispatcher, under the event\'s waitUntil: what it stored fires', async () => {
    workerState('activated');
    const port = fakePort();
    let answeredBeforeFiring: boolean | undefined;
    addEventListener('sync', () => (answeredBeforeFiring ??= port.postMessage.mock.calls.length === 1), { once: true });
    const event = extendable('message', request('register', ['now']), [port]);
    dispatchEvent(event);
    await event.waitUntil.mock.calls[0][0];
    // The pass and the event it fired are over once the promise handed to waitUntil settles.
    expect(fired).toEqual([{ tag: 'now', lastChance: false }]);
    expect(answeredBeforeFiring).toBe(true);
    expect(answerOn(port)).toEqual({});
    await until(async () => (await list(SCOPE)).length === 0);
  });

  it('"tags" answers the scope\'s tags in registration order, and only those', async () => {
    expect(answerOn((await send(request('tags'))).port)).toEqual({ tags: [] });
    await storeRegistration(SCOPE, 'two');
    await storeRegistration(OTHER, 'elsewhere');
    await storeRegistration(SCOPE, 'one');
    expect(answerOn((await send(request('tags'))).port)).toEqual({ tags: ['two', 'one'] });
    expect(appMessages).toEqual([]);
  });

  it('"drop" removes every record of the worker\'s scope and no other, and answers {}', async () => {
    await storeRegistration(SCOPE, 'a');
    await storeRegistration(SCOPE, 'b');
    await storeRegistration(OTHER, 'kept');
    const { port } = await send(request('drop'));
    expect(answerOn(port)).toEqual({});
    expect(await list(SCOPE)).toEqual([]);
    expect(await tagsOf(OTHER)).toEqual(['kept']);
    expect(appMessages).toEqual([]);
  });

  it('a "register" request at the tag limit (10240 characters) is stored whole', async () => {
    const { port } = await send(request('register', ['l'.repeat(10240)]));
    expect(answerOn(port)).toEqual({});
    expect(await tagsOf(SCOPE)).toEqual(['l'.repeat(10240)]);
  });

  it.each([
    ['without tags', { [PROTOCOL_KEY]: PROTOCOL_VERSION, op: 'register' }],
    ['with tags null', { [PROTOCOL_KEY]: PROTOCOL_VERSION, op: 'register', tags: null }],
    ['with tags a string', { [PROTOCOL_KEY]: PROTOCOL_VERSION, op: 'register', tags: 'a' }],
    ['with tags an array-like object', { [PROTOCOL_KEY]: PROTOCOL_VERSION, op: 'register', tags: { length: 1, 0: 'a' } }],
    ['with a number among the tags', { [PROTOCOL_KEY]: PROTOCOL_VERSION, op: 'register', tags: ['ok', 5] }],
    ['with null among the tags', { [PROTOCOL_KEY]: PROTOCOL_VERSION, op: 'register', tags: [null] }],
    ['with a String object among the tags', { [PROTOCOL_KEY]: PROTOCOL_VERSION, op: 'register', tags: [Object('s')] }],
    ['with a tag of 10241 characters', { [PROTOCOL_KEY]: PROTOCOL_VERSION, op: 'register', tags: ['ok', 'x'.repeat(10241)] }],
  ])('a malformed "register" request (%s) is answered with an error and stores nothing', async (_name, data) => {
    const { port } = await send(data);
    const answer = answerOn(port);
    expect(answer.error).toEqual(['TypeError', 'malformed register request']);
    expect(answer.tags).toBeUndefined();
    expect(await list(SCOPE)).toEqual([]);
    expect(appMessages).toEqual([]);
  });

  it.each([
    ['an unknown op', { [PROTOCOL_KEY]: PROTOCOL_VERSION, op: 'clear' }],
    ['another version', { [PROTOCOL_KEY]: PROTOCOL_VERSION + 1, op: 'drop' }],
    ['no op', { [PROTOCOL_KEY]: PROTOCOL_VERSION, tags: ['a'] }],
  ])('a request with %s is swallowed: not answered, not acted on, not seen by the app', async (_name, data) => {
    await storeRegistration(SCOPE, 'kept');
    const port = fakePort();
    const event = extendable('message', data, [port]);
    expect(() => dispatchEvent(event)).not.toThrow();
    expect(event.waitUntil).not.toHaveBeenCalled();
    await sleep(20);
    expect(port.postMessage).not.toHaveBeenCalled();
    expect(await tagsOf(SCOPE)).toEqual(['kept']);
    expect(appMessages).toEqual([]);
  });

  it('a well-formed request without a port is swallowed and not acted on (nobody could hear the answer)', async () => {
    await storeRegistration(SCOPE, 'kept');
    for (const [data, ports] of [[request('drop'), undefined], [request('register', ['x']), []]] as const) {
      const event = extendable('message', data, ports);
      dispatchEvent(event);
      expect(event.waitUntil).not.toHaveBeenCalled();
    }
    await sleep(20);
    expect(await tagsOf(SCOPE)).toEqual(['kept']);
    expect(appMessages).toEqual([]);
  });

  it('the app\'s own message with a port reaches the app untouched, and we post nothing on its port', async () => {
    const port = fakePort();
    const data = { op: 'register', tags: ['app'] };
    const event = extendable('message', data, [port]);
    dispatchEvent(event);
    expect(event.waitUntil).not.toHaveBeenCalled();
    expect(appMessages).toEqual([data]);
    await sleep(20);
    expect(port.postMessage).not.toHaveBeenCalled();
    expect(await list(SCOPE)).toEqual([]);
  });

  describe('with storage broken (IndexedDB missing)', () => {
    beforeEach(() => {
      closeDatabase();
      delete g.indexedDB;
    });

    it.each([
      ['register', request('register', ['a'])],
      ['tags', request('tags')],
    ])('"%s" is answered with the UnknownError name and a message that says why', async (_op, data) => {
      const answer = answerOn((await send(data)).port);
      expect(answer.tags).toBeUndefined();
      expect(answer.error![0]).toBe('UnknownError');
      expect(answer.error![1]).toMatch(/^Background Sync storage failed: .*IndexedDB is not available/);
    });

    it('"drop" still answers {} (it never rejects) and the failure is reported on the console', async () => {
      expect(answerOn((await send(request('drop'))).port)).toEqual({});
      expect(warn).toHaveBeenCalledWith('background-sync-polyfill:', expect.objectContaining({ name: 'StorageError' }));
    });
  });
});

describe('a page and the worker end to end (src/page/host.ts over the worker\'s listener)', () => {
  /** The ports the page sent: closed after each test (an open port keeps Node's event loop alive). */
  const ports: MessagePort[] = [];
  afterEach(() => {
    for (const port of ports.splice(0)) port.close();
  });

  /** The page's view of the worker: its postMessage delivers at the worker's global scope, cloned, with its ports. */
  const worker = {
    postMessage(message: unknown, transfer: MessagePort[]) {
      ports.push(...transfer);
      dispatchEvent(extendable('message', structuredClone(message), transfer));
    },
  } as unknown as ServiceWorker;
  const page = () => ({ scope: SCOPE, active: worker }) as unknown as ServiceWorkerRegistration;

  it('register() of one turn is one request; it resolves once stored; getTags() lists; dropTags() drops', async () => {
    const registered = vi.fn();
    const host = pageHost(registered);
    const reg = page();
    await Promise.all([host.register(reg, 'x'), host.register(reg, 'y')]);
    expect(await tagsOf(SCOPE)).toEqual(['x', 'y']);
    expect(registered).toHaveBeenCalledTimes(2);
    expect(registered).toHaveBeenCalledWith(reg);
    expect(await host.getTags(reg)).toEqual(['x', 'y']);
    await dropTags(reg, worker);
    expect(await list(SCOPE)).toEqual([]);
    expect(appMessages).toEqual([]);
  });

  it('the worker\'s storage failure reaches the page as the same UnknownError', async () => {
    closeDatabase();
    delete g.indexedDB;
    const registered = vi.fn();
    const host = pageHost(registered);
    const errors = await Promise.all([host.register(page(), 'x'), Promise.resolve(host.getTags(page()))].map((p) => p.then(() => null, (e: unknown) => e)));
    for (const error of errors) {
      expect(error).toBeInstanceOf(DOMException);
      expect((error as DOMException).name).toBe('UnknownError');
      expect((error as DOMException).message).toMatch(/^Background Sync storage failed: .*IndexedDB is not available/);
    }
    expect(registered).not.toHaveBeenCalled();
  });

  it('a tag the worker refuses (over the limit, as a forged page might send) rejects the page\'s register()', async () => {
    const error = await pageHost(() => undefined).register(page(), 'x'.repeat(10241)).then(() => null, (e: unknown) => e);
    expect((error as DOMException).name).toBe('TypeError');
    expect(await list(SCOPE)).toEqual([]);
  });
});

describe('the install event: the first worker of a new registration sweeps an earlier one\'s tags', () => {
  it('with no active worker, the scope\'s records are dropped, and no other scope\'s', async () => {
    await storeRegistration(SCOPE, 'left-behind');
    await storeRegistration(OTHER, 'kept');
    registration.active = null;
    const event = extendable('install');
    dispatchEvent(event);
    // The install waits for the sweep.
    expect(event.waitUntil).toHaveBeenCalledTimes(1);
    await event.waitUntil.mock.calls[0][0];
    expect(await list(SCOPE)).toEqual([]);
    expect(await tagsOf(OTHER)).toEqual(['kept']);
  });

  it('with an active worker (an update of a live registration), nothing is dropped', async () => {
    await storeRegistration(SCOPE, 'live');
    registration.active = {};
    const event = extendable('install');
    dispatchEvent(event);
    expect(event.waitUntil).not.toHaveBeenCalled();
    await sleep(50);
    expect(await tagsOf(SCOPE)).toEqual(['live']);
  });
});

describe('registration.sync.register() in the worker (the worker host)', () => {
  it.each([
    ['no window', []],
    ['only nested frames', [{ frameType: 'nested' }]],
  ])('with %s open → InvalidAccessError, nothing stored, the dispatcher not woken', async (_name, clients) => {
    windows = clients;
    workerState('activated');
    const error = await registration.sync.register('outbox').then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(DOMException);
    expect((error as DOMException).name).toBe('InvalidAccessError');
    expect((error as DOMException).message).toBe('Attempted to register a sync event without a window or registration tag too long.');
    await sleep(20);
    expect(runs).not.toHaveBeenCalled();
    expect(await list(SCOPE)).toEqual([]);
    expect(fired).toEqual([]);
  });

  it('asks for the window clients, uncontrolled ones included; one top-level window among nested frames is enough', async () => {
    windows = [{ frameType: 'nested' }, { frameType: 'top-level' }];
    const matchAll = (g.clients as { matchAll: ReturnType<typeof vi.fn> }).matchAll;
    matchAll.mockClear();
    await expect(registration.sync.register('outbox')).resolves.toBeUndefined();
    expect(matchAll).toHaveBeenCalledWith({ type: 'window', includeUncontrolled: true });
    expect(await tagsOf(SCOPE)).toEqual(['outbox']);
  });

  it('stores the tag, resolves, and wakes the dispatcher once, only after the promise has resolved', async () => {
    let resolved = false;
    let resolvedWhenWoken: boolean | undefined;
    runs.mockImplementation(() => {
      resolvedWhenWoken ??= resolved;
      return Promise.resolve();
    });
    await registration.sync.register('outbox').then(() => (resolved = true));
    expect(runs).not.toHaveBeenCalled();
    expect(await list(SCOPE)).toEqual([expect.objectContaining({ tag: 'outbox', state: 'pending', attempts: 0 })]);
    await until(() => runs.mock.calls.length > 0);
    await sleep(10);
    expect(runs).toHaveBeenCalledTimes(1);
    expect(resolvedWhenWoken).toBe(true);
  });

  it('a registration that coalesces still wakes the dispatcher (a waiting tag fires now)', async () => {
    await registration.sync.register('outbox');
    await registration.sync.register('outbox');
    await sleep(20);
    expect(runs).toHaveBeenCalledTimes(2);
    expect(await tagsOf(SCOPE)).toEqual(['outbox']);
  });

  it('getTags() lists the worker\'s scope in registration order', async () => {
    await registration.sync.register('one');
    await storeRegistration(OTHER, 'elsewhere');
    await registration.sync.register('two');
    await registration.sync.register('one');
    expect(await registration.sync.getTags()).toEqual(['one', 'two']);
  });

  it('storage failure → UnknownError "Background Sync storage failed: …" that says why; the dispatcher not woken', async () => {
    closeDatabase();
    delete g.indexedDB;
    const calls = [registration.sync.register('outbox'), registration.sync.getTags()];
    const errors = await Promise.all(calls.map((p) => p.then(() => null, (e: unknown) => e)));
    for (const error of errors) {
      expect(error).toBeInstanceOf(DOMException);
      expect((error as DOMException).name).toBe('UnknownError');
      expect((error as DOMException).message).toMatch(/^Background Sync storage failed: .*IndexedDB is not available/);
    }
    await sleep(20);
    expect(runs).not.toHaveBeenCalled();
  });
});
