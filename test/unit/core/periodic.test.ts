import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, MAX_DELAY, RetryPolicy, retryDelay } from '../../../src/core/policy';
import {
  PeriodicRecord, applyPeriodicRegister, claimPeriodic, isPeriodicDue, isPeriodicRecord, periodicInterval, periodicKey,
  settlePeriodic,
} from '../../../src/core/periodic';
import { isAbandoned, isLockedFiring, isSyncRecord, nextWake, recordKey } from '../../../src/core/registration';

const SCOPE = 'https://example.com/app/';
const NOW = 1_700_000_000_000;
const TTL = 30000;
const HOUR = 3_600_000;
const FLOOR = 12 * HOUR;
const POLICY: RetryPolicy = { ...DEFAULT_POLICY, maxAttempts: 3, initialRetryDelay: 1000, retryDelayFactor: 2 };

function rec(overrides: Partial<PeriodicRecord> = {}): PeriodicRecord {
  const tag = overrides.tag ?? 'news';
  const scope = overrides.scope ?? SCOPE;
  return {
    id: periodicKey(scope, tag), scope, tag, periodic: true, minInterval: 0, state: 'waiting', attempts: 0,
    notBefore: NOW + FLOOR, since: NOW, order: 1, lease: '', leaseUntil: 0, ...overrides,
  };
}

const firing = (overrides: Partial<PeriodicRecord> = {}) =>
  rec({ state: 'firing', attempts: 1, notBefore: NOW, lease: 'A', leaseUntil: NOW + TTL, ...overrides });

describe('periodicKey', () => {
  it('is a namespace of its own: never a one-shot key, and the range just above the scope\'s one-shot keys', () => {
    expect(periodicKey(SCOPE, 'x')).toBe(SCOPE + '\u000bx');
    expect(periodicKey(SCOPE, 'x')).not.toBe(recordKey(SCOPE, 'x'));
    // Every one-shot key of the scope sorts below every periodic one, and both below the next scope character.
    expect(recordKey(SCOPE, '\uffff'.repeat(3)) < periodicKey(SCOPE, '')).toBe(true);
    expect(periodicKey(SCOPE, '\uffff') < SCOPE + '\u000c').toBe(true);
  });
});

describe('periodicInterval', () => {
  it('is the larger of minInterval and periodicMinInterval, and at most what a timer holds', () => {
    expect(periodicInterval(0, FLOOR)).toBe(FLOOR);
    expect(periodicInterval(24 * HOUR, FLOOR)).toBe(24 * HOUR);
    expect(periodicInterval(1000, 0)).toBe(1000);
    expect(periodicInterval(Number.MAX_SAFE_INTEGER, FLOOR)).toBe(MAX_DELAY);
  });
});

describe('applyPeriodicRegister', () => {
  it('a new tag waits one interval from now, with no attempts and the given order', () => {
    expect(applyPeriodicRegister(undefined, SCOPE, 'news', 0, NOW, FLOOR, 7)).toEqual(rec({ order: 7 }));
    expect(applyPeriodicRegister(undefined, SCOPE, 'news', 24 * HOUR, NOW, FLOOR, 1)).toEqual(
      rec({ minInterval: 24 * HOUR, notBefore: NOW + 24 * HOUR }),
    );
  });

  it('the same minInterval again keeps the schedule: the record itself comes back', () => {
    const r = rec({ notBefore: NOW + 5 * HOUR, since: NOW - 7 * HOUR });
    expect(applyPeriodicRegister(r, SCOPE, 'news', 0, NOW, FLOOR, 9)).toBe(r);
  });

  it('a new minInterval takes effect from the start of the current period', () => {
    const r = rec({ since: NOW - HOUR, notBefore: NOW - HOUR + FLOOR });
    expect(applyPeriodicRegister(r, SCOPE, 'news', 24 * HOUR, NOW, FLOOR, 9)).toEqual(
      { ...r, minInterval: 24 * HOUR, notBefore: NOW - HOUR + 24 * HOUR },
    );
  });

  it('a new minInterval leaves a retry\'s time and a running event alone; it applies from the next period', () => {
    const retrying = rec({ attempts: 1, notBefore: NOW + 1000 });
    expect(applyPeriodicRegister(retrying, SCOPE, 'news', 24 * HOUR, NOW, FLOOR, 9)).toEqual({ ...retrying, minInterval: 24 * HOUR });
    const running = firing();
    const next = applyPeriodicRegister(running, SCOPE, 'news', 24 * HOUR, NOW, FLOOR, 9);
    expect(next).toEqual({ ...running, minInterval: 24 * HOUR });
    expect(settlePeriodic(next, 'success', NOW + 5, POLICY, FLOOR, 'A')!.notBefore).toBe(NOW + 5 + 24 * HOUR);
  });
});

