// A plain service worker with the polyfill, as a site has it: for the window and iframe tests, which need a
// registration with an active worker. ?mode=deleted removes Chromium's native API first (the kit's fixture).
importScripts('/fixtures/delete-native.js', '/dist/background-sync-polyfill.js');
self.addEventListener('install', (event) => event.waitUntil(self.skipWaiting()));
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
