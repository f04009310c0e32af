/** The retry policy. Defaults are Chromium's (content/public/browser/background_sync_parameters.cc). */
export interface RetryPolicy {
  /** Attempts before a registration is dropped; the last one has `lastChance`. */
  maxAttempts: number;
  /** Delay before the first retry, in ms. */
  initialRetryDelay: number;
  /** Each further retry waits this many times longer. */
  retryDelayFactor: number;
  /** An event whose `waitUntil` promises have not settled by then has failed, in ms. */
  maxEventDuration: number;
}

export const DEFAULT_POLICY: Readonly<RetryPolicy> = Object.freeze({
  maxAttempts: 3,
  initialRetryDelay: 300000,
  retryDelayFactor: 3,
  maxEventDuration: 180000,
});

/** The longest delay a timer can hold (2^31 - 1 ms, about 24.8 days). */
export const MAX_DELAY = 2147483647;

/** How long to wait after the `attempts`-th failure: initialRetryDelay * retryDelayFactor^(attempts-1). */
export function retryDelay(attempts: number, policy: RetryPolicy): number {
  // 0 * Infinity (a huge factor^attempts) would be NaN.
  if (policy.initialRetryDelay === 0) return 0;
  return Math.min(policy.initialRetryDelay * Math.pow(policy.retryDelayFactor, attempts - 1), MAX_DELAY);
}

/**
 * Checks one option for `configure()`: a finite number in range, or a TypeError/RangeError that names it.
 * `integer` options (maxAttempts) must be whole numbers.
 */
export function checkOption(name: string, value: unknown, min: number, integer = false): number {
  if (typeof value !== 'number') {
    throw new TypeError(`BackgroundSyncPolyfill.configure: ${name} must be a number, got ${typeof value}`);
  }
  if (!(value >= min && value <= MAX_DELAY) || (integer && value % 1 !== 0)) {
    throw new RangeError(
      `BackgroundSyncPolyfill.configure: ${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${MAX_DELAY}, got ${value}`,
    );
  }
  return value;
}

/** Merges validated options over a policy; throws before changing anything if one is bad. */
export function updatePolicy(policy: RetryPolicy, options: Partial<Record<keyof RetryPolicy, unknown>>): RetryPolicy {
  const next = { ...policy };
  if (options.maxAttempts !== undefined) next.maxAttempts = checkOption('maxAttempts', options.maxAttempts, 1, true);
  if (options.initialRetryDelay !== undefined) {
    next.initialRetryDelay = checkOption('initialRetryDelay', options.initialRetryDelay, 0);
  }
  if (options.retryDelayFactor !== undefined) {
    next.retryDelayFactor = checkOption('retryDelayFactor', options.retryDelayFactor, 1);
  }
  if (options.maxEventDuration !== undefined) {
    next.maxEventDuration = checkOption('maxEventDuration', options.maxEventDuration, 1);
  }
  return next;
}
