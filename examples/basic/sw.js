// The polyfill first, so that it is in place before the app's listeners.
if (new URL(location.href).searchParams.has('force')) self.BackgroundSyncPolyfill = { force: true };
importScripts('/dist/background-sync-polyfill.js');

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('sync', (event) => {
  event.waitUntil((async () => {
    await fetch('/api/sent', { method: 'POST', body: JSON.stringify({ tag: event.tag, lastChance: event.lastChance }) });
    for (const client of await self.clients.matchAll()) client.postMessage('fired');
  })());
});
