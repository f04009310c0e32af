import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, RetryPolicy } from '../../../src/core/policy';
import {
  SyncRecord, claim, isAbandoned, isDue, isLockedFiring, isLastChance, isSyncRecord, needsWork, nextWake, recordKey, applyRegister,
  renew, settleOutcome, tagsInOrder,
} from '../../../src/core/registration';

const SCOPE = 'https://example.com/app/';
const NOW = 1_700_000_000_000;
const TTL = 30000;

/** A valid record; `overrides` change the fields a test is about. */
function rec(overrides: Partial<SyncRecord> = {}): SyncRecord {
  const tag = overrides.tag ?? 'outbox';
  const scope = overrides.scope ?? SCOPE;
  return {
    id: recordKey(scope, tag), scope, tag, state: 'pending', attempts: 0, notBefore: 0, order: 1,
    reregistered: false, lease: '', leaseUntil: 0, ...overrides,
  };
}

function firing(overrides: Partial<SyncRecord> = {}): SyncRecord {
  return rec({ state: 'firing', attempts: 1, lease: 'A', leaseUntil: NOW + TTL, ...overrides });
}

describe('recordKey', () => {
  it('joins scope and tag with a line feed (scope URLs never contain one, so the first splits them)', () => {
    expect(recordKey(SCOPE, 'a')).toBe(SCOPE + '\na');
    expect(recordKey(SCOPE, 'a\nb')).toBe(SCOPE + '\na\nb');
    expect(recordKey(SCOPE, '')).toBe(SCOPE + '\n');
  });
});

describe('applyRegister', () => {
  it('creates a pending record with 0 attempts, no lease and the given order', () => {
    expect(applyRegister(undefined, SCOPE, 'outbox', 7)).toEqual({
      id: recordKey(SCOPE, 'outbox'), scope: SCOPE, tag: 'outbox', state: 'pending', attempts: 0, notBefore: 0,
      order: 7, reregistered: false, lease: '', leaseUntil: 0,
    });
  });

  it('accepts the empty tag', () => {
    const r = applyRegister(undefined, SCOPE, '', 1);
    expect(r.tag).toBe('');
    expect(isSyncRecord(r)).toBe(true);
  });

  it('leaves a pending record unchanged (returns the same object)', () => {
    const existing = rec({ attempts: 2, order: 3 });
    expect(applyRegister(existing, SCOPE, 'outbox', 99)).toBe(existing);
  });

  it('turns a waiting record pending now, keeping attempts and order', () => {
    const existing = rec({ state: 'waiting', attempts: 2, notBefore: NOW + 900000, order: 3 });
    const next = applyRegister(existing, SCOPE, 'outbox', 99);
    expect(next).toEqual({ ...existing, state: 'pending', notBefore: 0 });
    expect(next).not.toBe(existing);
    expect(existing.state).toBe('waiting'); // not mutated
  });

  it('marks a firing record reregistered, keeping its lease and attempts', () => {
    const existing = firing({ attempts: 2 });
    const next = applyRegister(existing, SCOPE, 'outbox', 99);
    expect(next).toEqual({ ...existing, reregistered: true });
    expect(existing.reregistered).toBe(false);
  });

  it('leaves a firing record that is already reregistered unchanged', () => {
    const existing = firing({ reregistered: true });
    expect(applyRegister(existing, SCOPE, 'outbox', 99)).toBe(existing);
  });
});

