/**
 * The worker half's periodic sync (docs/semantics.md §4 and §7) through install('worker'), over the fake
 * ServiceWorkerGlobalScope of test/unit/helpers.ts: the periodic requests pages send it ('periodic', 'periodicTags',
 * 'unregister'; src/protocol.ts), answered on the port sent with each; the worker's own registration.periodicSync;
 * PeriodicSyncEvent and self.onperiodicsync; and the page's periodicPageHost (src/page/host.ts), against a recording fake
 * worker and end to end over the worker's listener. Its own file: the worker half adds listeners to `self` that cannot
 * be removed.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { Answer, PROTOCOL_KEY, PROTOCOL_VERSION, Request, request } from '../../../src/protocol';
import { periodicKey } from '../../../src/core/periodic';
import { DEFAULT_POLICY } from '../../../src/core/policy';
import { list, listPeriodic, storePeriodicRegistration, storeRegistration } from '../../../src/store/db';
import { periodicPageHost } from '../../../src/page/host';
import {
  ExtendableEvent, answerOn, ask, breakStorage, expectOneTopLevelWindowEnough, expectRefusedWithoutWindow,
  expectStorageFailure, expectStorageFailureAnswer, extendable, fakePort, portsClosedAfterEach, rawRequest as raw,
  rejections, sleep, until, useWorkerHalf, workerSeenByPage, workerState,
} from '../helpers';

const SCOPE = 'https://example.com/periodic-requests/';
const OTHER = 'https://example.com/periodic-requests-other/';
const FLOOR = DEFAULT_POLICY.periodicMinInterval;
const g = globalThis as Record<string, unknown>;

const half = useWorkerHalf(SCOPE, () => {
  BackgroundSyncPolyfill.configure({ periodicMinInterval: FLOOR, maxAttempts: 3, initialRetryDelay: 300000 });
});
/** The app's listeners record here: its sync events, its periodicsync events, its messages. */
const { fired, periodicFired, appMessages } = half;

const periodicSync = () => (half.registration as unknown as { periodicSync: PeriodicSyncManager }).periodicSync;
const periodicTags = async (scope = SCOPE) => (await listPeriodic(scope)).map((r) => r.tag);
const oneShotTags = async (scope = SCOPE) => (await list(scope)).map((r) => r.tag);

