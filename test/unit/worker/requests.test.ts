/**
 * The worker host (src/worker/install.ts) through install('worker'), over the fake ServiceWorkerGlobalScope of
 * test/unit/helpers.ts: the requests pages send it (src/protocol.ts `Request`, answered on the port sent with it),
 * the install-event sweep of an earlier registration's tags, and registration.sync called in the worker (the top-level
 * window check, the store, the wake-up after resolving, storage failures as UnknownError). Its own file: the worker
 * half adds listeners to `self` that cannot be removed.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { PROTOCOL_KEY, PROTOCOL_VERSION, request } from '../../../src/protocol';
import { list, storeRegistration } from '../../../src/store/db';
import { dropTags, pageHost } from '../../../src/page/host';
import {
  answerOn, ask, breakStorage, expectOneTopLevelWindowEnough, expectRefusedWithoutWindow, expectStorageFailure,
  expectStorageFailureAnswer, extendable, fakePort, portsClosedAfterEach, rawRequest, rejections, sendRequest, sleep,
  until, useWorkerHalf, workerSeenByPage, workerState,
} from '../helpers';

const SCOPE = 'https://example.com/requests/';
const OTHER = 'https://example.com/requests-other/';

const half = useWorkerHalf(SCOPE);
const { fired, appMessages } = half;

const sync = () => half.registration.sync;
const tagsOf = async (scope: string) => (await list(scope)).map((r) => r.tag);

describe('a page\'s request (src/protocol.ts), answered on its port', () => {
  it('"register" stores the tags in order and answers {}; the app never sees the message', async () => {
    expect(await ask(request('register', ['a', 'b', 'c']))).toEqual({});
    expect(await tagsOf(SCOPE)).toEqual(['a', 'b', 'c']);
    expect(await list(SCOPE)).toEqual(expect.arrayContaining([expect.objectContaining({ tag: 'a', state: 'pending', attempts: 0 })]));
    expect(appMessages).toEqual([]);
  });

  it('"register" coalesces a repeated tag and one already stored, as register() does', async () => {
    await storeRegistration(SCOPE, 'b');
    expect(await ask(request('register', ['a', 'b', 'a']))).toEqual({});
    expect(await tagsOf(SCOPE)).toEqual(['b', 'a']);
  });

  it('"register" stores under the worker\'s own scope, whatever page asked', async () => {
    await sendRequest(request('register', ['mine']));
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
    expect(await ask(request('tags'))).toEqual({ tags: [] });
    await storeRegistration(SCOPE, 'two');
    await storeRegistration(OTHER, 'elsewhere');
    await storeRegistration(SCOPE, 'one');
    expect(await ask(request('tags'))).toEqual({ tags: ['two', 'one'] });
    expect(appMessages).toEqual([]);
  });

  it('"drop" removes every record of the worker\'s scope and no other, and answers {}', async () => {
    await storeRegistration(SCOPE, 'a');
    await storeRegistration(SCOPE, 'b');
    await storeRegistration(OTHER, 'kept');
    expect(await ask(request('drop'))).toEqual({});
    expect(await list(SCOPE)).toEqual([]);
    expect(await tagsOf(OTHER)).toEqual(['kept']);
    expect(appMessages).toEqual([]);
  });

  it('a "register" request at the tag limit (10240 characters) is stored whole', async () => {
    expect(await ask(request('register', ['l'.repeat(10240)]))).toEqual({});
    expect(await tagsOf(SCOPE)).toEqual(['l'.repeat(10240)]);
  });

  it.each([
    ['without tags', rawRequest('register')],
    ['with tags null', rawRequest('register', { tags: null })],
    ['with tags a string', rawRequest('register', { tags: 'a' })],
    ['with tags an array-like object', rawRequest('register', { tags: { length: 1, 0: 'a' } })],
    ['with a number among the tags', rawRequest('register', { tags: ['ok', 5] })],
    ['with null among the tags', rawRequest('register', { tags: [null] })],
    ['with a String object among the tags', rawRequest('register', { tags: [Object('s')] })],
    ['with a tag of 10241 characters', rawRequest('register', { tags: ['ok', 'x'.repeat(10241)] })],
  ])('a malformed "register" request (%s) is answered with an error and stores nothing', async (_name, data) => {
    const answer = await ask(data);
    expect(answer.error).toEqual(['TypeError', 'malformed register request']);
    expect(answer.tags).toBeUndefined();
    expect(await list(SCOPE)).toEqual([]);
    expect(appMessages).toEqual([]);
  });

  it.each([
    ['an unknown op', rawRequest('clear')],
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
    beforeEach(breakStorage);

    it.each([
      ['register', request('register', ['a'])],
      ['tags', request('tags')],
    ])('"%s" is answered with the UnknownError name and a message that says why', async (_op, data) => {
      expectStorageFailureAnswer(await ask(data));
    });

    it('"drop" still answers {} (it never rejects) and the failure is reported on the console', async () => {
      expect(await ask(request('drop'))).toEqual({});
      expect(half.warn).toHaveBeenCalledWith('background-sync-polyfill:', expect.objectContaining({ name: 'StorageError' }));
    });
  });
});

describe('a page and the worker end to end (src/page/host.ts over the worker\'s listener)', () => {
  const worker = workerSeenByPage(portsClosedAfterEach());
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
    breakStorage();
    const registered = vi.fn();
    const host = pageHost(registered);
    for (const error of await rejections([host.register(page(), 'x'), host.getTags(page())])) expectStorageFailure(error);
    expect(registered).not.toHaveBeenCalled();
  });

  it('a tag the worker refuses (over the limit, as a forged page might send) rejects the page\'s register()', async () => {
    const [error] = await rejections([pageHost(() => undefined).register(page(), 'x'.repeat(10241))]);
    expect((error as DOMException).name).toBe('TypeError');
    expect(await list(SCOPE)).toEqual([]);
  });
});

describe('the install event: the first worker of a new registration sweeps an earlier one\'s tags', () => {
  it('with no active worker, the scope\'s records are dropped, and no other scope\'s', async () => {
    await storeRegistration(SCOPE, 'left-behind');
    await storeRegistration(OTHER, 'kept');
    half.registration.active = null;
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
    half.registration.active = {};
    const event = extendable('install');
    dispatchEvent(event);
    expect(event.waitUntil).not.toHaveBeenCalled();
    await sleep(50);
    expect(await tagsOf(SCOPE)).toEqual(['live']);
  });
});

describe('sync().register() in the worker (the worker host)', () => {
  it.each([
    ['no window', []],
    ['only nested frames', [{ frameType: 'nested' }]],
  ])('with %s open → InvalidAccessError, nothing stored, the dispatcher not woken', async (_name, clients) => {
    workerState('activated');
    await expectRefusedWithoutWindow(
      half, clients, () => sync().register('outbox'),
      'Attempted to register a sync event without a window or registration tag too long.',
    );
    expect(await list(SCOPE)).toEqual([]);
    expect(fired).toEqual([]);
  });

  it('asks for the window clients, uncontrolled ones included; one top-level window among nested frames is enough', async () => {
    await expectOneTopLevelWindowEnough(half, () => sync().register('outbox'));
    expect(await tagsOf(SCOPE)).toEqual(['outbox']);
  });

  it('stores the tag, resolves, and wakes the dispatcher once, only after the promise has resolved', async () => {
    let resolved = false;
    let resolvedWhenWoken: boolean | undefined;
    half.runs.mockImplementation(() => {
      resolvedWhenWoken ??= resolved;
      return Promise.resolve();
    });
    await sync().register('outbox').then(() => (resolved = true));
    expect(half.runs).not.toHaveBeenCalled();
    expect(await list(SCOPE)).toEqual([expect.objectContaining({ tag: 'outbox', state: 'pending', attempts: 0 })]);
    await until(() => half.runs.mock.calls.length > 0);
    await sleep(10);
    expect(half.runs).toHaveBeenCalledTimes(1);
    expect(resolvedWhenWoken).toBe(true);
  });

  it('a registration that coalesces still wakes the dispatcher (a waiting tag fires now)', async () => {
    await sync().register('outbox');
    await sync().register('outbox');
    await sleep(20);
    expect(half.runs).toHaveBeenCalledTimes(2);
    expect(await tagsOf(SCOPE)).toEqual(['outbox']);
  });

  it('getTags() lists the worker\'s scope in registration order', async () => {
    await sync().register('one');
    await storeRegistration(OTHER, 'elsewhere');
    await sync().register('two');
    await sync().register('one');
    expect(await sync().getTags()).toEqual(['one', 'two']);
  });

  it('storage failure → UnknownError "Background Sync storage failed: …" that says why; the dispatcher not woken', async () => {
    breakStorage();
    for (const error of await rejections([sync().register('outbox'), sync().getTags()])) expectStorageFailure(error);
    await sleep(20);
    expect(half.runs).not.toHaveBeenCalled();
  });
});
