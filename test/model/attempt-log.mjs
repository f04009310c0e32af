// One model of "a log of attempts": the records (firings and register() calls on one clock), how firings are
// built from a worker's log, and the reliability rules of docs/semantics.md §3 judged over them. Pure: no I/O, no
// clock. Types: attempt-log.d.mts beside it.
//
// Two kinds of log are judged by the same rules:
// - an exact log (the property tests, test/property/*.harness.ts): the harness sees every firing's attempt number
//   and whether each register() found the record `firing`; its clock is a sequence of distinct ticks. checkLog()
//   and assertLog() judge it and name every violation.
// - an observed log (the real-browser fault suite, test/faults): only the server log's `sync`/`syncEnd` entries,
//   the register() calls the test made and the kills it caused, in milliseconds. Attempt numbers and whether a
//   register() landed during a firing are inferred, within the real-browser slack (Slack below).
//   checkObserved() counts figures and problems.
//
// The rules:
// - nothing lost: every register() is followed by a firing of its tag, a failure before the last chance by
//   another firing, and once drained nothing is left;
// - never concurrent: a tag's firings never overlap (an open firing runs to the end of time);
// - bounded: 1 ≤ attempt ≤ maxAttempts, and between two firings with no register() that may have landed between
//   them the attempt goes up by one, after a failure that was not the last chance;
// - lastChance exactly on the last attempt;
// - re-register honoured: a register() during a firing is followed by a firing after it;
// - no firing without a registration.

/** The real-browser slack of an observed log, in ms. */
export const SLACK = Object.freeze({
  /**
   * A register() that resolved no earlier than this before a firing's handler entry may have landed after its
   * claim: the claim commits, then the worker has to take the commit's event and dispatch, while a register()
   * after the claim only has to commit and answer. In a storm (5 tabs, events by the dozen on two cores) the
   * worker can be that much behind; a clean-clone run once saw a re-registration resolve before the entry of the
   * firing it landed in.
   */
  before: 250,
  /** A firing's record is settled this long after its handler ended, at the latest (batching, IndexedDB). */
  after: 2000,
});

/** An exact log has no slack: its clock orders every step. */
export const EXACT = Object.freeze({ before: 0, after: 0 });

/** The figures of an observed log that must be 0. */
export const MUST_BE_ZERO = ['lost', 'concurrent', 'overAttempts', 'badLastChance', 'reregisterMissed', 'unregistered'];

// --- Records -------------------------------------------------------------------------------------------------

/** When a firing ended; an open one (no end yet, or never) runs to the end of time. */
export const endOf = (f) => f.end ?? Infinity;

/** One line for a firing, for messages. */
export function show(f) {
  return `${JSON.stringify(f.tag)}#${f.attempt ?? '?'}${f.lastChance ? '(last)' : ''}@${f.context}[${f.start},${f.end ?? '…'})` +
    (f.outcome ? `:${f.outcome}` : '');
}

/** Items by tag, each list in its original order. */
export function byTag(items) {
  const map = new Map();
  for (const item of items) {
    const list = map.get(item.tag);
    if (list) list.push(item);
    else map.set(item.tag, [item]);
  }
  return map;
}

const byStart = (firings) => firings.slice().sort((a, b) => a.start - b.start);

/**
 * Firings from a worker's log: a `sync` entry (via the listener) opens one; its instance's next `syncEnd` of the
 * tag, a kill of that instance ('*': every instance), or maxEventDuration after its start closes it, whichever
 * comes first. A kill or a timeout is a failure; a firing none of them closed is `open`.
 */
export function buildFirings(log, kills = [], maxEventDuration) {
  const starts = log.filter((e) => e.type === 'sync' && (e.via ?? 'listener') === 'listener').slice().sort((a, b) => a.t - b.t);
  const ends = log.filter((e) => e.type === 'syncEnd').slice().sort((a, b) => a.t - b.t);
  // Each handler end belongs to the latest firing of its tag in its instance that started before it.
  const endOfStart = new Map();
  for (const e of ends) {
    const candidates = starts.filter((s) => s.tag === e.tag && s.instance === e.instance && s.t <= e.t && !endOfStart.has(s));
    if (candidates.length) endOfStart.set(candidates[candidates.length - 1], e);
  }
  return starts.map((s) => {
    const syncEnd = endOfStart.get(s) ?? null;
    const kill = kills
      .filter((k) => (k.instance === '*' || k.instance === s.instance) && k.t >= s.t)
      .sort((a, b) => a.t - b.t)[0];
    const timeout = maxEventDuration ? s.t + maxEventDuration : Infinity;
    const candidates = [
      syncEnd && { t: syncEnd.t, cause: 'syncEnd', outcome: syncEnd.result === 'fulfilled' ? 'success' : 'failure' },
      kill && { t: kill.t, cause: 'killed', outcome: 'failure' },
      timeout !== Infinity && { t: timeout, cause: 'timeout', outcome: 'failure' },
    ].filter(Boolean).sort((a, b) => a.t - b.t);
    const first = candidates[0] ?? { t: Infinity, cause: 'open', outcome: 'open' };
    return {
      tag: s.tag,
      context: s.instance,
      lastChance: Boolean(s.lastChance),
      start: s.t,
      end: first.t,
      endReported: syncEnd ? syncEnd.t : undefined,
      endCause: first.cause,
      outcome: first.outcome,
    };
  });
}

