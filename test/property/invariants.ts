/**
 * The four reliability invariants, checked over a log of everything that fired. Shared by the
 * property tests of every layer (pure core, store, dispatcher): each harness records its firings and register()
 * calls on one sequence clock and hands them here.
 *
 * - Nothing lost: every registered tag fires until it succeeds or until its last attempt.
 * - Never concurrent: a tag is never firing twice at once.
 * - Bounded: attempts never exceed maxAttempts; lastChance is set only on the final attempt.
 * - Re-register honoured: a re-registration during firing always causes a new firing.
 */

/** One sync event (one firing) as the harness saw it. Times are positions on the harness's sequence clock. */
export interface Firing {
  tag: string;
  /** The context (worker instance) that fired it. */
  context: string;
  /** The attempt number the store gave this firing (the claimed record's `attempts`). */
  attempt: number;
  lastChance: boolean;
  /** Sequence number at dispatch. */
  start: number;
  /** Sequence number when the event was over: its waitUntil settled, it timed out, or its worker died. */
  end?: number;
  /** The app's outcome, as the harness decided it: success, or failure (rejected, timed out, worker died). */
  outcome?: 'success' | 'failure';
  /** Clock time (ms) at dispatch and end, for messages. */
  startTime?: number;
  endTime?: number;
}

/** One register(tag) call that resolved. */
export interface Registration {
  tag: string;
  /** Sequence numbers when it was called and when it resolved. */
  called: number;
  resolved: number;
  /** The record it left was `firing` (spec: reregisteredWhileFiring). */
  duringFiring: boolean;
}

export interface Log {
  firings: Firing[];
  registrations: Registration[];
}

function show(f: Firing): string {
  return `${JSON.stringify(f.tag)}#${f.attempt}${f.lastChance ? '(last)' : ''}@${f.context}[${f.start},${f.end ?? '…'})` +
    (f.outcome ? `:${f.outcome}` : '');
}

function byTag<T extends { tag: string }>(items: readonly T[]): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) {
    const list = map.get(item.tag);
    if (list) list.push(item);
    else map.set(item.tag, [item]);
  }
  return map;
}

/** Never concurrent: the firings of one tag never overlap. An unfinished firing is open to the end of time. */
export function neverConcurrent(log: Log): string[] {
  const violations: string[] = [];
  for (const [, firings] of byTag(log.firings)) {
    const sorted = firings.slice().sort((a, b) => a.start - b.start);
    for (let i = 1; i < sorted.length; i++) {
      for (let j = 0; j < i; j++) {
        const earlier = sorted[j];
        if (earlier.end === undefined || earlier.end > sorted[i].start) {
          violations.push(`concurrent: ${show(sorted[i])} started while ${show(earlier)} was still firing`);
        }
      }
    }
  }
  return violations;
}

/**
 * Bounded: 1 ≤ attempt ≤ maxAttempts, lastChance exactly on attempt maxAttempts; and, independently of the
 * store's counter, between two firings with no register() call in between, the attempt goes up by exactly one
 * and the earlier one neither succeeded nor was the last chance (the registration was gone after either).
 */
export function bounded(log: Log, maxAttempts: number): string[] {
  const violations: string[] = [];
  const registrations = byTag(log.registrations);
  for (const f of log.firings) {
    if (!(f.attempt >= 1 && f.attempt <= maxAttempts)) violations.push(`attempt out of 1..${maxAttempts}: ${show(f)}`);
    if (f.lastChance !== (f.attempt === maxAttempts)) {
      violations.push(`lastChance ${f.lastChance} on attempt ${f.attempt} of ${maxAttempts}: ${show(f)}`);
    }
  }
  for (const [tag, firings] of byTag(log.firings)) {
    const sorted = firings.slice().sort((a, b) => a.start - b.start);
    const calls = registrations.get(tag) || [];
    for (let i = 1; i < sorted.length; i++) {
      const [a, b] = [sorted[i - 1], sorted[i]];
      // A register() that overlaps the gap between them may have reset or revived the registration.
      if (calls.some((r) => r.resolved > a.start && r.called < b.start)) continue;
      if (b.attempt !== a.attempt + 1) violations.push(`attempt did not go up by one: ${show(a)} then ${show(b)}`);
      if (a.outcome === 'success') violations.push(`fired again after success, with no register() between: ${show(a)} then ${show(b)}`);
      if (a.lastChance) violations.push(`fired again after the last chance, with no register() between: ${show(a)} then ${show(b)}`);
    }
  }
  return violations;
}

/**
 * Nothing lost: every register() call is followed by a firing of its tag, every failed firing that was not the
 * last chance is followed by another, and once the harness has drained the system nothing is left stored.
 * `remaining` are the tags still stored after the drain.
 */
export function nothingLost(log: Log, remaining: readonly string[]): string[] {
  const violations: string[] = [];
  const firings = byTag(log.firings);
  for (const r of log.registrations) {
    if (!(firings.get(r.tag) || []).some((f) => f.start > r.called)) {
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
export function reregisterHonoured(log: Log): string[] {
  const violations: string[] = [];
  const firings = byTag(log.firings);
  for (const r of log.registrations) {
    if (r.duringFiring && !(firings.get(r.tag) || []).some((f) => f.start > r.resolved)) {
      violations.push(`register(${JSON.stringify(r.tag)}) during a firing (resolved at ${r.resolved}) caused no new firing`);
    }
  }
  return violations;
}

/** All four; throws with every violation and the log, so a shrunk counter-example reads on its own. */
export function assertInvariants(log: Log, maxAttempts: number, remaining: readonly string[]): void {
  const violations = [
    ...neverConcurrent(log), ...bounded(log, maxAttempts), ...nothingLost(log, remaining), ...reregisterHonoured(log),
  ];
  if (violations.length) {
    const firings = log.firings.slice().sort((a, b) => a.start - b.start).map(show).join('\n  ');
    const calls = log.registrations.map((r) => `register(${JSON.stringify(r.tag)}) [${r.called},${r.resolved}]${r.duringFiring ? ' during firing' : ''}`).join('\n  ');
    throw new Error(`${violations.join('\n')}\nfirings:\n  ${firings}\nregister() calls:\n  ${calls}`);
  }
}
