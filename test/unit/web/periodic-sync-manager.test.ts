/**
 * What is PeriodicSyncManager's own (src/web/sync-manager.ts), against the WICG draft
 * (https://wicg.github.io/periodic-background-sync/) and WebIDL:
 *
 *   interface PeriodicSyncManager {
 *     Promise<undefined> register(DOMString tag, optional BackgroundSyncOptions options = {});
 *     Promise<sequence<DOMString>> getTags();
 *     Promise<undefined> unregister(DOMString tag);
 *   };
 *   dictionary BackgroundSyncOptions { [EnforceRange] unsigned long long minInterval = 0; };
 *
 * register()'s options, unregister(), and how the manager and `registration.periodicSync` keep apart from SyncManager and
 * `registration.sync`. What it shares with SyncManager (the WebIDL shape, the getter, the brand checks, the tag's
 * checks, getTags(), and a document that is no longer fully active) is tested over both in sync-manager.test.ts. The
 * manager only checks and converts its arguments and hands the rest to the periodic host, mocked here
 * (webidl-helpers.ts).
 */
import { describe, expect, it, vi } from 'vitest';
import { MAX_TAG_LENGTH, PeriodicSyncManager, SyncManager, periodicSyncGetter, syncGetter } from '../../../src/web/sync-manager';
import { SCOPE, sleep } from '../helpers';
import {
  PERIODIC_SYNC_MANAGER, hosts, registration, rejection, rejectsAtOnce, rejectsNotThrows, useDetachedDocument,
  useManagers,
} from './webidl-helpers';

useManagers();

/** The manager of `reg`, with its methods taking anything (to call them as script could). */
const { of: loose } = PERIODIC_SYNC_MANAGER;

describe('registration.periodicSync and registration.sync', () => {
  it('have getters of their own', () => {
    expect(syncGetter).not.toBe(periodicSyncGetter);
  });

  it('is not the registration\'s SyncManager, nor an instance of SyncManager', () => {
    const reg = registration();
    expect(reg.periodicSync).not.toBe(reg.sync as unknown);
    expect(reg.periodicSync).not.toBeInstanceOf(SyncManager);
    expect(reg.sync).not.toBeInstanceOf(PeriodicSyncManager);
  });
});

