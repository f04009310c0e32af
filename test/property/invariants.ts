/**
 * The reliability rules over the exact log a property harness keeps (every firing with its attempt, every
 * register() call with whether it found the record firing, on one sequence clock): the one attempt-log model of
 * test/model/attempt-log.mjs, which the real-browser fault suite (test/faults/invariants.mjs) judges its logs by.
 *
 * - Nothing lost: every registered tag fires until it succeeds or until its last attempt.
 * - Never concurrent: a tag is never firing twice at once.
 * - Bounded: attempts never exceed maxAttempts; lastChance is set only on the final attempt.
 * - Re-register honoured: a re-registration during firing always causes a new firing.
 */
export type { Firing, Log, Registration } from '../model/attempt-log.mjs';
export { assertLog as assertInvariants, bounded, checkLog, neverConcurrent, nothingLost, reregisterHonoured } from '../model/attempt-log.mjs';