describe('a page\'s periodic requests (src/protocol.ts), answered on its port', () => {
  it('"periodic" stores the tag with its minInterval, waiting one interval, and answers {}; the app never sees it', async () => {
    const before = Date.now();
    expect(await ask(request('periodic', ['news'], 5000))).toEqual({});
    const [r] = await listPeriodic(SCOPE);
    expect(r).toMatchObject({ id: periodicKey(SCOPE, 'news'), tag: 'news', periodic: true, minInterval: 5000, state: 'waiting', attempts: 0 });
    // The interval is the 12 h floor: minInterval is below it.
    expect(r.notBefore - r.since).toBe(FLOOR);
    expect(r.since).toBeGreaterThanOrEqual(before);
    expect(r.since).toBeLessThanOrEqual(Date.now());
    expect(await list(SCOPE)).toEqual([]);
    expect(appMessages).toEqual([]);
  });

  it('"periodic" uses the configured periodicMinInterval, and a minInterval above it', async () => {
    BackgroundSyncPolyfill.configure({ periodicMinInterval: 1000 });
    await ask(request('periodic', ['floor'], 0));
    await ask(request('periodic', ['own'], 7000));
    const [floor, own] = await listPeriodic(SCOPE);
    expect(floor.notBefore - floor.since).toBe(1000);
    expect(own.notBefore - own.since).toBe(7000);
  });

  it.each([
    ['0', 0],
    ['2^53 − 1', Number.MAX_SAFE_INTEGER],
  ])('"periodic" accepts a minInterval of %s', async (_name, minInterval) => {
    expect(await ask(request('periodic', ['t'], minInterval))).toEqual({});
    expect((await listPeriodic(SCOPE))[0].minInterval).toBe(minInterval);
  });

  it('"periodic" at the tag limit (10240 characters) and with the empty tag is stored whole', async () => {
    expect(await ask(request('periodic', ['l'.repeat(10240)], 0))).toEqual({});
    expect(await ask(request('periodic', [''], 0))).toEqual({});
    expect(await periodicTags()).toEqual(['l'.repeat(10240), '']);
  });

  it('"periodic" again with the same minInterval keeps the schedule; stores under the worker\'s scope only', async () => {
    await ask(request('periodic', ['news'], 0));
    const [first] = await listPeriodic(SCOPE);
    await sleep(5);
    expect(await ask(request('periodic', ['news'], 0))).toEqual({});
    expect(await listPeriodic(SCOPE)).toEqual([first]);
    expect(await listPeriodic(OTHER)).toEqual([]);
  });

  it('"periodic" leaves a one-shot tag of the same name alone, and "register" a periodic one', async () => {
    await storeRegistration(SCOPE, 'x');
    await ask(request('periodic', ['x'], 0));
    await ask(request('register', ['x']));
    expect(await oneShotTags()).toEqual(['x']);
    expect(await periodicTags()).toEqual(['x']);
    expect((await list(SCOPE))[0]).toMatchObject({ state: 'pending', attempts: 0 });
  });

  it('"periodic" answers, and runs no pass (a pass reads every record of the scope): the wake-up is armed instead', async () => {
    const port = fakePort();
    const event = extendable('message', request('periodic', ['news'], 0), [port]);
    dispatchEvent(event);
    await event.waitUntil.mock.calls[0][0];
    expect(answerOn(port)).toEqual({});
    expect(half.runs).not.toHaveBeenCalled();
    // What a pass would have told the pages: the first event's time, on the channel (Dispatcher.registerPeriodic).
    const [record] = await listPeriodic(SCOPE);
    expect(record.notBefore - record.since).toBe(FLOOR);
  });

  it('a "periodic" request\'s first event fires as a PeriodicSyncEvent at self, by the worker\'s own timer, one interval on', async () => {
    workerState('activated');
    // A 100 ms floor (a zero floor with minInterval 0 would fire back to back for ever).
    BackgroundSyncPolyfill.configure({ periodicMinInterval: 100 });
    const sent = Date.now();
    expect(await ask(request('periodic', ['soon'], 0))).toEqual({});
    expect(periodicFired).toEqual([]);
    await until(() => periodicFired.length === 1, 2000, 'the periodicsync event');
    expect(Date.now() - sent).toBeGreaterThanOrEqual(100);
    expect(periodicFired).toEqual([{ tag: 'soon', periodic: true, hasLastChance: false }]);
    // No sync event: it is not a one-shot registration.
    expect(fired).toEqual([]);
    // Settled (success): the record stays, waiting for its next period.
    await until(async () => (await listPeriodic(SCOPE))[0]?.state === 'waiting');
    expect(await periodicTags()).toEqual(['soon']);
    await ask(request('unregister', ['soon']));
  });

  it('"periodicTags" answers the scope\'s periodic tags in registration order, never the one-shot ones', async () => {
    expect(await ask(request('periodicTags'))).toEqual({ tags: [] });
    await storePeriodicRegistration(SCOPE, 'two', 0, Date.now(), FLOOR);
    await storeRegistration(SCOPE, 'one-shot');
    await storePeriodicRegistration(OTHER, 'elsewhere', 0, Date.now(), FLOOR);
    await storeRegistration(SCOPE, 'one');
    await storePeriodicRegistration(SCOPE, 'one', 0, Date.now(), FLOOR);
    expect(await ask(request('periodicTags'))).toEqual({ tags: ['two', 'one'] });
    // And "tags" lists the one-shot ones only.
    expect(await ask(request('tags'))).toEqual({ tags: ['one-shot', 'one'] });
    expect(appMessages).toEqual([]);
  });

  it('"unregister" removes one periodic tag, leaves the one-shot tag of the same name and the other tags, and answers {}', async () => {
    await storeRegistration(SCOPE, 'x');
    await storePeriodicRegistration(SCOPE, 'x', 0, Date.now(), FLOOR);
    await storePeriodicRegistration(SCOPE, 'y', 0, Date.now(), FLOOR);
    await storePeriodicRegistration(OTHER, 'x', 0, Date.now(), FLOOR);
    expect(await ask(request('unregister', ['x']))).toEqual({});
    expect(await periodicTags()).toEqual(['y']);
    expect(await oneShotTags()).toEqual(['x']);
    expect(await periodicTags(OTHER)).toEqual(['x']);
    // A tag that is not (or no longer) there: {} as well.
    expect(await ask(request('unregister', ['x']))).toEqual({});
    expect(await ask(request('unregister', ['never']))).toEqual({});
    expect(appMessages).toEqual([]);
  });

  it.each([
    ['without tags', raw('periodic', { minInterval: 0 })],
    ['with no tag', raw('periodic', { tags: [], minInterval: 0 })],
    ['with two tags', raw('periodic', { tags: ['a', 'b'], minInterval: 0 })],
    ['with tags a string', raw('periodic', { tags: 'a', minInterval: 0 })],
    ['with a number for the tag', raw('periodic', { tags: [5], minInterval: 0 })],
    ['with null for the tag', raw('periodic', { tags: [null], minInterval: 0 })],
    ['with a String object for the tag', raw('periodic', { tags: [Object('a')], minInterval: 0 })],
    ['with a tag of 10241 characters', raw('periodic', { tags: ['x'.repeat(10241)], minInterval: 0 })],
    ['with minInterval negative', raw('periodic', { tags: ['a'], minInterval: -1 })],
    ['with minInterval fractional', raw('periodic', { tags: ['a'], minInterval: 1.5 })],
    ['with minInterval NaN', raw('periodic', { tags: ['a'], minInterval: NaN })],
    ['with minInterval Infinity', raw('periodic', { tags: ['a'], minInterval: Infinity })],
    ['with minInterval past 2^53 − 1', raw('periodic', { tags: ['a'], minInterval: 2 ** 53 })],
    ['with minInterval a string', raw('periodic', { tags: ['a'], minInterval: '1000' })],
    ['with minInterval null', raw('periodic', { tags: ['a'], minInterval: null })],
    ['with minInterval missing', raw('periodic', { tags: ['a'] })],
  ])('a malformed "periodic" request (%s) is answered with a TypeError and stores nothing', async (_name, data) => {
    const answer = await ask(data);
    expect(answer.error).toEqual(['TypeError', 'malformed periodic request']);
    expect(answer.tags).toBeUndefined();
    expect(await listPeriodic(SCOPE)).toEqual([]);
    expect(await list(SCOPE)).toEqual([]);
    expect(appMessages).toEqual([]);
  });

  it.each([
    ['without tags', raw('unregister')],
    ['with no tag', raw('unregister', { tags: [] })],
    ['with two tags', raw('unregister', { tags: ['x', 'y'] })],
    ['with a number for the tag', raw('unregister', { tags: [5] })],
    ['with a tag of 10241 characters', raw('unregister', { tags: ['x'.repeat(10241)] })],
  ])('a malformed "unregister" request (%s) is answered with a TypeError and removes nothing', async (_name, data) => {
    await storePeriodicRegistration(SCOPE, 'x', 0, Date.now(), FLOOR);
    await storePeriodicRegistration(SCOPE, 'y', 0, Date.now(), FLOOR);
    const answer = await ask(data);
    expect(answer.error).toEqual(['TypeError', 'malformed unregister request']);
    expect(await periodicTags()).toEqual(['x', 'y']);
  });

  describe('with storage broken (IndexedDB missing)', () => {
    beforeEach(breakStorage);

    it.each([
      ['periodic', request('periodic', ['a'], 0)],
      ['periodicTags', request('periodicTags')],
      ['unregister', request('unregister', ['a'])],
    ])('"%s" is answered with the UnknownError name and a message that says why', async (_op, data) => {
      expectStorageFailureAnswer(await ask(data));
    });
  });
});

