/**
 * The store's periodic paths (docs/semantics.md §7, src/store/db.ts) over fake-indexeddb: storePeriodicRegistration,
 * listPeriodic and removePeriodic, and how claimDue, settleFirings (items `{tag, outcome, periodic: true}`), renewAll
 * (by record key) and removeScope treat periodic records beside one-shot records of the same tags.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_POLICY, RetryPolicy, retryDelay } from '../../../src/core/policy';
import { SyncRecord, recordKey } from '../../../src/core/registration';
import { PeriodicRecord, periodicKey } from '../../../src/core/periodic';
import {
  StorageError, claimDue, closeDatabase, list, listPeriodic, open, removePeriodic, removeScope, renewAll, settleFirings,
  storePeriodicRegistration, storeRegistration,
} from '../../../src/store/db';
import {
  FIXED_NOW as NOW, OTHER_SCOPE, SCOPE, countReadwrite, failPuts, freshIndexedDB, periodicRecord as prec, putMeta,
  putRaw, rawPeriodicRecord as rawPeriodic, rawRecord, rawRecords, record,
} from '../helpers';

const TTL = 30000;
const HOUR = 3_600_000;
/** The default periodicMinInterval: 12 hours. */
const FLOOR = DEFAULT_POLICY.periodicMinInterval;
const policy: RetryPolicy = DEFAULT_POLICY;

beforeEach(() => {
  freshIndexedDB();
});
afterEach(() => {
  vi.restoreAllMocks();
  closeDatabase();
});

/**
 * A periodic record firing under lease 'A' (attempt 1 unless overridden). prec() (helpers' periodicRecord) is a valid
 * one of tag "news", waiting one FLOOR from NOW.
 */
const pfiring = (overrides: Partial<PeriodicRecord> = {}) =>
  prec({ state: 'firing', attempts: 1, notBefore: NOW, lease: 'A', leaseUntil: NOW + TTL, ...overrides });

/** A one-shot record firing under `lease` 'A'. */
const ofiring = (overrides: Partial<SyncRecord> = {}) =>
  record({ state: 'firing', attempts: 1, lease: 'A', leaseUntil: NOW + TTL, ...overrides });

/** The stored periodic record of `tag` with the fields toEqual ignores anyway dropped (locked: undefined). */
async function periodicOf(tag: string, scope = SCOPE): Promise<PeriodicRecord | undefined> {
  const r = await rawPeriodic(scope, tag);
  return r && (JSON.parse(JSON.stringify(r)) as PeriodicRecord);
}

const ptags = async (scope = SCOPE) => (await listPeriodic(scope)).map((r) => r.tag);
const otags = async (scope = SCOPE) => (await list(scope)).map((r) => r.tag);

/** An idle record (after a settle): no lease. */
const idle = { state: 'waiting' as const, lease: '', leaseUntil: 0 };

