import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IDBObjectStore as FakeObjectStore } from 'fake-indexeddb';
import { DEFAULT_POLICY, RetryPolicy } from '../../../src/core/policy';
import { SyncRecord, recordKey } from '../../../src/core/registration';
import {
  DB_NAME, DB_VERSION, META, OPEN_TIMEOUT, REGISTRATIONS, StorageError, claimDue, closeDatabase, list, open,
  listPeriodic, removePeriodic, removeScope, renewAll, settleFirings, storePeriodicRegistration, storeRegistration,
} from '../../../src/store/db';
import { periodicKey } from '../../../src/core/periodic';
import {
  OTHER_SCOPE, SCOPE, countReadwrite, failPuts, freshIndexedDB, putMeta, putRaw, rawOpen, rawRecord, rawRecords, record,
} from '../helpers';

const NOW = 1_700_000_000_000;
const TTL = 30000;
const policy = DEFAULT_POLICY;

let factory: ReturnType<typeof freshIndexedDB>;
beforeEach(() => {
  factory = freshIndexedDB();
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  closeDatabase();
});

async function tags(scope = SCOPE): Promise<string[]> {
  return (await list(scope)).map((r) => r.tag);
}

describe('storeRegistration', () => {
  it('creates a pending record with 0 attempts and an increasing order', async () => {
    const a = await storeRegistration(SCOPE, 'a');
    const b = await storeRegistration(SCOPE, 'b');
    expect(a).toEqual(record({ tag: 'a', order: 1 }));
    expect(b).toEqual(record({ tag: 'b', order: 2 }));
    expect(await rawRecord(SCOPE, 'a')).toEqual(a);
  });

  it('coalesces: registering a pending tag again changes nothing, not even its order', async () => {
    await storeRegistration(SCOPE, 'a');
    await storeRegistration(SCOPE, 'b');
    const again = await storeRegistration(SCOPE, 'a');
    expect(again.order).toBe(1);
    expect(await tags()).toEqual(['a', 'b']);
    expect((await rawRecords()).size).toBe(2);
  });

  it('a batch of more than 16 calls (read with one getAll per scope) coalesces exactly as single calls do', async () => {
    await putRaw(record({ tag: 'waiting', state: 'waiting', attempts: 2, notBefore: NOW + 900000, order: 5 }));
    await putRaw(record({ tag: 'firing', state: 'firing', attempts: 1, lease: 'w', leaseUntil: NOW + TTL, order: 6 }));
    await putRaw(record({ tag: 'pending', order: 7 }));
    await putRaw(record({ scope: OTHER_SCOPE, id: recordKey(OTHER_SCOPE, 'waiting'), tag: 'waiting', order: 8 }));
    await putMeta('order', 8);
    const fresh = Array.from({ length: 16 }, (_, i) => `new-${i}`);
    const getAll = vi.spyOn(FakeObjectStore.prototype, 'getAll');
    const results = await Promise.all([
      ...['waiting', 'firing', 'pending', 'new-0'].map((tag) => storeRegistration(SCOPE, tag)),
      ...fresh.map((tag) => storeRegistration(SCOPE, tag)),
      storeRegistration(OTHER_SCOPE, 'waiting'),
    ]);
    // One getAll per scope, plus the order counter's.
    expect(getAll).toHaveBeenCalledTimes(3);
    expect(results[0]).toMatchObject({ state: 'pending', attempts: 2, notBefore: 0, order: 5 });
    expect(results[1]).toMatchObject({ state: 'firing', reregistered: true, order: 6 });
    expect(results[2]).toMatchObject({ state: 'pending', order: 7 });
    // new-0 twice in the batch: one record, the order its first occurrence got.
    expect(results[3]).toEqual(results[4]);
    expect(results[3].order).toBe(9);
    expect(results.at(-1)).toMatchObject({ scope: OTHER_SCOPE, state: 'pending', order: 8 });
    expect(await tags()).toEqual(['waiting', 'firing', 'pending', ...fresh]);
    expect((await rawRecords()).size).toBe(4 + 16);
  });

  it('keeps registration order across scopes, and separates the same tag in two scopes', async () => {
    await storeRegistration(SCOPE, 'x');
    await storeRegistration(OTHER_SCOPE, 'x');
    await storeRegistration(SCOPE, 'z');
    await storeRegistration(OTHER_SCOPE, 'y');
    expect((await list(SCOPE)).map((r) => [r.tag, r.order])).toEqual([['x', 1], ['z', 3]]);
    expect((await list(OTHER_SCOPE)).map((r) => [r.tag, r.order])).toEqual([['x', 2], ['y', 4]]);
  });

  it('turns a waiting record pending, keeping attempts and order', async () => {
    await putRaw(record({ state: 'waiting', attempts: 2, notBefore: NOW + 900000, order: 5 }));
    const next = await storeRegistration(SCOPE, 'outbox');
    expect(next).toEqual(record({ state: 'pending', attempts: 2, notBefore: 0, order: 5 }));
    expect(await rawRecord(SCOPE, 'outbox')).toEqual(next);
  });

  it('marks a firing record reregistered and keeps the lease', async () => {
    const firing = record({ state: 'firing', attempts: 1, lease: 'A', leaseUntil: NOW + TTL });
    await putRaw(firing);
    expect(await storeRegistration(SCOPE, 'outbox')).toEqual({ ...firing, reregistered: true });
    expect(await rawRecord(SCOPE, 'outbox')).toEqual({ ...firing, reregistered: true });
  });

  it('accepts the empty tag and tags with line feeds', async () => {
    await storeRegistration(SCOPE, '');
    await storeRegistration(SCOPE, 'a\nb');
    expect(await tags()).toEqual(['', 'a\nb']);
  });
});

