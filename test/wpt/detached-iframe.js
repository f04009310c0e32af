// The detached-iframe crash test. A same-origin iframe loads the polyfill in a realm of its own; the test takes
// that realm's registration.sync and its SyncManager, removes the iframe, and only then calls register() and
// getTags(). Whatever the engine makes of a realm whose document is gone, each call must settle: fulfil, or reject
// with an exception object, within SETTLE_MS, and never throw synchronously (WebIDL: an operation that returns a
// promise rejects instead). The page itself must stay alive and its own registration.sync keep working.
// WPT has a crash test of this kind for Background Sync; this one is our own, for the polyfill and native alike.
const SETTLE_MS = 10000;
const TAG = 'detached-iframe';

const taken = {};

promise_setup(async () => {
  if (document.readyState === 'loading') await new Promise((resolve) => document.addEventListener('DOMContentLoaded', resolve));
  const scope = WPT.scope('iframe');
  taken.pageSync = (await WPT.register('sw-plain.js', scope)).sync;
  const iframe = document.createElement('iframe');
  await new Promise((resolve, reject) => {
    iframe.onload = resolve;
    iframe.onerror = () => reject(new Error('the iframe did not load'));
    iframe.src = '/wpt/frame.html';
    document.body.append(iframe);
  });
  const frame = iframe.contentWindow;
  const registration = await frame.navigator.serviceWorker.getRegistration(scope);
  if (!registration) throw new Error(`the iframe has no registration for ${scope}`);
  taken.sync = registration.sync;
  taken.SyncManager = frame.SyncManager;
  if (!taken.sync || typeof taken.SyncManager !== 'function') throw new Error('the iframe has no Background Sync');
  iframe.remove();
});

const describeValue = (value) => (value && typeof value === 'object' ? `${value.name}: ${value.message}` : String(value));

/** Calls `call` (which must return a promise) and waits at most SETTLE_MS for it to settle; returns how it did. */
async function settles(call) {
  let promise;
  try {
    promise = call();
  } catch (error) {
    assert_unreached(`threw synchronously instead of returning a rejected promise: ${describeValue(error)}`);
  }
  // A promise of the iframe's realm: not `instanceof Promise` here. Its own then() is called at once, with this
  // realm's callbacks, whose reactions then run here. Promise.resolve(promise) would call it later, in a job of
  // the iframe's realm, which an engine may never run once that realm's document is gone (Firefox does not).
  assert_equals(typeof (promise && promise.then), 'function', 'returns a promise');
  let timer;
  const outcome = await new Promise((resolve) => {
    timer = setTimeout(() => resolve(null), SETTLE_MS);
    promise.then((value) => resolve({ value }), (error) => resolve({ error }));
  });
  clearTimeout(timer);
  assert_not_equals(outcome, null, `still pending after ${SETTLE_MS} ms`);
  if ('error' in outcome) {
    const { error } = outcome;
    assert_true(typeof error === 'object' && error !== null && typeof error.name === 'string' && typeof error.message === 'string',
      `rejects with an exception object, not ${describeValue(error)}`);
  }
  return outcome;
}

promise_test(() => settles(() => taken.sync.register(TAG)),
  "register() of a detached iframe's registration.sync settles");

promise_test(async () => {
  const outcome = await settles(() => taken.sync.getTags());
  if ('value' in outcome) assert_true(Array.isArray(outcome.value), 'fulfils with an array of tags');
}, "getTags() of a detached iframe's registration.sync settles");

promise_test(() => settles(() => taken.SyncManager.prototype.register.call(taken.pageSync, TAG)),
  "the detached iframe's SyncManager.prototype.register called on the page's registration.sync settles");

promise_test(() => settles(() => taken.SyncManager.prototype.getTags.call(taken.pageSync)),
  "the detached iframe's SyncManager.prototype.getTags called on the page's registration.sync settles");

promise_test(async () => {
  const registered = await settles(() => taken.pageSync.register(`${TAG}-after`));
  assert_false('error' in registered, `the page's register() rejected: ${describeValue(registered.error)}`);
  assert_equals(registered.value, undefined, "the page's register() fulfils with undefined");
  const tags = await settles(() => taken.pageSync.getTags());
  assert_false('error' in tags, `the page's getTags() rejected: ${describeValue(tags.error)}`);
  assert_true(Array.isArray(tags.value), "the page's getTags() gives an array");
}, "the page's own registration.sync still works after the iframe's calls");