describe('storePeriodicRegistration', () => {
  it('a new tag: waiting one interval (the floor) from now, 0 attempts, in the periodic namespace, as stored', async () => {
    const r = await storePeriodicRegistration(SCOPE, 'news', 0, NOW, FLOOR);
    expect(r).toEqual(prec({ order: 1 }));
    expect(await rawPeriodic(SCOPE, 'news')).toEqual(r);
    expect([...(await rawRecords()).keys()]).toEqual([periodicKey(SCOPE, 'news')]);
    // Not a one-shot registration.
    expect(await rawRecord(SCOPE, 'news')).toBeUndefined();
    expect(await list(SCOPE)).toEqual([]);
  });

  it('the interval is max(minInterval, periodicMinInterval)', async () => {
    expect((await storePeriodicRegistration(SCOPE, 'long', 30 * HOUR, NOW, FLOOR)).notBefore).toBe(NOW + 30 * HOUR);
    expect((await storePeriodicRegistration(SCOPE, 'short', HOUR, NOW, FLOOR)).notBefore).toBe(NOW + FLOOR);
    expect((await storePeriodicRegistration(SCOPE, 'floorless', 5000, NOW, 0)).notBefore).toBe(NOW + 5000);
    expect((await storePeriodicRegistration(SCOPE, 'zero', 0, NOW, 0)).notBefore).toBe(NOW);
    expect(await ptags()).toEqual(['long', 'short', 'floorless', 'zero']);
  });

  it('the same minInterval again keeps the schedule and the order, writes nothing and takes no order', async () => {
    const first = await storePeriodicRegistration(SCOPE, 'news', 0, NOW, FLOOR);
    const again = await storePeriodicRegistration(SCOPE, 'news', 0, NOW + 5 * HOUR, FLOOR);
    expect(again).toEqual(first);
    expect(await rawPeriodic(SCOPE, 'news')).toEqual(first);
    // The counter was not consumed by the second call.
    expect((await storeRegistration(SCOPE, 'one-shot')).order).toBe(2);
  });

  it('a new minInterval while waiting in its first attempt counts from the start of the current period', async () => {
    await storePeriodicRegistration(SCOPE, 'news', 0, NOW, FLOOR);
    const longer = await storePeriodicRegistration(SCOPE, 'news', 24 * HOUR, NOW + HOUR, FLOOR);
    expect(longer).toEqual(prec({ minInterval: 24 * HOUR, notBefore: NOW + 24 * HOUR }));
    // Back under the floor: the floor again, still from `since`.
    const shorter = await storePeriodicRegistration(SCOPE, 'news', 1, NOW + 2 * HOUR, FLOOR);
    expect(shorter).toEqual(prec({ minInterval: 1, notBefore: NOW + FLOOR }));
    expect(await rawPeriodic(SCOPE, 'news')).toEqual(shorter);
    expect(await listPeriodic(SCOPE)).toHaveLength(1);
  });

  it('a new minInterval leaves a pending retry\'s time alone', async () => {
    const retrying = prec({ attempts: 1, notBefore: NOW + 300000 });
    await putRaw(retrying);
    const next = await storePeriodicRegistration(SCOPE, 'news', 48 * HOUR, NOW + 1000, FLOOR);
    expect(next).toEqual({ ...retrying, minInterval: 48 * HOUR });
    expect(await rawPeriodic(SCOPE, 'news')).toEqual(next);
  });

  it('a new minInterval on a running event keeps it firing under its lease; the next period uses the new interval', async () => {
    const running = pfiring();
    await putRaw(running);
    const next = await storePeriodicRegistration(SCOPE, 'news', 48 * HOUR, NOW + 1000, FLOOR);
    expect(next).toEqual({ ...running, minInterval: 48 * HOUR });
    const [settled] = await settleFirings(SCOPE, [{ tag: 'news', outcome: 'success', periodic: true }], NOW + 2000, policy, 'A');
    expect(settled.next).toMatchObject({ ...idle, attempts: 0, since: NOW + 2000, notBefore: NOW + 2000 + 48 * HOUR });
  });

  it('takes the next registration order, shared with one-shot tags and across scopes', async () => {
    await storeRegistration(SCOPE, 'a');
    const p = await storePeriodicRegistration(SCOPE, 'p', 0, NOW, FLOOR);
    const q = await storePeriodicRegistration(OTHER_SCOPE, 'q', 0, NOW, FLOOR);
    const b = await storeRegistration(SCOPE, 'b');
    expect([p.order, q.order, b.order]).toEqual([2, 3, 4]);
  });

  it('rebuilds a missing or corrupt order counter after the highest order stored, periodic records included', async () => {
    await putRaw(prec({ tag: 'old', order: 41 }), record({ tag: 'older', order: 7 }));
    await putMeta('order', 'corrupt');
    expect((await storePeriodicRegistration(SCOPE, 'new', 0, NOW, FLOOR)).order).toBe(42);
    expect((await storeRegistration(SCOPE, 'next')).order).toBe(43);
  });

  it('a periodic and a one-shot registration of the same tag are two records; neither changes the other', async () => {
    const oneShot = await storeRegistration(SCOPE, 'x');
    const periodic = await storePeriodicRegistration(SCOPE, 'x', 0, NOW, FLOOR);
    expect(periodic.id).toBe(periodicKey(SCOPE, 'x'));
    expect(periodic.order).toBe(2);
    expect(await rawRecord(SCOPE, 'x')).toEqual(oneShot);
    // A one-shot register() of the tag leaves the periodic one as it was.
    await storeRegistration(SCOPE, 'x');
    expect(await rawPeriodic(SCOPE, 'x')).toEqual(periodic);
    expect((await rawRecords()).size).toBe(2);
  });

  it('calls of one turn, periodic and one-shot, are one transaction, in call order; a tag twice sees its first record', async () => {
    await open();
    const readwrite = countReadwrite();
    const [p, o, q, again] = await Promise.all([
      storePeriodicRegistration(SCOPE, 'x', 0, NOW, FLOOR),
      storeRegistration(SCOPE, 'x'),
      storePeriodicRegistration(SCOPE, 'y', 0, NOW, FLOOR),
      storePeriodicRegistration(SCOPE, 'x', 30 * HOUR, NOW + 10, FLOOR),
    ]);
    expect(readwrite()).toBe(1);
    expect([p.order, o.order, q.order]).toEqual([1, 2, 3]);
    expect(o).toEqual(record({ tag: 'x', order: 2 }));
    // The second "x" of the batch changed the first's interval, from the same period start; both calls resolve with
    // the record as stored (as two one-shot calls of one tag in a batch do).
    expect(again).toEqual(prec({ tag: 'x', order: 1, minInterval: 30 * HOUR, notBefore: NOW + 30 * HOUR }));
    expect(p).toEqual(again);
    expect(await rawPeriodic(SCOPE, 'x')).toEqual(again);
    expect(await ptags()).toEqual(['x', 'y']);
    expect(await otags()).toEqual(['x']);
  });

  it.each([
    ['the empty tag', ''],
    ['a tag with a line feed', 'a\nb'],
    ['a tag with a vertical tab', 'a\u000bb'],
    ['a tag of U+FFFF', '\uffff\uffff'],
  ])('%s: stored, listed and kept apart from the one-shot namespace', async (_name, tag) => {
    await storeRegistration(SCOPE, tag);
    await storePeriodicRegistration(SCOPE, tag, 0, NOW, FLOOR);
    expect(await ptags()).toEqual([tag]);
    expect(await otags()).toEqual([tag]);
    expect((await listPeriodic(SCOPE))[0].id).toBe(periodicKey(SCOPE, tag));
  });

  it('a corrupt value under the periodic key is replaced by a fresh registration', async () => {
    await putRaw({ ...prec({ tag: 'bad' }), state: 'pending' });
    expect(await storePeriodicRegistration(SCOPE, 'bad', 0, NOW + 10, FLOOR)).toMatchObject({
      state: 'waiting', attempts: 0, since: NOW + 10, notBefore: NOW + 10 + FLOOR,
    });
    expect((await rawPeriodic(SCOPE, 'bad'))!.state).toBe('waiting');
  });
});

