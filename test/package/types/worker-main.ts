// The package's main entry in a worker: the same global types as `/sw`.
import 'background-sync-polyfill';

declare const self: ServiceWorkerGlobalScope;

self.addEventListener('sync', (event) => event.waitUntil(Promise.resolve(event.tag.length + Number(event.lastChance))));
export const tags: Promise<string[]> = self.registration.sync.getTags();
self.addEventListener('periodicsync', (event) => event.waitUntil(Promise.resolve(event.tag.length)));
export const periodicTags: Promise<string[]> = self.registration.periodicSync.getTags();