describe('claimPeriodic', () => {
  it('is not due before notBefore, nor while firing', () => {
    expect(claimPeriodic(rec(), NOW + FLOOR - 1, 'A', TTL)).toBeNull();
    expect(isPeriodicDue(rec(), NOW + FLOOR - 1)).toBe(false);
    expect(claimPeriodic(firing(), NOW + FLOOR, 'B', TTL)).toBeNull();
  });

  it('once due: firing, one more attempt, leased to the instance; `locked` where it holds its lock', () => {
    const r = rec();
    expect(claimPeriodic(r, NOW + FLOOR, 'A', TTL)).toEqual({ ...r, state: 'firing', attempts: 1, lease: 'A', leaseUntil: NOW + FLOOR + TTL });
    expect(claimPeriodic(r, NOW + FLOOR, 'A', TTL, true)!.locked).toBe(true);
  });
});

describe('settlePeriodic', () => {
  it('success starts the next period one interval on, attempts back to 0; the registration stays', () => {
    const at = NOW + 10;
    expect(settlePeriodic(firing({ attempts: 2 }), 'success', at, POLICY, FLOOR, 'A')).toEqual(
      rec({ since: at, notBefore: at + FLOOR, locked: undefined }),
    );
  });

  it('a failure with attempts left is retried on the one-shot policy', () => {
    const at = NOW + 10;
    expect(settlePeriodic(firing({ attempts: 1 }), 'failure', at, POLICY, FLOOR, 'A')).toEqual(
      rec({ attempts: 1, since: NOW, notBefore: at + retryDelay(1, POLICY), locked: undefined }),
    );
    expect(settlePeriodic(firing({ attempts: 2 }), 'failure', at, POLICY, FLOOR, 'A')!.notBefore).toBe(at + 2000);
  });

  it('the last failed attempt is not a removal: the next period starts', () => {
    const at = NOW + 10;
    expect(settlePeriodic(firing({ attempts: 3 }), 'failure', at, POLICY, FLOOR, 'A')).toEqual(
      rec({ since: at, notBefore: at + FLOOR, locked: undefined }),
    );
  });

  it('is not another instance\'s to settle, nor a record that is not firing', () => {
    expect(settlePeriodic(firing(), 'success', NOW, POLICY, FLOOR, 'B')).toBeUndefined();
    expect(settlePeriodic(rec(), 'success', NOW, POLICY, FLOOR, 'A')).toBeUndefined();
  });

  it('an abandoned firing (lapsed lease, or a lock seen free) settles as a failure with a null instance; a live one does not', () => {
    const lapsed = firing({ leaseUntil: NOW });
    expect(settlePeriodic(lapsed, 'failure', NOW, POLICY, FLOOR, null)!.notBefore).toBe(NOW + 1000);
    expect(settlePeriodic(firing({ leaseUntil: NOW + 1 }), 'failure', NOW, POLICY, FLOOR, null)).toBeUndefined();
    const locked = firing({ locked: true, leaseUntil: 0 });
    expect(settlePeriodic(locked, 'failure', NOW, POLICY, FLOOR, null)).toBeUndefined();
    expect(settlePeriodic(locked, 'failure', NOW, POLICY, FLOOR, null, new Set(['A']))!.state).toBe('waiting');
  });
});

describe('liveness reads periodic records as one-shot ones', () => {
  it('isAbandoned, isLockedFiring and nextWake', () => {
    expect(isAbandoned(firing({ leaseUntil: NOW }), NOW)).toBe(true);
    expect(isLockedFiring(firing({ locked: true }))).toBe(true);
    expect(nextWake([rec({ notBefore: NOW + 5 }), firing({ leaseUntil: NOW + 3 })])).toBe(NOW + 3);
    expect(nextWake([firing({ locked: true, leaseUntil: NOW + 3 })])).toBe(Infinity);
  });
});