describe('listPeriodic', () => {
  it('is empty for an empty database', async () => {
    expect(await listPeriodic(SCOPE)).toEqual([]);
  });

  it('lists the scope\'s valid periodic records in registration order, whatever their state; never one-shot ones', async () => {
    await putRaw(
      prec({ tag: 'c', order: 3 }),
      pfiring({ tag: 'a', order: 1 }),
      prec({ tag: 'b', order: 2, attempts: 1, notBefore: NOW + 5 }),
      record({ tag: 'one-shot', order: 0 }),
      record({ tag: 'c', order: 4 }),
      prec({ tag: 'elsewhere', scope: OTHER_SCOPE, order: 5 }),
      { ...prec({ tag: 'corrupt', order: 6 }), minInterval: -1 },
      // A one-shot record written under a periodic key is not a periodic record.
      { ...record({ tag: 'foreign', order: 7 }), id: periodicKey(SCOPE, 'foreign') },
    );
    const listed = await listPeriodic(SCOPE);
    expect(listed.map((r) => r.tag)).toEqual(['a', 'b', 'c']);
    expect(listed.map((r) => r.state)).toEqual(['firing', 'waiting', 'waiting']);
    expect(await ptags(OTHER_SCOPE)).toEqual(['elsewhere']);
    expect(await otags()).toEqual(['one-shot', 'c']);
  });

  it('a nested scope (the scope\'s URL plus a path) is another scope', async () => {
    const nested = SCOPE + 'sub/';
    await storePeriodicRegistration(nested, 'inner', 0, NOW, FLOOR);
    await storePeriodicRegistration(SCOPE, 'outer', 0, NOW, FLOOR);
    expect(await ptags()).toEqual(['outer']);
    expect(await ptags(nested)).toEqual(['inner']);
  });
});

describe('removePeriodic', () => {
  it('removes one periodic tag of one scope; the one-shot tag of the same name, other tags and scopes stay', async () => {
    await storeRegistration(SCOPE, 'x');
    await storePeriodicRegistration(SCOPE, 'x', 0, NOW, FLOOR);
    await storePeriodicRegistration(SCOPE, 'y', 0, NOW, FLOOR);
    await storePeriodicRegistration(OTHER_SCOPE, 'x', 0, NOW, FLOOR);
    await removePeriodic(SCOPE, 'x');
    expect(await rawPeriodic(SCOPE, 'x')).toBeUndefined();
    expect(await ptags()).toEqual(['y']);
    expect(await otags()).toEqual(['x']);
    expect(await ptags(OTHER_SCOPE)).toEqual(['x']);
  });

  it('a tag that is not there (or only one-shot) resolves and changes nothing', async () => {
    await storeRegistration(SCOPE, 'only-one-shot');
    const before = await rawRecords();
    await expect(removePeriodic(SCOPE, 'only-one-shot')).resolves.toBeUndefined();
    await expect(removePeriodic(SCOPE, 'missing')).resolves.toBeUndefined();
    expect(await rawRecords()).toEqual(before);
  });

  it('removes a firing record: its holder\'s outcome and renewals are then ignored, and nothing is claimed after', async () => {
    await putRaw(pfiring({ tag: 'x' }));
    await removePeriodic(SCOPE, 'x');
    expect(await settleFirings(SCOPE, [{ tag: 'x', outcome: 'success', periodic: true }], NOW + 10, policy, 'A')).toEqual([]);
    await renewAll(SCOPE, [periodicKey(SCOPE, 'x')], NOW + 10, 'A', TTL);
    expect((await rawRecords()).size).toBe(0);
    expect((await claimDue(SCOPE, NOW + 100 * FLOOR, 'A', TTL, policy)).claimed).toEqual([]);
  });
});

