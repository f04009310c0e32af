// Types of attempt-log.mjs: one model of "a log of attempts" (see there).

/** One sync event (one firing). Times are positions on the log's clock: sequence ticks, or ms in a browser. */
export interface Firing {
  tag: string;
  /** The context (worker instance) that fired it. */
  context: string;
  /** The attempt number the store gave this firing (the claimed record's `attempts`), where the log knows it. */
  attempt?: number;
  lastChance: boolean;
  /** When it was dispatched (a browser log: its handler's entry). */
  start: number;
  /** When the event was over (its waitUntil settled, it timed out, its worker died); undefined or Infinity: open. */
  end?: number;
  /** The app's outcome: success, or failure (rejected, timed out, worker died); `open` if it never ended. */
  outcome?: 'success' | 'failure' | 'open';
  /** What ended it, in a browser log. */
  endCause?: 'syncEnd' | 'killed' | 'timeout' | 'open';
  /** When its handler reported its end, in a browser log, if it did. */
  endReported?: number;
  /** Clock time (ms) at dispatch and end, for messages. */
  startTime?: number;
  endTime?: number;
}

/** One register(tag) call that resolved. */
export interface Registration {
  tag: string;
  /** When it was called and when it resolved. */
  called: number;
  resolved: number;
  /** The record it left was `firing` (spec: reregisteredWhileFiring), where the log knows it. */
  duringFiring?: boolean;
}

/** An exact log: every firing (with its attempt) and every register() call (with duringFiring). */
export interface Log {
  firings: Firing[];
  registrations: Registration[];
}

/** How far apart in time a register() and a firing may be observed and still have met (ms). */
export interface Slack {
  before: number;
  after: number;
}

/** A worker's log entry: `sync` (a firing starts) and `syncEnd` (its handler ended) are read. */
export interface LogEntry {
  type: string;
  tag?: string;
  t: number;
  instance?: string;
  via?: string;
  lastChance?: boolean;
  result?: 'fulfilled' | 'rejected';
  [key: string]: unknown;
}

/** A worker instance ('*': every instance, a browser kill) died at t. */
export interface Kill {
  t: number;
  instance: string;
  how?: string;
}

/** A register() call a fault scenario recorded: called at t, resolved at tDone (defaults to t). */
export interface RecordedCall {
  tag: string;
  t: number;
  tDone?: number;
  from?: string;
}

export interface Figures {
  tags: number;
  firings: number;
  retried: number;
  succeeded: number;
  exhausted: number;
  lost: number;
  concurrent: number;
  overAttempts: number;
  badLastChance: number;
  reregisterMissed: number;
  unregistered: number;
}

export declare const SLACK: Readonly<Slack>;
export declare const EXACT: Readonly<Slack>;
export declare const MUST_BE_ZERO: Array<keyof Figures>;

export declare function endOf(f: Firing): number;
export declare function show(f: Firing): string;
export declare function byTag<T extends { tag: string }>(items: readonly T[]): Map<string, T[]>;
export declare function buildFirings(log: readonly LogEntry[], kills?: readonly Kill[], maxEventDuration?: number): Firing[];
export declare function observedRegistrations(calls: readonly RecordedCall[]): Registration[];

export declare function overlaps(firings: readonly Firing[]): Array<[Firing, Firing]>;
export declare function firesFrom(firings: readonly Firing[], t: number): boolean;
export declare function unfollowed(registrations: readonly Registration[], firings: readonly Firing[]): Registration[];
export declare function inBounds(attempt: number | undefined, maxAttempts: number): boolean;
export declare function lastChanceRight(attempt: number | undefined, lastChance: boolean, maxAttempts: number): boolean;
export declare function mayLandAfterClaim(r: Registration, f: Firing, slack?: Slack, existed?: boolean): boolean;
export declare function mayLandBetween(r: Registration, a: Firing, b: Firing, slack?: Slack, existed?: boolean): boolean;
export declare function certainlyDuring(r: Registration, f: Firing): boolean;
export declare function windowEnd(f: Firing, next: Firing | undefined, slack?: Slack): number;

export declare function neverConcurrent(log: Log): string[];
export declare function bounded(log: Log, maxAttempts: number): string[];
export declare function nothingLost(log: Log, remaining: readonly string[]): string[];
export declare function reregisterHonoured(log: Log): string[];
export declare function checkLog(log: Log, maxAttempts: number, remaining: readonly string[]): string[];
export declare function assertLog(log: Log, maxAttempts: number, remaining: readonly string[]): void;

export declare function checkObserved(input: {
  firings: readonly Firing[];
  registrations: readonly Registration[];
  maxAttempts: number;
  slack?: Slack;
}): { figures: Figures; problems: string[] };
export declare function violations(figures: Figures): string[];