describe('storeRegistration: calls made in one go share one transaction', () => {
  it('200 concurrent calls are one readwrite transaction, in call order, each resolving its own record', async () => {
    await open();
    const readwrite = countReadwrite();
    const names = Array.from({ length: 200 }, (_, i) => `t${i}`);
    const records = await Promise.all(names.map((tag) => storeRegistration(SCOPE, tag)));
    expect(readwrite()).toBe(1);
    expect(records.map((r) => r.tag)).toEqual(names);
    expect(records.map((r) => r.order)).toEqual(names.map((_, i) => i + 1));
    expect(await tags()).toEqual(names);
    expect((await storeRegistration(SCOPE, 'next')).order).toBe(201);
  });

  it('a tag twice in one batch coalesces into one record; other scopes keep theirs', async () => {
    const [a1, b, a2, other] = await Promise.all([
      storeRegistration(SCOPE, 'a'), storeRegistration(SCOPE, 'b'), storeRegistration(SCOPE, 'a'), storeRegistration(OTHER_SCOPE, 'a'),
    ]);
    expect(a2).toEqual(a1);
    expect(b.order).toBe(a1.order + 1);
    expect(other.scope).toBe(OTHER_SCOPE);
    expect(await tags()).toEqual(['a', 'b']);
    expect(await tags(OTHER_SCOPE)).toEqual(['a']);
  });

  it('calls awaited one after another are separate transactions', async () => {
    await open();
    const readwrite = countReadwrite();
    await storeRegistration(SCOPE, 'a');
    await storeRegistration(SCOPE, 'b');
    expect(readwrite()).toBe(2);
  });

  it('a batch fails together and writes nothing; the next call works', async () => {
    await storeRegistration(SCOPE, 'first');
    failPuts((call) => call === 2);
    const outcomes = await Promise.allSettled(['a', 'b', 'c'].map((tag) => storeRegistration(SCOPE, tag)));
    vi.restoreAllMocks();
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
    for (const o of outcomes) expect((o as PromiseRejectedResult).reason).toBeInstanceOf(StorageError);
    expect(await tags()).toEqual(['first']);
    expect((await storeRegistration(SCOPE, 'd')).order).toBe(2);
  });
});

describe('list', () => {
  it('is empty for an empty database', async () => {
    expect(await list(SCOPE)).toEqual([]);
  });

  it('list sorts a scope\'s records by order, whatever the key order', async () => {
    await putRaw(
      record({ tag: 'a', order: 3 }),
      record({ tag: 'b', order: 1, state: 'waiting', notBefore: NOW }),
      record({ tag: 'c', order: 2, state: 'firing', attempts: 1, lease: 'A', leaseUntil: NOW }),
      record({ tag: 'd', order: 0, scope: OTHER_SCOPE }),
    );
    expect(await tags()).toEqual(['b', 'c', 'a']);
    expect(await tags(OTHER_SCOPE)).toEqual(['d']);
    expect(await tags('https://example.com/none/')).toEqual([]);
  });
});

describe('corrupt and foreign records', () => {
  const corrupt = [
    { ...record({ tag: 'bad-state' }), state: 'done' },
    { ...record({ tag: 'bad-attempts' }), attempts: -1 },
    { ...record({ tag: 'bad-id' }), id: recordKey(SCOPE, 'something-else') },
    { id: 'foreign', scope: SCOPE, payload: [1, 2, 3] },
    { id: recordKey(SCOPE, 'no-fields'), scope: SCOPE },
  ];

  it('are ignored by list and claimDue', async () => {
    await putRaw(...corrupt, record({ tag: 'good', order: 9 }));
    expect(await tags()).toEqual(['good']);
    const { claimed } = await claimDue(SCOPE, NOW, 'A', TTL, policy);
    expect(claimed.map((r) => r.tag)).toEqual(['good']);
    // ...and left alone.
    expect((await rawRecords()).get('foreign')).toEqual(corrupt[3]);
  });

  it('are overwritten by register with a fresh pending record', async () => {
    await putRaw(corrupt[0], corrupt[1]);
    await storeRegistration(SCOPE, 'bad-state');
    await storeRegistration(SCOPE, 'bad-attempts');
    expect(await rawRecord(SCOPE, 'bad-state')).toMatchObject({ state: 'pending', attempts: 0 });
    expect(await rawRecord(SCOPE, 'bad-attempts')).toMatchObject({ state: 'pending', attempts: 0 });
    expect(await tags()).toEqual(['bad-state', 'bad-attempts']);
  });

  it('are ignored by settleFirings and renewAll', async () => {
    await putRaw(corrupt[0]);
    await settleFirings(SCOPE, [{ tag: 'bad-state', outcome: 'success' }], NOW, policy, 'A');
    await renewAll(SCOPE, ['bad-state'], NOW, 'A', TTL);
    expect(await rawRecord(SCOPE, 'bad-state')).toEqual(corrupt[0]);
  });

  // docs/semantics.md §5: a corrupt record must never cause a silent loss. A corrupt order counter makes register() resolve
  // while the record it stored has a non-numeric order, which list() and getTags() then ignore forever.
  it.each([
    ['a string', 'x'],
    ['an object', { n: 1 }],
  ])('a corrupt order counter (%s) does not make a registration invisible', async (_name, value) => {
    await putMeta('order', value);
    await storeRegistration(SCOPE, 'a');
    await storeRegistration(SCOPE, 'b');
    expect(await tags()).toEqual(['a', 'b']);
  });
});

