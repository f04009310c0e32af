// Small helpers shared by every suite, the drivers and the bench: sleep, time limits, polling, options, short text.

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class TimeoutError extends Error {
  constructor(label, ms) {
    super(`timed out after ${ms} ms: ${label}`);
    this.name = 'TimeoutError';
  }
}

/** Races a promise (or a function returning one) against a timer; never leaves the timer behind. */
export async function withTimeout(work, ms, label) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(label, ms)), ms);
  });
  try {
    const promise = typeof work === 'function' ? work() : work;
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Polls `probe` until it returns a truthy value, which is returned.
 * On timeout it throws, quoting the last value seen (or the last error).
 */
export async function waitFor(probe, { timeout = 10000, interval = 100, label = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  let lastError;
  for (;;) {
    try {
      last = await probe();
      lastError = undefined;
      if (last) return last;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const seen = lastError ? `last error: ${lastError.message}` : `last value: ${JSON.stringify(last)}`;
      throw new TimeoutError(`${label} (${seen})`, timeout);
    }
    await sleep(interval);
  }
}

export const short = (value, max = 300) => {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text && text.length > max ? `${text.slice(0, max)}…` : text;
};

/** `--name=a,b` as ['a', 'b'], or undefined. */
export const option = (name) => process.argv.find((arg) => arg.startsWith(`--${name}=`))?.split('=')[1]?.split(',');

/** One readable line: assertion messages without node's trailing `false !== true`, diffs kept compact. */
export function describeError(error) {
  return String(error?.message ?? error)
    .replace(/\n+\S+ !== \S+\s*$/, '')
    .replace(/\s*\n+\s*/g, ' | ')
    .trim();
}
