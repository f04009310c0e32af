// Hand-made logs for the fault suite's invariants: each figure that must be 0 is shown to be able to fail.
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs module without types
import { checkInvariants, violations } from './invariants.mjs';

type Entry = Record<string, unknown>;
const sync = (tag: string, t: number, instance = 'w1', lastChance = false): Entry => ({ type: 'sync', via: 'listener', tag, t, instance, lastChance });
const end = (tag: string, t: number, result = 'fulfilled', instance = 'w1'): Entry => ({ type: 'syncEnd', tag, t, instance, result });
const reg = (tag: string, t: number, tDone = t) => ({ tag, t, tDone, from: 'page' });

const run = (log: Entry[], registrations: ReturnType<typeof reg>[], extra: Record<string, unknown> = {}) =>
  checkInvariants({ log, registrations, maxAttempts: 3, ...extra });
/** A history the checker must find no problem in; its figures. */
const clean = (log: Entry[], registrations: ReturnType<typeof reg>[]) => {
  const { figures, problems } = run(log, registrations);
  expect(problems).toEqual([]);
  return figures;
};
/** "a" fires at 100 and succeeds, then fires again at 400: which register() calls explain the second firing? */
const firedTwice = [sync('a', 100), end('a', 150), sync('a', 400), end('a', 450)];