/** The register() calls a fault scenario recorded ({tag, t, tDone?}) as registrations of the model. */
export function observedRegistrations(calls) {
  return calls.map((r) => ({ tag: r.tag, called: r.t, resolved: r.tDone ?? r.t }));
}

// --- The rules, each once ------------------------------------------------------------------------------------

/** Never concurrent: the pairs [earlier, later] of one tag's firings (sorted by start) where later started first. */
export function overlaps(firings) {
  const pairs = [];
  for (let i = 0; i < firings.length; i++) {
    for (let j = i + 1; j < firings.length; j++) {
      if (firings[j].start < endOf(firings[i])) pairs.push([firings[i], firings[j]]);
    }
  }
  return pairs;
}

/** Whether some firing of the list starts at or after `t` (registrations and firings never share a tick). */
export const firesFrom = (firings, t) => firings.some((f) => f.start >= t);

/** Nothing lost: the registrations that no firing of their tag followed. */
export const unfollowed = (registrations, firings) => registrations.filter((r) => !firesFrom(firings, r.called));

/** Bounded: an attempt is a count from 1 to maxAttempts. */
export const inBounds = (attempt, maxAttempts) => attempt >= 1 && attempt <= maxAttempts;

/** lastChance exactly on the last attempt (one beyond it is not in bounds, reported as such). */
export const lastChanceRight = (attempt, lastChance, maxAttempts) => (attempt >= maxAttempts) === lastChance;

/**
 * Whether register() call `r` may have landed after the claim of firing `f`, and so in it or after it: it resolved
 * after f's start, or less than `slack.before` before it when its record already existed (`existed`): the
 * register() that creates a record never lands in a firing of it.
 */
export const mayLandAfterClaim = (r, f, slack = EXACT, existed = false) =>
  r.resolved >= f.start || (existed && r.resolved > f.start - slack.before);

/** Whether register() call `r` may have landed between firings `a` and `b`: after a's claim, before b's. */
export const mayLandBetween = (r, a, b, slack = EXACT, existed = false) => r.called <= b.start && mayLandAfterClaim(r, a, slack, existed);

/** Whether register() call `r` certainly found firing `f`'s record `firing`: it ran inside the firing. */
export const certainlyDuring = (r, f) => r.called >= f.start && r.resolved <= endOf(f);

/** Until when a register() may still have found firing f's record `firing`: its settle, or the next firing. */
export function windowEnd(f, next, slack = EXACT) {
  const settled = f.endCause === 'syncEnd' ? f.end + slack.after : Infinity; // killed, timed out: until reaped
  return Math.min(settled, next ? next.start : Infinity);
}

// --- An exact log (the property tests) -----------------------------------------------------------------------

/** Never concurrent. */
export function neverConcurrent(log) {
  const violations = [];
  for (const firings of byTag(log.firings).values()) {
    for (const [earlier, later] of overlaps(byStart(firings))) {
      violations.push(`concurrent: ${show(later)} started while ${show(earlier)} was still firing`);
    }
  }
  return violations;
}

/**
 * Bounded and lastChance: every attempt in bounds, lastChance exactly on attempt maxAttempts; and, independently
 * of the store's counter, between two firings with no register() that may have landed between them, the attempt
 * goes up by exactly one and the earlier one neither succeeded nor was the last chance (the registration was gone
 * after either).
 */
export function bounded(log, maxAttempts) {
  const violations = [];
  const registrations = byTag(log.registrations);
  for (const f of log.firings) {
    if (!inBounds(f.attempt, maxAttempts)) violations.push(`attempt out of 1..${maxAttempts}: ${show(f)}`);
    if (!lastChanceRight(f.attempt, f.lastChance, maxAttempts)) {
      violations.push(`lastChance ${f.lastChance} on attempt ${f.attempt} of ${maxAttempts}: ${show(f)}`);
    }
  }
  for (const [tag, firings] of byTag(log.firings)) {
    const sorted = byStart(firings);
    const calls = registrations.get(tag) || [];
    for (let i = 1; i < sorted.length; i++) {
      const [a, b] = [sorted[i - 1], sorted[i]];
      // A register() that may have landed between them may have reset or revived the registration.
      if (calls.some((r) => mayLandBetween(r, a, b))) continue;
      if (b.attempt !== a.attempt + 1) violations.push(`attempt did not go up by one: ${show(a)} then ${show(b)}`);
      if (a.outcome === 'success') violations.push(`fired again after success, with no register() between: ${show(a)} then ${show(b)}`);
      if (a.lastChance) violations.push(`fired again after the last chance, with no register() between: ${show(a)} then ${show(b)}`);
    }
  }
  return violations;
}

