// The fault suite's invariants: the rules of the one attempt-log model (test/model/attempt-log.mjs) judged over a
// real browser's log, with the real-browser slack, and the rules of periodic sync (docs/semantics.md §7) beside them.
// Pure: no I/O, no clock.
//
// Input
//   log            server log entries; used: {type: 'sync', via: 'listener', tag, lastChance, t, instance, isTrusted?}
//                  (a firing starts; isTrusted: the engine dispatched it, not the polyfill) and {type: 'syncEnd', tag, result: 'fulfilled'|'rejected', t, instance} (its handler ended);
//                  for periodic sync {type: 'periodicsync', tag, t, instance} (no `via`: the listener's) and
//                  {type: 'periodicEnd', tag, result, t, instance}. The two kinds never meet: a periodic "x" and a
//                  one-shot "x" are judged apart.
//   registrations  [{tag, t, tDone?, from}]: register() calls the test made; t when it was called, tDone when it
//                  resolved (defaults to t). From a page or from the worker, it makes no difference here.
//   kills          [{t, instance}]: a worker instance died at t ('*': every instance, a browser kill). A firing of
//                  that instance still open at t is closed at t, as a failure (the polyfill counts it as failed once
//                  it finds the instance's lock free, or its lease lapsed where Web Locks are missing).
//   maxAttempts    the retry policy's
//   maxEventDuration  optional: a firing with no end by then is closed at start + maxEventDuration, as a failure
//   slack          optional: {before, after} in ms, SLACK by default
//   periodic       optional, for periodic sync (checkPeriodic below): {registrations: [{tag, t, tDone?, minInterval}],
//                  unregistrations: [{tag, t, tDone?}], policy (initialRetryDelay, retryDelayFactor,
//                  periodicMinInterval), until, pauses, maxLate, maxLateAfterKill}
//
// Output: { figures, problems }. figures: tags, firings, retried, succeeded, exhausted, trusted and untrusted (the
// one-shot firings the engine dispatched, `isTrusted` true in their `sync` entry, and those the polyfill did), and the
// ones that must be 0: lost, concurrent, overAttempts, badLastChance, reregisterMissed, unregistered; for periodic sync pTags, pFired,
// pFailed, and the ones that must be 0: pTooSoon, pConcurrent, pLate, pLost, pUnregistered (PERIODIC_MUST_BE_ZERO).
// problems: one line per violation.
import { MUST_BE_ZERO, SLACK, buildFirings, byTag, checkObserved, endOf, observedRegistrations, overlaps } from '../model/attempt-log.mjs';

export { MUST_BE_ZERO, SLACK, buildFirings } from '../model/attempt-log.mjs';

/** SLACK.before and SLACK.after, by their former names. */
export const SLACK_BEFORE = SLACK.before;
export const SLACK_AFTER = SLACK.after;

/** The periodic figures that must be 0. */
export const PERIODIC_MUST_BE_ZERO = ['pTooSoon', 'pConcurrent', 'pLate', 'pLost', 'pUnregistered'];

/**
 * The real-browser slack of periodic sync, in ms.
 * - early: a firing may start this much before its earliest time. Node, the pages and the worker read one wall clock,
 *   each at its own moment: the worker stores a period's start after the test's register() call, and settles an
 *   event after its handler reported the end, so only rounding remains (Firefox rounds Date.now()).
 * - killed: the same after a firing that a kill closed. A kill's time is when the test saw it (CDP's
 *   stopAllWorkers returned; the last beat + 500 ms where the beats tell), up to 500 ms after the death the polyfill
 *   may have noticed.
 * - unregistered: a firing claimed just before an unregister() landed still starts; one that starts this long after
 *   the unregister() resolved had no registration.
 */
export const PERIODIC_SLACK = Object.freeze({ early: 50, killed: 600, unregistered: 250 });

/** How late a periodic firing may come before it counts as late (pLate) or its schedule as stopped (pLost), in ms. */
export const PERIODIC_MAX_LATE = 20000;
/**
 * The same after a firing that a kill closed: where the engine has no Web Locks the polyfill notices the death when
 * the firing's lease lapses (LEASE_TTL, 30 s, in src/worker/dispatcher.ts).
 */
export const PERIODIC_MAX_LATE_AFTER_KILL = 45000;