describe('isDue / isAbandoned / needsWork', () => {
  const cases: Array<[string, SyncRecord, boolean, boolean]> = [
    // name, record, isDue, isAbandoned
    ['pending', rec(), true, false],
    ['waiting, retry time in the future', rec({ state: 'waiting', notBefore: NOW + 1 }), false, false],
    ['waiting, retry time now', rec({ state: 'waiting', notBefore: NOW }), true, false],
    ['waiting, retry time past', rec({ state: 'waiting', notBefore: NOW - 1 }), true, false],
    ['firing, lease running', firing({ leaseUntil: NOW + 1 }), false, false],
    ['firing, lease lapses now', firing({ leaseUntil: NOW }), false, true],
    ['firing, lease lapsed', firing({ leaseUntil: NOW - 1 }), false, true],
  ];
  it.each(cases)('%s', (_name, record, due, abandoned) => {
    expect(isDue(record, NOW)).toBe(due);
    expect(isAbandoned(record, NOW)).toBe(abandoned);
    expect(needsWork(record, NOW)).toBe(due || abandoned);
  });

  describe('a firing under a lock: abandoned only when its lease is among the dead, whatever its time', () => {
    const locked = firing({ lease: 'w1', leaseUntil: NOW - 1, locked: true });
    it.each<[string, ReadonlySet<string> | undefined, boolean]>([
      ['nothing known dead', undefined, false],
      ['others dead', new Set(['w2']), false],
      ['its own lease dead', new Set(['w1']), true],
    ])('%s', (_name, dead, abandoned) => {
      expect(isAbandoned(locked, NOW, dead)).toBe(abandoned);
      expect(needsWork(locked, NOW, dead)).toBe(abandoned);
      expect(isLockedFiring(locked)).toBe(true);
    });

    it('the dead set says nothing of an unlocked firing: its time does', () => {
      expect(isAbandoned(firing({ lease: 'w1', leaseUntil: NOW + 1 }), NOW, new Set(['w1']))).toBe(false);
      expect(isLockedFiring(firing({ lease: 'w1' }))).toBe(false);
      expect(isLockedFiring(rec({ locked: true }))).toBe(false);
    });

    it('claim marks it locked only when asked; settling clears it', () => {
      const claimed = claim(rec(), NOW, 'A', TTL, true)!;
      expect(claimed.locked).toBe(true);
      expect(claim(rec(), NOW, 'A', TTL)!).not.toHaveProperty('locked');
      const settled = settleOutcome(claimed, 'failure', NOW, DEFAULT_POLICY, 'A')!;
      expect(settled.locked).toBeUndefined();
      expect(isSyncRecord(settled)).toBe(true);
      expect(isSyncRecord({ ...claimed, locked: 'yes' })).toBe(false);
    });

    it('is settled as abandoned by a reaper only once known dead', () => {
      expect(settleOutcome(locked, 'failure', NOW, DEFAULT_POLICY, null)).toBeUndefined();
      expect(settleOutcome(locked, 'failure', NOW, DEFAULT_POLICY, null, new Set(['w1']))).toMatchObject({ state: 'waiting' });
    });
  });
});

describe('claim', () => {
  it('claims a pending record: firing, one more attempt, leased to the instance until now + ttl', () => {
    const r = rec({ attempts: 0 });
    expect(claim(r, NOW, 'A', TTL)).toEqual({
      ...r, state: 'firing', attempts: 1, notBefore: 0, reregistered: false, lease: 'A', leaseUntil: NOW + TTL,
    });
  });

  it('claims a waiting record once its retry time has come, and clears notBefore', () => {
    const r = rec({ state: 'waiting', attempts: 2, notBefore: NOW });
    const c = claim(r, NOW, 'B', 100)!;
    expect(c.state).toBe('firing');
    expect(c.attempts).toBe(3);
    expect(c.notBefore).toBe(0);
    expect(c.lease).toBe('B');
    expect(c.leaseUntil).toBe(NOW + 100);
  });

  it.each([
    ['waiting, not yet due', rec({ state: 'waiting', attempts: 1, notBefore: NOW + 1 })],
    ['firing (held by someone)', firing()],
    ['firing, lease lapsed (must be settled first)', firing({ leaseUntil: NOW - 1 })],
  ])('returns null for a record that is not due: %s', (_name, r) => {
    expect(claim(r, NOW, 'A', TTL)).toBeNull();
  });

  it('does not mutate its input', () => {
    const r = rec();
    const copy = { ...r };
    claim(r, NOW, 'A', TTL);
    expect(r).toEqual(copy);
  });
});

describe('isLastChance', () => {
  it.each([
    [1, false], [2, false], [3, true], [4, true],
  ])('with maxAttempts 3, attempt %i → %s', (attempts, expected) => {
    expect(isLastChance(attempts, DEFAULT_POLICY)).toBe(expected);
  });

  it('with maxAttempts 1 the first attempt is the last chance', () => {
    expect(isLastChance(1, { ...DEFAULT_POLICY, maxAttempts: 1 })).toBe(true);
  });
});

