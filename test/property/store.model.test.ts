/**
 * Layer (b1): the IndexedDB store shared by 2 or 3 contexts over one fake-indexeddb database, model-based (see
 * store.harness.ts). Generated runs: STORE_MODEL_RUNS, each up to 40 commands (some of them two operations at
 * once, their transactions interleaving), then a drain.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { Outcome } from '../../src/core/registration';
import { MAX_CONTEXTS, commandArbs, policyArb, runStore, setupStores, teardownStores } from './store.harness';

export const STORE_MODEL_RUNS = 1500;
const outcomeArb = fc.constantFrom<Outcome>('success', 'failure');

beforeAll(setupStores);
afterAll(teardownStores);

describe('store shared by several contexts, model-based', () => {
  it(`never loses, doubles or over-fires a registration (${STORE_MODEL_RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(
        policyArb, fc.integer({ min: 2, max: MAX_CONTEXTS }), fc.commands(commandArbs, { maxCommands: 40, size: 'max' }), outcomeArb,
        (policy, n, cmds, outcome) => runStore(policy, n, cmds, outcome),
      ),
      { numRuns: STORE_MODEL_RUNS },
    );
  }, 300000);
});
