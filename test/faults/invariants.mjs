// The fault suite's invariants: the rules of the one attempt-log model (test/model/attempt-log.mjs) judged over a
// real browser's log, with the real-browser slack. Pure: no I/O, no clock.
//
// Input
//   log            server log entries; used: {type: 'sync', via: 'listener', tag, lastChance, t, instance} (a firing
//                  starts) and {type: 'syncEnd', tag, result: 'fulfilled'|'rejected', t, instance} (its handler ended)
//   registrations  [{tag, t, tDone?, from}]: register() calls the test made; t when it was called, tDone when it
//                  resolved (defaults to t). From a page or from the worker, it makes no difference here.
//   kills          [{t, instance}]: a worker instance died at t ('*': every instance, a browser kill). A firing of
//                  that instance still open at t is closed at t, as a failure (the polyfill counts it as failed once
//                  it finds the instance's lock free, or its lease lapsed where Web Locks are missing).
//   maxAttempts    the retry policy's
//   maxEventDuration  optional: a firing with no end by then is closed at start + maxEventDuration, as a failure
//   slack          optional: {before, after} in ms, SLACK by default
//
// Output: { figures, problems }. figures: tags, firings, retried, succeeded, exhausted, and the ones that must be 0:
// lost, concurrent, overAttempts, badLastChance, reregisterMissed, unregistered. problems: one line per violation.
import { SLACK, buildFirings, checkObserved, observedRegistrations } from '../model/attempt-log.mjs';

export { MUST_BE_ZERO, SLACK, buildFirings, violations } from '../model/attempt-log.mjs';

/** SLACK.before and SLACK.after, by their former names. */
export const SLACK_BEFORE = SLACK.before;
export const SLACK_AFTER = SLACK.after;

export function checkInvariants({ log, registrations, kills = [], maxAttempts, maxEventDuration, slack = SLACK }) {
  return checkObserved({
    firings: buildFirings(log, kills, maxEventDuration),
    registrations: observedRegistrations(registrations),
    maxAttempts,
    slack,
  });
}
