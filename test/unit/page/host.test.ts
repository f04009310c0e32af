/**
 * The page's host (src/page/host.ts): a page holds no store, it asks the active worker of the registration and waits
 * for the answer on a MessageChannel. The workers here are fakes whose postMessage(message, [port]) answers on the
 * port (or not); the channel is the real one (Node's MessageChannel, which happy-dom leaves in place), so the
 * answers arrive asynchronously, as in a browser.
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { Answer, PROTOCOL_KEY, PROTOCOL_VERSION, Request, request } from '../../../src/protocol';
import { ANSWER_TIMEOUT, DROP_TIMEOUT, ask, dropTags, pageHost, periodicPageHost } from '../../../src/page/host';
import { SyncManager, setSyncHost, shapeManagers, syncGetter } from '../../../src/web/sync-manager';

/** Every port a fake worker was handed; closed after each test (a port left open keeps Node's event loop alive). */
const ports: MessagePort[] = [];

/** A service worker as the page sees it: records each request (cloned, as postMessage does) and answers with `reply`. */
class FakeWorker {
  readonly requests: Request[] = [];
  readonly transfers: unknown[][] = [];
  /** undefined: the worker does not answer (it does not run the polyfill, or not yet). */
  constructor(public reply: (request: Request) => Answer | undefined = () => ({})) {}

  postMessage(message: unknown, transfer: unknown[]): void {
    const copy = structuredClone(message) as Request;
    this.requests.push(copy);
    this.transfers.push(transfer);
    const port = transfer[0] as MessagePort;
    ports.push(port);
    const answer = this.reply(copy);
    if (answer) port.postMessage(answer);
  }
}

const silent = () => new FakeWorker(() => undefined);

class FakeRegistration {
  constructor(public scope: string, public active: FakeWorker | null) {}
}
type Registration = ServiceWorkerRegistration & FakeRegistration;

function registration(active: FakeWorker | null = new FakeWorker(), scope = 'https://example.com/page/'): Registration {
  return new FakeRegistration(scope, active) as unknown as Registration;
}

/** A new worker becomes the registration's active one (an update, or the first worker activating). */
function activate(registration: Registration, worker: FakeWorker): void {
  (registration as FakeRegistration).active = worker;
}

/** Lets the channel deliver what was posted on it (it runs on the real event loop, not on the fake clock). */
async function deliver(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}

/** The promise's state now, after delivering what is in flight. */
async function state(promise: Promise<unknown>): Promise<'pending' | 'fulfilled' | 'rejected'> {
  let result: 'pending' | 'fulfilled' | 'rejected' = 'pending';
  promise.then(() => (result = 'fulfilled'), () => (result = 'rejected'));
  await deliver();
  return result;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then((v) => {
    throw new Error(`expected a rejection, got ${String(v)}`);
  }, (e: unknown) => e);
}

const fake = () => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });

afterEach(() => {
  vi.useRealTimers();
  for (const port of ports.splice(0)) port.close();
});