describe('claimDue', () => {
  const ledBy = (lease: string, leaseUntil: number, extra: Partial<SyncRecord> = {}) =>
    record({ state: 'firing', attempts: 1, lease, leaseUntil, ...extra });

  it('claims only due records of its scope, in order, and leaves the others unchanged', async () => {
    const notYet = record({ tag: 'not-yet', state: 'waiting', attempts: 1, notBefore: NOW + 1000, order: 1 });
    const held = ledBy('B', NOW + 500, { tag: 'held', order: 2 });
    const other = record({ tag: 'other', scope: OTHER_SCOPE, order: 3 });
    await putRaw(
      record({ tag: 'pending', order: 5 }),
      record({ tag: 'due', state: 'waiting', attempts: 1, notBefore: NOW, order: 4 }),
      notYet, held, other,
    );
    const { claimed, next } = await claimDue(SCOPE, NOW, 'A', TTL, policy);
    expect(claimed.map((r) => [r.tag, r.attempts])).toEqual([['due', 2], ['pending', 1]]);
    for (const r of claimed) {
      expect(r).toMatchObject({ state: 'firing', lease: 'A', leaseUntil: NOW + TTL, notBefore: 0 });
      expect(await rawRecord(SCOPE, r.tag)).toEqual(r);
    }
    expect(await rawRecord(SCOPE, 'not-yet')).toEqual(notYet);
    expect(await rawRecord(SCOPE, 'held')).toEqual(held);
    expect(await rawRecord(OTHER_SCOPE, 'other')).toEqual(other);
    // The earliest of: held's lease, not-yet's retry, our own leases.
    expect(next).toBe(NOW + 500);
  });

  it('returns nothing and next Infinity for an empty scope', async () => {
    await putRaw(record({ scope: OTHER_SCOPE }));
    expect(await claimDue(SCOPE, NOW, 'A', TTL, policy)).toEqual({ claimed: [], next: Infinity, reaped: [], suspects: [] });
  });

  it('next is the earliest retry when nothing is claimed', async () => {
    await putRaw(record({ state: 'waiting', attempts: 1, notBefore: NOW + 1234 }));
    expect(await claimDue(SCOPE, NOW, 'A', TTL, policy)).toEqual({ claimed: [], next: NOW + 1234, reaped: [], suspects: [] });
  });

  describe('abandoned firings (lease lapsed) are failed attempts', () => {
    it('attempt 1 → waiting for initialRetryDelay, not claimed', async () => {
      await putRaw(ledBy('dead', NOW - 1));
      const { claimed, next } = await claimDue(SCOPE, NOW, 'A', TTL, policy);
      expect(claimed).toEqual([]);
      expect(await rawRecord(SCOPE, 'outbox')).toEqual(record({ state: 'waiting', attempts: 1, notBefore: NOW + 300000 }));
      expect(next).toBe(NOW + 300000);
    });

    it('the last attempt → removed', async () => {
      await putRaw(ledBy('dead', NOW, { attempts: 3 }));
      expect((await claimDue(SCOPE, NOW, 'A', TTL, policy)).claimed).toEqual([]);
      expect(await rawRecord(SCOPE, 'outbox')).toBeUndefined();
    });

    it('reregistered → pending with attempts 0, and claimed at once as attempt 1', async () => {
      await putRaw(ledBy('dead', NOW - 1, { attempts: 3, reregistered: true }));
      const { claimed } = await claimDue(SCOPE, NOW, 'A', TTL, policy);
      expect(claimed).toEqual([record({ state: 'firing', attempts: 1, lease: 'A', leaseUntil: NOW + TTL })]);
    });

    it('with no retry delay, claimed again at once as the next attempt', async () => {
      await putRaw(ledBy('dead', NOW - 1, { attempts: 1 }));
      const fast: RetryPolicy = { ...policy, initialRetryDelay: 0 };
      const { claimed } = await claimDue(SCOPE, NOW, 'A', TTL, fast);
      expect(claimed.map((r) => [r.attempts, r.lease])).toEqual([[2, 'A']]);
    });

    it('a running lease is not touched, even one held by this instance', async () => {
      const mine = ledBy('A', NOW + 1);
      await putRaw(mine);
      expect((await claimDue(SCOPE, NOW, 'A', TTL, policy)).claimed).toEqual([]);
      expect(await rawRecord(SCOPE, 'outbox')).toEqual(mine);
    });
  });

  describe('firings under a lock (src/liveness.ts): dead only when their lock was seen free', () => {
    const locked = (lease: string, extra: Partial<SyncRecord> = {}) => ledBy(lease, NOW - 1000, { locked: true, ...extra });

    it('claims with locked: true when the instance holds its lock', async () => {
      await storeRegistration(SCOPE, 'outbox');
      const { claimed } = await claimDue(SCOPE, NOW, 'A', TTL, policy, new Set(), true);
      expect(claimed).toEqual([record({ state: 'firing', attempts: 1, lease: 'A', leaseUntil: NOW + TTL, locked: true })]);
    });

    it('a locked firing of another instance is a suspect, not reaped, however old its lease time', async () => {
      const held = locked('B');
      await putRaw(held);
      const result = await claimDue(SCOPE, NOW, 'A', TTL, policy, new Set(), true);
      expect(result).toEqual({ claimed: [], next: Infinity, reaped: [], suspects: ['B'] });
      expect(await rawRecord(SCOPE, 'outbox')).toEqual(held);
    });

    it('reaped at once, as a failed attempt, once its lease is known dead', async () => {
      await putRaw(locked('B'), locked('C', { tag: 'alive' }));
      const { reaped, suspects } = await claimDue(SCOPE, NOW, 'A', TTL, policy, new Set(), true, new Set(['B']));
      expect(reaped.map((r) => r.tag)).toEqual(['outbox']);
      expect(suspects).toEqual(['C']);
      expect(await rawRecord(SCOPE, 'outbox')).toEqual(record({ state: 'waiting', attempts: 1, notBefore: NOW + 300000 }));
    });

    it('a firing of this instance that is not running any more (its outcome never written) is reaped', async () => {
      await putRaw(locked('A'));
      const { reaped } = await claimDue(SCOPE, NOW, 'A', TTL, policy, new Set(), true);
      expect(reaped.map((r) => r.tag)).toEqual(['outbox']);
    });

    it('a firing of this instance that is still running is kept, and is no suspect', async () => {
      const mine = locked('A');
      await putRaw(mine);
      const result = await claimDue(SCOPE, NOW, 'A', TTL, policy, new Set([recordKey(SCOPE, 'outbox')]), true, new Set(['A']));
      expect(result).toEqual({ claimed: [], next: Infinity, reaped: [], suspects: [] });
      expect(await rawRecord(SCOPE, 'outbox')).toEqual(mine);
    });

    it('an unlocked firing (an older version, or no Web Locks) still lapses on its lease time only', async () => {
      await putRaw(ledBy('B', NOW + 1, { tag: 'running' }), ledBy('C', NOW - 1, { tag: 'lapsed' }));
      const { reaped, suspects, next } = await claimDue(SCOPE, NOW, 'A', TTL, policy, new Set(), true, new Set(['B']));
      expect(reaped.map((r) => r.tag)).toEqual(['lapsed']);
      expect(suspects).toEqual([]);
      expect(next).toBe(NOW + 1);
    });
  });

  it('never lets two instances claim the same record (one connection, concurrent calls)', async () => {
    const names = ['a', 'b', 'c', 'd', 'e', 'f'];
    for (const tag of names) await storeRegistration(SCOPE, tag);
    const [a, b] = await Promise.all([
      claimDue(SCOPE, NOW, 'A', TTL, policy),
      claimDue(SCOPE, NOW, 'B', TTL, policy),
    ]);
    const claimedBy = [...a.claimed.map((r) => r.tag), ...b.claimed.map((r) => r.tag)];
    expect(claimedBy.sort()).toEqual(names);
    for (const r of a.claimed) expect((await rawRecord(SCOPE, r.tag))!.lease).toBe('A');
    for (const r of b.claimed) expect((await rawRecord(SCOPE, r.tag))!.lease).toBe('B');
  });

  it('never lets two contexts claim the same record (two connections, as two tabs or workers)', async () => {
    const names = Array.from({ length: 20 }, (_, i) => 't' + i);
    for (const tag of names) await storeRegistration(SCOPE, tag);
    vi.resetModules();
    const second = await import('../../../src/store/db');
    try {
      const results = await Promise.all([
        claimDue(SCOPE, NOW, 'A', TTL, policy),
        second.claimDue(SCOPE, NOW, 'B', TTL, policy),
        claimDue(SCOPE, NOW, 'C', TTL, policy),
        second.claimDue(SCOPE, NOW, 'D', TTL, policy),
      ]);
      const all = results.flatMap((r) => r.claimed.map((c) => c.tag));
      expect(all.sort()).toEqual(names.slice().sort());
      expect(all.every((r) => r.length > 0)).toBe(true);
      for (const r of results.flatMap((x) => x.claimed)) expect(r.attempts).toBe(1);
    } finally {
      second.closeDatabase();
    }
  });
});

