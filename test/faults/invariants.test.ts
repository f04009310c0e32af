// Hand-made logs for the fault suite's invariants: each figure that must be 0 is shown to be able to fail.
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs module without types
import { PERIODIC_MUST_BE_ZERO, PERIODIC_SLACK, checkInvariants, checkPeriodic, covered, firingKinds, violations } from './invariants.mjs';

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

// Periodic sync (docs/semantics.md §7): the same log, its `periodicsync` and `periodicEnd` entries.
const psync = (tag: string, t: number, instance = 'w1'): Entry => ({ type: 'periodicsync', tag, t, instance });
const pend = (tag: string, t: number, result = 'fulfilled', instance = 'w1'): Entry => ({ type: 'periodicEnd', tag, t, instance, result });
const preg = (tag: string, t: number, minInterval: number, tDone = t) => ({ tag, t, tDone, minInterval, from: 'page' });
/** Two attempts a period, the first retry 500 ms after a failure, the interval the app's minInterval. */
const POLICY = { maxAttempts: 2, initialRetryDelay: 500, retryDelayFactor: 2, periodicMinInterval: 0 };
type PReg = ReturnType<typeof preg>;
const prun = (log: Entry[], registrations: PReg[], extra: Record<string, unknown> = {}) =>
  checkPeriodic({ log, registrations, policy: POLICY, maxEventDuration: 60000, until: 10000, ...extra });
/** A periodic history the checker must find no problem in; its figures. */
const pclean = (log: Entry[], registrations: PReg[], extra: Record<string, unknown> = {}) => {
  const { figures, problems } = prun(log, registrations, extra);
  expect(problems).toEqual([]);
  return figures;
};
/** "a" every 3000 ms: registered at 0, fires at 3000 and succeeds. */
const periodicStart = [psync('a', 3000), pend('a', 3010)];

describe('fault invariants: native and taken-over firings (chromium-native, docs/semantics.md §8)', () => {
  const native = (tag: string, t: number, instance = 'w1', lastChance = false): Entry => ({ ...sync(tag, t, instance, lastChance), isTrusted: true });
  const ours = (tag: string, t: number, instance = 'w1', lastChance = false): Entry => ({ ...sync(tag, t, instance, lastChance), isTrusted: false });

  it('counts the firings the engine dispatched (trusted) and the polyfill\'s (untrusted); entries without isTrusted neither', () => {
    const log = [native('a', 100), end('a', 150), ours('b', 100), end('b', 120, 'rejected'), ours('b', 1200), end('b', 1300), sync('c', 100), end('c', 110)];
    expect(firingKinds(log)).toEqual({ trusted: 1, untrusted: 2 });
    expect(clean(log, [reg('a', 50), reg('b', 60), reg('c', 70)])).toMatchObject({ firings: 4, trusted: 1, untrusted: 2 });
    // Periodic events and the attribute handler's are not one-shot firings of the listener.
    expect(firingKinds([{ type: 'periodicsync', tag: 'p', t: 1, isTrusted: false }, { ...ours('a', 1), via: 'onsync' }])).toEqual({ trusted: 0, untrusted: 0 });
  });

  it('native retries are judged as the polyfill\'s: attempts, lastChance, exhausted', () => {
    const figures = clean(
      [native('a', 100), end('a', 120, 'rejected'), native('a', 1200), end('a', 1220, 'rejected'), native('a', 3300, 'w1', true), end('a', 3320, 'rejected')],
      [reg('a', 50)],
    );
    expect(figures).toMatchObject({ exhausted: 1, retried: 2, trusted: 3, untrusted: 0 });
    const { figures: bad } = run([native('a', 100), end('a', 120, 'rejected'), native('a', 1200, 'w1', true), end('a', 1220, 'rejected')], [reg('a', 50)]);
    expect(bad.badLastChance).toBe(1);
  });

  it('a tag fired by both the engine and the polyfill is one registration fired twice: at once is concurrent, after a success unregistered', () => {
    // register() granted, then again denied while the native event runs: the polyfill fires its copy beside it.
    const atOnce = run([native('a', 100), ours('a', 118), end('a', 150), end('a', 160)], [reg('a', 50), reg('a', 105, 110)]);
    expect(atOnce.figures.concurrent).toBe(1);
    expect(atOnce.problems.join('\n')).toMatch(/concurrent: "a"/);
    // Both register() calls before either fired (offline): once the network is back, one firing is all the app asked for.
    const twice = run([native('a', 1000), end('a', 1020), ours('a', 1500), end('a', 1520)], [reg('a', 50), reg('a', 60)]);
    expect(twice.figures.unregistered).toBe(1);
    expect(twice.figures).toMatchObject({ trusted: 1, untrusted: 1 });
  });
});

