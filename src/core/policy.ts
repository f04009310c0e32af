/** The retry policy. Defaults are Chromium's. */
export interface RetryPolicy {
  /** Attempts before a registration is dropped; the last one has `lastChance`. */
  maxAttempts: number;
  /** Delay before the first retry, in ms. */
  initialRetryDelay: number;
  /** Each further retry waits this many times longer. */
  retryDelayFactor: number;
  /** An event whose `waitUntil` promises have not settled by then has failed, in ms. */
  maxEventDuration: number;
  /** Periodic sync fires a tag at most this often, in ms: its interval is max(minInterval, this) (docs/semantics.md §7). */
  periodicMinInterval: number;
}

export const DEFAULT_POLICY: Readonly<RetryPolicy> = Object.freeze({
  maxAttempts: 3,
  initialRetryDelay: 300000,
  retryDelayFactor: 3,
  maxEventDuration: 180000,
  // Chromium's floor for a site's periodic sync: 12 hours.
  periodicMinInterval: 43200000,
});

/** The longest delay a timer can hold (2^31 - 1 ms, about 24.8 days). */
export const MAX_DELAY = 2147483647;

/** How long to wait after the `attempts`-th failure: initialRetryDelay * retryDelayFactor^(attempts-1). */
export function retryDelay(attempts: number, policy: RetryPolicy): number {
  // 0 * Infinity (a huge factor^attempts) would be NaN.
  if (policy.initialRetryDelay === 0) return 0;
  return Math.min(policy.initialRetryDelay * Math.pow(policy.retryDelayFactor, attempts - 1), MAX_DELAY);
}