describe('settleFirings', () => {
  const firing = (tag: string, extra: Partial<SyncRecord> = {}) =>
    record({ tag, state: 'firing', attempts: 1, lease: 'A', leaseUntil: NOW + TTL, ...extra });

  it('success removes; failure waits retryDelay; reregistered goes back to pending and is returned', async () => {
    await putRaw(
      firing('ok'),
      firing('fail', { attempts: 2 }),
      firing('last', { attempts: 3 }),
      firing('again', { reregistered: true }),
      firing('again-failed', { reregistered: true, attempts: 3 }),
    );
    const settled = await settleFirings(SCOPE, [
      { tag: 'ok', outcome: 'success' },
      { tag: 'fail', outcome: 'failure' },
      { tag: 'last', outcome: 'failure' },
      { tag: 'again', outcome: 'success' },
      { tag: 'again-failed', outcome: 'failure' },
    ], NOW, policy, 'A');
    const idle = { lease: '', leaseUntil: 0, reregistered: false };
    expect(settled.filter((s) => s.next && s.next.state === 'pending').map((s) => s.tag)).toEqual(['again', 'again-failed']);
    expect(settled.map((s) => [s.tag, s.next && s.next.state])).toEqual([
      ['ok', null], ['fail', 'waiting'], ['last', null], ['again', 'pending'], ['again-failed', 'pending'],
    ]);
    expect(await rawRecord(SCOPE, 'ok')).toBeUndefined();
    expect(await rawRecord(SCOPE, 'last')).toBeUndefined();
    expect(await rawRecord(SCOPE, 'fail')).toEqual({ ...firing('fail'), ...idle, state: 'waiting', attempts: 2, notBefore: NOW + 900000 });
    expect(await rawRecord(SCOPE, 'again')).toEqual({ ...firing('again'), ...idle, state: 'pending', attempts: 0 });
    expect(await rawRecord(SCOPE, 'again-failed')).toEqual({ ...firing('again-failed'), ...idle, state: 'pending', attempts: 0 });
  });

  it('ignores records leased to another instance, not firing, missing, or of another scope', async () => {
    const others = [
      firing('theirs', { lease: 'B' }),
      record({ tag: 'pending' }),
      firing('elsewhere', { scope: OTHER_SCOPE }),
    ];
    await putRaw(...others);
    const settled = await settleFirings(SCOPE, [
      { tag: 'theirs', outcome: 'success' },
      { tag: 'pending', outcome: 'success' },
      { tag: 'missing', outcome: 'failure' },
      { tag: 'elsewhere', outcome: 'success' },
    ], NOW, policy, 'A');
    expect(settled).toEqual([]);
    expect([...(await rawRecords()).values()]).toEqual(expect.arrayContaining(others));
    expect((await rawRecords()).size).toBe(3);
  });

  it('after another instance reaped and reclaimed a lapsed lease, the old holder\'s outcome is ignored', async () => {
    await putRaw(firing('t', { leaseUntil: NOW - 1 }));
    const { claimed } = await claimDue(SCOPE, NOW, 'B', TTL, { ...policy, initialRetryDelay: 0 });
    expect(claimed[0].lease).toBe('B');
    await settleFirings(SCOPE, [{ tag: 't', outcome: 'success' }], NOW, policy, 'A');
    expect(await rawRecord(SCOPE, 't')).toEqual(claimed[0]);
  });
});