describe('fault invariants: periodic sync', () => {
  it('a clean schedule: a period after each success, a retry after a failure, a period after the last attempt', () => {
    const figures = pclean(
      [
        psync('a', 1000), pend('a', 1010),
        psync('a', 2010), pend('a', 2020), // one interval after the end
        psync('a', 3020), pend('a', 3030, 'rejected'), // attempt 1 fails: retried after 500 ms
        psync('a', 3530), pend('a', 3540, 'rejected'), // attempt 2 of 2 fails: the next period
        psync('a', 4540), pend('a', 4550),
      ],
      [preg('a', 0, 1000)],
      { until: 5000 },
    );
    expect(figures).toMatchObject({ pTags: 1, pFired: 5, pFailed: 2 });
    expect(violations(figures)).toEqual([]);
  });

  it('the interval is max(minInterval, periodicMinInterval)', () => {
    const log = [psync('a', 1000), pend('a', 1010), psync('a', 2010), pend('a', 2020)];
    expect(pclean(log, [preg('a', 0, 1000)], { until: 2500 }).pTooSoon).toBe(0);
    const floored = prun(log, [preg('a', 0, 1000)], { until: 2500, policy: { ...POLICY, periodicMinInterval: 2000 } });
    expect(floored.figures.pTooSoon).toBe(2);
  });

  it('pTooSoon: a first firing before one interval, a period early after a success, a retry instead of the next period', () => {
    expect(prun([psync('a', 2000), pend('a', 2010)], [preg('a', 0, 3000)], { until: 4000 }).figures.pTooSoon).toBe(1);
    expect(prun([...periodicStart, psync('a', 5000), pend('a', 5010)], [preg('a', 0, 3000)], { until: 7000 }).figures.pTooSoon).toBe(1);
    const { figures, problems } = prun(
      [...periodicStart.slice(0, 1), pend('a', 3010, 'rejected'), psync('a', 3510), pend('a', 3520, 'rejected'), psync('a', 4520), pend('a', 4530)],
      [preg('a', 0, 3000)],
      { until: 5000 },
    );
    expect(figures.pTooSoon).toBe(1);
    expect(problems.join('\n')).toMatch(/attempt 2 of 2 failed/);
  });

  it('registering the same tag again keeps the schedule of the first register()', () => {
    const log = [psync('a', 3000), pend('a', 3010)];
    expect(pclean(log, [preg('a', 0, 3000), preg('a', 2000, 3000)], { until: 4000 }).pTags).toBe(1);
  });

  it('a killed firing is a failed attempt: with two attempts, the retry after it is the last, then a period', () => {
    const log = [
      psync('a', 3000, 'w1'), // held; its worker killed at 4000
      psync('a', 4500, 'w2'), pend('a', 4510, 'rejected', 'w2'), // attempt 2 of 2
    ];
    const kills = [{ t: 4000, instance: 'w1' }];
    expect(pclean([...log, psync('a', 7520, 'w2'), pend('a', 7530, 'fulfilled', 'w2')], [preg('a', 0, 3000)], { kills, until: 8000 }).pFailed).toBe(2);
    // Had the kill not counted, attempt 2 would have been retried 1000 ms later.
    const { figures, problems } = prun([...log, psync('a', 5520, 'w2'), pend('a', 5530, 'fulfilled', 'w2')], [preg('a', 0, 3000)], { kills, until: 8000 });
    expect(figures.pTooSoon).toBe(1);
    expect(problems.join('\n')).toMatch(/before 3000 ms \(attempt 2 of 2 failed\)/);
  });

  it('a kill\'s time may be up to PERIODIC_SLACK.killed after the death the polyfill noticed', () => {
    // Attempt 1 fails, attempt 2 of 2 is killed at 4000: the next period comes one interval after the death.
    const kills = [{ t: 4000, instance: 'w1' }];
    const after = (t: number) => [psync('a', 3000, 'w1'), pend('a', 3010, 'rejected', 'w1'), psync('a', 3510, 'w1'), psync('a', t, 'w2'), pend('a', t + 10, 'fulfilled', 'w2')];
    expect(pclean(after(4000 + 3000 - PERIODIC_SLACK.killed + 10), [preg('a', 0, 3000)], { kills, until: 8000 }).pTooSoon).toBe(0);
    expect(prun(after(4000 + 3000 - PERIODIC_SLACK.killed - 10), [preg('a', 0, 3000)], { kills, until: 8000 }).figures.pTooSoon).toBe(1);
  });

  it('a success whose worker died right after may have been written as a failure: its retry is no problem', () => {
    const log = [psync('a', 3000, 'w1'), pend('a', 3010, 'fulfilled', 'w1'), psync('a', 3600, 'w2'), pend('a', 3610, 'fulfilled', 'w2')];
    expect(prun(log, [preg('a', 0, 3000)], { until: 4000 }).figures.pTooSoon).toBe(1);
    expect(pclean(log, [preg('a', 0, 3000)], { until: 4000, kills: [{ t: 3100, instance: 'w1' }] }).pTooSoon).toBe(0);
    // A kill long after the end changes nothing.
    expect(prun(log, [preg('a', 0, 3000)], { until: 9000, kills: [{ t: 8000, instance: 'w1' }] }).figures.pTooSoon).toBe(1);
  });

  it('a kill between two firings may have taken an attempt the log cannot see: any count is possible after it', () => {
    const log = [
      psync('a', 3000), pend('a', 3010, 'rejected'), // attempt 1
      psync('a', 3510), pend('a', 3520, 'rejected'), // attempt 2 of 2, or 1 if an unseen attempt came first
      psync('a', 4100), pend('a', 4110),
    ];
    expect(prun(log, [preg('a', 0, 3000)], { until: 5000 }).figures.pTooSoon).toBe(1);
    expect(pclean(log, [preg('a', 0, 3000)], { until: 5000, kills: [{ t: 3300, instance: 'w9' }] }).pTooSoon).toBe(0);
  });

  it('pConcurrent: a second firing while the first still runs, in another worker; a kill closes the first', () => {
    const log = [psync('a', 3000, 'w1'), psync('a', 4000, 'w2'), pend('a', 4010, 'fulfilled', 'w2'), pend('a', 4100, 'fulfilled', 'w1')];
    expect(prun(log, [preg('a', 0, 1000)], { until: 4500 }).figures.pConcurrent).toBe(1);
    const killed = [psync('a', 3000, 'w1'), psync('a', 4000, 'w2'), pend('a', 4010, 'fulfilled', 'w2')];
    expect(pclean(killed, [preg('a', 0, 1000)], { until: 4500, kills: [{ t: 3400, instance: 'w1' }] }).pConcurrent).toBe(0);
    expect(prun(killed, [preg('a', 0, 1000)], { until: 4500, maxEventDuration: undefined }).figures.pConcurrent).toBe(1);
  });

  it('a periodic "x" and a one-shot "x" are judged apart: overlapping events of the two are no problem', () => {
    const log = [
      sync('x', 100), psync('x', 1000), pend('x', 1050), end('x', 1400),
      sync('y', 100), end('y', 150),
    ];
    const { figures, problems } = checkInvariants({
      log, registrations: [reg('x', 50), reg('y', 50)], maxAttempts: 3,
      periodic: { registrations: [preg('x', 0, 1000)], policy: POLICY, until: 1500 },
    });
    expect(problems).toEqual([]);
    expect(figures).toMatchObject({ tags: 2, firings: 2, succeeded: 2, pTags: 1, pFired: 1 });
    // A periodic event of a tag registered only as one-shot, and a one-shot event of a periodic-only tag.
    const crossed = checkInvariants({
      log: [sync('p', 1000), end('p', 1010), psync('y', 1000), pend('y', 1010)], registrations: [reg('y', 50)], maxAttempts: 3,
      periodic: { registrations: [preg('p', 0, 1000)], policy: POLICY, until: 1500 },
    });
    expect(crossed.figures).toMatchObject({ unregistered: 1, pUnregistered: 1, lost: 1, pLost: 0 });
    expect(violations(crossed.figures)).toEqual(expect.arrayContaining(['unregistered=1', 'pUnregistered=1', 'lost=1']));
  });

  it('pUnregistered: a tag never registered, a firing before register(), one after unregister() resolved', () => {
    expect(prun([psync('b', 1000), pend('b', 1010)], [preg('a', 0, 1000)], { until: 1500 }).figures.pUnregistered).toBe(1);
    expect(prun([psync('a', 1000), pend('a', 1010)], [preg('a', 2000, 500)], { until: 2500 }).figures.pUnregistered).toBe(1);
    const unregistrations = [{ tag: 'a', t: 6000, tDone: 6100 }];
    // Claimed just before the unregister() landed: it still starts, and ends.
    expect(pclean([...periodicStart, psync('a', 6150), pend('a', 6160)], [preg('a', 0, 3000)], { unregistrations, until: 8000 }).pUnregistered).toBe(0);
    const late = prun([...periodicStart, psync('a', 6400), pend('a', 6410)], [preg('a', 0, 3000)], { unregistrations, until: 8000 });
    expect(late.figures.pUnregistered).toBe(1);
    expect(late.problems.join('\n')).toMatch(/after its unregister\(\) resolved at 6100/);
  });

  it('register() after unregister() starts a new schedule, one interval from it', () => {
    const unregistrations = [{ tag: 'a', t: 3500, tDone: 3600 }];
    const log = [...periodicStart, psync('a', 7000), pend('a', 7010)];
    expect(pclean(log, [preg('a', 0, 3000), preg('a', 4000, 3000)], { unregistrations, until: 8000 }).pFired).toBe(2);
    expect(prun(log, [preg('a', 0, 3000), preg('a', 5000, 3000)], { unregistrations, until: 9000 }).figures.pTooSoon).toBe(1);
  });

  it('pLate: a next firing long after it was due; the pauses (browser down, offline) and a kill excuse some', () => {
    const log = [...periodicStart, psync('a', 30000), pend('a', 30010)];
    const { figures, problems } = prun(log, [preg('a', 0, 3000)], { until: 31000 });
    expect(figures.pLate).toBe(1);
    expect(problems.join('\n')).toMatch(/due 3000 ms after it/);
    expect(pclean(log, [preg('a', 0, 3000)], { until: 31000, pauses: [{ from: 5000, to: 15000 }] }).pLate).toBe(0);
    expect(pclean(log, [preg('a', 0, 3000)], { until: 31000, maxLate: 25000 }).pLate).toBe(0);
    const killed = [psync('a', 3000, 'w1'), psync('a', 33000, 'w2'), pend('a', 33010, 'fulfilled', 'w2')];
    expect(pclean(killed, [preg('a', 0, 3000)], { until: 34000, kills: [{ t: 3500, instance: 'w1' }] }).pLate).toBe(0);
    expect(prun(killed, [preg('a', 0, 3000)], { until: 34000, kills: [{ t: 3500, instance: 'w1' }], maxLateAfterKill: 20000 }).figures.pLate).toBe(1);
  });

  it('pLost: never fired, stopped firing before the end, a firing still running at the end', () => {
    expect(prun([], [preg('a', 0, 3000)], { until: 30000 }).figures.pLost).toBe(1);
    // Registered too late in the observation to judge.
    expect(pclean([], [preg('a', 0, 3000)], { until: 20000 }).pLost).toBe(0);
    const stopped = prun(periodicStart, [preg('a', 0, 3000)], { until: 30000 });
    expect(stopped.figures.pLost).toBe(1);
    expect(stopped.problems.join('\n')).toMatch(/stopped firing/);
    // Unregistered: the schedule is over at the unregister().
    expect(pclean(periodicStart, [preg('a', 0, 3000)], { until: 30000, unregistrations: [{ tag: 'a', t: 4000 }] }).pLost).toBe(0);
    const running = prun([psync('a', 3000)], [preg('a', 0, 3000)], { until: 30000 });
    expect(running.figures.pLost).toBe(1);
    expect(running.problems.join('\n')).toMatch(/had not ended/);
    // One that started just before the end is still running, not lost.
    expect(pclean([...periodicStart, psync('a', 6010)], [preg('a', 0, 3000)], { until: 7000 }).pLost).toBe(0);
  });

  it('covered() counts overlapping windows once', () => {
    expect(covered([{ from: 0, to: 100 }, { from: 50, to: 150 }, { from: 300, to: 400 }], 20, 350)).toBe(130 + 50);
  });

  it('violations() names the periodic figures too', () => {
    expect(violations({ lost: 0, pLate: 2, pTooSoon: 0 })).toEqual(['pLate=2']);
    expect(PERIODIC_MUST_BE_ZERO).toEqual(['pTooSoon', 'pConcurrent', 'pLate', 'pLost', 'pUnregistered']);
  });
});