describe('registration.periodicSync in the worker (the worker host)', () => {
  it.each([
    ['no window', []],
    ['only nested frames', [{ frameType: 'nested' }]],
  ])('register() with %s open → InvalidAccessError, nothing stored, the dispatcher not woken', async (_name, clients) => {
    await expectRefusedWithoutWindow(
      half, clients, () => periodicSync().register('news', { minInterval: 1000 }),
      'Attempted to register a periodic sync without a window or registration tag too long.',
    );
    expect(await listPeriodic(SCOPE)).toEqual([]);
  });

  it('asks for the window clients, uncontrolled ones included; one top-level window among nested frames is enough', async () => {
    await expectOneTopLevelWindowEnough(half, () => periodicSync().register('news', { minInterval: 1000 }));
    expect(await listPeriodic(SCOPE)).toEqual([expect.objectContaining({ tag: 'news', minInterval: 1000, state: 'waiting' })]);
  });

  it('register() stores the tag with its minInterval (0 when left out), and runs no pass', async () => {
    await periodicSync().register('with', { minInterval: 25 * 3600000 });
    await periodicSync().register('without');
    const [withInterval, without] = await listPeriodic(SCOPE);
    expect(withInterval).toMatchObject({ tag: 'with', minInterval: 25 * 3600000 });
    expect(withInterval.notBefore - withInterval.since).toBe(25 * 3600000);
    expect(without).toMatchObject({ tag: 'without', minInterval: 0 });
    expect(without.notBefore - without.since).toBe(FLOOR);
    expect(half.runs).not.toHaveBeenCalled();
  });

  it('getTags() lists the periodic tags only, in order; unregister() removes one, leaving the one-shot tag of its name', async () => {
    await half.registration.sync.register('x');
    await periodicSync().register('x');
    await periodicSync().register('y');
    expect(await periodicSync().getTags()).toEqual(['x', 'y']);
    expect(await half.registration.sync.getTags()).toEqual(['x']);
    await expect(periodicSync().unregister('x')).resolves.toBeUndefined();
    expect(await periodicSync().getTags()).toEqual(['y']);
    expect(await half.registration.sync.getTags()).toEqual(['x']);
    await expect(periodicSync().unregister('missing')).resolves.toBeUndefined();
  });

  it('storage failure → UnknownError from register(), getTags() and unregister()', async () => {
    breakStorage();
    const calls = [periodicSync().register('a'), periodicSync().getTags(), periodicSync().unregister('a')];
    for (const error of await rejections(calls)) expectStorageFailure(error);
  });
});