describe('renewAll', () => {
  it('extends only the leases this instance holds', async () => {
    const mine = record({ tag: 'mine', state: 'firing', attempts: 1, lease: 'A', leaseUntil: NOW + 10 });
    const theirs = record({ tag: 'theirs', state: 'firing', attempts: 1, lease: 'B', leaseUntil: NOW + 10 });
    const waiting = record({ tag: 'waiting', state: 'waiting', attempts: 1, notBefore: NOW });
    await putRaw(mine, theirs, waiting);
    await renewAll(SCOPE, ['mine', 'theirs', 'waiting', 'missing'].map((tag) => recordKey(SCOPE, tag)), NOW + 5000, 'A', TTL);
    expect(await rawRecord(SCOPE, 'mine')).toEqual({ ...mine, leaseUntil: NOW + 5000 + TTL });
    expect(await rawRecord(SCOPE, 'theirs')).toEqual(theirs);
    expect(await rawRecord(SCOPE, 'waiting')).toEqual(waiting);
    expect(await rawRecord(SCOPE, 'missing')).toBeUndefined();
  });
});

describe('removeScope', () => {
  it('drops every record of the scope, in any state, and nothing else', async () => {
    await putRaw(
      record({ tag: 'a' }),
      record({ tag: 'b', state: 'firing', attempts: 1, lease: 'A', leaseUntil: NOW }),
      { ...record({ tag: 'corrupt' }), state: 'bogus' },
      record({ tag: 'a', scope: OTHER_SCOPE }),
    );
    await removeScope(SCOPE);
    expect([...(await rawRecords()).keys()]).toEqual([recordKey(OTHER_SCOPE, 'a')]);
  });

  it('is fine on an empty scope', async () => {
    await expect(removeScope(SCOPE)).resolves.toBeUndefined();
  });
});