/**
 * Nothing lost: every register() call is followed by a firing of its tag, every firing ended, every failed firing
 * that was not the last chance is followed by another, and once drained nothing is left stored (`remaining`).
 */
export function nothingLost(log, remaining) {
  const violations = [];
  const firings = byTag(log.firings);
  for (const [tag, calls] of byTag(log.registrations)) {
    for (const r of unfollowed(calls, firings.get(tag) || [])) {
      violations.push(`register(${JSON.stringify(r.tag)}) at ${r.called} was never followed by a firing`);
    }
  }
  for (const f of log.firings) {
    if (f.end === undefined) violations.push(`never finished: ${show(f)}`);
    if (f.outcome === 'failure' && !f.lastChance && !(firings.get(f.tag) || []).some((g) => g.start > f.start)) {
      violations.push(`failed before its last attempt and never retried: ${show(f)}`);
    }
  }
  for (const tag of remaining) violations.push(`still stored after draining: ${JSON.stringify(tag)}`);
  return violations;
}

/** Re-register honoured: a register() that found the tag firing is followed by a firing that started after it. */
export function reregisterHonoured(log) {
  const violations = [];
  const firings = byTag(log.firings);
  for (const r of log.registrations) {
    if (r.duringFiring && !firesFrom(firings.get(r.tag) || [], r.resolved)) {
      violations.push(`register(${JSON.stringify(r.tag)}) during a firing (resolved at ${r.resolved}) caused no new firing`);
    }
  }
  return violations;
}

/** Every rule's violations over an exact log. */
export function checkLog(log, maxAttempts, remaining) {
  return [...neverConcurrent(log), ...bounded(log, maxAttempts), ...nothingLost(log, remaining), ...reregisterHonoured(log)];
}

/** All rules; throws with every violation and the log, so a shrunk counter-example reads on its own. */
export function assertLog(log, maxAttempts, remaining) {
  const violations = checkLog(log, maxAttempts, remaining);
  if (violations.length) {
    const firings = byStart(log.firings).map(show).join('\n  ');
    const calls = log.registrations.map((r) => `register(${JSON.stringify(r.tag)}) [${r.called},${r.resolved}]${r.duringFiring ? ' during firing' : ''}`).join('\n  ');
    throw new Error(`${violations.join('\n')}\nfirings:\n  ${firings}\nregister() calls:\n  ${calls}`);
  }
}

// --- An observed log (the real-browser fault suite) ----------------------------------------------------------

/**
 * The rules over an observed log: { figures, problems }. figures: tags, firings, retried, succeeded, exhausted,
 * and the ones that must be 0 (MUST_BE_ZERO). problems: one line per violation.
 *
 * Attempts (src/core/registration.ts): a run of attempts counts firings; it resets to 0 after a success, after a
 * failure on the last chance (the record is removed), and after a firing during which register() was called
 * (`reregistered`). A register() that may or may not have landed during a firing (close to its start or its
 * settle, which the log cannot see) leaves both counts possible: the model tracks the set of possible counts.
 */
