/**
 * `BackgroundSyncPolyfill.configure()` options: every check in one place, so that a typo fails the same way in page and
 * worker, with a TypeError or RangeError that names the option.
 */
import { MAX_DELAY, RetryPolicy } from './core/policy';

/** Options as the app passed them: not yet checked. */
export type Options = Partial<Record<keyof BackgroundSyncPolyfillOptions, unknown>>;

/**
 * Checks one numeric option: a finite number in range, or a TypeError/RangeError that names it.
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

/** The retry policy's options (core/policy.ts), in the order they are checked, with their minimum and integer-ness. */
const POLICY_OPTIONS: ReadonlyArray<[keyof RetryPolicy, number, boolean?]> = [
  ['maxAttempts', 1, true],
  ['initialRetryDelay', 0],
  ['retryDelayFactor', 1],
  ['maxEventDuration', 1],
  ['periodicMinInterval', 0],
];

/** The retry policy's options among `options`, checked. */
function checkPolicyOptions(options: Partial<Record<keyof RetryPolicy, unknown>>): Partial<RetryPolicy> {
  const checked: Partial<RetryPolicy> = {};
  for (const [name, min, integer] of POLICY_OPTIONS) {
    if (options[name] !== undefined) checked[name] = checkOption(name, options[name], min, integer);
  }
  return checked;
}

/** Merges checked options over a policy; throws before changing anything if one is bad. */
export function updatePolicy(policy: RetryPolicy, options: Partial<Record<keyof RetryPolicy, unknown>>): RetryPolicy {
  return { ...policy, ...checkPolicyOptions(options) };
}

/**
 * Checks the options a page uses (checkInterval, debug); returns them, now known to be good. The page-only script
 * checks only these: the worker's options do nothing in a page, and checking them would cost every page load bytes.
 */
export function validatePageOptions(options: unknown): Options {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('BackgroundSyncPolyfill.configure: options must be an object');
  }
  const o = options as Options;
  if (o.checkInterval !== undefined) checkOption('checkInterval', o.checkInterval, 1);
  if (o.debug !== undefined && typeof o.debug !== 'boolean') {
    throw new TypeError(`BackgroundSyncPolyfill.configure: debug must be a boolean, got ${typeof o.debug}`);
  }
  return o;
}

/**
 * Checks every option, the worker's and the page's, so that a typo fails the same way in both (the worker-only and
 * universal scripts); returns them, now known to be good.
 */
export function validateOptions(options: unknown): Options {
  const o = validatePageOptions(options);
  checkPolicyOptions(o);
  return o;
}
