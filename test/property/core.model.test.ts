/**
 * Layer (a): the pure state machine of src/core/registration.ts, model-based (see core.harness.ts), and
 * properties of the retry policy (src/core/policy.ts).
 *
 * The split of generated runs over the property suite, 11,450 in all (test/property takes 45-60 s on this
 * 2-core machine while browser tests run beside it; about 35 s of CPU):
 * - here, cheap and pure: 6000 model runs (up to 40 commands each, then a drain) + 3 × 1000 policy runs;
 * - store.model.test.ts: 1500 runs of the store shared by 2-3 contexts (real IndexedDB transactions);
 * - dispatcher.model.test.ts: 400 runs of pages and dispatchers under the fake clock, + 300 with Web Locks
 *   liveness (a killed worker's lock is freed), + 250 with storage
 *   failing for a while (the slowest, 20-40 ms a run);
 * - regressions.test.ts: the shrunk counter-examples, replayed.
 * fast-check prints the seed and replay path of any failure.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SyncRecord, isDue, isSyncRecord, recordKey, settleOutcome } from '../../src/core/registration';
import { MAX_DELAY, RetryPolicy, retryDelay } from '../../src/core/policy';
import { updatePolicy } from '../../src/options';
import { SCOPE, TTL, commandArbs, policyArb, runCore } from './core.harness';
import { commandsArb, outcomeArb } from './common';

export const CORE_MODEL_RUNS = 6000;

describe('core state machine, model-based', () => {
  it(`agrees with the spec model and keeps the four invariants (${CORE_MODEL_RUNS} runs)`, () => {
    fc.assert(
      fc.property(policyArb, commandsArb(commandArbs), outcomeArb, (policy, cmds, outcome) => {
        runCore(policy, cmds, outcome);
      }),
      { numRuns: CORE_MODEL_RUNS },
    );
  }, 120000);
});

export const POLICY_RUNS = 1000;

describe('retry policy properties', () => {
  const valid = fc.record({
    maxAttempts: fc.integer({ min: 1, max: 100 }),
    initialRetryDelay: fc.double({ min: 0, max: MAX_DELAY, noNaN: true }),
    retryDelayFactor: fc.double({ min: 1, max: MAX_DELAY, noNaN: true }),
    maxEventDuration: fc.double({ min: 1, max: MAX_DELAY, noNaN: true }),
    periodicMinInterval: fc.double({ min: 0, max: MAX_DELAY, noNaN: true }),
  });

  it(`retryDelay is finite, within 0..MAX_DELAY and never shrinks with more attempts (${POLICY_RUNS} runs)`, () => {
    fc.assert(fc.property(valid, fc.integer({ min: 1, max: 200 }), (policy, attempts) => {
      const d = retryDelay(attempts, policy);
      expect(Number.isFinite(d)).toBe(true);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(MAX_DELAY);
      expect(retryDelay(attempts + 1, policy)).toBeGreaterThanOrEqual(d);
      if (attempts === 1) expect(d).toBe(Math.min(policy.initialRetryDelay, MAX_DELAY));
    }), { numRuns: POLICY_RUNS });
  });

  it(`a failed settle never leaves a record that is invalid, never due, or stuck (${POLICY_RUNS} runs)`, () => {
    fc.assert(fc.property(valid, fc.integer({ min: 1, max: 100 }), fc.integer({ min: 0, max: 2 ** 42 }), (policy, attempts, now) => {
      const firing: SyncRecord = {
        id: recordKey(SCOPE, 't'), scope: SCOPE, tag: 't', state: 'firing', attempts, notBefore: 0, order: 1,
        reregistered: false, lease: 'A', leaseUntil: now + TTL,
      };
      const next = settleOutcome(firing, 'failure', now, policy, 'A');
      if (attempts >= policy.maxAttempts) {
        expect(next).toBeNull();
      } else {
        expect(isSyncRecord(next)).toBe(true);
        expect(next!.state).toBe('waiting');
        expect(isDue(next!, next!.notBefore)).toBe(true);
        expect(next!.notBefore - now).toBeLessThanOrEqual(MAX_DELAY);
      }
    }), { numRuns: POLICY_RUNS });
  });

  const option = fc.oneof(
    fc.double(), fc.integer(), fc.constantFrom(NaN, Infinity, -Infinity, -0, 0, 1, MAX_DELAY, MAX_DELAY + 1, 1.5),
    fc.string(), fc.boolean(), fc.constant(null), fc.bigInt(), fc.object(),
  );
  const names = ['maxAttempts', 'initialRetryDelay', 'retryDelayFactor', 'maxEventDuration'] as const;

  it(`updatePolicy either accepts a usable policy or throws a TypeError/RangeError naming the option, changing nothing (${POLICY_RUNS} runs)`, () => {
    fc.assert(fc.property(fc.constantFrom(...names), option, (name, value) => {
      const before: RetryPolicy = { maxAttempts: 3, initialRetryDelay: 300000, retryDelayFactor: 3, maxEventDuration: 180000, periodicMinInterval: 43200000 };
      const copy = { ...before };
      let next: RetryPolicy | undefined;
      let error: unknown;
      try {
        next = updatePolicy(before, { [name]: value });
      } catch (e) {
        error = e;
      }
      expect(before).toEqual(copy);
      if (value === undefined) return;
      if (error) {
        expect(error instanceof TypeError || error instanceof RangeError).toBe(true);
        expect((error as Error).message).toContain(name);
        if (typeof value !== 'number') expect(error).toBeInstanceOf(TypeError);
        else expect(error).toBeInstanceOf(RangeError);
      } else {
        expect(typeof value).toBe('number');
        const v = next![name];
        expect(Number.isFinite(v)).toBe(true);
        expect(v).toBeLessThanOrEqual(MAX_DELAY);
        if (name === 'maxAttempts') expect(Number.isInteger(v) && v >= 1).toBe(true);
        if (name === 'retryDelayFactor') expect(v).toBeGreaterThanOrEqual(1);
        if (name === 'maxEventDuration') expect(v).toBeGreaterThanOrEqual(1);
        if (name === 'initialRetryDelay') expect(v).toBeGreaterThanOrEqual(0);
      }
    }), { numRuns: POLICY_RUNS });
  });
});