describe('PeriodicSyncEvent and self.onperiodicsync', () => {
  it('PeriodicSyncManager, PeriodicSyncEvent and registration.periodicSync are defined', () => {
    expect(typeof g.PeriodicSyncManager).toBe('function');
    expect(typeof g.PeriodicSyncEvent).toBe('function');
    const Event = g.PeriodicSyncEvent as typeof PeriodicSyncEvent;
    expect(Object.getPrototypeOf(Event.prototype)).toBe(ExtendableEvent.prototype);
    expect(periodicSync()).toBeInstanceOf(g.PeriodicSyncManager as new () => unknown);
    expect(periodicSync()).toBe(periodicSync());
    const event = new Event('periodicsync', { tag: 'news' });
    expect(event.tag).toBe('news');
    expect('lastChance' in event).toBe(false);
    // Not a SyncEvent.
    expect(event).not.toBeInstanceOf(g.SyncEvent as new () => unknown);
  });

  it('self.onperiodicsync is an own accessor of the global, null at first', () => {
    const descriptor = Object.getOwnPropertyDescriptor(globalThis, 'onperiodicsync')!;
    expect(typeof descriptor.get).toBe('function');
    expect(typeof descriptor.set).toBe('function');
    expect((globalThis as unknown as { onperiodicsync: unknown }).onperiodicsync).toBeNull();
    // Apart from onsync.
    expect(Object.getOwnPropertyDescriptor(globalThis, 'onsync')!.get).not.toBe(descriptor.get);
  });

  it('self.onperiodicsync receives periodicsync events end to end, and self.onsync does not', async () => {
    workerState('activated');
    BackgroundSyncPolyfill.configure({ periodicMinInterval: 50 });
    const self = globalThis as unknown as { onperiodicsync: unknown; onsync: unknown };
    const onperiodicsync = vi.fn();
    const onsync = vi.fn();
    self.onperiodicsync = onperiodicsync;
    self.onsync = onsync;
    try {
      await periodicSync().register('via-handler');
      await until(() => onperiodicsync.mock.calls.length === 1);
      const event = onperiodicsync.mock.calls[0][0] as PeriodicSyncEvent;
      expect(event.tag).toBe('via-handler');
      expect(event.type).toBe('periodicsync');
      expect(event).toBeInstanceOf(g.PeriodicSyncEvent as new () => unknown);
      expect(onsync).not.toHaveBeenCalled();
      expect(fired).toEqual([]);
    } finally {
      self.onperiodicsync = null;
      self.onsync = null;
    }
    await until(async () => (await listPeriodic(SCOPE))[0]?.state === 'waiting');
    await periodicSync().unregister('via-handler');
  });
});

