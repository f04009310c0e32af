import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, MAX_DELAY, RetryPolicy, retryDelay } from '../../../src/core/policy';
import { checkOption, updatePolicy } from '../../../src/options';

const OPTIONS = ['maxAttempts', 'initialRetryDelay', 'retryDelayFactor', 'maxEventDuration', 'periodicMinInterval'] as const;

describe('DEFAULT_POLICY', () => {
  it('is Chromium\'s (background_sync_parameters.cc; 12 h between periodic events of a site)', () => {
    expect(DEFAULT_POLICY).toEqual({
      maxAttempts: 3, initialRetryDelay: 300000, retryDelayFactor: 3, maxEventDuration: 180000, periodicMinInterval: 43200000,
    });
  });

  it('is frozen', () => {
    expect(Object.isFrozen(DEFAULT_POLICY)).toBe(true);
  });

  it('MAX_DELAY is 2^31 - 1', () => {
    expect(MAX_DELAY).toBe(2 ** 31 - 1);
  });
});

describe('retryDelay', () => {
  it.each([
    [1, 300000], [2, 900000], [3, 2700000], [4, 8100000],
  ])('with the defaults, after failure %i → %i ms', (attempts, delay) => {
    expect(retryDelay(attempts, DEFAULT_POLICY)).toBe(delay);
  });

  it.each([
    [{ initialRetryDelay: 50, retryDelayFactor: 2 }, [50, 100, 200, 400]],
    [{ initialRetryDelay: 50, retryDelayFactor: 1 }, [50, 50, 50, 50]],
    [{ initialRetryDelay: 0, retryDelayFactor: 3 }, [0, 0, 0, 0]],
  ])('%o → %o', (options, delays) => {
    const policy = { ...DEFAULT_POLICY, ...options };
    expect([1, 2, 3, 4].map((a) => retryDelay(a, policy))).toEqual(delays);
  });

  it.each([
    [{ initialRetryDelay: 300000, retryDelayFactor: 3 }, 10],
    [{ initialRetryDelay: MAX_DELAY, retryDelayFactor: 1 }, 1],
    [{ initialRetryDelay: MAX_DELAY, retryDelayFactor: MAX_DELAY }, 2],
    [{ initialRetryDelay: 1, retryDelayFactor: MAX_DELAY }, 1000],
  ])('is capped at 2^31 - 1: %o on attempt %i', (options, attempts) => {
    expect(retryDelay(attempts, { ...DEFAULT_POLICY, ...options })).toBe(MAX_DELAY);
  });

  it('just below the cap is not capped', () => {
    expect(retryDelay(9, DEFAULT_POLICY)).toBe(300000 * 3 ** 8);
    expect(300000 * 3 ** 8).toBeLessThan(MAX_DELAY);
  });

  // configure() accepts initialRetryDelay 0 and maxAttempts up to 2^31-1: factor^(attempts-1) overflows to
  // Infinity, and 0 * Infinity is NaN. settle() then stores notBefore NaN: never due, never removed.
  it.each([
    [{ initialRetryDelay: 0, retryDelayFactor: MAX_DELAY }, 40],
    [{ initialRetryDelay: 0, retryDelayFactor: 3 }, 700],
  ])('is a number from 0 to 2^31 - 1 for every policy configure() accepts: %o on attempt %i', (options, attempts) => {
    const delay = retryDelay(attempts, { ...DEFAULT_POLICY, ...options });
    expect(delay).toBeGreaterThanOrEqual(0);
    expect(delay).toBeLessThanOrEqual(MAX_DELAY);
  });
});

