// The fault suite's invariants, checked over a log of everything that fired. Pure: no I/O, no clock.
//
// Input
//   log            server log entries; used: {type: 'sync', via: 'listener', tag, lastChance, t, instance} (a firing
//                  starts) and {type: 'syncEnd', tag, result: 'fulfilled'|'rejected', t, instance} (its handler ended)
//   registrations  [{tag, t, tDone?, from}]: register() calls the test made; t when it was called, tDone when it
//                  resolved (defaults to t). From a page or from the worker, it makes no difference here.
//   kills          [{t, instance}]: a worker instance died at t ('*': every instance, a browser kill). A firing of
//                  that instance still open at t is closed at t, as a failure (the polyfill counts it as failed once
//                  its lease lapses).
//   maxAttempts    the retry policy's
//   maxEventDuration  optional: a firing with no end by then is closed at start + maxEventDuration, as a failure
//
// Output: { figures, problems }. figures: tags, firings, retried, succeeded, exhausted, and the ones that must be 0:
// lost, concurrent, overAttempts, badLastChance, reregisterMissed, unregistered. problems: one line per violation.
//
// The model (src/core/registration.ts): a run of attempts counts firings; it resets to 0 after a success, after a
// failure on the last chance (the record is removed), and after a firing during which register() was called
// (`reregistered`). A register() that may or may not have landed during a firing (close to its start or its
// settle, which the log cannot see) leaves both counts possible: the model tracks the set of possible counts.

/**
 * A register() that resolved no earlier than this before a firing's handler entry may have landed after its claim:
 * the claim commits, then the worker has to take the commit's event and dispatch, while a register() after the
 * claim only has to commit and answer. In a storm (5 tabs, events by the dozen on two cores) the worker can be that
 * much behind; a clean-clone run once saw a re-registration resolve before the entry of the firing it landed in.
 */
export const SLACK_BEFORE = 250;
/** A firing's record is settled this long after its handler ended, at the latest (batching, IndexedDB). */
export const SLACK_AFTER = 2000;

export const MUST_BE_ZERO = ['lost', 'concurrent', 'overAttempts', 'badLastChance', 'reregisterMissed', 'unregistered'];