describe('renew', () => {
  it('extends the lease of the instance that holds it', () => {
    const r = firing({ lease: 'A', leaseUntil: NOW + 5 });
    expect(renew(r, NOW + 1000, 'A', TTL)).toEqual({ ...r, leaseUntil: NOW + 1000 + TTL });
  });

  it('returns null for another instance', () => {
    expect(renew(firing({ lease: 'A' }), NOW, 'B', TTL)).toBeNull();
  });

  it.each([
    ['pending', rec()],
    ['waiting', rec({ state: 'waiting', notBefore: NOW + 10 })],
  ])('returns null for a %s record', (_name, r) => {
    expect(renew(r, NOW, '', TTL)).toBeNull();
    expect(renew(r, NOW, 'A', TTL)).toBeNull();
  });
});

describe('settleOutcome', () => {
  const policy = DEFAULT_POLICY;
  const idle = { lease: '', leaseUntil: 0, reregistered: false };

  describe('by the lease holder', () => {
    it.each([
      // outcome, attempts, reregistered, expected (null = removed)
      ['success', 1, false, null],
      ['success', 3, false, null],
      ['failure', 3, false, null], // last chance
      ['failure', 4, false, null], // beyond the last chance (policy lowered meanwhile)
    ] as const)('%s on attempt %i (reregistered %s) removes the registration', (outcome, attempts, rereg, _removed) => {
      expect(settleOutcome(firing({ attempts, reregistered: rereg }), outcome, NOW, policy, 'A')).toBeNull();
    });

    it.each([
      [1, 300000],
      [2, 900000],
    ])('failure on attempt %i, not the last chance → waiting for %i ms', (attempts, delay) => {
      const r = firing({ attempts });
      expect(settleOutcome(r, 'failure', NOW, policy, 'A')).toEqual({
        ...r, ...idle, state: 'waiting', notBefore: NOW + delay,
      });
    });

    it.each([
      ['success', 1], ['failure', 1], ['success', 3], ['failure', 3],
    ] as const)('%s on attempt %i when reregistered → pending with attempts 0', (outcome, attempts) => {
      const r = firing({ attempts, reregistered: true });
      expect(settleOutcome(r, outcome, NOW, policy, 'A')).toEqual({
        ...r, ...idle, state: 'pending', attempts: 0, notBefore: 0,
      });
    });

    it('settles even when its own lease has lapsed, as long as nobody else took it', () => {
      expect(settleOutcome(firing({ leaseUntil: NOW - 1 }), 'success', NOW, policy, 'A')).toBeNull();
    });
  });

  describe('by another instance', () => {
    it.each(['success', 'failure'] as const)('%s is not this caller\'s to settle → undefined', (outcome) => {
      expect(settleOutcome(firing({ lease: 'A' }), outcome, NOW, policy, 'B')).toBeUndefined();
      expect(settleOutcome(firing({ lease: 'A', leaseUntil: NOW - 1 }), outcome, NOW, policy, 'B')).toBeUndefined();
      expect(settleOutcome(firing({ lease: 'A', reregistered: true }), outcome, NOW, policy, 'B')).toBeUndefined();
    });
  });

  describe('an abandoned firing (instance null)', () => {
    it('is not settled while its lease is running', () => {
      expect(settleOutcome(firing({ leaseUntil: NOW + 1 }), 'failure', NOW, policy, null)).toBeUndefined();
    });

    it.each([
      [1, { state: 'waiting', notBefore: NOW + 300000, attempts: 1 }],
      [2, { state: 'waiting', notBefore: NOW + 900000, attempts: 2 }],
      [3, null],
    ] as const)('lease lapsed on attempt %i → a failed attempt', (attempts, expected) => {
      const r = firing({ attempts, leaseUntil: NOW });
      const next = settleOutcome(r, 'failure', NOW, policy, null);
      expect(next).toEqual(expected && { ...r, ...idle, ...expected });
    });

    it('lease lapsed while reregistered → pending with attempts 0', () => {
      const r = firing({ attempts: 3, leaseUntil: NOW - 1, reregistered: true });
      expect(settleOutcome(r, 'failure', NOW, policy, null)).toEqual({
        ...r, ...idle, state: 'pending', attempts: 0, notBefore: 0,
      });
    });
  });

  it.each([
    ['pending', rec()],
    ['waiting', rec({ state: 'waiting', attempts: 1, notBefore: NOW - 1 })],
  ])('a %s record is nobody\'s to settle', (_name, r) => {
    for (const instance of ['A', '', null]) {
      expect(settleOutcome(r, 'success', NOW, policy, instance)).toBeUndefined();
      expect(settleOutcome(r, 'failure', NOW, policy, instance)).toBeUndefined();
    }
  });

  // A policy configure() accepts: maxAttempts up to 2^31-1, initialRetryDelay 0. factor^(attempts-1) overflows.
  it('a failure leaves a waiting record that becomes due again, whatever the (valid) policy', () => {
    const policy: RetryPolicy = { maxAttempts: 2147483647, initialRetryDelay: 0, retryDelayFactor: 3, maxEventDuration: 1, periodicMinInterval: 0 };
    const next = settleOutcome(firing({ attempts: 700 }), 'failure', NOW, policy, 'A')!;
    expect(next.state).toBe('waiting');
    expect(isDue(next, NOW)).toBe(true);
    expect(nextWake([next])).toBe(NOW);
  });

  it('does not mutate its input', () => {
    const r = firing({ reregistered: true });
    const copy = { ...r };
    settleOutcome(r, 'failure', NOW, policy, 'A');
    expect(r).toEqual(copy);
  });
});

