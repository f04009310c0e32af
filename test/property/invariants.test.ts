// Hand-made exact logs for the rules the property harnesses check (invariants.ts, over test/model/attempt-log.mjs):
// each rule is shown to be able to fail, as test/faults/invariants.test.ts shows for the fault suite's figures.
import { describe, expect, it } from 'vitest';
import { Firing, Log, Registration, assertInvariants, checkLog } from './invariants';

const firing = (tag: string, attempt: number, start: number, end: number | undefined, outcome?: Firing['outcome'], lastChance = attempt === 3): Firing =>
  ({ tag, context: 'w0.0', attempt, lastChance, start, end, outcome });
const call = (tag: string, called: number, resolved = called + 1, duringFiring = false): Registration => ({ tag, called, resolved, duringFiring });
const check = (firings: Firing[], registrations: Registration[], remaining: string[] = []) =>
  checkLog({ firings, registrations }, 3, remaining);

describe('exact-log invariants', () => {
  it('a clean log has no violation: retries up to the last chance, a re-register during a firing honoured', () => {
    const log: Log = {
      firings: [
        firing('a', 1, 3, 4, 'failure'), firing('a', 2, 5, 6, 'failure'), firing('a', 3, 7, 8, 'failure'),
        firing('b', 1, 11, 14, 'failure'), firing('b', 1, 15, 16, 'success'),
      ],
      registrations: [call('a', 1), call('b', 9), call('b', 12, 13, true)],
    };
    expect(checkLog(log, 3, [])).toEqual([]);
    expect(() => assertInvariants(log, 3, [])).not.toThrow();
  });

  it('never concurrent and bounded: overlapping firings, an attempt out of range, a wrong lastChance, a skipped attempt, a firing after success or after the last chance', () => {
    expect(check([firing('a', 1, 3, 10, 'failure'), firing('a', 2, 5, 6, 'success')], [call('a', 1)]))
      .toEqual([expect.stringMatching(/^concurrent: "a"#2/)]);
    expect(check([firing('a', 1, 3, undefined)], [call('a', 1)]).filter((v) => v.startsWith('concurrent'))).toEqual([]);
    expect(check([firing('a', 4, 3, 4, 'failure', true)], [call('a', 1)])).toContainEqual(expect.stringMatching(/^attempt out of 1\.\.3/));
    expect(check([firing('a', 1, 3, 4, 'success', true)], [call('a', 1)])).toEqual([expect.stringMatching(/^lastChance true on attempt 1 of 3/)]);
    expect(check([firing('a', 1, 3, 4, 'failure'), firing('a', 3, 5, 6, 'success')], [call('a', 1)]))
      .toEqual([expect.stringMatching(/^attempt did not go up by one/)]);
    expect(check([firing('a', 1, 3, 4, 'success'), firing('a', 2, 5, 6, 'success')], [call('a', 1)]))
      .toEqual([expect.stringMatching(/^fired again after success/)]);
    const afterLast = check([firing('a', 3, 3, 4, 'failure'), firing('a', 4, 5, 6, 'success', false)], [call('a', 1)]);
    expect(afterLast).toContainEqual(expect.stringMatching(/^fired again after the last chance/));
    // A register() between the two firings explains a new run.
    expect(check([firing('a', 1, 3, 4, 'success'), firing('a', 1, 7, 8, 'success')], [call('a', 1), call('a', 5)])).toEqual([]);
  });

  it('nothing lost and re-register honoured: a register() nothing followed, an unfinished firing, a failure never retried, a tag left stored, a re-register during a firing with no firing after it', () => {
    expect(check([firing('a', 1, 3, 4, 'success')], [call('a', 1), call('a', 6)]))
      .toEqual([expect.stringMatching(/^register\("a"\) at 6 was never followed by a firing/)]);
    expect(check([firing('a', 1, 3, undefined)], [call('a', 1)])).toEqual([expect.stringMatching(/^never finished/)]);
    expect(check([firing('a', 1, 3, 4, 'failure')], [call('a', 1)])).toEqual([expect.stringMatching(/^failed before its last attempt and never retried/)]);
    expect(check([firing('a', 1, 3, 4, 'success')], [call('a', 1)], ['a'])).toEqual(['still stored after draining: "a"']);
    const missed = check([firing('a', 1, 3, 8, 'success')], [call('a', 1), call('a', 5, 6, true)]);
    // (It is a register() nothing followed, too.)
    expect(missed).toContainEqual(expect.stringMatching(/^register\("a"\) during a firing \(resolved at 6\) caused no new firing/));
    expect(missed).toHaveLength(2);
    expect(() => assertInvariants({ firings: [firing('a', 1, 3, 8, 'success')], registrations: [call('a', 1), call('a', 5, 6, true)] }, 3, []))
      .toThrow(/caused no new firing[\s\S]*firings:\n {2}"a"#1@w0\.0\[3,8\):success[\s\S]*register\(\) calls:/);
  });
});
