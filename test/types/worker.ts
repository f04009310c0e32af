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

// Periodic Background Sync.
BackgroundSyncPolyfill.configure({ periodicMinInterval: 43200000 });

self.addEventListener('periodicsync', (event) => {
  const tag: string = event.tag;
  const extendable: ExtendableEvent = event;
  event.waitUntil(fetch(`/refresh?tag=${encodeURIComponent(tag)}`));
  void extendable;
  // @ts-expect-error a PeriodicSyncEvent has no lastChance
  void event.lastChance;
  // @ts-expect-error tag is read-only
  event.tag = 'other';
});

self.onperiodicsync = (event) => {
  event.waitUntil(Promise.resolve(event.tag));
};
self.onperiodicsync = null;

const periodicInit: PeriodicSyncEventInit = { tag: 'news' };
const periodicEvent: PeriodicSyncEvent = new PeriodicSyncEvent('periodicsync', periodicInit);
void periodicEvent;
// @ts-expect-error tag is required in PeriodicSyncEventInit
new PeriodicSyncEvent('periodicsync', {});

self.registration.periodicSync.register('news', { minInterval: 86400000 }).then((result: void) => result);
self.registration.periodicSync.getTags().then((tags: string[]) => tags);
self.registration.periodicSync.unregister('news').then((result: void) => result);
// @ts-expect-error minInterval is a number of ms, not a string
self.registration.periodicSync.register('news', { minInterval: '1 day' });
// @ts-expect-error periodicMinInterval is a number of ms, not a string
BackgroundSyncPolyfill.configure({ periodicMinInterval: '12h' });