export function checkObserved({ firings, registrations, maxAttempts, slack = SLACK }) {
  if (!(maxAttempts >= 1)) throw new Error('checkInvariants: maxAttempts is required');
  const problems = [];
  const figures = {
    tags: 0, firings: 0, retried: 0, succeeded: 0, exhausted: 0,
    lost: 0, concurrent: 0, overAttempts: 0, badLastChance: 0, reregisterMissed: 0, unregistered: 0,
  };

  const firingsByTag = byTag(firings);
  const regsByTag = byTag(registrations);
  for (const list of regsByTag.values()) list.sort((a, b) => a.called - b.called);
  figures.tags = regsByTag.size;
  figures.firings = firings.length;

  for (const [tag, list] of firingsByTag) {
    figures.retried += list.length - 1;
    if (!regsByTag.has(tag)) {
      figures.unregistered += list.length;
      problems.push(`unregistered: "${tag}" fired ${list.length}× but was never registered`);
    }
  }

  for (const [tag, regs] of regsByTag) {
    const fs = firingsByTag.get(tag) ?? [];
    const name = JSON.stringify(tag);

    // Firings before the tag was ever registered.
    const early = fs.filter((f) => f.start < regs[0].called - slack.before);
    if (early.length) {
      figures.unregistered += early.length;
      problems.push(`unregistered: ${name} fired at ${early[0].start}, before its first register() at ${regs[0].called}`);
    }

    for (const [earlier, later] of overlaps(fs)) {
      figures.concurrent += 1;
      problems.push(`concurrent: ${name} fired at ${later.start} (worker ${later.context}) while its firing of ${earlier.start} (worker ${earlier.context}) ran until ${earlier.end}`);
    }

    // The record already existed at a register() if another resolved before it was called, and no firing ended
    // in between (which may have removed it).
    const existed = new Set(regs.filter((r) => regs.some((o) => o !== r && o.resolved < r.called && !fs.some((x) => x.end > o.resolved && x.end < r.called))));

    // Registrations during a firing: certainly (inside the handler's run), or perhaps (near its edges).
    const certain = new Map(); // firing index -> registrations certainly during it
    const perhaps = new Set(); // firing indexes with a registration perhaps during it
    for (const r of regs) {
      for (let i = 0; i < fs.length; i++) {
        const f = fs[i];
        // Until f.end the record is `firing` for sure: a handler still running, a dead worker not yet reaped.
        if (certainlyDuring(r, f)) {
          if (!certain.has(i)) certain.set(i, []);
          certain.get(i).push(r);
        } else if (mayLandAfterClaim(r, f, slack, existed.has(r)) && r.called <= windowEnd(f, fs[i + 1], slack)) {
          perhaps.add(i);
        }
      }
    }

    // Attempt runs and lastChance.
    let possible = new Set([0]);
    let removed = false; // the last firing succeeded: the record is gone until a register()
    fs.forEach((f, i) => {
      const prev = fs[i - 1];
      if (prev) {
        const fresh = regs.some((r) => mayLandBetween(r, prev, f, slack, existed.has(r)));
        if (removed) {
          if (!fresh) {
            figures.unregistered += 1;
            problems.push(`unregistered: ${name} fired at ${f.start} after it succeeded at ${prev.end}, with no register() since`);
          }
          possible = new Set([0]);
        } else if (fresh) {
          // register() while waiting keeps the count; after a failed last chance the record was gone: a new run.
          possible = new Set([...possible].map((n) => (n >= maxAttempts ? 0 : n)));
        }
      }
      let next = new Set([...possible].map((n) => n + 1));
      const consistent = [...next].filter((n) => lastChanceRight(n, f.lastChance, maxAttempts));
      if (!consistent.length) {
        figures.badLastChance += 1;
        problems.push(`badLastChance: ${name} firing #${i + 1} at ${f.start} had lastChance=${f.lastChance}, but it is attempt ${[...next].join(' or ')} of ${maxAttempts}`);
      } else next = new Set(consistent);
      if (!inBounds(Math.min(...next), maxAttempts)) {
        figures.overAttempts += 1;
        problems.push(`overAttempts: ${name} firing #${i + 1} at ${f.start} is attempt ${Math.min(...next)} of at most ${maxAttempts}`);
      }
      removed = false;
      if (certain.has(i)) possible = new Set([0]);
      else if (f.outcome === 'success') {
        possible = new Set([0]);
        removed = true;
      } else {
        possible = next;
        if (perhaps.has(i)) possible.add(0);
      }
      // A registration during a firing asks for another firing after it.
      if (certain.has(i) && !firesFrom(fs.slice(i + 1), f.end)) {
        figures.reregisterMissed += 1;
        problems.push(`reregisterMissed: ${name} was registered again at ${certain.get(i)[0].called}, during its firing of ${f.start}, and never fired after it`);
      }
    });

    // Settled: every registration is followed by a firing, and the last firing succeeded or failed on its last chance.
    const last = fs[fs.length - 1];
    const uncovered = unfollowed(regs, fs);
    let lostReason = null;
    if (!last) lostReason = 'never fired';
    else if (uncovered.length) lostReason = `register() at ${uncovered[0].called} was never followed by a firing`;
    else if (last.outcome === 'open') lostReason = `its last firing (${last.start}, worker ${last.context}) never ended`;
    else if (last.outcome === 'success') figures.succeeded += 1;
    else if (last.lastChance && !certain.has(fs.length - 1)) figures.exhausted += 1;
    else lostReason = `its last firing (${last.start}) failed (${last.endCause}) with lastChance=${last.lastChance} and nothing followed`;
    if (lostReason) {
      figures.lost += 1;
      problems.push(`lost: ${name} ${lostReason}`);
    }
  }
  return { figures, problems };
}

/** The figures that must be 0 and are not, as "name=value" strings. */
export function violations(figures) {
  return MUST_BE_ZERO.filter((key) => figures[key] !== 0).map((key) => `${key}=${figures[key]}`);
}