describe('ask(registration, message)', () => {
  it('posts the request to the active worker with one MessagePort and resolves with the answer sent back on it', async () => {
    const worker = new FakeWorker(() => ({ tags: ['a', 'b'] }));
    const answer = await ask(registration(worker), request('tags'));
    expect(answer).toEqual({ tags: ['a', 'b'] });
    expect(worker.requests).toEqual([{ [PROTOCOL_KEY]: PROTOCOL_VERSION, op: 'tags' }]);
    expect(worker.transfers[0]).toHaveLength(1);
    // Node's MessagePort (happy-dom's global of that name is another class): a port is what the worker answers on.
    const port = worker.transfers[0][0] as MessagePort;
    expect([typeof port.postMessage, typeof port.close]).toEqual(['function', 'function']);
  });

  it('resolves with an error answer as it came: the caller decides what it means', async () => {
    const worker = new FakeWorker(() => ({ error: ['UnknownError', 'Background Sync storage failed: x'] }));
    await expect(ask(registration(worker), request('register', ['a']))).resolves.toEqual({
      error: ['UnknownError', 'Background Sync storage failed: x'],
    });
  });

  it('does not resolve before the worker answers, however long it takes within the timeout', async () => {
    fake();
    const worker = silent();
    const reg = registration(worker);
    const answer = ask(reg, request('tags'));
    await vi.advanceTimersByTimeAsync(ANSWER_TIMEOUT - 500);
    expect(await state(answer)).toBe('pending');
    (ports[0] as MessagePort).postMessage({ tags: ['late'] });
    await deliver();
    await expect(answer).resolves.toEqual({ tags: ['late'] });
  });

  it('asks the same worker once, however long it waits', async () => {
    fake();
    const worker = silent();
    const answer = ask(registration(worker), request('tags'));
    answer.catch(() => undefined);
    await vi.advanceTimersByTimeAsync(ANSWER_TIMEOUT - 1);
    expect(worker.requests).toHaveLength(1);
  });

  it('rejects with an InvalidStateError after ANSWER_TIMEOUT (10 s) when the worker never answers', async () => {
    expect(ANSWER_TIMEOUT).toBe(10000);
    fake();
    const answer = ask(registration(silent()), request('tags'));
    answer.catch(() => undefined);
    await vi.advanceTimersByTimeAsync(ANSWER_TIMEOUT - 1);
    expect(await state(answer)).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    const error = await rejection(answer);
    expect(error).toBeInstanceOf(DOMException);
    expect((error as DOMException).name).toBe('InvalidStateError');
    expect((error as DOMException).message).toMatch(/No answer from the active Service Worker in 10000 ms/);
  });

  it('a new active worker (an update after skipWaiting) is asked again, and its answer resolves', async () => {
    fake();
    const old = silent();
    const reg = registration(old);
    const answer = ask(reg, request('register', ['a']));
    await vi.advanceTimersByTimeAsync(250);
    const updated = new FakeWorker(() => ({}));
    activate(reg, updated);
    expect(updated.requests).toEqual([]);
    await vi.advanceTimersByTimeAsync(100); // the page looks every 100 ms
    expect(updated.requests).toEqual([request('register', ['a'])]);
    await deliver();
    await expect(answer).resolves.toEqual({});
    expect(old.requests).toHaveLength(1);
  });

  it('waits for a registration that has no active worker yet, and asks it once it has one', async () => {
    fake();
    const reg = registration(null);
    const answer = ask(reg, request('tags'));
    await vi.advanceTimersByTimeAsync(1000);
    expect(await state(answer)).toBe('pending');
    const worker = new FakeWorker(() => ({ tags: [] }));
    activate(reg, worker);
    await vi.advanceTimersByTimeAsync(100);
    await deliver();
    await expect(answer).resolves.toEqual({ tags: [] });
    expect(worker.requests).toHaveLength(1);
  });

  it('the timeout counts from the first ask, not from the new worker', async () => {
    fake();
    const reg = registration(silent());
    const answer = ask(reg, request('tags'));
    answer.catch(() => undefined);
    await vi.advanceTimersByTimeAsync(ANSWER_TIMEOUT - 1000);
    activate(reg, silent());
    await vi.advanceTimersByTimeAsync(1000);
    expect((await rejection(answer) as DOMException).name).toBe('InvalidStateError');
  });

  it('stops looking once answered: a later worker is not asked', async () => {
    fake();
    const reg = registration(new FakeWorker(() => ({})));
    const answer = ask(reg, request('drop'));
    await deliver();
    await expect(answer).resolves.toEqual({});
    const later = new FakeWorker();
    activate(reg, later);
    await vi.advanceTimersByTimeAsync(ANSWER_TIMEOUT * 2);
    expect(later.requests).toEqual([]);
  });

  it('stops looking once timed out: a later worker is not asked', async () => {
    fake();
    const reg = registration(silent());
    const answer = ask(reg, request('tags'));
    answer.catch(() => undefined);
    await vi.advanceTimersByTimeAsync(ANSWER_TIMEOUT);
    expect(await state(answer)).toBe('rejected');
    const later = new FakeWorker();
    activate(reg, later);
    await vi.advanceTimersByTimeAsync(1000);
    expect(later.requests).toEqual([]);
  });
});

