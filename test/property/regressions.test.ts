/**
 * Shrunk counter-examples of the property tests, replayed as fixed, named regression tests through the same
 * harnesses (core.harness.ts, store.harness.ts, dispatcher.harness.ts) and the same invariants.
 *
 * - "src bug": found against the real src/; the test fails until the bug is fixed.
 * - "harness": found while building the harness; it pins a behaviour of src/ the harness first got wrong.
 * - "mutant": found when a deliberate bug was planted in a copy of src/ to check that the properties can fail
 *   (mutation testing); the sequence is the shortest that exposes that kind of bug, so it stays as a guard.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { RetryPolicy } from '../../src/core/policy';
import * as core from './core.harness';
import * as store from './store.harness';
import * as world from './dispatcher.harness';

beforeAll(async () => {
  await store.setupStores();
  await world.setupPool();
});
afterAll(() => {
  store.teardownStores();
  world.teardownPool();
});

const policy = (p: Partial<RetryPolicy>): RetryPolicy => ({
  maxAttempts: 3, initialRetryDelay: 0, retryDelayFactor: 1, maxEventDuration: 300, periodicMinInterval: 43200000, ...p,
});

describe('src bugs', () => {
  // Web Locks property (dispatcher.model.test.ts), shrunk: worker 0 fires "a" and is killed; worker 1's pass claims
  // "b", finds "a" under a free lock and claims again with the dead lease known, and that second look took its own
  // fresh claim of "b" (not yet running) for an abandoned firing of its own: "b" was reaped while its event ran.
  // docs/semantics.md §3: a live worker's firing is never reaped.
  it('a pass that reaps a dead worker\'s firing does not reap what it claimed itself a moment before', async () => {
    await world.runWorld(
      policy({ maxAttempts: 1, initialRetryDelay: 0, retryDelayFactor: 2, maxEventDuration: 30000 }), 2, ['hold'],
      [new world.Register(0, 'a', 0, true), new world.Register(0, 'b', null, false), new world.Kill(0), new world.Advance(0)],
      'success', false, false, true,
    );
  }, 30000);

  // Hiccup property (dispatcher.model.test.ts), shrunk: "a" fires and is held (maxEventDuration just over the
  // 30 s lease); storage refuses writes for 30 s, so the lease renewals at 10, 20 and 30 s fail; the lease lapses
  // and the worker's own wake-up reaps its still-running firing as abandoned (a failed last attempt here: the
  // registration is removed while its event runs); a register() of "a" then fires it a second time at once.
  // docs/semantics.md §3: never fire twice at once. Also storage-faults.test.ts › "renewals failing for a while".
  it('renewals failing during a long event: its firing is not reaped while it runs, nor fired twice', async () => {
    await world.runWorld(
      policy({ maxAttempts: 1, initialRetryDelay: 1, retryDelayFactor: 1, maxEventDuration: 30001 }), 2, ['hold'],
      [new world.Register(0, 'a', 0, false), new world.Hiccup(30000), new world.Register(0, 'a', 0, true)],
      'success', true,
    );
  }, 30000);

  // The first counter-example found (seed 1869489420), before shrinking further: two tags, the held one is "b".
  it('renewals failing during a long event, with a second tag (hiccup seed 1869489420)', async () => {
    await world.runWorld(
      policy({ maxAttempts: 2, initialRetryDelay: 1, retryDelayFactor: 2, maxEventDuration: 40001 }), 2, ['hold'],
      [
        new world.Register(0, 'a', 0, true),
        new world.Register(0, 'b', null, false),
        new world.Settle(0, 'failure'),
        new world.Settle(0, 'failure'),
        new world.Advance(20000),
        new world.Hiccup(21000),
        new world.Settle(0, 'success'),
        new world.Register(0, 'a', null, false),
      ],
      'success', true,
    );
  }, 30000);
});

describe('harness: behaviours of src/ the harness first got wrong', () => {
  // A pass started without waiting, then its worker killed: the claim was in flight and committed, so the event
  // is dispatched by an instance that is already dead. The attempt counts; another worker retries it later.
  it('a claim in flight when its worker dies: the attempt is spent, nothing fires twice, nothing is lost', async () => {
    await world.runWorld(
      policy({ maxAttempts: 1, maxEventDuration: 1000 }), 2, ['hold'],
      [
        new world.Register(0, 'a', null, true),
        new world.Run(0, true, false),
        new world.Kill(0),
        new world.Kill(1),
      ],
      'success', false,
    );
  });

  // A page pokes with "online" while the worker's own navigator.onLine still says offline: the pass may wait for
  // it to catch up; once the worker is online every run() settles with nothing to do.
  it('a pass asked for while the worker is offline settles once it is online', async () => {
    await world.runWorld(
      policy({ maxAttempts: 1, maxEventDuration: 1000 }), 2, ['hold'],
      [new world.Online(1, false), new world.Run(1, true, false), new world.Online(0, false)],
      'success', false,
    );
  });

  // A worker settles each firing once. A killed worker's late settle is for its last, unsettled firing, even
  // when it had settled an earlier firing of the same tag (same instance id in both leases).
  it('store: a killed worker\'s late settle of its last firing of a tag it had fired before', async () => {
    await store.runStore(policy({ maxAttempts: 2 }), 3, [
      new store.Kill(1),
      new store.Both(new store.Register(0, 'a'), new store.Claim(2)),
      new store.Kill(0),
      new store.Settle(2, 0, 'failure'),
      new store.Claim(2),
      new store.Kill(2),
      new store.ZombieSettle(2, 'success'),
      new store.Restart(0),
    ], 'success');
  });

  // A context's page outlives its worker: register() from a tab whose worker died still stores and fires.
  it('a page whose worker died still registers', async () => {
    await world.runWorld(
      policy({ maxAttempts: 1, initialRetryDelay: 0, maxEventDuration: 30000 }), 2, ['hold'],
      [new world.Kill(1), new world.Register(1, 'a', null, false)],
      'success', false,
    );
  });
});

describe('mutants: the shortest sequences that caught planted bugs', () => {
  // Caught "re-registering while firing does not reset the attempts" (all three layers).
  it('core: register, claim, register again during the firing, then the lease lapses', () => {
    core.runCore(policy({ maxAttempts: 1, initialRetryDelay: 1 }), [
      new core.Register('a'), new core.Pass(0), new core.Register('a'), new core.Reap('a'),
    ], 'success');
  });

  it('dispatcher: a re-registration while held fires again as attempt 1', async () => {
    await world.runWorld(
      policy({ maxAttempts: 1, maxEventDuration: 30000 }), 2, ['hold'],
      [new world.Register(0, 'c', 0, true), new world.Register(0, 'c', null, false), new world.Run(0, true, false)],
      'success', false,
    );
  });

  // Caught "a register() during firing is not flagged": the re-registration must cause a new firing.
  it('dispatcher: register during a held event, then the event succeeds', async () => {
    await world.runWorld(
      policy({ maxAttempts: 1, maxEventDuration: 30000 }), 2, ['hold'],
      [new world.Register(0, 'a', 0, true), new world.Register(0, 'a', null, false), new world.Settle(0, 'success')],
      'success', false,
    );
  });

  // Caught "no lease renewal": an event as long as the lease must keep it.
  it('dispatcher: an event held past the 30 s lease keeps its lease by renewal', async () => {
    await world.runWorld(
      policy({ maxAttempts: 2, maxEventDuration: 30000, retryDelayFactor: 2 }), 2, ['hold'],
      [new world.Register(0, 'a', 0, true), new world.Register(0, 'a', null, false), new world.Advance(10), new world.Advance(30000)],
      'success', false,
    );
  });

  // Caught "claimDue does not reap abandoned firings": a dead worker's firing must be retried.
  it('dispatcher: a worker dies while its event is held; the firing is reaped and retried', async () => {
    await world.runWorld(
      policy({ maxAttempts: 1, initialRetryDelay: 1, retryDelayFactor: 2, maxEventDuration: 1000 }), 2, ['hold'],
      [new world.Register(0, 'a', 0, true), new world.Kill(0), new world.Online(0, false)],
      'success', false,
    );
  });

  // Caught "the outcome is always written as success": the drain's events fail, and that must be written.
  it('dispatcher: an event that fails is written as a failure', async () => {
    await world.runWorld(
      policy({ maxAttempts: 1, maxEventDuration: 30000 }), 2, ['hold'],
      [new world.Register(0, 'a', null, false)],
      'failure', false,
    );
  });

  // Caught "only the first outcome of a settle batch is written".
  it('dispatcher: two held events, one settled, the other by the drain: each outcome is written', async () => {
    await world.runWorld(
      policy({ maxAttempts: 1, maxEventDuration: 30000, retryDelayFactor: 2 }), 2, ['hold'],
      [new world.Register(0, 'a', null, false), new world.Register(0, 'b', null, false), new world.Settle(0, 'success')],
      'success', false,
    );
  });

  // Caught "settle ignores the lease holder": a late settle by an instance that lost its lease changes nothing.
  it('store: a killed instance\'s late settle after its firing was reaped and claimed again', async () => {
    await store.runStore(policy({ maxAttempts: 1, initialRetryDelay: 1 }), 2, [
      new store.Register(0, 'a'),
      new store.Both(new store.Claim(1), new store.Register(1, 'a')),
      new store.Kill(1),
      new store.Advance(300),
      new store.Both(new store.Renew(0), new store.Claim(0)),
      new store.ZombieSettle(0, 'success'),
    ], 'success');
  });

  // Caught "claim() also claims firing records": two claims of one tag must never both succeed.
  it('store: two passes of one instance, then a re-registration', async () => {
    await store.runStore(policy({ maxAttempts: 1, initialRetryDelay: 1 }), 2, [
      new store.Both(new store.Register(0, 'a'), new store.Renew(0)),
      new store.Claim(0),
      new store.Claim(0),
      new store.Register(0, 'a'),
    ], 'success');
  });

  // Caught "re-registering while firing does not reset the attempts" in the store layer.
  it('store: a register and a settle at once, then a claim and a register at once', async () => {
    await store.runStore(policy({ maxAttempts: 1, initialRetryDelay: 0 }), 2, [
      new store.Both(new store.Register(0, 'a'), new store.Settle(0, 0, 'success')),
      new store.Both(new store.Claim(0), new store.Register(0, 'a')),
      new store.Advance(0),
    ], 'success');
  });
});
