// The demo's service worker. The polyfill comes first, so that it is in place before the app's listeners.
// `sw.js?force` forces the polyfill where the API is native, `sw.js?debug` logs its state transitions,
// `sw.js?interval=<ms>` shortens the periodic refresh's floor (the page passes on its own `?interval`).
// Uncaught errors and unhandled rejections in this worker, kept for whoever asks (the end-to-end test does).
const errors = [];
self.addEventListener('error', (event) => errors.push(String(event.message)));
self.addEventListener('unhandledrejection', (event) => errors.push(String(event.reason && (event.reason.stack || event.reason))));

const params = new URL(self.location.href).searchParams;
if (params.has('force') || params.has('debug')) {
  self.BackgroundSyncPolyfill = { force: params.has('force'), debug: params.has('debug') };
}
importScripts('/dist/background-sync-polyfill.min.js', 'outbox-db.js');

// The floor of Periodic Background Sync's interval: a tag fires every max(its minInterval, this). 10 s here so that
// the demo visibly refreshes (the page asks for every 15 s); real apps keep the default, 12 h, which is also
// Chromium's floor: periodic sync is for refreshing content a few times a day. Where the API is native, configure()
// changes nothing and the browser's own schedule applies.
const interval = Number(params.get('interval'));
BackgroundSyncPolyfill.configure({ periodicMinInterval: Number.isInteger(interval) && interval >= 1000 ? interval : 10000 });

// ---- the app shell, so that the page opens offline ----
const CACHE = 'outbox-demo-v1';
const SHELL = ['./', 'index.html', 'style.css', 'app.js', 'outbox-db.js', '/dist/background-sync-polyfill.min.js'];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

// Network first, so edits show at once; the cached shell when the network fails. The API is never cached.
self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin || url.pathname.startsWith('/api/')) return;
  event.respondWith(
    fetch(event.request).then(
      (response) => {
        if (response.ok) {
          const copy = response.clone();
          event.waitUntil(caches.open(CACHE).then((cache) => cache.put(url.pathname === '/' ? '/' : event.request, copy)));
        }
        return response;
      },
      async (error) => (await caches.match(event.request, { ignoreSearch: true })) || Promise.reject(error),
    ),
  );
});

// ---- the sync handler: one tag per message, `outbox:<id>` ----
self.addEventListener('sync', (event) => {
  if (event.tag.startsWith('outbox:')) event.waitUntil(deliver(event.tag.slice('outbox:'.length), event.lastChance));
});

async function deliver(id, lastChance) {
  const message = await OutboxDB.get(id);
  if (!message || message.state === 'sent') return;
  await OutboxDB.update(id, { state: 'sending', attempts: (message.attempts || 0) + 1 });
  await notify();
  try {
    const response = await fetch('/api/messages', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id, text: message.text }),
    });
    if (!response.ok) throw new Error(`the server answered ${response.status}`);
  } catch (error) {
    // Rejecting tells Background Sync to retry later (5 min, then 15 min), unless this was the last chance.
    await OutboxDB.update(id, { state: lastChance ? 'failed' : 'queued', error: String(error && error.message) });
    await notify();
    throw error;
  }
  await OutboxDB.update(id, { state: 'sent', sentAt: Date.now(), error: null });
  await notify();
}

async function notify(what = 'changed') {
  for (const client of await self.clients.matchAll({ type: 'window' })) client.postMessage({ outbox: what });
}

// ---- the periodic refresh: tag `refresh`, registered by the page with registration.periodicSync ----
// Each event fetches the server's clock and keeps it with the time of the refresh and the count of refreshes, in the
// Cache API (so the page can read it), then tells the open pages. A failed fetch rejects: the event is retried later.
const REFRESH_CACHE = 'outbox-demo-refresh';
const REFRESH_KEY = 'refresh.json';

self.addEventListener('periodicsync', (event) => {
  if (event.tag === 'refresh') event.waitUntil(refreshNow());
});

async function refreshNow() {
  const cache = await caches.open(REFRESH_CACHE);
  const stored = await cache.match(REFRESH_KEY);
  const previous = stored ? await stored.json() : { runs: 0, at: null, server: null, error: null };
  let next;
  let failure = null;
  try {
    const response = await fetch('/api/time', { cache: 'no-store' });
    if (!response.ok) throw new Error(`the server answered ${response.status}`);
    next = { runs: previous.runs + 1, at: Date.now(), server: await response.json(), error: null };
  } catch (error) {
    failure = error;
    next = { ...previous, error: { at: Date.now(), message: String(error && error.message) } };
  }
  await cache.put(REFRESH_KEY, new Response(JSON.stringify(next), { headers: { 'content-type': 'application/json' } }));
  await notify('refreshed');
  if (failure) throw failure;
}

// The page asks which implementation runs here.
self.addEventListener('message', (event) => {
  if (event.data && event.data.outbox === 'hello' && event.ports[0]) {
    event.ports[0].postMessage({ native: self.BackgroundSyncPolyfill.native, version: self.BackgroundSyncPolyfill.version, errors });
  }
});
