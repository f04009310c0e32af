// One shape for a page, whatever drives it: every call is time-bounded.
import { withTimeout } from '../util.mjs';

export const EVALUATE_TIMEOUT = 20000;
export const NAVIGATION_TIMEOUT = 20000;

/** Wraps a playwright or puppeteer page (both have goto/evaluate/close with the same shapes). */
export function wrapPage(raw, label) {
  return {
    raw,
    goto: (url) => withTimeout(raw.goto(url, { timeout: NAVIGATION_TIMEOUT }), NAVIGATION_TIMEOUT + 2000, `${label}: goto ${url}`),
    evaluate: (fn, arg, timeout = EVALUATE_TIMEOUT) => withTimeout(raw.evaluate(fn, arg), timeout, `${label}: evaluate ${fn.name || 'function'}`),
    close: () => withTimeout(raw.close(), 10000, `${label}: close page`).catch(() => {}),
  };
}