describe('schema and migration', () => {
  it('opening creates the schema at DB_VERSION', async () => {
    await list(SCOPE);
    closeDatabase();
    const db = await rawOpen(factory, DB_VERSION);
    try {
      expect(db.version).toBe(DB_VERSION);
      expect([...db.objectStoreNames].sort()).toEqual([META, REGISTRATIONS].sort());
      const tx = db.transaction([REGISTRATIONS, META]);
      const store = tx.objectStore(REGISTRATIONS);
      expect(store.keyPath).toBe('id');
      expect([...store.indexNames]).toEqual([]);
    } finally {
      db.close();
    }
  });

  it('version 1 (with its scope index) upgrades to DB_VERSION keeping every record, their order and the counter', async () => {
    const v1 = await rawOpen(factory, 1, (raw) => {
      raw.createObjectStore(REGISTRATIONS, { keyPath: 'id' }).createIndex('scope', 'scope');
      raw.createObjectStore(META);
    });
    const other = 'https://example.com/other/';
    await new Promise<void>((resolve, reject) => {
      const tx = v1.transaction([REGISTRATIONS, META], 'readwrite');
      tx.objectStore(REGISTRATIONS).put(record({ tag: 'b', order: 2 }));
      tx.objectStore(REGISTRATIONS).put(record({ tag: 'a', order: 1, state: 'waiting', notBefore: NOW + 1000, attempts: 1 }));
      tx.objectStore(REGISTRATIONS).put(record({ scope: other, tag: 'c', order: 3 }));
      tx.objectStore(META).put(3, 'order');
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
    v1.close();
    expect(await tags()).toEqual(['a', 'b']);
    expect((await list(SCOPE))[0]).toMatchObject({ state: 'waiting', notBefore: NOW + 1000, attempts: 1 });
    expect((await storeRegistration(SCOPE, 'd')).order).toBe(4);
    // Dropping a scope is a key range now: the other scope's record stays.
    await removeScope(SCOPE);
    expect(await tags()).toEqual([]);
    expect((await list(other)).map((r) => r.tag)).toEqual(['c']);
    closeDatabase();
    const db = await rawOpen(factory, DB_VERSION);
    try {
      expect(db.version).toBe(3);
      expect([...db.transaction(REGISTRATIONS).objectStore(REGISTRATIONS).indexNames]).toEqual([]);
    } finally {
      db.close();
    }
  });

  it('version 2 upgrades to version 3 keeping every one-shot record as it was; periodic ones then come after them', async () => {
    const v2 = await rawOpen(factory, 2, (raw) => {
      raw.createObjectStore(REGISTRATIONS, { keyPath: 'id' });
      raw.createObjectStore(META);
    });
    const other = 'https://example.com/other/';
    const kept = [
      record({ tag: 'b', order: 2 }),
      record({ tag: 'a', order: 1, state: 'waiting', notBefore: NOW + 1000, attempts: 1 }),
      record({ tag: 'f', order: 5, state: 'firing', attempts: 1, lease: 'old', leaseUntil: NOW + 10 }),
      record({ scope: other, tag: 'c', order: 3 }),
    ];
    await new Promise<void>((resolve, reject) => {
      const tx = v2.transaction([REGISTRATIONS, META], 'readwrite');
      for (const r of kept) tx.objectStore(REGISTRATIONS).put(r);
      tx.objectStore(META).put(5, 'order');
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
    v2.close();
    expect(await tags()).toEqual(['a', 'b', 'f']);
    for (const r of kept) expect(await rawRecord(r.scope, r.tag)).toEqual(r);
    expect((await storePeriodicRegistration(SCOPE, 'a', 0, NOW, 1000)).order).toBe(6);
    expect(await tags()).toEqual(['a', 'b', 'f']);
    closeDatabase();
    const db = await rawOpen(factory, DB_VERSION);
    try {
      expect(db.version).toBe(3);
    } finally {
      db.close();
    }
  });

  it('records survive closing and reopening', async () => {
    await storeRegistration(SCOPE, 'a');
    await storeRegistration(SCOPE, 'b');
    closeDatabase();
    expect(await tags()).toEqual(['a', 'b']);
  });

  it('a database left at DB_VERSION by another context keeps its records', async () => {
    const db = await rawOpen(factory, DB_VERSION, (raw) => {
      raw.createObjectStore(REGISTRATIONS, { keyPath: 'id' });
      raw.createObjectStore(META);
    });
    await new Promise<void>((resolve, reject) => {
      const tx = db.transaction([REGISTRATIONS, META], 'readwrite');
      tx.objectStore(REGISTRATIONS).put(record({ tag: 'kept', order: 4 }));
      tx.objectStore(META).put(4, 'order');
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
    db.close();
    expect(await tags()).toEqual(['kept']);
    expect((await storeRegistration(SCOPE, 'new')).order).toBe(5);
  });
});

describe('errors', () => {
  it('IndexedDB missing → StorageError saying so, from every operation', async () => {
    delete (globalThis as { indexedDB?: unknown }).indexedDB;
    const operations: Array<() => Promise<unknown>> = [
      () => storeRegistration(SCOPE, 'a'),
      () => list(SCOPE),
      () => claimDue(SCOPE, NOW, 'A', TTL, policy),
      () => settleFirings(SCOPE, [], NOW, policy, 'A'),
      () => renewAll(SCOPE, [], NOW, 'A', TTL),
      () => removeScope(SCOPE),
    ];
    for (const operation of operations) {
      const error = await operation().then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(StorageError);
      expect((error as Error).name).toBe('StorageError');
      expect((error as Error).message).toMatch(/IndexedDB is not available/);
    }
  });

  it('IndexedDB null → StorageError', async () => {
    (globalThis as { indexedDB?: unknown }).indexedDB = null;
    await expect(storeRegistration(SCOPE, 'a')).rejects.toThrow(StorageError);
  });

  it('after a failed open, the next call tries again', async () => {
    delete (globalThis as { indexedDB?: unknown }).indexedDB;
    await expect(list(SCOPE)).rejects.toThrow(StorageError);
    (globalThis as { indexedDB?: unknown }).indexedDB = factory;
    await storeRegistration(SCOPE, 'a');
    expect(await tags()).toEqual(['a']);
  });

  it('open() rejecting from indexedDB.open → StorageError naming the cause', async () => {
    vi.spyOn(factory, 'open').mockImplementation(() => {
      throw new DOMException('The operation is insecure.', 'SecurityError');
    });
    const error = await list(SCOPE).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as Error).message).toMatch(/SecurityError/);
  });

  it('a database of a newer version → StorageError mentioning a newer version', async () => {
    (await rawOpen(factory, DB_VERSION + 1)).close();
    const error = await storeRegistration(SCOPE, 'a').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as Error).message).toMatch(/newer version/);
    expect((error as Error).message).toContain(DB_NAME);
  });

  it('a newer version opened elsewhere is not blocked by our connection (we close it), then we fail clearly', async () => {
    await storeRegistration(SCOPE, 'a');
    const newer = await rawOpen(factory, DB_VERSION + 1); // would hang if our connection stayed open
    newer.close();
    await expect(list(SCOPE)).rejects.toThrow(/newer version/);
  });

  it('an open blocked by another connection that never closes fails after OPEN_TIMEOUT instead of hanging', async () => {
    // A connection that ignores
    // versionchange blocks a deleteDatabase, and every open queued behind that delete waits too.
    const holder = await rawOpen(factory, DB_VERSION);
    const deletion = factory.deleteDatabase(DB_NAME);
    const deleted = new Promise((resolve) => (deletion.onsuccess = resolve));
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const result = storeRegistration(SCOPE, 'a').then(() => 'resolved', (e: unknown) => e);
    await vi.advanceTimersByTimeAsync(OPEN_TIMEOUT - 1);
    let settled = false;
    void result.then(() => (settled = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const error = await result;
    expect(error).toBeInstanceOf(StorageError);
    expect((error as Error).message).toMatch(/blocked/);
    vi.useRealTimers();
    // The blocker goes away: the late connection is closed, and the next call works.
    holder.close();
    await deleted;
    await storeRegistration(SCOPE, 'b');
    expect(await tags()).toEqual(['b']);
  });
});

describe('a failed write changes nothing', () => {
  const firing = (tag: string, extra: Partial<SyncRecord> = {}) =>
    record({ tag, state: 'firing', attempts: 1, lease: 'A', leaseUntil: NOW + TTL, ...extra });

  /** Makes the n-th put (1-based, counting from now) of the registrations store abort its transaction. */
  function abortPut(n: number) {
    const put = FakeObjectStore.prototype.put;
    let calls = 0;
    return vi.spyOn(FakeObjectStore.prototype, 'put').mockImplementation(function (this: IDBObjectStore, ...args) {
      const request = put.apply(this, args as Parameters<typeof put>);
      if (this.name === REGISTRATIONS && ++calls === n) this.transaction.abort();
      return request;
    });
  }

  /** Makes the n-th put of the registrations store throw (as a DataCloneError or a quota check would). */
  function throwingPut(n: number) {
    failPuts((call) => call === n);
  }

  it('storeRegistration: an aborted transaction → StorageError; no record, order counter unchanged', async () => {
    await storeRegistration(SCOPE, 'first');
    abortPut(1);
    const error = await storeRegistration(SCOPE, 'a').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as Error).message).toMatch(/AbortError/);
    vi.restoreAllMocks();
    expect(await rawRecord(SCOPE, 'a')).toBeUndefined();
    expect((await storeRegistration(SCOPE, 'b')).order).toBe(2);
  });

  // docs/semantics.md §5: each transition is one compare-and-set. When a request throws part-way, the writes already made in
  // the transaction must not commit: there the first record would be left `firing` under a lease whose holder was
  // told the claim failed, so it would burn an attempt without an event ever being dispatched.
  it.each([
    ['an aborted transaction → StorageError and every record unchanged', abortPut],
    ['a put that throws part-way → StorageError and no record claimed', throwingPut],
  ])('claimDue: %s', async (_name, fault) => {
    await putRaw(record({ tag: 'a', order: 1 }), record({ tag: 'b', order: 2 }));
    const before = await rawRecords();
    fault(2);
    await expect(claimDue(SCOPE, NOW, 'A', TTL, policy)).rejects.toThrow(StorageError);
    vi.restoreAllMocks();
    expect(await rawRecords()).toEqual(before);
  });

  it('settleFirings: an aborted transaction → StorageError and the record still firing', async () => {
    await putRaw(firing('a'));
    abortPut(1);
    await expect(settleFirings(SCOPE, [{ tag: 'a', outcome: 'failure' }], NOW, policy, 'A')).rejects.toThrow(StorageError);
    vi.restoreAllMocks();
    expect(await rawRecord(SCOPE, 'a')).toEqual(firing('a'));
  });

  it('settleFirings: a put that throws → StorageError and the record still firing', async () => {
    await putRaw(firing('a'));
    throwingPut(1);
    const error = await settleFirings(SCOPE, [{ tag: 'a', outcome: 'failure' }], NOW, policy, 'A').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as Error).message).toMatch(/QuotaExceededError/);
    vi.restoreAllMocks();
    expect(await rawRecord(SCOPE, 'a')).toEqual(firing('a'));
  });

  it('settleFirings: a put that throws part-way → StorageError and no record settled', async () => {
    await putRaw(firing('a', { order: 1 }), firing('b', { order: 2 }));
    const before = await rawRecords();
    throwingPut(1); // 'a' succeeds → delete; 'b' fails → put throws
    await expect(settleFirings(SCOPE, [
      { tag: 'a', outcome: 'success' },
      { tag: 'b', outcome: 'failure' },
    ], NOW, policy, 'A')).rejects.toThrow(StorageError);
    vi.restoreAllMocks();
    expect(await rawRecords()).toEqual(before);
  });

  it('storeRegistration: a record put that throws → StorageError, and the order counter is not consumed', async () => {
    await storeRegistration(SCOPE, 'first');
    throwingPut(1);
    await expect(storeRegistration(SCOPE, 'a')).rejects.toThrow(StorageError);
    vi.restoreAllMocks();
    expect(await rawRecord(SCOPE, 'a')).toBeUndefined();
    expect((await storeRegistration(SCOPE, 'b')).order).toBe(2);
  });
});