describe('pageHost(registered)', () => {
  it('register() calls of one turn for one registration travel as one "register" request, tags in call order', async () => {
    const worker = new FakeWorker();
    const reg = registration(worker);
    const registered = vi.fn();
    const host = pageHost(registered);
    const calls = [host.register(reg, 'a'), host.register(reg, 'b'), host.register(reg, 'a')];
    await expect(Promise.all(calls)).resolves.toEqual([undefined, undefined, undefined]);
    expect(worker.requests).toEqual([request('register', ['a', 'b', 'a'])]);
    expect(registered).toHaveBeenCalledTimes(3);
    for (const call of registered.mock.calls) expect(call).toEqual([reg]);
  });

  it('each registration of the turn gets its own request, to its own worker', async () => {
    const a = registration(new FakeWorker(), 'https://example.com/a/');
    const b = registration(new FakeWorker(), 'https://example.com/b/');
    const host = pageHost(() => undefined);
    await Promise.all([host.register(a, '1'), host.register(b, '2'), host.register(a, '3')]);
    expect(a.active!.requests).toEqual([request('register', ['1', '3'])]);
    expect(b.active!.requests).toEqual([request('register', ['2'])]);
  });

  it('a call in a later turn is a new request', async () => {
    const worker = new FakeWorker();
    const reg = registration(worker);
    const host = pageHost(() => undefined);
    const first = host.register(reg, 'a');
    await Promise.resolve();
    const second = host.register(reg, 'b');
    await Promise.all([first, second]);
    await host.register(reg, 'c');
    expect(worker.requests).toEqual([request('register', ['a']), request('register', ['b']), request('register', ['c'])]);
  });

  it('register() resolves only once the worker has answered, and only then tells `registered`', async () => {
    fake();
    const reg = registration(silent());
    const registered = vi.fn();
    const result = pageHost(registered).register(reg, 'a');
    await vi.advanceTimersByTimeAsync(5000);
    expect(await state(result)).toBe('pending');
    expect(registered).not.toHaveBeenCalled();
    (ports[0] as MessagePort).postMessage({});
    await deliver();
    expect(await state(result)).toBe('fulfilled');
    expect(registered).toHaveBeenCalledWith(reg);
  });

  it('an error answer rejects every call of the batch with that DOMException, and `registered` is not told', async () => {
    const worker = new FakeWorker(() => ({ error: ['UnknownError', 'Background Sync storage failed: QuotaExceededError'] }));
    const reg = registration(worker);
    const registered = vi.fn();
    const host = pageHost(registered);
    const errors = await Promise.all([host.register(reg, 'a'), host.register(reg, 'b')].map(rejection));
    for (const error of errors) {
      expect(error).toBeInstanceOf(DOMException);
      expect((error as DOMException).name).toBe('UnknownError');
      expect((error as DOMException).message).toBe('Background Sync storage failed: QuotaExceededError');
    }
    expect(worker.requests).toHaveLength(1);
    expect(registered).not.toHaveBeenCalled();
  });

  it.each(['InvalidAccessError', 'InvalidStateError', 'TypeError'])('an error answer named %s keeps its name', async (name) => {
    const reg = registration(new FakeWorker(() => ({ error: [name, 'why'] })));
    const error = await rejection(pageHost(() => undefined).register(reg, 'a'));
    expect(error).toBeInstanceOf(DOMException);
    expect((error as DOMException).name).toBe(name);
    expect((error as DOMException).message).toBe('why');
  });

  it('register() rejects with InvalidStateError when the worker never answers (it does not run the polyfill)', async () => {
    fake();
    const registered = vi.fn();
    const host = pageHost(registered);
    const reg = registration(silent());
    const results = [host.register(reg, 'a'), host.register(reg, 'b')].map(rejection);
    await vi.advanceTimersByTimeAsync(ANSWER_TIMEOUT);
    for (const error of await Promise.all(results)) expect((error as DOMException).name).toBe('InvalidStateError');
    expect(registered).not.toHaveBeenCalled();
  });

  it('getTags() asks "tags" and resolves with the answer\'s tags; each call is its own request', async () => {
    const worker = new FakeWorker(() => ({ tags: ['x', 'y'] }));
    const reg = registration(worker);
    const host = pageHost(() => undefined);
    const [first, second] = await Promise.all([host.getTags(reg), host.getTags(reg)]);
    expect(first).toEqual(['x', 'y']);
    expect(second).toEqual(['x', 'y']);
    expect(first).not.toBe(second);
    expect(worker.requests).toEqual([request('tags'), request('tags')]);
  });

  it('getTags() with no active worker resolves [] at once, asking nobody', async () => {
    await expect(Promise.resolve(pageHost(() => undefined).getTags(registration(null)))).resolves.toEqual([]);
  });

  it('getTags() of an answer without tags is an empty list', async () => {
    await expect(pageHost(() => undefined).getTags(registration(new FakeWorker(() => ({}))))).resolves.toEqual([]);
  });

  it('getTags() rejects with the error answer as a DOMException', async () => {
    const reg = registration(new FakeWorker(() => ({ error: ['UnknownError', 'Background Sync storage failed: gone'] })));
    const error = await rejection(Promise.resolve(pageHost(() => undefined).getTags(reg)));
    expect((error as DOMException).name).toBe('UnknownError');
    expect((error as DOMException).message).toBe('Background Sync storage failed: gone');
  });
});