describe('register(tag, options)', () => {
  describe('the options (BackgroundSyncOptions)', () => {
    it.each([
      ['missing', []],
      ['undefined', [undefined]],
      ['null', [null]],
      ['{}', [{}]],
      ['{ minInterval: undefined }', [{ minInterval: undefined }]],
      ['an object with other members only', [{ interval: 5, minInterval_: 6 }]],
      ['an array', [[]]],
    ])('%s → minInterval 0', async (_name, options) => {
      const reg = registration();
      await expect(loose(reg).register('t', ...options)).resolves.toBeUndefined();
      expect(hosts.periodic.register).toHaveBeenCalledWith(reg, 't', 0);
    });

    it.each([
      ['a number', 5],
      ['zero', 0],
      ['a string', '{"minInterval":5}'],
      ['the empty string', ''],
      ['true', true],
      ['false', false],
      ['a Symbol', Symbol('options')],
      ['a BigInt', BigInt(5)],
    ])('%s as options rejects with a TypeError', async (_name, options) => {
      const error = await rejectsNotThrows(() => loose(registration()).register('t', options));
      expect(error).toBeInstanceOf(TypeError);
      expect(hosts.periodic.register).not.toHaveBeenCalled();
    });

    it('a function is an object and is accepted as the dictionary', async () => {
      const reg = registration();
      await loose(reg).register('t', Object.assign(() => undefined, { minInterval: 7 }));
      expect(hosts.periodic.register).toHaveBeenCalledWith(reg, 't', 7);
    });

    it('minInterval is read with [[Get]]: an inherited one counts, and a getter is called exactly once', async () => {
      const reg = registration();
      await loose(reg).register('inherited', Object.create({ minInterval: 9 }));
      const get = vi.fn(() => 11);
      await loose(reg).register('getter', Object.defineProperty({}, 'minInterval', { get, enumerable: true }));
      expect(get).toHaveBeenCalledTimes(1);
      expect(hosts.periodic.register.mock.calls.map((call) => call[2])).toEqual([9, 11]);
    });

    it.each<[string, unknown, number]>([
      ['an integer', 43_200_000, 43_200_000],
      ['zero', 0, 0],
      ['-0', -0, 0],
      ['1.9 (the fraction dropped, not rounded)', 1.9, 1],
      ['0.999', 0.999, 0],
      ['-0.9 (truncated to 0, which is in range)', -0.9, 0],
      ['"5"', '5', 5],
      ['" 7 " (ToNumber trims)', ' 7 ', 7],
      ['"0x10"', '0x10', 16],
      ['""', '', 0],
      ['null', null, 0],
      ['true', true, 1],
      ['false', false, 0],
      ['[3]', [3], 3],
      ['an object with valueOf', { valueOf: () => 12.7 }, 12],
      ['an object with toString only', { toString: () => '8' }, 8],
      ['2^53 − 1, the largest', Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
      ['1e3', 1e3, 1000],
    ])('minInterval %s → %d ([EnforceRange] unsigned long long)', async (_name, minInterval, expected) => {
      const reg = registration();
      await expect(reg.periodicSync.register('t', { minInterval: minInterval as number })).resolves.toBeUndefined();
      expect(hosts.periodic.register).toHaveBeenCalledTimes(1);
      expect(Object.is(hosts.periodic.register.mock.calls[0][2], expected)).toBe(true);
    });

    it.each<[string, unknown]>([
      ['-1', -1],
      ['-1.5', -1.5],
      ['NaN', NaN],
      ['Infinity', Infinity],
      ['-Infinity', -Infinity],
      ['2^53', 2 ** 53],
      ['1e300', 1e300],
      ['"abc" (NaN)', 'abc'],
      ['"-5"', '-5'],
      ['{} (NaN)', {}],
      ['[1, 2] (NaN)', [1, 2]],
      ['a Symbol', Symbol('interval')],
      ['a BigInt', BigInt(5)],
    ])('minInterval %s rejects with a TypeError, the host never asked', async (_name, minInterval) => {
      const error = await rejectsNotThrows(() => loose(registration()).register('t', { minInterval }));
      expect(error).toBeInstanceOf(TypeError);
      expect((error as TypeError).message).toContain('PeriodicSyncManager');
      expect(hosts.periodic.register).not.toHaveBeenCalled();
    });

    it('a BigInt object (its valueOf gives a BigInt, which ToNumber refuses) rejects with a TypeError', async () => {
      const error = await rejectsNotThrows(() => loose(registration()).register('t', { minInterval: Object(BigInt(5)) }));
      expect(error).toBeInstanceOf(TypeError);
      expect(hosts.periodic.register).not.toHaveBeenCalled();
    });

    it('an object whose valueOf throws: that error propagates, as the rejection', async () => {
      const error = new Error('from valueOf');
      const reason = await rejectsNotThrows(() => loose(registration()).register('t', { minInterval: { valueOf() { throw error; } } }));
      expect(reason).toBe(error);
      expect(hosts.periodic.register).not.toHaveBeenCalled();
    });

    it('a minInterval getter that throws: that error propagates', async () => {
      const error = new Error('from the getter');
      const options = Object.defineProperty({}, 'minInterval', { get() { throw error; } });
      expect(await rejection(loose(registration()).register('t', options))).toBe(error);
      expect(hosts.periodic.register).not.toHaveBeenCalled();
    });

    it('extra arguments are ignored', async () => {
      const reg = registration();
      await loose(reg).register('t', { minInterval: 4 }, 'extra', { minInterval: 99 });
      expect(hosts.periodic.register.mock.calls).toEqual([[reg, 't', 4]]);
    });
  });

  describe('the order of the checks', () => {
    it('the tag is converted before the options: a Symbol tag with bad options gives the tag\'s error', async () => {
      const optionsError = new Error('from minInterval');
      const error = await rejection(loose(registration()).register(Symbol('t'), { minInterval: { valueOf() { throw optionsError; } } }));
      expect(error).toBeInstanceOf(TypeError);
      expect(error).not.toBe(optionsError);
      expect((error as TypeError).message).toMatch(/Symbol/);
      const error2 = await rejection(loose(registration()).register(Symbol('t'), 5));
      expect((error2 as TypeError).message).toMatch(/Symbol/);
      expect((error2 as TypeError).message).not.toMatch(/options/);
    });

    it('the tag\'s toString runs before the options are read, each once', async () => {
      const order: string[] = [];
      const tag = { toString: () => (order.push('tag'), 't') };
      const options = { get minInterval() { order.push('minInterval'); return { valueOf: () => (order.push('valueOf'), 2) }; } };
      const reg = registration();
      await loose(reg).register(tag, options);
      expect(order).toEqual(['tag', 'minInterval', 'valueOf']);
      expect(hosts.periodic.register).toHaveBeenCalledWith(reg, 't', 2);
    });

    it('a tag whose toString throws wins over bad options', async () => {
      const tagError = new Error('tag');
      const valueOf = vi.fn(() => 1);
      const error = await rejection(loose(registration()).register({ toString() { throw tagError; } }, { minInterval: { valueOf } }));
      expect(error).toBe(tagError);
      expect(valueOf).not.toHaveBeenCalled();
    });

    it('the options are converted before the active worker check', async () => {
      const reg = registration(SCOPE, null);
      expect(await rejection(loose(reg).register('t', { minInterval: -1 }))).toBeInstanceOf(TypeError);
      expect(await rejection(loose(reg).register('t', 'bad'))).toBeInstanceOf(TypeError);
    });

    it('the arguments are converted before the tag length check', async () => {
      const error = await rejection(loose(registration()).register('x'.repeat(MAX_TAG_LENGTH + 1), { minInterval: NaN }));
      expect(error).toBeInstanceOf(TypeError);
    });
  });

  it('re-registering a tag is the host\'s business: each call reaches it with its own interval', async () => {
    const reg = registration();
    await reg.periodicSync.register('news', { minInterval: 1 });
    await reg.periodicSync.register('news', { minInterval: 2 });
    expect(hosts.periodic.register.mock.calls.map((call) => call[2])).toEqual([1, 2]);
    expect(hosts.intervals.get(SCOPE)!.get('news')).toBe(2);
    expect(await reg.periodicSync.getTags()).toEqual(['news']);
  });
});

describe('unregister(tag)', () => {
  it('resolves with undefined once the host has unregistered, handing it (registration, tag)', async () => {
    const reg = registration();
    await reg.periodicSync.register('news');
    let finish!: () => void;
    hosts.periodic.unregister.mockImplementationOnce(async (r, tag) => {
      await new Promise<void>((resolve) => (finish = resolve));
      hosts.intervals.get(r.scope)!.delete(tag);
    });
    let settled = false;
    const result = reg.periodicSync.unregister('news').finally(() => (settled = true));
    await sleep(5);
    expect(settled).toBe(false);
    finish();
    await expect(result).resolves.toBeUndefined();
    expect(hosts.periodic.unregister.mock.calls).toEqual([[reg, 'news']]);
    expect(hosts.periodic.unregister.mock.calls[0][0]).toBe(reg);
    expect(await reg.periodicSync.getTags()).toEqual([]);
  });

  it('calls the host synchronously', () => {
    const reg = registration();
    void reg.periodicSync.unregister('a');
    expect(hosts.periodic.unregister).toHaveBeenCalledWith(reg, 'a');
  });

  it('no argument rejects with a TypeError saying 1 argument is required, never a throw', async () => {
    const error = await rejectsNotThrows(() => loose(registration()).unregister());
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toBe("Failed to execute 'unregister' on 'PeriodicSyncManager': 1 argument required");
    expect(hosts.periodic.unregister).not.toHaveBeenCalled();
  });

  it('a Symbol rejects with a TypeError; a toString that throws rejects with its error', async () => {
    expect(await rejectsNotThrows(() => loose(registration()).unregister(Symbol()))).toBeInstanceOf(TypeError);
    const error = new Error('toString');
    expect(await rejection(loose(registration()).unregister({ toString() { throw error; } }))).toBe(error);
    expect(hosts.periodic.unregister).not.toHaveBeenCalled();
  });

  it.each([
    ['a number', 7, '7'],
    ['null', null, 'null'],
    ['an explicit undefined', undefined, 'undefined'],
    ['an object', { toString: () => 'custom' }, 'custom'],
  ])('converts %s with String()', async (_name, value, tag) => {
    const reg = registration();
    await loose(reg).unregister(value);
    expect(hosts.periodic.unregister).toHaveBeenCalledWith(reg, tag);
  });

  it('an unknown tag is fine (the host resolves)', async () => {
    await expect(registration().periodicSync.unregister('never registered')).resolves.toBeUndefined();
  });

  it('rejects with the host\'s error itself, a synchronous throw included', async () => {
    const error = new DOMException('gone', 'UnknownError');
    hosts.periodic.unregister.mockRejectedValueOnce(error);
    expect(await rejection(registration().periodicSync.unregister('t'))).toBe(error);
    hosts.periodic.unregister.mockImplementationOnce(() => {
      throw error;
    });
    expect(await rejectsNotThrows(() => registration().periodicSync.unregister('t'))).toBe(error);
  });

  it('needs no active worker and has no tag length limit (the draft checks neither)', async () => {
    const reg = registration(SCOPE, null);
    await expect(reg.periodicSync.unregister('x'.repeat(MAX_TAG_LENGTH + 1))).resolves.toBeUndefined();
    expect(hosts.periodic.unregister).toHaveBeenCalledWith(reg, 'x'.repeat(MAX_TAG_LENGTH + 1));
  });

  it('ignores extra arguments', async () => {
    const reg = registration();
    await loose(reg).unregister('t', { minInterval: -1 });
    expect(hosts.periodic.unregister.mock.calls).toEqual([[reg, 't']]);
  });
});

describe('in a document that is no longer fully active (a removed iframe\'s)', () => {
  useDetachedDocument();

  it('the options are converted first too (WebIDL)', async () => {
    const m = loose(registration());
    expect(await rejectsAtOnce(m.register('t', { minInterval: -1 }))).toBeInstanceOf(TypeError);
    expect(await rejectsAtOnce(m.register('t', 1))).toBeInstanceOf(TypeError);
  });

  it('a global without a document (the service worker): unregister() is not affected either', async () => {
    vi.stubGlobal('document', undefined);
    const reg = registration();
    await expect(reg.periodicSync.register('worker-side', { minInterval: 1 })).resolves.toBeUndefined();
    expect(await reg.periodicSync.getTags()).toEqual(['worker-side']);
    await expect(reg.periodicSync.unregister('worker-side')).resolves.toBeUndefined();
    expect(await reg.periodicSync.getTags()).toEqual([]);
    expect(hosts.periodic.register).toHaveBeenCalledTimes(1);
    expect(hosts.periodic.unregister).toHaveBeenCalledTimes(1);
  });
});