export function checkInvariants({ log, registrations, kills = [], maxAttempts, maxEventDuration }) {
  if (!(maxAttempts >= 1)) throw new Error('checkInvariants: maxAttempts is required');
  const problems = [];
  const figures = {
    tags: 0, firings: 0, retried: 0, succeeded: 0, exhausted: 0,
    lost: 0, concurrent: 0, overAttempts: 0, badLastChance: 0, reregisterMissed: 0, unregistered: 0,
  };

  const firings = buildFirings(log, kills, maxEventDuration);
  const byTag = groupBy(firings, (f) => f.tag);
  const regsByTag = groupBy(
    registrations.map((r) => ({ ...r, tDone: r.tDone ?? r.t })),
    (r) => r.tag,
  );
  for (const list of regsByTag.values()) list.sort((a, b) => a.t - b.t);
  figures.tags = regsByTag.size;
  figures.firings = firings.length;

  for (const [tag, list] of byTag) {
    figures.retried += list.length - 1;
    if (!regsByTag.has(tag)) {
      figures.unregistered += list.length;
      problems.push(`unregistered: "${tag}" fired ${list.length}× but was never registered`);
    }
  }

  for (const [tag, regs] of regsByTag) {
    const fs = byTag.get(tag) ?? [];
    const name = JSON.stringify(tag);

    // Firings before the tag was ever registered.
    const early = fs.filter((f) => f.start < regs[0].t - SLACK_BEFORE);
    if (early.length) {
      figures.unregistered += early.length;
      problems.push(`unregistered: ${name} fired at ${early[0].start}, before its first register() at ${regs[0].t}`);
    }

    // Never two firings of one tag at once.
    for (let i = 0; i < fs.length; i++) {
      for (let j = i + 1; j < fs.length; j++) {
        if (fs[j].start < fs[i].end) {
          figures.concurrent += 1;
          problems.push(`concurrent: ${name} fired at ${fs[j].start} (worker ${fs[j].instance}) while its firing of ${fs[i].start} (worker ${fs[i].instance}) ran until ${fs[i].end}`);
        }
      }
    }

    // A register() may have landed after the claim of firing f if it resolved after f's handler entry, or shortly
    // before it (SLACK_BEFORE) when the record already existed: a register() resolved before it was called, and no
    // firing ended in between. The register() that creates a record never lands in a firing of it.
    const existed = new Set(regs.filter((r) => regs.some((o) => o !== r && o.tDone < r.t && !fs.some((x) => x.end > o.tDone && x.end < r.t))));
    const mayLandAfterClaim = (r, f) => r.tDone >= f.start || (r.tDone > f.start - SLACK_BEFORE && existed.has(r));

    // Registrations during a firing: certainly (inside the handler's run), or perhaps (near its edges).
    const certain = new Map(); // firing index -> registrations certainly during it
    const perhaps = new Set(); // firing indexes with a registration perhaps during it
    for (const r of regs) {
      for (let i = 0; i < fs.length; i++) {
        const f = fs[i];
        // Until f.end the record is `firing` for sure: a handler still running, a dead worker not yet reaped.
        if (r.t >= f.start && r.tDone <= f.end) {
          if (!certain.has(i)) certain.set(i, []);
          certain.get(i).push(r);
        } else if (mayLandAfterClaim(r, f) && r.t <= windowEnd(f, fs[i + 1])) {
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
        const fresh = regs.some((r) => r.t <= f.start && mayLandAfterClaim(r, prev));
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
      const consistent = [...next].filter((n) => (n >= maxAttempts) === f.lastChance);
      if (!consistent.length) {
        figures.badLastChance += 1;
        problems.push(`badLastChance: ${name} firing #${i + 1} at ${f.start} had lastChance=${f.lastChance}, but it is attempt ${[...next].join(' or ')} of ${maxAttempts}`);
      } else next = new Set(consistent);
      if (Math.min(...next) > maxAttempts) {
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
      if (certain.has(i) && !fs.slice(i + 1).some((g) => g.start >= f.end)) {
        figures.reregisterMissed += 1;
        problems.push(`reregisterMissed: ${name} was registered again at ${certain.get(i)[0].t}, during its firing of ${f.start}, and never fired after it`);
      }
    });

    // Settled: every registration is followed by a firing, and the last firing succeeded or failed on its last chance.
    const last = fs[fs.length - 1];
    const uncovered = regs.filter((r) => !fs.some((f) => f.start >= r.t));
    let lostReason = null;
    if (!last) lostReason = 'never fired';
    else if (uncovered.length) lostReason = `register() at ${uncovered[0].t} was never followed by a firing`;
    else if (last.outcome === 'open') lostReason = `its last firing (${last.start}, worker ${last.instance}) never ended`;
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

/** Until when a register() may still have found the firing's record in state `firing`. */
function windowEnd(f, next) {
  const settled = f.endCause === 'syncEnd' ? f.end + SLACK_AFTER : Infinity; // killed, timed out: until reaped
  return Math.min(settled, next ? next.start : Infinity);
}

/** Firings from the log: a `sync` entry opens one, its instance's next `syncEnd`, a kill or a timeout closes it. */
export function buildFirings(log, kills = [], maxEventDuration) {
  const starts = log.filter((e) => e.type === 'sync' && (e.via ?? 'listener') === 'listener').slice().sort((a, b) => a.t - b.t);
  const ends = log.filter((e) => e.type === 'syncEnd').slice().sort((a, b) => a.t - b.t);
  // Each handler end belongs to the latest firing of its tag in its instance that started before it.
  const endOf = new Map();
  for (const e of ends) {
    const candidates = starts.filter((s) => s.tag === e.tag && s.instance === e.instance && s.t <= e.t && !endOf.has(s));
    if (candidates.length) endOf.set(candidates[candidates.length - 1], e);
  }
  return starts.map((s) => {
    const syncEnd = endOf.get(s) ?? null;
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
      instance: s.instance,
      lastChance: Boolean(s.lastChance),
      start: s.t,
      end: first.t,
      endReported: syncEnd ? syncEnd.t : undefined,
      endCause: first.cause,
      outcome: first.outcome,
    };
  });
}

function groupBy(items, key) {
  const map = new Map();
  for (const item of items) {
    const k = key(item);
    if (!map.has(k)) map.set(k, []);
    map.get(k).push(item);
  }
  return map;
}
