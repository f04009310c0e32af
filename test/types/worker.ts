// Service worker code, against the shipped .d.ts with lib.webworker (tsc -p test/types/tsconfig.worker.json).
//
// The worker code of the package check, test/package/types/worker.ts (which `npm run test:package` compiles against the
// packed tarball, bundler and node16 resolution), is compiled here too, against dist/ as built: each statement there
// serves both checks. The shared code lives there because that check copies test/package/types/ alone, so that file
// cannot import this one. Below: only what that file does not state.
import '../package/types/worker';
import 'background-sync-polyfill/sw';

declare const self: ServiceWorkerGlobalScope;

// Handlers as arrow functions (the package check assigns function expressions, to type their `this`).
self.onsync = (event) => {
  event.waitUntil(Promise.resolve(event.tag + String(event.lastChance)));
};
self.onperiodicsync = (event) => {
  event.waitUntil(Promise.resolve(event.tag));
};
// @ts-expect-error periodicMinInterval is a number of ms, not a string
BackgroundSyncPolyfill.configure({ periodicMinInterval: '12h' });

// BackgroundSyncPolyfill.wake() (docs/semantics.md §9): a Promise<void> for an event's waitUntil.
self.addEventListener('message', (event) => {
  const woken: Promise<void> = BackgroundSyncPolyfill.wake();
  event.waitUntil(woken);
});
self.addEventListener('push', (event) => event.waitUntil(BackgroundSyncPolyfill.wake()));
// @ts-expect-error wake() takes no arguments
BackgroundSyncPolyfill.wake('outbox');