describe('a whole lifecycle with Chromium\'s numbers', () => {
  // Each step: what happens, at which time, and the record afterwards (null: removed).
  type Step =
    | { do: 'claim'; at: number; expect: Partial<SyncRecord> | null; lastChance?: boolean }
    | { do: 'fail'; at: number; expect: Partial<SyncRecord> | null };
  const t0 = NOW;
  const steps: Step[] = [
    { do: 'claim', at: t0, expect: { state: 'firing', attempts: 1 }, lastChance: false },
    { do: 'fail', at: t0 + 10, expect: { state: 'waiting', attempts: 1, notBefore: t0 + 10 + 300000 } },
    { do: 'claim', at: t0 + 10 + 299999, expect: null }, // not due yet
    { do: 'claim', at: t0 + 10 + 300000, expect: { state: 'firing', attempts: 2 }, lastChance: false },
    { do: 'fail', at: t0 + 400000, expect: { state: 'waiting', attempts: 2, notBefore: t0 + 400000 + 900000 } },
    { do: 'claim', at: t0 + 1300000, expect: { state: 'firing', attempts: 3 }, lastChance: true },
    { do: 'fail', at: t0 + 1300001, expect: null }, // removed after the last chance
  ];

  it('fires three times, waits 300000 then 900000 ms, has lastChance on attempt 3 only, then is removed', () => {
    let r: SyncRecord | null = applyRegister(undefined, SCOPE, 'outbox', 1);
    for (const step of steps) {
      if (step.do === 'claim') {
        const claimed: SyncRecord | null = claim(r!, step.at, 'A', TTL);
        if (step.expect === null) {
          expect(claimed).toBeNull();
          continue;
        }
        expect(claimed).toMatchObject(step.expect);
        expect(isLastChance(claimed!.attempts, DEFAULT_POLICY)).toBe(step.lastChance);
        r = claimed;
      } else {
        const next = settleOutcome(r!, 'failure', step.at, DEFAULT_POLICY, 'A');
        expect(next === null ? null : next).toEqual(step.expect === null ? null : expect.objectContaining(step.expect));
        r = next as SyncRecord | null;
      }
    }
    expect(r).toBeNull();
  });

  it('a success on any attempt removes it', () => {
    for (let attempts = 1; attempts <= 3; attempts++) {
      expect(settleOutcome(firing({ attempts }), 'success', NOW, DEFAULT_POLICY, 'A')).toBeNull();
    }
  });
});

describe('nextWake', () => {
  it('is Infinity for nothing, and for pending records only', () => {
    expect(nextWake([])).toBe(Infinity);
    expect(nextWake([rec(), rec({ tag: 'b' })])).toBe(Infinity);
  });

  it('is the earliest retry time or lease expiry', () => {
    const records = [
      rec({ tag: 'a' }),
      rec({ tag: 'b', state: 'waiting', notBefore: NOW + 500 }),
      firing({ tag: 'c', leaseUntil: NOW + 300 }),
      rec({ tag: 'd', state: 'waiting', notBefore: NOW + 900 }),
    ];
    expect(nextWake(records)).toBe(NOW + 300);
    expect(nextWake(records.filter((r) => r.tag !== 'c'))).toBe(NOW + 500);
  });

  it('has no time for a firing under a lock: its lock tells', () => {
    expect(nextWake([firing({ leaseUntil: NOW + 300, locked: true }), rec({ tag: 'b', state: 'waiting', notBefore: NOW + 500 })])).toBe(NOW + 500);
  });
});

