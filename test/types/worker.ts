// Service worker code, against the shipped .d.ts with lib.webworker.
import 'background-sync-polyfill/sw';

declare const self: ServiceWorkerGlobalScope;

BackgroundSyncPolyfill.configure({ maxAttempts: 5, initialRetryDelay: 1000, retryDelayFactor: 2, maxEventDuration: 60000 });

self.addEventListener('sync', (event) => {
  const tag: string = event.tag;
  const last: boolean = event.lastChance;
  event.waitUntil(fetch(`/send?tag=${encodeURIComponent(tag)}&last=${last}`));
});

self.onsync = (event) => {
  event.waitUntil(Promise.resolve(event.tag));
};
self.onsync = null;

const init: SyncEventInit = { tag: 'x', lastChance: true };
const event: SyncEvent = new SyncEvent('sync', init);
const isExtendable: ExtendableEvent = event;
void isExtendable;
// @ts-expect-error tag is required
new SyncEvent('sync', {});
// @ts-expect-error tag is read-only
event.tag = 'y';

self.registration.sync.register('from-worker').then((result: void) => result);