describe('claimDue with periodic records', () => {
  it('claims a periodic record once its time has come (notBefore ≤ now), not a millisecond before', async () => {
    const stored = await storePeriodicRegistration(SCOPE, 'news', 1000, NOW, policy.periodicMinInterval);
    expect(stored.notBefore).toBe(NOW + FLOOR);
    const early = await claimDue(SCOPE, NOW + FLOOR - 1, 'A', TTL, policy);
    expect(early).toEqual({ claimed: [], next: NOW + FLOOR, reaped: [], suspects: [] });
    expect(await rawPeriodic(SCOPE, 'news')).toEqual(stored);
    const { claimed, next } = await claimDue(SCOPE, NOW + FLOOR, 'A', TTL, policy);
    const fired = { ...stored, state: 'firing', attempts: 1, lease: 'A', leaseUntil: NOW + FLOOR + TTL };
    expect(claimed).toEqual([fired]);
    expect(await rawPeriodic(SCOPE, 'news')).toEqual(fired);
    // Its lease expiry is the next thing to look at.
    expect(next).toBe(NOW + FLOOR + TTL);
  });

  it('the interval is the policy\'s periodicMinInterval when minInterval is below it', async () => {
    const floor = 5000;
    await storePeriodicRegistration(SCOPE, 'news', 1000, NOW, floor);
    const p: RetryPolicy = { ...policy, periodicMinInterval: floor };
    expect((await claimDue(SCOPE, NOW + 4999, 'A', TTL, p)).claimed).toEqual([]);
    expect((await claimDue(SCOPE, NOW + 5000, 'A', TTL, p)).claimed.map((r) => [r.tag, r.attempts])).toEqual([['news', 1]]);
  });

  it('claims with locked: true when the instance holds its lock', async () => {
    await putRaw(prec({ notBefore: NOW }));
    const { claimed } = await claimDue(SCOPE, NOW, 'A', TTL, policy, new Set(), true);
    expect(claimed).toEqual([prec({ notBefore: NOW, state: 'firing', attempts: 1, lease: 'A', leaseUntil: NOW + TTL, locked: true })]);
  });

  it('a firing periodic record is not claimed again: not by another instance, not by its own while it runs', async () => {
    const running = pfiring();
    await putRaw(running);
    expect((await claimDue(SCOPE, NOW + 1, 'B', TTL, policy)).claimed).toEqual([]);
    expect((await claimDue(SCOPE, NOW + 1, 'A', TTL, policy, new Set([periodicKey(SCOPE, 'news')]))).claimed).toEqual([]);
    expect(await rawPeriodic(SCOPE, 'news')).toEqual(running);
  });

  it('a due one-shot "x" and a due periodic "x" are two claims, each its own record, in registration order', async () => {
    await storePeriodicRegistration(SCOPE, 'x', 0, NOW - FLOOR, FLOOR);
    await storeRegistration(SCOPE, 'x');
    const { claimed } = await claimDue(SCOPE, NOW, 'A', TTL, policy);
    expect(claimed.map((r) => r.id)).toEqual([periodicKey(SCOPE, 'x'), recordKey(SCOPE, 'x')]);
    expect(claimed.map((r) => [r.tag, r.state, r.attempts, r.lease])).toEqual([['x', 'firing', 1, 'A'], ['x', 'firing', 1, 'A']]);
    expect((claimed[0] as PeriodicRecord).periodic).toBe(true);
    expect((claimed[1] as PeriodicRecord).periodic).toBeUndefined();
  });

  it('claims only its own scope\'s periodic records; next is the earliest of periodic times, retries and leases', async () => {
    await putRaw(
      prec({ tag: 'due', notBefore: NOW - 1 }),
      prec({ tag: 'later', notBefore: NOW + 7000 }),
      record({ tag: 'retry', state: 'waiting', attempts: 1, notBefore: NOW + 9000 }),
      prec({ tag: 'other', scope: OTHER_SCOPE, notBefore: NOW - 1 }),
      prec({ tag: 'nested', scope: SCOPE + 'sub/', notBefore: NOW - 1 }),
    );
    const { claimed, next } = await claimDue(SCOPE, NOW, 'A', TTL, { ...policy });
    expect(claimed.map((r) => r.tag)).toEqual(['due']);
    expect(next).toBe(NOW + 7000);
    expect((await rawPeriodic(OTHER_SCOPE, 'other'))!.state).toBe('waiting');
    expect((await rawPeriodic(SCOPE + 'sub/', 'nested'))!.state).toBe('waiting');
  });

  it('ignores a corrupt record in the periodic namespace', async () => {
    const corrupt = { ...prec({ notBefore: NOW - 1 }), attempts: 'x' };
    await putRaw(corrupt);
    expect(await claimDue(SCOPE, NOW, 'A', TTL, policy)).toEqual({ claimed: [], next: Infinity, reaped: [], suspects: [] });
    expect(await rawPeriodic(SCOPE, 'news')).toEqual(corrupt);
  });

  it('two instances claiming at once: each due periodic record is claimed by exactly one', async () => {
    const names = Array.from({ length: 10 }, (_, i) => `p${i}`);
    for (const tag of names) await storePeriodicRegistration(SCOPE, tag, 0, NOW - FLOOR, FLOOR);
    vi.resetModules();
    const second = await import('../../../src/store/db');
    try {
      const [a, b, c] = await Promise.all([
        claimDue(SCOPE, NOW, 'A', TTL, policy),
        second.claimDue(SCOPE, NOW, 'B', TTL, policy),
        claimDue(SCOPE, NOW, 'C', TTL, policy),
      ]);
      const all = [...a.claimed, ...b.claimed, ...c.claimed];
      expect(all.map((r) => r.tag).sort()).toEqual(names.slice().sort());
      expect(all.every((r) => r.attempts === 1)).toBe(true);
      for (const r of all) expect((await rawPeriodic(SCOPE, r.tag))!.lease).toBe(r.lease);
    } finally {
      second.closeDatabase();
    }
  });

  describe('an abandoned periodic firing is reaped as a failed attempt, never removed', () => {
    it('lease lapsed (no lock), attempt 1 → a retry after initialRetryDelay; reaped names it', async () => {
      await putRaw(pfiring({ lease: 'dead', leaseUntil: NOW - 1 }));
      const { claimed, reaped, next } = await claimDue(SCOPE, NOW, 'A', TTL, policy);
      expect(claimed).toEqual([]);
      const after = { ...pfiring(), ...idle, attempts: 1, notBefore: NOW + 300000 };
      expect(reaped).toEqual([{ tag: 'news', next: expect.objectContaining(after) }]);
      expect(await periodicOf('news')).toEqual(after);
      expect(next).toBe(NOW + 300000);
    });

    it('a lease lapsing exactly now is abandoned; one a millisecond later is not', async () => {
      await putRaw(pfiring({ tag: 'now', lease: 'B', leaseUntil: NOW }), pfiring({ tag: 'later', lease: 'B', leaseUntil: NOW + 1 }));
      const { reaped } = await claimDue(SCOPE, NOW, 'A', TTL, policy);
      expect(reaped.map((r) => r.tag)).toEqual(['now']);
      expect((await rawPeriodic(SCOPE, 'later'))!.state).toBe('firing');
    });

    it('the last attempt abandoned → the next period (attempts 0, one interval from now), not removed', async () => {
      await putRaw(pfiring({ attempts: 3, lease: 'dead', leaseUntil: NOW - 1, since: NOW - 2 * FLOOR }));
      const { reaped } = await claimDue(SCOPE, NOW, 'A', TTL, policy);
      expect(reaped.map((r) => [r.tag, r.next && r.next.state])).toEqual([['news', 'waiting']]);
      expect(await periodicOf('news')).toEqual({ ...pfiring(), ...idle, attempts: 0, since: NOW, notBefore: NOW + FLOOR });
      expect(await ptags()).toEqual(['news']);
    });

    it('with no retry delay, reaped and claimed again at once as the next attempt', async () => {
      await putRaw(pfiring({ attempts: 1, lease: 'dead', leaseUntil: NOW - 1 }));
      const { claimed, reaped } = await claimDue(SCOPE, NOW, 'A', TTL, { ...policy, initialRetryDelay: 0 });
      expect(reaped.map((r) => r.tag)).toEqual(['news']);
      expect(claimed.map((r) => [r.tag, r.attempts, r.lease, r.state])).toEqual([['news', 2, 'A', 'firing']]);
    });

    it('locked and another instance\'s: a suspect, kept however old its lease time, until its lease is known dead', async () => {
      const held = pfiring({ lease: 'B', leaseUntil: NOW - 1000, locked: true });
      await putRaw(held, pfiring({ tag: 'alive', lease: 'C', leaseUntil: NOW - 1000, locked: true }));
      const first = await claimDue(SCOPE, NOW, 'A', TTL, policy, new Set(), true);
      expect({ ...first, suspects: first.suspects.sort() }).toEqual({ claimed: [], next: Infinity, reaped: [], suspects: ['B', 'C'] });
      expect(await rawPeriodic(SCOPE, 'news')).toEqual(held);
      const { reaped, suspects } = await claimDue(SCOPE, NOW, 'A', TTL, policy, new Set(), true, new Set(['B']));
      expect(reaped.map((r) => r.tag)).toEqual(['news']);
      expect(suspects).toEqual(['C']);
      expect(await periodicOf('news')).toEqual({ ...pfiring(), ...idle, attempts: 1, notBefore: NOW + 300000 });
    });

    it('ours under a lock, not running (its outcome never written) → reaped', async () => {
      await putRaw(pfiring({ locked: true, leaseUntil: NOW + TTL }));
      const { reaped } = await claimDue(SCOPE, NOW, 'A', TTL, policy, new Set(), true);
      expect(reaped.map((r) => r.tag)).toEqual(['news']);
      expect((await rawPeriodic(SCOPE, 'news'))!.state).toBe('waiting');
    });

    it('the running set holds record keys: a periodic key keeps the periodic "x" only, a one-shot key the one-shot "x" only', async () => {
      await putRaw(pfiring({ tag: 'x', locked: true }), ofiring({ tag: 'x', locked: true }));
      // Running: the periodic "x". The one-shot "x" of ours is not running: reaped.
      let result = await claimDue(SCOPE, NOW, 'A', TTL, policy, new Set([periodicKey(SCOPE, 'x')]), true);
      expect(result.reaped).toEqual([{ tag: 'x', next: expect.objectContaining({ id: recordKey(SCOPE, 'x'), state: 'waiting' }) }]);
      expect((await rawPeriodic(SCOPE, 'x'))!.state).toBe('firing');
      // The other way round.
      await putRaw(pfiring({ tag: 'x', locked: true }), ofiring({ tag: 'x', locked: true }));
      result = await claimDue(SCOPE, NOW, 'A', TTL, policy, new Set([recordKey(SCOPE, 'x')]), true);
      expect(result.reaped).toEqual([{ tag: 'x', next: expect.objectContaining({ id: periodicKey(SCOPE, 'x'), state: 'waiting', attempts: 1 }) }]);
      expect((await rawRecord(SCOPE, 'x'))!.state).toBe('firing');
      // A bare tag is not a key: both are reaped.
      await putRaw(pfiring({ tag: 'x', locked: true }), ofiring({ tag: 'x', locked: true }));
      result = await claimDue(SCOPE, NOW, 'A', TTL, policy, new Set(['x']), true);
      expect(result.reaped.map((r) => r.next && r.next.id).sort()).toEqual([periodicKey(SCOPE, 'x'), recordKey(SCOPE, 'x')].sort());
    });

    it('ours, running, with its lease time past (renewals failed): kept', async () => {
      const mine = pfiring({ leaseUntil: NOW - 5 });
      await putRaw(mine);
      expect((await claimDue(SCOPE, NOW, 'A', TTL, policy, new Set([periodicKey(SCOPE, 'news')]))).reaped).toEqual([]);
      expect(await rawPeriodic(SCOPE, 'news')).toEqual(mine);
    });
  });
});