describe('isPeriodicRecord', () => {
  it('accepts what the functions above make', () => {
    const made = applyPeriodicRegister(undefined, SCOPE, 'news', 5, NOW, FLOOR, 1);
    expect(isPeriodicRecord(made)).toBe(true);
    expect(isPeriodicRecord(claimPeriodic(made, made.notBefore, 'A', TTL, true))).toBe(true);
  });

  it.each([
    ['a one-shot record', { ...rec(), periodic: undefined, id: recordKey(SCOPE, 'news') }],
    ['a one-shot key', { ...rec(), id: recordKey(SCOPE, 'news') }],
    ['a pending state', { ...rec(), state: 'pending' }],
    ['negative attempts', { ...rec(), attempts: -1 }],
    ['a fractional minInterval', { ...rec(), minInterval: 1.5 }],
    ['a minInterval past 2^53 − 1', { ...rec(), minInterval: 2 ** 53 }],
    ['NaN notBefore', { ...rec(), notBefore: NaN }],
    ['Infinity since', { ...rec(), since: Infinity }],
    ['a non-boolean locked', { ...rec(), locked: 1 }],
    ['null', null],
    ['a string', 'news'],
  ])('rejects %s', (_name, value) => {
    expect(isPeriodicRecord(value)).toBe(false);
  });

  it('a periodic record is never taken for a one-shot one', () => {
    expect(isSyncRecord(rec())).toBe(false);
  });
});

describe('a periodic registration over time (property)', () => {
  // One worker, outcomes at random: it fires at most once per interval, never twice at once, retries a failure on
  // the one-shot policy up to maxAttempts, then waits for the next period, and is never dropped.
  it('at most one period per interval, retries bounded by maxAttempts, never removed', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 5 }),
      fc.integer({ min: 0, max: 10_000 }),
      fc.integer({ min: 1, max: 20_000 }),
      fc.array(fc.record({ outcome: fc.constantFrom<'success' | 'failure'>('success', 'failure'), takes: fc.integer({ min: 0, max: 5000 }), lateBy: fc.integer({ min: 0, max: 3000 }) }), { minLength: 1, maxLength: 40 }),
      (maxAttempts, minInterval, floor, steps) => {
        const policy = { ...POLICY, maxAttempts };
        const interval = periodicInterval(minInterval, floor);
        let r = applyPeriodicRegister(undefined, SCOPE, 'p', minInterval, NOW, floor, 1);
        let now = NOW;
        let periodStart = NOW;
        let attemptsThisPeriod = 0;
        for (const { outcome, takes, lateBy } of steps) {
          // Wake up some time after it became due; nothing fires before.
          expect(claimPeriodic(r, r.notBefore - 1, 'W', TTL)).toBeNull();
          now = Math.max(now, r.notBefore) + lateBy;
          const claimed = claimPeriodic(r, now, 'W', TTL, true)!;
          expect(claimed.state).toBe('firing');
          // Never twice at once: a second claim while it runs gets nothing.
          expect(claimPeriodic(claimed, now + takes, 'V', TTL)).toBeNull();
          attemptsThisPeriod++;
          if (attemptsThisPeriod === 1) expect(now - periodStart).toBeGreaterThanOrEqual(interval);
          expect(claimed.attempts).toBe(attemptsThisPeriod);
          expect(claimed.attempts).toBeLessThanOrEqual(maxAttempts);
          now += takes;
          const next = settlePeriodic(claimed, outcome, now, policy, floor, 'W');
          expect(next).toBeDefined();
          expect(isPeriodicRecord(next)).toBe(true);
          r = next!;
          if (outcome === 'success' || attemptsThisPeriod === maxAttempts) {
            expect(r).toMatchObject({ attempts: 0, since: now, notBefore: now + interval });
            periodStart = now;
            attemptsThisPeriod = 0;
          } else {
            expect(r.notBefore).toBe(now + retryDelay(attemptsThisPeriod, policy));
          }
        }
      },
    ));
  });
});