describe('fault invariants', () => {
  it('a clean history has every must-be-zero figure at 0', () => {
    const figures = clean(
      [
        sync('a', 100), end('a', 150),
        sync('b', 100), end('b', 120, 'rejected'),
        sync('b', 1200), end('b', 1300, 'rejected'),
        sync('b', 3400, 'w1', true), end('b', 3500, 'rejected'),
        sync('c', 100), end('c', 200, 'rejected'),
        sync('c', 1300), end('c', 1400),
      ],
      [reg('a', 50), reg('b', 60), reg('c', 70)],
    );
    expect(violations(figures)).toEqual([]);
    expect(figures).toMatchObject({ tags: 3, firings: 6, retried: 3, succeeded: 2, exhausted: 1, lost: 0 });
  });

  it('lost: a tag that never fired, one whose retry never came, one whose last firing never ended', () => {
    const { figures, problems } = run(
      [sync('b', 100), end('b', 120, 'rejected'), sync('c', 100)],
      [reg('a', 50), reg('b', 60), reg('c', 70)],
    );
    expect(figures.lost).toBe(3);
    expect(problems.join('\n')).toMatch(/"a" never fired/);
  });

  it('lost: a register() after the last firing that nothing followed', () => {
    const { figures } = run([sync('a', 100), end('a', 150)], [reg('a', 50), reg('a', 5000)]);
    expect(figures.lost).toBe(1);
    expect(figures.succeeded).toBe(0);
  });

  it('concurrent: a second firing while the first still runs, in another worker', () => {
    const { figures } = run([sync('a', 100, 'w1'), sync('a', 200, 'w2'), end('a', 300, 'fulfilled', 'w2'), end('a', 400, 'fulfilled', 'w1')], [reg('a', 50)]);
    expect(figures.concurrent).toBe(1);
  });

  it('a kill closes the killed instance\'s firing, so the re-fire after it is not concurrent; without the kill it is', () => {
    const log = [sync('a', 100, 'w1'), sync('a', 31000, 'w2', false), end('a', 31100, 'fulfilled', 'w2')];
    const killed = run(log, [reg('a', 50)], { kills: [{ t: 500, instance: 'w1' }] });
    expect(violations(killed.figures)).toEqual([]);
    expect(killed.figures).toMatchObject({ succeeded: 1, retried: 1 });
    const browserKill = run(log, [reg('a', 50)], { kills: [{ t: 500, instance: '*' }] });
    expect(violations(browserKill.figures)).toEqual([]);
    expect(run(log, [reg('a', 50)]).figures.concurrent).toBe(1);
  });

  it('badLastChance: the killed attempt counts, so with maxAttempts 2 the re-fire must be the last chance', () => {
    const log = [sync('a', 100, 'w1'), sync('a', 31000, 'w2', false), end('a', 31100, 'fulfilled', 'w2')];
    const { figures } = checkInvariants({ log, registrations: [reg('a', 50)], kills: [{ t: 500, instance: 'w1' }], maxAttempts: 2 });
    expect(figures.badLastChance).toBe(1);
  });

  it('badLastChance: lastChance true on a first attempt, false on the final failed one', () => {
    const early = run([sync('a', 100, 'w1', true), end('a', 150)], [reg('a', 50)]);
    expect(early.figures.badLastChance).toBe(1);
    const late = run(
      [sync('b', 100), end('b', 110, 'rejected'), sync('b', 200), end('b', 210, 'rejected'), sync('b', 300, 'w1', false), end('b', 310, 'rejected')],
      [reg('b', 50)],
    );
    expect(late.figures.badLastChance).toBe(1);
    expect(late.figures.lost).toBe(1);
  });

  it('overAttempts: a fourth attempt of three', () => {
    const log = [
      sync('a', 100), end('a', 110, 'rejected'),
      sync('a', 200), end('a', 210, 'rejected'),
      sync('a', 300, 'w1', true), end('a', 310, 'rejected'),
      sync('a', 400, 'w1', true), end('a', 410, 'rejected'),
    ];
    const { figures } = run(log, [reg('a', 50)]);
    expect(figures.overAttempts).toBe(1);
  });

  it('a run resets on a re-register during firing and on success', () => {
    const log = [
      sync('a', 100), end('a', 110, 'rejected'),
      sync('a', 1200), end('a', 1300, 'rejected'), // attempt 2; registered again during it (at 1250)
      sync('a', 1400), end('a', 1410, 'rejected'), // attempt 1 of a new run
      sync('a', 2500), end('a', 2510, 'rejected'),
      sync('a', 4600, 'w1', true), end('a', 4610),
      sync('a', 9000), end('a', 9010), // registered again after success: a new run
    ];
    const figures = clean(log, [reg('a', 50), reg('a', 1250, 1260), reg('a', 8000)]);
    expect(figures).toMatchObject({ succeeded: 1, retried: 5 });
  });

  it('reregisterMissed: register() during a firing that no firing followed', () => {
    const { figures } = run([sync('a', 100), end('a', 500)], [reg('a', 50), reg('a', 200, 210)]);
    expect(figures.reregisterMissed).toBe(1);
    expect(figures.lost).toBe(1);
  });

  it('reregisterMissed only for a firing that succeeded as a later firing before its end does not count', () => {
    const { figures } = run(
      [sync('a', 100, 'w1'), sync('a', 300, 'w2'), end('a', 350, 'fulfilled', 'w2'), end('a', 500, 'fulfilled', 'w1')],
      [reg('a', 50), reg('a', 200, 210)],
    );
    expect(figures.reregisterMissed).toBe(1);
    expect(figures.concurrent).toBe(1);
  });

  it('unregistered: a tag that fires again after it succeeded, with no register() since', () => {
    const { figures } = run([sync('a', 100), end('a', 150), sync('a', 2000), end('a', 2050)], [reg('a', 50)]);
    expect(figures.unregistered).toBe(1);
  });

  it('a re-registration that resolved just before a firing\'s handler entry may have landed after its claim', () => {
    // The worker was busy after the claim: the register() of 60 (the record existed since 0) resolved at 90, before
    // the handler's entry at 100, and still made the firing after the success.
    expect(clean(firedTwice, [reg('a', 0), reg('a', 60, 90)]).unregistered).toBe(0);
  });

  it('unregistered: a firing after a success that no register() near enough explains', () => {
    // Too early to have landed after the claim (more than SLACK_BEFORE before the entry)...
    expect(run([sync('a', 1000), end('a', 1050), sync('a', 3000), end('a', 3050)], [reg('a', 0), reg('a', 500, 520)]).figures.unregistered).toBe(1);
    // ...or the register() that created the record: it cannot land in a firing of that record.
    expect(run(firedTwice, [reg('a', 60, 90)]).figures.unregistered).toBe(1);
    // ...or made after a firing that removed the record, so it created the next one.
    const log = [sync('a', 100), end('a', 150), sync('a', 1000), end('a', 1050), sync('a', 3000), end('a', 3050)];
    expect(run(log, [reg('a', 0), reg('a', 900, 950)]).figures.unregistered).toBe(1);
  });

  it('a register() made while the first firing ran, but resolved after it, may start a new run', () => {
    expect(clean(firedTwice, [reg('a', 50), reg('a', 90, 300)]).succeeded).toBe(1);
  });

  it('unregistered: a firing of a tag nobody registered', () => {
    const { figures } = run([sync('x', 100), end('x', 110)], []);
    expect(figures.unregistered).toBe(1);
  });

  it('a register() close to a settle may or may not have reset the run: both counts are accepted', () => {
    const log = [
      sync('a', 100), end('a', 110, 'rejected'),
      sync('a', 1200), end('a', 1300, 'rejected'), // attempt 2, registered again 100 ms after its handler ended
      sync('a', 1500, 'w1', false), end('a', 1510, 'rejected'), // attempt 1 again (it was reset)
      sync('a', 2600), end('a', 2610, 'rejected'),
      sync('a', 4700, 'w1', true), end('a', 4710, 'rejected'),
    ];
    expect(clean(log, [reg('a', 50), reg('a', 1400)]).exhausted).toBe(1);
  });

  it('a firing that never ends is closed by maxEventDuration as a failure', () => {
    const log = [sync('a', 100), sync('a', 2700), end('a', 2800)];
    expect(violations(run(log, [reg('a', 50)], { maxEventDuration: 2000 }).figures)).toEqual([]);
    expect(run(log, [reg('a', 50)]).figures.concurrent).toBe(1);
  });
});