describe('settleFirings with periodic items', () => {
  it('success → the next period: waiting one interval after the settle, attempts 0, no lease; returned, never null', async () => {
    await putRaw(pfiring({ attempts: 2, locked: true, since: NOW - FLOOR }));
    const at = NOW + 1234;
    const settled = await settleFirings(SCOPE, [{ tag: 'news', outcome: 'success', periodic: true }], at, policy, 'A');
    const after = { ...pfiring(), ...idle, attempts: 0, since: at, notBefore: at + FLOOR };
    expect(settled).toEqual([{ tag: 'news', outcome: 'success', next: expect.objectContaining(after) }]);
    expect(settled[0].next!.locked).toBeUndefined();
    expect(await periodicOf('news')).toEqual(after);
  });

  it('the next period uses the policy\'s periodicMinInterval as it is at settle time, or minInterval above it', async () => {
    await putRaw(pfiring({ tag: 'floor' }), pfiring({ tag: 'own', minInterval: 3 * HOUR }));
    const p: RetryPolicy = { ...policy, periodicMinInterval: HOUR };
    await settleFirings(SCOPE, [
      { tag: 'floor', outcome: 'success', periodic: true },
      { tag: 'own', outcome: 'success', periodic: true },
    ], NOW, p, 'A');
    expect((await rawPeriodic(SCOPE, 'floor'))!.notBefore).toBe(NOW + HOUR);
    expect((await rawPeriodic(SCOPE, 'own'))!.notBefore).toBe(NOW + 3 * HOUR);
  });

  it('failure with attempts left → a retry on the one-shot policy; attempts and the period start kept', async () => {
    await putRaw(pfiring({ tag: 'first', attempts: 1 }), pfiring({ tag: 'second', attempts: 2 }));
    const at = NOW + 10;
    const settled = await settleFirings(SCOPE, [
      { tag: 'first', outcome: 'failure', periodic: true },
      { tag: 'second', outcome: 'failure', periodic: true },
    ], at, policy, 'A');
    expect(settled.map((s) => [s.tag, s.next && s.next.state])).toEqual([['first', 'waiting'], ['second', 'waiting']]);
    expect(await periodicOf('first')).toEqual({ ...pfiring({ tag: 'first' }), ...idle, attempts: 1, notBefore: at + 300000 });
    expect(await periodicOf('second')).toEqual({ ...pfiring({ tag: 'second' }), ...idle, attempts: 2, notBefore: at + 900000 });
    expect(retryDelay(2, policy)).toBe(900000);
  });

  it('failure on the last attempt → the next period, attempts 0; the registration stays', async () => {
    await putRaw(pfiring({ attempts: 3, since: NOW - FLOOR }));
    const at = NOW + 50;
    const [settled] = await settleFirings(SCOPE, [{ tag: 'news', outcome: 'failure', periodic: true }], at, policy, 'A');
    expect(settled.next).not.toBeNull();
    expect(await periodicOf('news')).toEqual({ ...pfiring(), ...idle, attempts: 0, since: at, notBefore: at + FLOOR });
    expect(await ptags()).toEqual(['news']);
  });

  it('maxAttempts 1: every failure goes straight to the next period', async () => {
    await putRaw(pfiring());
    await settleFirings(SCOPE, [{ tag: 'news', outcome: 'failure', periodic: true }], NOW, { ...policy, maxAttempts: 1 }, 'A');
    expect(await rawPeriodic(SCOPE, 'news')).toMatchObject({ state: 'waiting', attempts: 0, since: NOW, notBefore: NOW + FLOOR });
  });

  it('ignores periodic items not this instance\'s to settle: another lease, waiting, missing, another scope, corrupt', async () => {
    const others = [
      pfiring({ tag: 'theirs', lease: 'B' }),
      prec({ tag: 'waiting' }),
      pfiring({ tag: 'elsewhere', scope: OTHER_SCOPE }),
      { ...pfiring({ tag: 'corrupt' }), order: 'x' },
    ];
    await putRaw(...others);
    const settled = await settleFirings(SCOPE, ['theirs', 'waiting', 'missing', 'elsewhere', 'corrupt'].map((tag) => ({
      tag, outcome: 'success' as const, periodic: true,
    })), NOW, policy, 'A');
    expect(settled).toEqual([]);
    expect([...(await rawRecords()).values()]).toEqual(expect.arrayContaining(others));
    expect((await rawRecords()).size).toBe(4);
  });

  it('`periodic` picks the namespace: a periodic item never settles the one-shot record of its tag, nor the reverse', async () => {
    const oneShot = ofiring({ tag: 'only-one-shot' });
    const periodic = pfiring({ tag: 'only-periodic' });
    await putRaw(oneShot, periodic);
    expect(await settleFirings(SCOPE, [
      { tag: 'only-one-shot', outcome: 'success', periodic: true },
      { tag: 'only-periodic', outcome: 'success' },
      { tag: 'only-periodic', outcome: 'success', periodic: false },
    ], NOW, policy, 'A')).toEqual([]);
    expect(await rawRecord(SCOPE, 'only-one-shot')).toEqual(oneShot);
    expect(await rawPeriodic(SCOPE, 'only-periodic')).toEqual(periodic);
  });

  it('a one-shot "x" and a periodic "x" firing together are settled independently, in one batch', async () => {
    await putRaw(ofiring({ tag: 'x' }), pfiring({ tag: 'x' }), ofiring({ tag: 'y', attempts: 2 }), pfiring({ tag: 'y' }));
    const settled = await settleFirings(SCOPE, [
      { tag: 'x', outcome: 'success' },
      { tag: 'x', outcome: 'failure', periodic: true },
      { tag: 'y', outcome: 'failure' },
      { tag: 'y', outcome: 'success', periodic: true },
    ], NOW, policy, 'A');
    expect(settled.map((s) => [s.tag, s.outcome, s.next && s.next.id])).toEqual([
      ['x', 'success', null],
      ['x', 'failure', periodicKey(SCOPE, 'x')],
      ['y', 'failure', recordKey(SCOPE, 'y')],
      ['y', 'success', periodicKey(SCOPE, 'y')],
    ]);
    // One-shot x: removed on success. Periodic x: a retry.
    expect(await rawRecord(SCOPE, 'x')).toBeUndefined();
    expect(await rawPeriodic(SCOPE, 'x')).toMatchObject({ state: 'waiting', attempts: 1, notBefore: NOW + 300000 });
    // One-shot y: its retry (attempt 2). Periodic y: the next period.
    expect(await rawRecord(SCOPE, 'y')).toMatchObject({ state: 'waiting', attempts: 2, notBefore: NOW + 900000 });
    expect(await rawPeriodic(SCOPE, 'y')).toMatchObject({ state: 'waiting', attempts: 0, since: NOW, notBefore: NOW + FLOOR });
  });

  it('settling only the one-shot "x" leaves the periodic "x" firing, and the reverse', async () => {
    await putRaw(ofiring({ tag: 'x' }), pfiring({ tag: 'x' }));
    await settleFirings(SCOPE, [{ tag: 'x', outcome: 'success' }], NOW, policy, 'A');
    expect(await rawRecord(SCOPE, 'x')).toBeUndefined();
    expect(await rawPeriodic(SCOPE, 'x')).toEqual(pfiring({ tag: 'x' }));
    await putRaw(ofiring({ tag: 'x' }));
    await settleFirings(SCOPE, [{ tag: 'x', outcome: 'success', periodic: true }], NOW, policy, 'A');
    expect(await rawRecord(SCOPE, 'x')).toEqual(ofiring({ tag: 'x' }));
    expect((await rawPeriodic(SCOPE, 'x'))!.state).toBe('waiting');
  });

  it('the old holder\'s late outcome is ignored after another instance reaped and reclaimed the periodic firing', async () => {
    await putRaw(pfiring({ leaseUntil: NOW - 1 }));
    const { claimed } = await claimDue(SCOPE, NOW, 'B', TTL, { ...policy, initialRetryDelay: 0 });
    expect(claimed.map((r) => [r.lease, r.attempts])).toEqual([['B', 2]]);
    expect(await settleFirings(SCOPE, [{ tag: 'news', outcome: 'success', periodic: true }], NOW, policy, 'A')).toEqual([]);
    expect(await rawPeriodic(SCOPE, 'news')).toEqual(claimed[0]);
  });

  it('a full period: fail, retry, fail, retry, fail on the last attempt, then the next period is claimed one interval on', async () => {
    const p: RetryPolicy = { ...policy, maxAttempts: 3, initialRetryDelay: 1000, retryDelayFactor: 2, periodicMinInterval: 60000 };
    await storePeriodicRegistration(SCOPE, 'news', 0, NOW, p.periodicMinInterval);
    let now = NOW + 60000;
    const expected = [[1, 1000], [2, 2000], [3, 60000]];
    for (const [attempt, wait] of expected) {
      expect((await claimDue(SCOPE, now - 1, 'A', TTL, p)).claimed).toEqual([]);
      const { claimed } = await claimDue(SCOPE, now, 'A', TTL, p);
      expect(claimed.map((r) => r.attempts)).toEqual([attempt]);
      now += 10;
      await settleFirings(SCOPE, [{ tag: 'news', outcome: 'failure', periodic: true }], now, p, 'A');
      const r = (await rawPeriodic(SCOPE, 'news'))!;
      expect(r.notBefore).toBe(now + wait);
      expect(r.attempts).toBe(attempt === 3 ? 0 : attempt);
      now = r.notBefore;
    }
    // The next period's first attempt is attempt 1 again, and success starts the one after.
    const { claimed } = await claimDue(SCOPE, now, 'A', TTL, p);
    expect(claimed.map((r) => r.attempts)).toEqual([1]);
    await settleFirings(SCOPE, [{ tag: 'news', outcome: 'success', periodic: true }], now + 5, p, 'A');
    expect(await rawPeriodic(SCOPE, 'news')).toMatchObject({ state: 'waiting', attempts: 0, since: now + 5, notBefore: now + 5 + 60000 });
  });
});

