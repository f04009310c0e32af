/**
 * What the property harnesses and their model tests share: the app's outcome, the command sequences, the retry
 * policy of the lease-level harnesses (core, store), the clock command, and a model-based property over 2 or 3
 * contexts.
 */
import fc from 'fast-check';
import { Outcome } from '../../src/core/registration';
import { RetryPolicy } from '../../src/core/policy';

/** The app's outcome of an event; the drain ends every run with one of them. */
export const outcomeArb = fc.constantFrom<Outcome>('success', 'failure');

/** A run's commands: up to 40 of them. */
export function commandsArb<M extends object, R>(arbs: Array<fc.Arbitrary<fc.AsyncCommand<M, R>>>): fc.Arbitrary<Iterable<fc.AsyncCommand<M, R>>>;
export function commandsArb<M extends object, R>(arbs: Array<fc.Arbitrary<fc.Command<M, R>>>): fc.Arbitrary<Iterable<fc.Command<M, R>>>;
export function commandsArb<M extends object, R>(arbs: Array<fc.Arbitrary<fc.Command<M, R>>>): fc.Arbitrary<Iterable<fc.Command<M, R>>> {
  return fc.commands(arbs, { maxCommands: 40, size: 'max' });
}

/** A retry policy around a lease of `ttl`: 1 to 4 attempts, retries at once or within 3 leases. */
export function leasePolicyArb(ttl: number): fc.Arbitrary<RetryPolicy> {
  return fc.record({
    maxAttempts: fc.integer({ min: 1, max: 4 }),
    initialRetryDelay: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3 * ttl })),
    retryDelayFactor: fc.oneof(fc.constant(1), fc.double({ min: 1, max: 3, noNaN: true })),
    maxEventDuration: fc.constant(ttl),
    // Periodic sync is not in these models: its floor is never used.
    periodicMinInterval: fc.constant(43200000),
  });
}

/** The command "time passes by ms" of an async harness: `advance` moves the clock, then `after` checks the world. */
export function advanceCommand<W extends object>(
  advance: (w: W, ms: number) => Promise<void>, after: (w: W, what: string) => Promise<void>,
) {
  return class Advance implements fc.AsyncCommand<W, W> {
    constructor(readonly ms: number) {}
    check(): boolean {
      return true;
    }
    async run(w: W): Promise<void> {
      await advance(w, this.ms);
      await after(w, this.toString());
    }
    toString(): string {
      return `advance(${this.ms})`;
    }
  };
}

/** 2 to `max` contexts (tabs and worker instances) over one database. */
export const contextsArb = (max: number): fc.Arbitrary<number> => fc.integer({ min: 2, max });

/** Asserts `run` over `numRuns` generated runs, one argument from each of `arbs`. */
export function modelRuns<Ts extends [unknown, ...unknown[]]>(
  numRuns: number, arbs: { [K in keyof Ts]: fc.Arbitrary<Ts[K]> }, run: (...args: Ts) => Promise<void>,
): Promise<void> {
  return fc.assert(fc.asyncProperty<Ts>(...[...arbs, run] as [...{ [K in keyof Ts]: fc.Arbitrary<Ts[K]> }, (...args: Ts) => Promise<void>]), { numRuns });
}
