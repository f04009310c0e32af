// Service worker code against the PACKED package's .d.ts (lib.webworker), through the `/sw` entry.
import 'background-sync-polyfill/sw';

declare const self: ServiceWorkerGlobalScope;

BackgroundSyncPolyfill.configure({ maxAttempts: 5, initialRetryDelay: 1000, retryDelayFactor: 2, maxEventDuration: 60000, debug: false });

self.addEventListener('sync', (event) => {
  const tag: string = event.tag;
  const last: boolean = event.lastChance;
  const extendable: ExtendableEvent = event;
  event.waitUntil(fetch(`/send?tag=${encodeURIComponent(tag)}&last=${last}`));
  void extendable;
  // @ts-expect-error tag is read-only
  event.tag = 'other';
  // @ts-expect-error lastChance is read-only
  event.lastChance = true;
});

self.onsync = function (event) {
  const scope: ServiceWorkerGlobalScope = this;
  event.waitUntil(Promise.resolve(event.tag));
  void scope;
};
self.onsync = null;
// @ts-expect-error onsync takes a handler or null
self.onsync = 5;

const init: SyncEventInit = { tag: 'x' };
const full: SyncEventInit = { tag: 'x', lastChance: true, bubbles: false, cancelable: false, composed: false };
const event: SyncEvent = new SyncEvent('sync', init);
const lastChanceDefault: boolean = new SyncEvent('sync', full).lastChance;
void [event, lastChanceDefault];
// @ts-expect-error tag is required in SyncEventInit
new SyncEvent('sync', {});
// @ts-expect-error the init dictionary is required
new SyncEvent('sync');
// @ts-expect-error lastChance is a boolean
new SyncEvent('sync', { tag: 'x', lastChance: 'yes' });

self.registration.sync.register('from-worker').then((result: void) => result);
// @ts-expect-error a tag is a string, not a bigint
self.registration.sync.register(123n);

// Periodic Background Sync.
BackgroundSyncPolyfill.configure({ periodicMinInterval: 3600000 });

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

self.onperiodicsync = function (event) {
  const scope: ServiceWorkerGlobalScope = this;
  event.waitUntil(Promise.resolve(event.tag));
  void scope;
};
self.onperiodicsync = null;
// @ts-expect-error onperiodicsync takes a handler or null
self.onperiodicsync = 5;
// @ts-expect-error onperiodicsync's handler gets a PeriodicSyncEvent, which has no lastChance
self.onperiodicsync = (event: SyncEvent) => event.lastChance;

const periodicInit: PeriodicSyncEventInit = { tag: 'news' };
const periodicFull: PeriodicSyncEventInit = { tag: 'news', bubbles: false, cancelable: false, composed: false };
const periodicEvent: PeriodicSyncEvent = new PeriodicSyncEvent('periodicsync', periodicInit);
const periodicTag: string = new PeriodicSyncEvent('periodicsync', periodicFull).tag;
void [periodicEvent, periodicTag];
// @ts-expect-error tag is required in PeriodicSyncEventInit
new PeriodicSyncEvent('periodicsync', {});
// @ts-expect-error the init dictionary is required
new PeriodicSyncEvent('periodicsync');
// @ts-expect-error PeriodicSyncEventInit has no lastChance
new PeriodicSyncEvent('periodicsync', { tag: 'news', lastChance: true });

self.registration.periodicSync.register('news').then((result: void) => result);
self.registration.periodicSync.register('news', { minInterval: 86400000 }).then((result: void) => result);
self.registration.periodicSync.getTags().then((tags: string[]) => tags);
self.registration.periodicSync.unregister('news').then((result: void) => result);
// @ts-expect-error minInterval is a number of ms, not a string
self.registration.periodicSync.register('news', { minInterval: '1 day' });
