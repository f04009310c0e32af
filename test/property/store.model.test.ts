/**
 * Layer (b1): the IndexedDB store shared by 2 or 3 contexts over one fake-indexeddb database, model-based (see
 * store.harness.ts). Generated runs: STORE_MODEL_RUNS, each up to 40 commands (some of them two operations at
 * once, their transactions interleaving), then a drain.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { MAX_CONTEXTS, commandArbs, policyArb, runStore, setupStores, teardownStores } from './store.harness';
import { commandsArb, contextsArb, modelRuns, outcomeArb } from './common';

export const STORE_MODEL_RUNS = 1500;

beforeAll(setupStores);
afterAll(teardownStores);

describe('store shared by several contexts, model-based', () => {
  it(`never loses, doubles or over-fires a registration (${STORE_MODEL_RUNS} runs)`, async () => {
    await modelRuns(
      STORE_MODEL_RUNS, [policyArb, contextsArb(MAX_CONTEXTS), commandsArb(commandArbs), outcomeArb],
      (policy, n, cmds, outcome) => runStore(policy, n, cmds, outcome),
    );
  }, 300000);
});