describe('pageHost behind SyncManager (registration.sync in a page)', () => {
  class SyncRegistration extends FakeRegistration {}
  beforeAll(() => {
    shapeManagers();
    (globalThis as Record<string, unknown>).ServiceWorkerRegistration = SyncRegistration;
    Object.defineProperty(SyncRegistration.prototype, 'sync', { get: syncGetter, enumerable: true, configurable: true });
  });
  beforeEach(() => setSyncHost(pageHost(() => undefined), periodicPageHost(() => undefined)));

  it('a page\'s register() calls of one turn are one request, with the tags converted', async () => {
    const worker = new FakeWorker();
    const reg = new SyncRegistration('https://example.com/sm/', worker) as unknown as ServiceWorkerRegistration;
    const sync = reg.sync as unknown as { register(tag: unknown): Promise<void> };
    await Promise.all([sync.register('outbox'), sync.register(42), sync.register(null)]);
    expect(worker.requests).toEqual([request('register', ['outbox', '42', 'null'])]);
    expect(reg.sync).toBeInstanceOf(SyncManager);
  });

  it('a call that fails its checks is not sent: the rest of the turn still is', async () => {
    const worker = new FakeWorker();
    const reg = new SyncRegistration('https://example.com/sm/', worker) as unknown as ServiceWorkerRegistration;
    const results = await Promise.allSettled([reg.sync.register('ok'), reg.sync.register('x'.repeat(10241))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
    expect(worker.requests).toEqual([request('register', ['ok'])]);
  });
});

describe('dropTags(registration, worker)', () => {
  it('asks the worker it is given (the one active before unregister()), not the registration\'s active one', async () => {
    const before = new FakeWorker();
    const reg = registration(null);
    expect(await state(dropTags(reg, before as unknown as ServiceWorker))).toBe('fulfilled');
    expect(before.requests).toEqual([request('drop')]);
  });

  it('without a worker, resolves at once and asks nobody', async () => {
    const reg = registration(new FakeWorker());
    expect(await state(dropTags(reg, null))).toBe('fulfilled');
    expect(reg.active!.requests).toEqual([]);
  });

  it('never rejects: not on an error answer, not when the worker never answers', async () => {
    const failing = new FakeWorker(() => ({ error: ['UnknownError', 'x'] }));
    expect(await state(dropTags(registration(), failing as unknown as ServiceWorker))).toBe('fulfilled');
    fake();
    const dropped = dropTags(registration(), silent() as unknown as ServiceWorker);
    // At most DROP_TIMEOUT: unregister() waits on it.
    await vi.advanceTimersByTimeAsync(DROP_TIMEOUT - 1);
    expect(await state(dropped)).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(await state(dropped)).toBe('fulfilled');
  });
});