describe('renewAll with periodic records (by record key)', () => {
  it('extends the lease of a periodic firing this instance holds, named by its periodic key', async () => {
    await putRaw(pfiring({ leaseUntil: NOW + 10 }));
    await renewAll(SCOPE, [periodicKey(SCOPE, 'news')], NOW + 5000, 'A', TTL);
    expect(await rawPeriodic(SCOPE, 'news')).toEqual(pfiring({ leaseUntil: NOW + 5000 + TTL }));
  });

  it('a one-shot key renews only the one-shot "x", a periodic key only the periodic "x"', async () => {
    await putRaw(ofiring({ tag: 'x', leaseUntil: NOW + 10 }), pfiring({ tag: 'x', leaseUntil: NOW + 10 }));
    await renewAll(SCOPE, [recordKey(SCOPE, 'x')], NOW + 1000, 'A', TTL);
    expect((await rawRecord(SCOPE, 'x'))!.leaseUntil).toBe(NOW + 1000 + TTL);
    expect((await rawPeriodic(SCOPE, 'x'))!.leaseUntil).toBe(NOW + 10);
    await renewAll(SCOPE, [periodicKey(SCOPE, 'x')], NOW + 2000, 'A', TTL);
    expect((await rawRecord(SCOPE, 'x'))!.leaseUntil).toBe(NOW + 1000 + TTL);
    expect((await rawPeriodic(SCOPE, 'x'))!.leaseUntil).toBe(NOW + 2000 + TTL);
  });

  it('leaves periodic records it does not hold: another lease, waiting, another scope\'s, a bare tag', async () => {
    const theirs = pfiring({ tag: 'theirs', lease: 'B', leaseUntil: NOW + 10 });
    const waiting = prec({ tag: 'waiting' });
    const elsewhere = pfiring({ tag: 'elsewhere', scope: OTHER_SCOPE, leaseUntil: NOW + 10 });
    const bare = pfiring({ tag: 'bare', leaseUntil: NOW + 10 });
    await putRaw(theirs, waiting, elsewhere, bare);
    await renewAll(SCOPE, [
      periodicKey(SCOPE, 'theirs'), periodicKey(SCOPE, 'waiting'), periodicKey(OTHER_SCOPE, 'elsewhere'), 'bare',
      periodicKey(SCOPE, 'missing'),
    ], NOW + 5000, 'A', TTL);
    expect(await rawPeriodic(SCOPE, 'theirs')).toEqual(theirs);
    expect(await rawPeriodic(SCOPE, 'waiting')).toEqual(waiting);
    expect(await rawPeriodic(OTHER_SCOPE, 'elsewhere')).toEqual(elsewhere);
    expect(await rawPeriodic(SCOPE, 'bare')).toEqual(bare);
    expect(await rawPeriodic(SCOPE, 'missing')).toBeUndefined();
  });

  it('a renewed periodic lease is not reaped by another instance when the old lease time passes', async () => {
    await putRaw(pfiring({ leaseUntil: NOW + 10 }));
    await renewAll(SCOPE, [periodicKey(SCOPE, 'news')], NOW + 5, 'A', TTL);
    const { reaped } = await claimDue(SCOPE, NOW + 20, 'B', TTL, policy);
    expect(reaped).toEqual([]);
    expect((await rawPeriodic(SCOPE, 'news'))!.lease).toBe('A');
  });
});

