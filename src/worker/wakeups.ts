/**
 * What wakes the dispatcher in the service worker (docs/semantics.md §4 and §9): start, activate, messages, fetches,
 * `online`, and the app's push and notification events.
 */

/** A burst of fetches (a page load) wakes the dispatcher once. */
export const FETCH_THROTTLE = 10000;

/**
 * `hook`: the handler of our messages (pokes and requests, src/worker/install.ts); `run`: wakes the dispatcher and
 * settles when what was due has fired and settled.
 */
export function listenForWakeups(scope: ServiceWorkerGlobalScope, hook: (event: Event) => void, run: () => Promise<void>): void {
  // Registered when the polyfill loads, so before the app's own listeners: ours never reach the app.
  scope.addEventListener('message', hook);
  // Not waitUntil: activation would wait for the app's sync handlers, and fetches with it.
  scope.addEventListener('activate', () => void run());
  let lastFetch = -Infinity;
  scope.addEventListener('fetch', (event) => {
    const now = Date.now();
    if (now - lastFetch < FETCH_THROTTLE) return;
    lastFetch = now;
    (event as FetchEvent).waitUntil(run());
  });
  // Where the engine fires it in workers.
  scope.addEventListener('online', () => void run());
  // The app's own events (docs/semantics.md §9): a push wakes the worker with no page open, so what is due fires
  // inside it.
  for (const type of ['push', 'notificationclick', 'notificationclose']) {
    scope.addEventListener(type, (event) => (event as ExtendableEvent).waitUntil(run()));
  }
  // The worker starting is a chance too. The first pass reads IndexedDB, so no event is dispatched before the
  // app's script (after this one) has added its sync listeners.
  void run();
}