export function checkInvariants({ log, registrations, kills = [], maxAttempts, maxEventDuration, slack = SLACK, periodic = {} }) {
  const oneShot = checkObserved({
    firings: buildFirings(log, kills, maxEventDuration),
    registrations: observedRegistrations(registrations),
    maxAttempts,
    slack,
  });
  const p = checkPeriodic({ log, kills, maxAttempts, maxEventDuration, ...periodic });
  return { figures: { ...oneShot.figures, ...firingKinds(log), ...p.figures }, problems: [...oneShot.problems, ...p.problems] };
}

/**
 * Who dispatched the one-shot firings (the listener's `sync` entries): `trusted` the engine (native Chromium), `untrusted`
 * the polyfill (everywhere it fires, a taken-over call of docs/semantics.md §8 included). An entry without `isTrusted`
 * counts as neither. The rules above judge both kinds as one: a tag's native and taken-over firings are one
 * registration's as far as the app can tell, so they must not overlap, and a success ends the tag for both.
 */
export function firingKinds(log) {
  const starts = log.filter((e) => e.type === 'sync' && (e.via ?? 'listener') === 'listener');
  return { trusted: starts.filter((e) => e.isTrusted === true).length, untrusted: starts.filter((e) => e.isTrusted === false).length };
}

/** The figures that must be 0 and are not, as "name=value" strings (a figure that is missing counts as 0). */
export function violations(figures) {
  return [...MUST_BE_ZERO, ...PERIODIC_MUST_BE_ZERO].filter((key) => (figures[key] ?? 0) !== 0).map((key) => `${key}=${figures[key]}`);
}

/**
 * A log's periodic entries as the one-shot kind buildFirings() reads, the others left out: `periodicsync` (the
 * listener's; `via: 'onperiodicsync'` is the attribute handler) opens a firing, `periodicEnd` ends it.
 */
export function periodicFiringEntries(log) {
  const out = [];
  for (const e of log) {
    if (e.type === 'periodicsync' && (e.via ?? 'listener') === 'listener') out.push({ ...e, type: 'sync', via: 'listener', lastChance: false });
    else if (e.type === 'periodicEnd') out.push({ ...e, type: 'syncEnd' });
  }
  return out;
}

/** How long, of [from, to], the windows (possibly overlapping) cover. */
export function covered(windows, from, to) {
  const parts = windows
    .map((w) => [Math.max(w.from, from), Math.min(w.to, to)])
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  let total = 0;
  let reach = -Infinity;
  for (const [a, b] of parts) {
    const start = Math.max(a, reach);
    if (b > start) total += b - start;
    reach = Math.max(reach, b);
  }
  return total;
}

/**
 * Periodic sync's rules (docs/semantics.md §7, src/core/periodic.ts) over an observed log:
 * - registered: every firing follows a register() of its tag, and starts no later than `unregistered` ms after an
 *   unregister() that no register() followed resolved (pUnregistered);
 * - never concurrent: a tag's firings never overlap; a kill closes its instance's firings (pConcurrent);
 * - at most once per interval (pTooSoon), measured from the previous end: the first firing of a registration waits
 *   one interval from its first register() (the same minInterval again keeps the schedule); after a success, or a
 *   failure on the period's last attempt (maxAttempts), the next waits one interval; after an earlier failure it waits
 *   the one-shot policy's retry delay, initialRetryDelay × retryDelayFactor^(attempt − 1). A killed or timed-out
 *   firing is a failed attempt. The interval is max(minInterval, periodicMinInterval).
 * - never lost: a registration fires, its schedule goes on (the next firing no later than what was required plus
 *   `maxLate`, or `maxLateAfterKill` after a killed firing, plus the time the `pauses` cover: browser down, offline)
 *   (pLate), up to the end of the observation (`until`, or the tag's unregister()) (pLost), and no firing still runs
 *   at `until` that started `maxLate` before it and did not end (pLost).
 * A success whose worker died within `settle` ms (SLACK.after) of its handler's end may have been written as a failure
 * instead (the polyfill settles a firing after its handler): both are possible.
 * Attempts are counted from the log; an attempt the log cannot see (a worker killed between a claim and its report)
 * can only have happened where a kill falls between two firings of the tag: there any count is possible, and the
 * rule takes the shortest wait any count allows (the longest, for lateness).
 */
