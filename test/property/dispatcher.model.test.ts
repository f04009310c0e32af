/**
 * Layer (b2): SyncManager.register() in pages and Dispatchers in workers, 2 or 3 contexts over ONE
 * fake-indexeddb database, under vitest's fake clock (see dispatcher.harness.ts).
 *
 * Generated runs: DISPATCHER_MODEL_RUNS (each up to 40 commands, then a drain; about 20-40 ms each), plus
 * HICCUP_RUNS of the same with storage refusing writes for a while.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import {
  Hiccup, MAX_CONTEXTS, commandArbs, modesArb, policyArb, runWorld, setupPool, teardownPool,
} from './dispatcher.harness';
import { commandsArb, contextsArb, modelRuns, outcomeArb } from './common';

export const DISPATCHER_MODEL_RUNS = Number(process.env.DISPATCHER_RUNS) || 400;

beforeAll(setupPool);
afterAll(teardownPool);

describe('dispatchers in several contexts over one database, model-based', () => {
  it(`never lose, double or over-fire a registration (${DISPATCHER_MODEL_RUNS} runs)`, async () => {
    await modelRuns(
      DISPATCHER_MODEL_RUNS, [policyArb, contextsArb(MAX_CONTEXTS), modesArb, commandsArb(commandArbs), outcomeArb],
      (policy, n, modes, cmds, outcome) => runWorld(policy, n, modes, cmds, outcome, false),
    );
  }, 600000);
});

export const LOCK_MODEL_RUNS = Number(process.env.LOCK_RUNS) || 300;

// The same worlds with Web Locks: each worker instance holds the lock of its lease until it is killed, and a killed
// worker's firing is reaped as soon as another instance looks (or wakes on the lock), not when a lease lapses.
describe('the same, with liveness by Web Lock', () => {
  it(`never lose, double or over-fire a registration (${LOCK_MODEL_RUNS} runs)`, async () => {
    await modelRuns(
      LOCK_MODEL_RUNS, [policyArb, contextsArb(MAX_CONTEXTS), modesArb, commandsArb(commandArbs), outcomeArb],
      (policy, n, modes, cmds, outcome) => runWorld(policy, n, modes, cmds, outcome, false, false, true),
    );
  }, 600000);
});

export const HICCUP_RUNS = Number(process.env.HICCUP_RUNS) || 250;

// Pages in 2 or 3 contexts, one live worker instance at a time (see World.oneWorker), storage refusing writes
// for 1 to 45 s at random: lease renewals, settles, claims and register() calls fail meanwhile.
describe('the same, with storage failing for a while (Hiccup)', () => {
  it(`never fire a tag twice at once, even when renewals and settles fail (${HICCUP_RUNS} runs)`, async () => {
    const hiccupArb = fc.integer({ min: 1000, max: 45000 }).map((ms) => new Hiccup(ms));
    await modelRuns(
      HICCUP_RUNS, [policyArb, contextsArb(MAX_CONTEXTS), modesArb, commandsArb([...commandArbs, hiccupArb]), outcomeArb],
      (policy, n, modes, cmds, outcome) => runWorld(policy, n, modes, cmds, outcome, true),
    );
  }, 600000);
});