describe('removeScope', () => {
  it('drops both namespaces of the scope, in every state and for every tag; other scopes (nested too) keep theirs', async () => {
    const nested = SCOPE + 'sub/';
    await putRaw(
      record({ tag: 'a' }),
      ofiring({ tag: 'b' }),
      prec({ tag: 'a' }),
      pfiring({ tag: 'c' }),
      prec({ tag: '' }),
      prec({ tag: '\uffff' }),
      { ...prec({ tag: 'corrupt' }), state: 'bogus' },
      record({ tag: 'a', scope: OTHER_SCOPE }),
      prec({ tag: 'a', scope: OTHER_SCOPE }),
      prec({ tag: 'n', scope: nested }),
      record({ tag: 'n', scope: nested }),
    );
    await removeScope(SCOPE);
    expect([...(await rawRecords()).keys()].sort()).toEqual([
      recordKey(OTHER_SCOPE, 'a'), periodicKey(OTHER_SCOPE, 'a'), periodicKey(nested, 'n'), recordKey(nested, 'n'),
    ].sort());
    expect(await listPeriodic(SCOPE)).toEqual([]);
    expect(await list(SCOPE)).toEqual([]);
  });

  it('after it, a periodic firing\'s outcome is ignored and nothing of the scope is claimed', async () => {
    await putRaw(pfiring(), prec({ tag: 'due', notBefore: NOW }));
    await removeScope(SCOPE);
    expect(await settleFirings(SCOPE, [{ tag: 'news', outcome: 'failure', periodic: true }], NOW, policy, 'A')).toEqual([]);
    expect(await claimDue(SCOPE, NOW + FLOOR, 'A', TTL, policy)).toEqual({ claimed: [], next: Infinity, reaped: [], suspects: [] });
    expect((await rawRecords()).size).toBe(0);
  });
});

describe('storage failures on the periodic paths', () => {
  it('IndexedDB missing → StorageError saying so, from storePeriodicRegistration, listPeriodic and removePeriodic', async () => {
    delete (globalThis as { indexedDB?: unknown }).indexedDB;
    for (const operation of [
      () => storePeriodicRegistration(SCOPE, 'a', 0, NOW, FLOOR),
      () => listPeriodic(SCOPE),
      () => removePeriodic(SCOPE, 'a'),
    ]) {
      const error = await operation().then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(StorageError);
      expect((error as Error).message).toMatch(/IndexedDB is not available/);
    }
  });

  it('a periodic register whose put throws → StorageError; nothing stored, the order counter not consumed', async () => {
    await storeRegistration(SCOPE, 'first');
    failPuts();
    const error = await storePeriodicRegistration(SCOPE, 'a', 0, NOW, FLOOR).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as Error).message).toMatch(/QuotaExceededError/);
    vi.restoreAllMocks();
    expect(await listPeriodic(SCOPE)).toEqual([]);
    expect((await storePeriodicRegistration(SCOPE, 'b', 0, NOW, FLOOR)).order).toBe(2);
  });
});