describe('checkOption', () => {
  it.each([
    ['maxAttempts', 1, 1, true],
    ['maxAttempts', MAX_DELAY, 1, true],
    ['initialRetryDelay', 0, 0, false],
    ['initialRetryDelay', 0.5, 0, false],
    ['retryDelayFactor', 1.5, 1, false],
    ['maxEventDuration', MAX_DELAY, 1, false],
  ] as const)('accepts %s = %d (min %d, integer %s) and returns it', (name, value, min, integer) => {
    expect(checkOption(name, value, min, integer)).toBe(value);
  });

  it.each([
    ['a string', '3'],
    ['a boolean', true],
    ['null', null],
    ['an object', { valueOf: () => 3 }],
    ['a bigint', BigInt(3)],
    ['undefined', undefined],
  ])('throws a TypeError naming the option for %s', (_name, value) => {
    expect(() => checkOption('maxAttempts', value, 1, true)).toThrow(TypeError);
    expect(() => checkOption('maxAttempts', value, 1, true)).toThrow(/maxAttempts/);
  });

  it.each([
    ['below the minimum', 0, 1, true],
    ['negative', -1, 0, false],
    ['NaN', NaN, 0, false],
    ['Infinity', Infinity, 0, false],
    ['-Infinity', -Infinity, 0, false],
    ['above 2^31 - 1', MAX_DELAY + 1, 0, false],
    ['huge', 1e300, 1, true],
    ['fractional for an integer option', 2.5, 1, true],
  ])('throws a RangeError naming the option when %s', (_name, value, min, integer) => {
    expect(() => checkOption('someOption', value, min, integer)).toThrow(RangeError);
    expect(() => checkOption('someOption', value, min, integer)).toThrow(/someOption/);
  });
});

describe('updatePolicy', () => {
  it('merges valid options over the policy without mutating it', () => {
    const base: RetryPolicy = { ...DEFAULT_POLICY };
    const next = updatePolicy(base, { maxAttempts: 5, initialRetryDelay: 0, retryDelayFactor: 1, maxEventDuration: 10, periodicMinInterval: 0 });
    expect(next).toEqual({ maxAttempts: 5, initialRetryDelay: 0, retryDelayFactor: 1, maxEventDuration: 10, periodicMinInterval: 0 });
    expect(base).toEqual(DEFAULT_POLICY);
    expect(next).not.toBe(base);
  });

  it('keeps what is not given (or given as undefined)', () => {
    expect(updatePolicy(DEFAULT_POLICY, {})).toEqual(DEFAULT_POLICY);
    expect(updatePolicy(DEFAULT_POLICY, { maxAttempts: undefined, maxEventDuration: 5 }))
      .toEqual({ ...DEFAULT_POLICY, maxEventDuration: 5 });
  });

  it('works on the frozen default', () => {
    expect(updatePolicy(DEFAULT_POLICY, { maxAttempts: 1 }).maxAttempts).toBe(1);
  });

  // Per option: a wrong type, then values out of range.
  const bad: Array<[typeof OPTIONS[number], unknown, typeof TypeError | typeof RangeError]> = [
    ['maxAttempts', '3', TypeError],
    ['maxAttempts', null, TypeError],
    ['maxAttempts', 0, RangeError],
    ['maxAttempts', -1, RangeError],
    ['maxAttempts', 1.5, RangeError],
    ['maxAttempts', NaN, RangeError],
    ['maxAttempts', Infinity, RangeError],
    ['maxAttempts', 2 ** 31, RangeError],
    ['initialRetryDelay', '0', TypeError],
    ['initialRetryDelay', -1, RangeError],
    ['initialRetryDelay', NaN, RangeError],
    ['initialRetryDelay', Infinity, RangeError],
    ['initialRetryDelay', 2 ** 31, RangeError],
    ['retryDelayFactor', false, TypeError],
    ['retryDelayFactor', 0.5, RangeError],
    ['retryDelayFactor', 0, RangeError],
    ['retryDelayFactor', NaN, RangeError],
    ['retryDelayFactor', Infinity, RangeError],
    ['maxEventDuration', {}, TypeError],
    ['maxEventDuration', 0, RangeError],
    ['maxEventDuration', -5, RangeError],
    ['maxEventDuration', NaN, RangeError],
    ['maxEventDuration', Infinity, RangeError],
  ];
  it.each(bad)('%s = %o → %o naming the option', (name, value, error) => {
    expect(() => updatePolicy(DEFAULT_POLICY, { [name]: value })).toThrow(error);
    expect(() => updatePolicy(DEFAULT_POLICY, { [name]: value })).toThrow(new RegExp(name));
  });

  it('a bad option changes nothing, even after good ones', () => {
    const base: RetryPolicy = { ...DEFAULT_POLICY };
    expect(() => updatePolicy(base, { maxAttempts: 7, initialRetryDelay: 1, maxEventDuration: -1 })).toThrow(RangeError);
    expect(base).toEqual(DEFAULT_POLICY);
  });

  it('reports the first bad option in a fixed order', () => {
    expect(() => updatePolicy(DEFAULT_POLICY, { maxEventDuration: 'x', maxAttempts: 'y' })).toThrow(/maxAttempts/);
  });
});