describe('tagsInOrder', () => {
  it('lists every tag in any state in registration order', () => {
    const records = [
      firing({ tag: 'c', order: 3 }),
      rec({ tag: 'a', order: 1 }),
      rec({ tag: 'b', state: 'waiting', notBefore: NOW, order: 2 }),
    ];
    expect(tagsInOrder(records)).toEqual(['a', 'b', 'c']);
  });

  it('does not reorder its input', () => {
    const records = [rec({ tag: 'b', order: 2 }), rec({ tag: 'a', order: 1 })];
    tagsInOrder(records);
    expect(records.map((r) => r.tag)).toEqual(['b', 'a']);
  });
});

describe('isSyncRecord', () => {
  it.each([
    ['a pending record', rec()],
    ['a waiting record', rec({ state: 'waiting', attempts: 2, notBefore: NOW })],
    ['a firing record', firing({ reregistered: true })],
    ['the empty tag', rec({ tag: '' })],
    ['extra fields (newer code)', { ...rec(), extra: 1 }],
  ])('accepts %s', (_name, value) => {
    expect(isSyncRecord(value)).toBe(true);
  });

  const valid = rec();
  const corrupt: Array<[string, unknown]> = [
    ['undefined', undefined],
    ['null', null],
    ['a string', 'outbox'],
    ['a number', 1],
    ['an array', []],
    ['an empty object', {}],
    ['a wrong id', { ...valid, id: 'outbox' }],
    ['an id of another tag', { ...valid, id: recordKey(SCOPE, 'other') }],
    ['a missing id', { ...valid, id: undefined }],
    ['a numeric scope', { ...valid, scope: 1, id: '1\noutbox' }],
    ['a numeric tag', { ...valid, tag: 1, id: SCOPE + '\n1' }],
    ['an unknown state', { ...valid, state: 'done' }],
    ['an inherited state name', { ...valid, state: 'toString' }],
    ['a missing state', { ...valid, state: undefined }],
    ['negative attempts', { ...valid, attempts: -1 }],
    ['fractional attempts', { ...valid, attempts: 1.5 }],
    ['NaN attempts', { ...valid, attempts: NaN }],
    ['infinite attempts', { ...valid, attempts: Infinity }],
    ['string attempts', { ...valid, attempts: '1' }],
    ['a string notBefore', { ...valid, notBefore: '0' }],
    ['a string order', { ...valid, order: '1' }],
    ['a numeric reregistered', { ...valid, reregistered: 0 }],
    ['a null lease', { ...valid, lease: null }],
    ['a string leaseUntil', { ...valid, leaseUntil: '0' }],
    ['a missing leaseUntil', { ...valid, leaseUntil: undefined }],
  ];
  it.each(corrupt)('rejects %s', (_name, value) => {
    expect(isSyncRecord(value)).toBe(false);
  });

  // A waiting record with notBefore NaN/Infinity is never due and never removed; a firing one with leaseUntil
  // NaN/Infinity is never abandoned: either sits in getTags() forever and blocks re-registration from firing
  // (a firing record only becomes reregistered). nextWake() returns NaN for them too.
  it.each([
    ['NaN notBefore', { ...valid, state: 'waiting', attempts: 1, notBefore: NaN }],
    ['Infinity notBefore', { ...valid, state: 'waiting', attempts: 1, notBefore: Infinity }],
    ['NaN leaseUntil', { ...valid, state: 'firing', attempts: 1, lease: 'A', leaseUntil: NaN }],
    ['Infinity leaseUntil', { ...valid, state: 'firing', attempts: 1, lease: 'A', leaseUntil: Infinity }],
  ])('rejects a record that could never fire or be cleaned up: %s', (_name, value) => {
    expect(isSyncRecord(value)).toBe(false);
  });
});