describe('periodicPageHost (src/page/host.ts): the page side', () => {
  /** Every port handed over; closed after each test. */
  const ports = portsClosedAfterEach();

  /** A service worker as the page sees it: records each request (cloned) and answers with `reply`. */
  function recordingWorker(reply: (r: Request) => Answer = () => ({})) {
    const requests: Request[] = [];
    const worker = {
      requests,
      postMessage(message: unknown, transfer: MessagePort[]) {
        ports.push(...transfer);
        const copy = structuredClone(message) as Request;
        requests.push(copy);
        transfer[0].postMessage(reply(copy));
      },
    };
    return worker;
  }
  const pageRegistration = (active: unknown) => ({ scope: SCOPE, active }) as unknown as ServiceWorkerRegistration;

  it('register() sends one "periodic" request with [tag] and the minInterval, resolves and tells `registered`', async () => {
    const worker = recordingWorker();
    const registered = vi.fn();
    const reg = pageRegistration(worker);
    await expect(periodicPageHost(registered).register(reg, 'news', 86400000)).resolves.toBeUndefined();
    expect(worker.requests).toEqual([{ [PROTOCOL_KEY]: PROTOCOL_VERSION, op: 'periodic', tags: ['news'], minInterval: 86400000 }]);
    expect(registered).toHaveBeenCalledWith(reg);
  });

  it('register() calls of one turn are one request each (no batching, unlike one-shot register)', async () => {
    const worker = recordingWorker();
    const host = periodicPageHost(() => undefined);
    const reg = pageRegistration(worker);
    await Promise.all([host.register(reg, 'a', 0), host.register(reg, 'b', 5)]);
    expect(worker.requests.map((r) => [r.op, r.tags, r.minInterval]).sort()).toEqual([['periodic', ['a'], 0], ['periodic', ['b'], 5]]);
  });

  it('getTags() asks "periodicTags" and resolves with the answer\'s tags (or [] for an answer without)', async () => {
    const worker = recordingWorker(() => ({ tags: ['x', 'y'] }));
    expect(await periodicPageHost(() => undefined).getTags(pageRegistration(worker))).toEqual(['x', 'y']);
    expect(worker.requests.map((r) => r.op)).toEqual(['periodicTags']);
    expect(await periodicPageHost(() => undefined).getTags(pageRegistration(recordingWorker(() => ({}))))).toEqual([]);
  });

  it('unregister() asks "unregister" with [tag] and resolves with undefined', async () => {
    const worker = recordingWorker();
    await expect(periodicPageHost(() => undefined).unregister(pageRegistration(worker), 'news')).resolves.toBeUndefined();
    expect(worker.requests).toEqual([{ [PROTOCOL_KEY]: PROTOCOL_VERSION, op: 'unregister', tags: ['news'] }]);
  });

  it('with no active worker: getTags() is [] at once, unregister() resolves, asking nobody', async () => {
    const host = periodicPageHost(() => undefined);
    const reg = pageRegistration(null);
    expect(await Promise.resolve(host.getTags(reg))).toEqual([]);
    await expect(host.unregister(reg, 'news')).resolves.toBeUndefined();
  });

  it.each(['register', 'getTags', 'unregister'] as const)('%s(): an error answer rejects with that DOMException', async (method) => {
    const registered = vi.fn();
    const host = periodicPageHost(registered);
    const reg = pageRegistration(recordingWorker(() => ({ error: ['UnknownError', 'Background Sync storage failed: gone'] })));
    const call = method === 'register' ? host.register(reg, 'a', 0) : method === 'getTags' ? host.getTags(reg) : host.unregister(reg, 'a');
    const [error] = await rejections([call]);
    expect(error).toBeInstanceOf(DOMException);
    expect((error as DOMException).name).toBe('UnknownError');
    expect((error as DOMException).message).toBe('Background Sync storage failed: gone');
    expect(registered).not.toHaveBeenCalled();
  });

  describe('end to end, over the worker\'s listener', () => {
    const worker = workerSeenByPage(ports);

    it('register(), getTags() and unregister() from a page reach the worker\'s store', async () => {
      const host = periodicPageHost(() => undefined);
      const reg = pageRegistration(worker);
      await host.register(reg, 'news', 1000);
      await host.register(reg, 'weather', 0);
      await storeRegistration(SCOPE, 'news');
      expect(await host.getTags(reg)).toEqual(['news', 'weather']);
      expect((await listPeriodic(SCOPE))[0].minInterval).toBe(1000);
      await host.unregister(reg, 'news');
      expect(await host.getTags(reg)).toEqual(['weather']);
      expect(await oneShotTags()).toEqual(['news']);
      expect(appMessages).toEqual([]);
    });

    it('a tag the worker refuses (over the limit, as a forged page might send) rejects register() with its TypeError', async () => {
      const [error] = await rejections([periodicPageHost(() => undefined).register(pageRegistration(worker), 'x'.repeat(10241), 0)]);
      expect(error).toBeInstanceOf(DOMException);
      expect((error as DOMException).name).toBe('TypeError');
      expect((error as DOMException).message).toBe('malformed periodic request');
      expect(await listPeriodic(SCOPE)).toEqual([]);
    });

    it('the worker\'s storage failure reaches the page as the same UnknownError', async () => {
      breakStorage();
      const host = periodicPageHost(() => undefined);
      const reg = pageRegistration(worker);
      for (const error of await rejections([host.register(reg, 'a', 0), host.getTags(reg), host.unregister(reg, 'a')])) {
        expectStorageFailure(error);
      }
    });
  });
});
