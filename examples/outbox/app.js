// The demo page: an outbox of messages, each sent by a Background Sync event (tag `outbox:<id>`).
// The page writes the message to IndexedDB and registers the sync; the service worker posts it when the sync
// fires. Native in Chromium, the polyfill elsewhere; `?force` uses the polyfill everywhere.
// Beside it, a periodic refresh (Periodic Background Sync, tag `refresh`): the worker fetches the server's clock every
// 15 s and the page shows the last refresh live. `?interval=<ms>` (1000 or more) refreshes that often instead.
(() => {
  const params = new URLSearchParams(location.search);
  const forced = params.has('force');
  // The refresh's minInterval: 15 s, so that the demo visibly refreshes (with the worker's floor of 10 s, sw.js). Real
  // apps ask for hours: periodic sync is for content refreshed a few times a day, and 12 h is the default floor.
  const asked = Number(params.get('interval'));
  const REFRESH_INTERVAL = Number.isInteger(asked) && asked >= 1000 ? asked : 15000;
  const REFRESH_TAG = 'refresh';
  const $ = (id) => document.getElementById(id);
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const time = (ms) => new Date(ms).toLocaleTimeString([], { hour12: false });

  const registering = new Set(); // ids whose register() has not resolved yet, in this tab
  let registration = null;

  /** The worker's URL carries the same switches as the page, so both sides run the same implementation. */
  function workerUrl() {
    const flags = ['force', 'debug'].filter((flag) => params.has(flag));
    if (REFRESH_INTERVAL !== 15000) flags.push(`interval=${REFRESH_INTERVAL}`);
    return `sw.js${flags.length ? `?${flags.join('&')}` : ''}`;
  }

  async function setupWorker() {
    const url = new URL(workerUrl(), location.href).href;
    let reg;
    try {
      reg = await navigator.serviceWorker.register(workerUrl());
    } catch (error) {
      // Offline with the worker already installed: use it.
      reg = await navigator.serviceWorker.getRegistration();
      if (!reg) throw error;
    }
    // After flipping the switch a new version installs; it takes over at once (skipWaiting, clients.claim).
    const deadline = Date.now() + 30000;
    while (!(reg.active && reg.active.scriptURL === url && reg.active.state === 'activated')) {
      if (Date.now() > deadline) throw new Error(`the service worker ${url} did not activate (offline before it was installed?)`);
      await sleep(50);
    }
    return reg;
  }

  function askWorker(reg) {
    return new Promise((resolve) => {
      const channel = new MessageChannel();
      const timer = setTimeout(() => resolve(null), 5000);
      channel.port1.onmessage = ({ data }) => {
        clearTimeout(timer);
        resolve(data);
      };
      reg.active.postMessage({ outbox: 'hello' }, [channel.port2]);
    });
  }

  const describe = (info) =>
    !info ? 'no answer' : info.native ? 'native Background Sync' : `background-sync-polyfill ${info.version}${forced ? ' (forced)' : ' (no native API here)'}`;

  function showError(text) {
    $('error').hidden = !text;
    $('error').textContent = text || '';
  }

  /** What a message's badge says: its own state, and whether its tag is still registered. */
  function view(message, tags) {
    if (message.state === 'sent') return { state: 'sent', label: `sent ${time(message.sentAt)}` };
    if (message.state === 'sending') return { state: 'sending', label: 'sending…' };
    if (message.state === 'failed') return { state: 'failed', label: 'gave up' };
    if (tags && tags.includes(message.tag)) return { state: 'queued', label: message.error ? 'will retry' : 'waiting for sync' };
    if (registering.has(message.id) || !tags) return { state: 'queued', label: 'registering…' };
    return { state: 'failed', label: 'not registered' };
  }

  async function serverMessages() {
    try {
      const response = await fetch('/api/messages', { cache: 'no-store' });
      return response.ok ? await response.json() : null;
    } catch {
      return null; // offline, or the server is down
    }
  }

  let refreshing = null;
  let again = false;
  /** Re-renders from IndexedDB, getTags() and the server. Serialized; resolves once the DOM is current. */
  function refresh() {
    if (refreshing) {
      again = true;
      return refreshing;
    }
    refreshing = render().catch((error) => showError(String(error))).then(() => {
      refreshing = null;
      if (again) {
        again = false;
        return refresh();
      }
    });
    return refreshing;
  }

  async function render() {
    const [messages, tags, received] = await Promise.all([
      OutboxDB.all(),
      registration.sync.getTags().catch((error) => {
        showError(`getTags() failed: ${error.name}: ${error.message}`);
        return null;
      }),
      serverMessages(),
    ]);
    const rows = messages.map((message) => {
      const { state, label } = view(message, tags);
      const li = document.createElement('li');
      li.dataset.id = message.id;
      li.dataset.state = state;
      const badge = Object.assign(document.createElement('span'), { className: 'badge', textContent: label });
      badge.dataset.state = state;
      li.append(
        badge,
        Object.assign(document.createElement('span'), { className: 'text', textContent: message.text, title: message.error || '' }),
        Object.assign(document.createElement('code'), { className: 'tag', textContent: message.tag }),
      );
      return li;
    });
    $('messages').replaceChildren(...rows);
    $('empty').hidden = rows.length > 0;
    const sent = messages.filter((m) => m.state === 'sent').length;
    $('counts').textContent = messages.length ? `${messages.length - sent} waiting · ${sent} sent` : '';
    $('tags').replaceChildren(...(tags || []).map((tag) => Object.assign(document.createElement('li'), { textContent: tag })));
    $('server').replaceChildren(
      ...(received || []).map((m) => Object.assign(document.createElement('li'), { textContent: `${time(m.receivedAt)}  ${m.text}` })),
    );
    $('server-count').textContent = received ? `(${received.length})` : '(unreachable)';
    document.body.dataset.ready = 'true';
  }

  async function send(text) {
    const id = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
    const message = { id, text, tag: `outbox:${id}`, state: 'queued', createdAt: performance.timeOrigin + performance.now() };
    // Stored first: the sync event may fire as soon as register() resolves.
    await OutboxDB.add(message);
    registering.add(id);
    void refresh();
    try {
      await registration.sync.register(message.tag);
    } catch (error) {
      await OutboxDB.update(id, { state: 'failed', error: `${error.name}: ${error.message}` });
      showError(`register() failed: ${error.name}: ${error.message}.${BackgroundSyncPolyfill.native ? ' Try the "Force the polyfill" switch.' : ''}`);
    } finally {
      registering.delete(id);
    }
    await refresh();
  }

  // ---- the periodic refresh ----

  /** Registers the periodic sync `refresh`, or says why it cannot run here. Never throws. */
  async function setupRefresh(reg) {
    const status = (state, text) => {
      $('refresh-status').dataset.state = state;
      $('refresh-status').textContent = text;
    };
    if (!reg.periodicSync) return status('unsupported', 'Periodic Background Sync is not available in this browser.');
    $('refresh-engine').textContent = BackgroundSyncPolyfill.native
      ? '(native Periodic Background Sync)'
      : `(background-sync-polyfill${forced ? ', forced' : ''})`;
    try {
      await reg.periodicSync.register(REFRESH_TAG, { minInterval: REFRESH_INTERVAL });
      // Native Chromium grants periodic sync to installed apps only; in a tab the polyfill takes the refused call over
      // (README, "Electron, WebViews, denied permissions and Brave").
      if (BackgroundSyncPolyfill.native && (await periodicPermission()) !== 'granted') {
        $('refresh-engine').textContent = '(background-sync-polyfill, taken over: the browser refuses periodic sync in a tab)';
      }
    } catch (error) {
      // Where neither the browser nor the polyfill can run it (a worker without the polyfill, say).
      if (error && error.name === 'NotAllowedError') {
        $('refresh-status').title = `${error.name}: ${error.message}`;
        return status('denied', 'Periodic sync is not available here: permission denied. The browser allows it ' +
          `for installed apps only, on its own schedule (12 h at least)${BackgroundSyncPolyfill.native ? '; the "Force the polyfill" switch runs it here' : ''}.`);
      }
      return status('failed', `Periodic sync is not available here: register() failed: ${error && error.name}: ${error && error.message}`);
    }
    const seconds = REFRESH_INTERVAL / 1000;
    status('registered', `The worker fetches the server's clock every ${seconds} s (periodic sync "${REFRESH_TAG}", ` +
      `minInterval ${seconds} s), while this page is open or its worker runs.`);
  }

  /** The periodic-background-sync permission's state, or null where the browser cannot say. */
  async function periodicPermission() {
    try {
      return (await navigator.permissions.query({ name: 'periodic-background-sync' })).state;
    } catch {
      return null;
    }
  }

  let refreshReads = 0;
  /** Shows the worker's last refresh, from its cache; the latest call wins. */
  async function showRefresh() {
    const read = ++refreshReads;
    let state = null;
    try {
      const stored = await (await caches.open('outbox-demo-refresh')).match('refresh.json');
      state = stored ? await stored.json() : null;
    } catch {
      // no Cache API here (an insecure origin): nothing to show
    }
    if (read !== refreshReads) return;
    const runs = state ? state.runs : 0;
    const last = $('refresh-last');
    last.dataset.runs = String(runs);
    last.textContent = runs ? `last refresh: ${time(state.at)} (${runs} ${runs === 1 ? 'run' : 'runs'})` : 'last refresh: never';
    $('refresh-server').textContent = runs ? `server clock ${time(state.server.time)}` : '';
    $('refresh-error').textContent = state && state.error ? `the attempt at ${time(state.error.at)} failed: ${state.error.message} (retried later)` : '';
  }

  function showNetwork() {
    $('network').dataset.online = String(navigator.onLine);
    $('network').textContent = navigator.onLine ? 'online' : 'offline';
  }

  async function main() {
    const page = { native: BackgroundSyncPolyfill.native, version: BackgroundSyncPolyfill.version };
    $('engine-page').textContent = describe(page);
    document.body.dataset.engine = page.native ? 'native' : 'polyfill';
    $('force').checked = forced;
    $('force').addEventListener('change', () => {
      const next = new URL(location.href);
      if ($('force').checked) next.searchParams.set('force', '');
      else next.searchParams.delete('force');
      location.assign(next.href.replace('force=', 'force'));
    });
    showNetwork();
    addEventListener('online', showNetwork);
    addEventListener('offline', showNetwork);
    addEventListener('online', () => void refresh());

    if (!('serviceWorker' in navigator)) throw new Error('this browser has no service workers (private mode?)');
    registration = await setupWorker();
    const worker = await askWorker(registration);
    $('engine-worker').textContent = describe(worker);
    document.body.dataset.worker = worker ? (worker.native ? 'native' : 'polyfill') : 'unknown';

    navigator.serviceWorker.addEventListener('message', (event) => {
      if (event.data && event.data.outbox === 'changed') void refresh();
      if (event.data && event.data.outbox === 'refreshed') void showRefresh();
    });
    void showRefresh();
    void setupRefresh(registration);
    $('compose').addEventListener('submit', (event) => {
      event.preventDefault();
      const text = $('text').value.trim();
      if (!text) return;
      $('text').value = '';
      showError('');
      send(text).catch((error) => showError(String(error)));
    });
    $('send').disabled = false;
    setInterval(() => void refresh(), 1000);
    await refresh();
  }

  // For people poking at it in the console, and for the end-to-end test.
  self.outboxDemo = { refresh: () => refresh(), send: (text) => send(text), refreshInterval: REFRESH_INTERVAL };
  main().catch((error) => {
    showError(String(error));
    document.body.dataset.ready = 'error';
  });
})();