export function checkPeriodic({
  log, registrations = [], unregistrations = [], kills = [], maxAttempts, maxEventDuration, policy = {}, until = Infinity,
  pauses = [], maxLate = PERIODIC_MAX_LATE, maxLateAfterKill = PERIODIC_MAX_LATE_AFTER_KILL, slack = PERIODIC_SLACK,
  settle = SLACK.after,
}) {
  const figures = { pTags: 0, pFired: 0, pFailed: 0, pTooSoon: 0, pConcurrent: 0, pLate: 0, pLost: 0, pUnregistered: 0 };
  const problems = [];
  const firings = buildFirings(periodicFiringEntries(log), kills, maxEventDuration ?? policy.maxEventDuration);
  figures.pFired = firings.length;
  figures.pFailed = firings.filter((f) => f.outcome === 'failure').length;
  if (!firings.length && !registrations.length) return { figures, problems };
  const attempts = policy.maxAttempts ?? maxAttempts;
  if (!(attempts >= 1)) throw new Error('checkPeriodic: maxAttempts is required');
  const floor = policy.periodicMinInterval ?? 0;
  const retry = (n) => (policy.initialRetryDelay ?? 0) * (policy.retryDelayFactor ?? 1) ** (n - 1);
  const intervalOf = (r) => Math.max(Number(r.minInterval ?? 0), floor);
  const at = (t) => (Number.isFinite(t) ? t : String(t));

  const firingsByTag = byTag(firings);
  const regsByTag = byTag(registrations);
  const unregsByTag = byTag(unregistrations);
  figures.pTags = regsByTag.size;

  for (const [tag, list] of firingsByTag) {
    if (!regsByTag.has(tag)) {
      figures.pUnregistered += list.length;
      problems.push(`pUnregistered: periodic "${tag}" fired ${list.length}× but was never registered`);
    }
  }

  for (const [tag, regList] of regsByTag) {
    const name = `periodic ${JSON.stringify(tag)}`;
    const fs = (firingsByTag.get(tag) ?? []).slice().sort((a, b) => a.start - b.start);
    const regs = regList.slice().sort((a, b) => a.t - b.t);
    const unregs = (unregsByTag.get(tag) ?? []).slice().sort((a, b) => a.t - b.t);

    for (const [earlier, later] of overlaps(fs)) {
      figures.pConcurrent += 1;
      problems.push(`pConcurrent: ${name} fired at ${later.start} (worker ${later.context}) while its firing of ${earlier.start} (worker ${earlier.context}) ran until ${at(earlier.end)}`);
    }

    // Registrations: from a register() with none open to the next unregister(); a register() while one is open
    // joins it (the same minInterval keeps its schedule).
    const epochs = [];
    const calls = [...regs.map((r) => ({ r })), ...unregs.map((u) => ({ u }))].sort((a, b) => (a.r ?? a.u).t - (b.r ?? b.u).t);
    let open = null;
    for (const { r, u } of calls) {
      if (r && !open) epochs.push(open = { regs: [r], start: r.t, unregister: undefined });
      else if (r) open.regs.push(r);
      else if (open) {
        open.unregister = u;
        open = null;
      }
    }
    const epochOf = (f) => {
      let found = null;
      for (const e of epochs) if (e.start <= f.start) found = e;
      return found;
    };
    const mine = new Map(epochs.map((e) => [e, []]));
    for (const f of fs) {
      const e = epochOf(f);
      const gone = e && e.unregister && f.start > (e.unregister.tDone ?? e.unregister.t) + slack.unregistered;
      if (!e || gone) {
        figures.pUnregistered += 1;
        problems.push(e
          ? `pUnregistered: ${name} fired at ${f.start}, after its unregister() resolved at ${e.unregister.tDone ?? e.unregister.t}`
          : `pUnregistered: ${name} fired at ${f.start}, before its first register() at ${regs[0].t}`);
      } else mine.get(e).push(f);
    }

    for (const epoch of epochs) {
      const list = mine.get(epoch);
      const intervals = epoch.regs.map(intervalOf);
      const lo = Math.min(...intervals);
      const hi = Math.max(...intervals);
      const observedUntil = Math.min(until, epoch.unregister ? epoch.unregister.t : Infinity);
      if (!list.length) {
        const waited = observedUntil - (epoch.start + hi) - covered(pauses, epoch.start, observedUntil);
        if (waited > maxLate) {
          figures.pLost += 1;
          problems.push(`pLost: ${name} never fired: registered at ${epoch.start} with an interval of ${hi} ms, nothing by ${at(observedUntil)}`);
        }
        continue;
      }
      const first = list[0];
      if (first.start < epoch.start + lo - slack.early) {
        figures.pTooSoon += 1;
        problems.push(`pTooSoon: ${name} first fired at ${first.start}, ${first.start - epoch.start} ms after its register() at ${epoch.start}: before one interval (${lo} ms)`);
      }
      const firstWait = first.start - epoch.start - hi - covered(pauses, epoch.start, first.start);
      if (firstWait > maxLate) {
        figures.pLate += 1;
        problems.push(`pLate: ${name} first fired at ${first.start}, ${first.start - epoch.start} ms after its register() (interval ${hi} ms, ${maxLate} ms late allowed)`);
      }
      let possible = new Set([0]);
      list.forEach((f, i) => {
        const g = list[i + 1];
        const next = [...possible].map((n) => n + 1);
        // A handler that succeeded just before its worker died may not have had its outcome written: then the polyfill
        // found the firing abandoned, a failure.
        const outcomes = f.outcome === 'success' && kills.some((k) => (k.instance === '*' || k.instance === f.context) && k.t >= f.end && k.t <= f.end + settle)
          ? ['success', 'failure']
          : [f.outcome];
        let waits = null; // open: whatever follows overlaps it
        if (!outcomes.includes('open')) {
          const after = new Set();
          const shortest = [];
          const longest = [];
          for (const outcome of outcomes) {
            for (const n of outcome === 'success' ? [attempts] : next) {
              // A success, or the period's last attempt failed: the next period. Else the retry.
              after.add(n >= attempts ? 0 : n);
              shortest.push(n >= attempts ? lo : retry(n));
              longest.push(n >= attempts ? hi : retry(n));
            }
          }
          possible = after;
          waits = [Math.min(...shortest), Math.max(...longest)];
        }
        const killed = f.endCause === 'killed';
        if (!waits || !(f.end < Infinity)) return;
        const late = killed ? maxLateAfterKill : maxLate;
        if (g) {
          if (g.start < f.end) return; // concurrent, counted above
          const tolerance = killed ? slack.killed : slack.early;
          if (g.start < f.end + waits[0] - tolerance) {
            figures.pTooSoon += 1;
            const why = f.outcome === 'success' ? 'one interval' : `${waits[0]} ms (attempt ${next.join(' or ')} of ${attempts} failed${killed ? ', killed' : ''})`;
            problems.push(`pTooSoon: ${name} fired at ${g.start}, ${g.start - f.end} ms after its firing of ${f.start} ended (${f.outcome}, ${f.endCause}) at ${f.end}: before ${why}`);
          }
          const gap = g.start - f.end - covered(pauses, f.end, g.start);
          if (gap > waits[1] + late) {
            figures.pLate += 1;
            problems.push(`pLate: ${name} fired at ${g.start}, ${g.start - f.end} ms after its firing of ${f.start} ended at ${f.end} (due ${waits[1]} ms after it, ${late} ms late allowed, ${covered(pauses, f.end, g.start)} ms paused)`);
          }
          // An attempt the log cannot see: a kill between two firings may have taken one.
          if (kills.some((k) => k.t > f.end && k.t < g.start)) possible = new Set(Array.from({ length: attempts }, (_, n) => n));
        } else if (f.end <= observedUntil) {
          const silent = observedUntil - f.end - covered(pauses, f.end, observedUntil);
          if (silent > waits[1] + late) {
            figures.pLost += 1;
            problems.push(`pLost: ${name} stopped firing: nothing in the ${observedUntil - f.end} ms from the end of its firing of ${f.start} (${f.outcome}) at ${f.end} to ${at(observedUntil)} (due ${waits[1]} ms after it)`);
          }
        }
      });
      const last = list[list.length - 1];
      if (endOf(last) > observedUntil && last.endCause !== 'syncEnd' && last.endCause !== 'killed' && last.start < observedUntil - maxLate) {
        figures.pLost += 1;
        problems.push(`pLost: ${name} firing of ${last.start} (worker ${last.context}) had not ended by ${at(observedUntil)}`);
      }
    }
  }
  return { figures, problems };
}