describe('open()', () => {
  it('returns one connection per context until closeDatabase()', async () => {
    const a = await open();
    expect(await open()).toBe(a);
    closeDatabase();
    const b = await open();
    expect(b).not.toBe(a);
  });
});

describe('claimDue reports what it reaped', () => {
  it('names each abandoned firing and what became of it', async () => {
    await putRaw(
      record({ tag: 'dead', state: 'firing', attempts: 1, lease: 'gone', leaseUntil: NOW - 1 }),
      record({ tag: 'dead-last', state: 'firing', attempts: 3, lease: 'gone', leaseUntil: NOW - 1 }),
      record({ tag: 'alive', state: 'firing', attempts: 1, lease: 'B', leaseUntil: NOW + 1 }),
    );
    const { reaped } = await claimDue(SCOPE, NOW, 'A', TTL, policy);
    expect(reaped.map((r) => [r.tag, r.next && r.next.state])).toEqual([['dead', 'waiting'], ['dead-last', null]]);
  });
});

describe('periodic registrations (docs/semantics.md §7)', () => {
  const FLOOR = 43_200_000;

  it('a new tag is stored waiting one interval, with the next registration order shared with one-shot tags', async () => {
    await storeRegistration(SCOPE, 'one-shot');
    const r = await storePeriodicRegistration(SCOPE, 'news', 0, NOW, FLOOR);
    expect(r).toMatchObject({ id: periodicKey(SCOPE, 'news'), periodic: true, state: 'waiting', notBefore: NOW + FLOOR, since: NOW, order: 2 });
    expect(await rawRecord(SCOPE, 'news')).toBeUndefined();
    expect((await listPeriodic(SCOPE)).map((p) => p.tag)).toEqual(['news']);
    expect((await storeRegistration(SCOPE, 'later')).order).toBe(3);
  });

  it('the same minInterval keeps the schedule; a new one takes effect from the start of the period', async () => {
    await storePeriodicRegistration(SCOPE, 'news', 0, NOW, FLOOR);
    expect(await storePeriodicRegistration(SCOPE, 'news', 0, NOW + 5000, FLOOR)).toMatchObject({ notBefore: NOW + FLOOR, since: NOW, order: 1 });
    expect(await storePeriodicRegistration(SCOPE, 'news', 2 * FLOOR, NOW + 5000, FLOOR)).toMatchObject({
      minInterval: 2 * FLOOR, notBefore: NOW + 2 * FLOOR, since: NOW, order: 1,
    });
    expect(await listPeriodic(SCOPE)).toHaveLength(1);
  });

  it('a periodic "x" and a one-shot "x" never touch: each list sees its own, in order; removing one leaves the other', async () => {
    await storePeriodicRegistration(SCOPE, 'x', 0, NOW, FLOOR);
    await storeRegistration(SCOPE, 'x');
    await storePeriodicRegistration(SCOPE, 'a', 0, NOW, FLOOR);
    await storePeriodicRegistration(OTHER_SCOPE, 'x', 0, NOW, FLOOR);
    expect(await tags()).toEqual(['x']);
    expect((await listPeriodic(SCOPE)).map((p) => p.tag)).toEqual(['x', 'a']);
    // A claim takes both namespaces' due records of the scope, each as its own record, in registration order.
    const { claimed } = await claimDue(SCOPE, NOW + 2 * FLOOR, 'A', TTL, { ...policy, periodicMinInterval: FLOOR });
    expect(claimed.map((r) => [r.id, r.tag])).toEqual([[periodicKey(SCOPE, 'x'), 'x'], [recordKey(SCOPE, 'x'), 'x'], [periodicKey(SCOPE, 'a'), 'a']]);
    expect((await listPeriodic(SCOPE)).every((p) => p.state === 'firing')).toBe(true);
    expect((await listPeriodic(OTHER_SCOPE))[0].state).toBe('waiting');
    await removePeriodic(SCOPE, 'x');
    expect((await listPeriodic(SCOPE)).map((p) => p.tag)).toEqual(['a']);
    expect((await list(SCOPE)).map((r) => r.tag)).toEqual(['x']);
    expect((await listPeriodic(OTHER_SCOPE)).map((p) => p.tag)).toEqual(['x']);
    // Removing a tag that is not there resolves.
    await expect(removePeriodic(SCOPE, 'missing')).resolves.toBeUndefined();
  });

  it('a corrupt record in the periodic namespace is not listed, and register() replaces it', async () => {
    await putRaw({ ...record({ tag: 'bad' }), id: periodicKey(SCOPE, 'bad') } as never);
    expect(await listPeriodic(SCOPE)).toEqual([]);
    expect(await storePeriodicRegistration(SCOPE, 'bad', 0, NOW, FLOOR)).toMatchObject({ periodic: true, state: 'waiting' });
    expect((await listPeriodic(SCOPE)).map((p) => p.tag)).toEqual(['bad']);
  });
});
