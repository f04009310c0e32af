// The test's own lines in each stack's worker. The test server puts them before the app's sw.js (bundled into one
// classic script by build.mjs), so the app's code stays exactly what README shows:
// - in Chromium with the API deleted, the API's removal (the kit's delete-native.js, told by BSP_TEST_MODE);
// - the kit's reports to the server, the probe answers and the worker's errors (test/e2e/fixtures/report.js);
// - every sync event (tag, connectivity, whose event it is) and every fetch of /api/echo the worker makes, marked
//   with whether a sync event was still being handled (its waitUntil promises pending): a queue's replay must be,
//   and a page's POST passing through, or a replay at worker start, is not.
import '../kit/fixtures/delete-native.js';
import { answerProbes, report } from '../e2e/fixtures/report.js';

let syncsPending = 0;

const networkFetch = self.fetch;
self.fetch = function fetch(input, init) {
  const url = new URL(typeof input === 'string' ? input : input.url, self.location.href);
  if (url.pathname === '/api/echo') void report({ type: 'echoFetch', onLine: navigator.onLine, duringSync: syncsPending > 0 });
  return networkFetch.call(self, input, init);
};

// The first `sync` listener: it sees every waitUntil() the app's listeners call on this event, and counts the
// event as being handled until all of them settle. Listeners run one after another within the dispatch, so a
// task queued here runs after the last of them.
self.addEventListener('sync', (event) => {
  const promises = [];
  const waitUntil = event.waitUntil;
  event.waitUntil = function (promise) {
    promises.push(Promise.resolve(promise).catch(() => {}));
    return waitUntil.call(this, promise);
  };
  syncsPending++;
  setTimeout(() => void Promise.all(promises).then(() => syncsPending--), 0);
  void report({
    type: 'sync',
    tag: event.tag,
    lastChance: event.lastChance,
    onLine: navigator.onLine,
    isTrusted: event.isTrusted,
    isSyncEvent: typeof SyncEvent === 'function' && event instanceof SyncEvent,
  });
});

answerProbes();

// {fixture: 'viewOffline'}: from now on this worker instance reads itself offline (navigator.onLine), so that it
// fires nothing when the network comes back; the restart case stops it then and starts a fresh one.
self.addEventListener('message', (event) => {
  if (!event.data || event.data.fixture !== 'viewOffline' || !event.ports[0]) return;
  Object.defineProperty(navigator, 'onLine', { get: () => false, configurable: true });
  event.ports[0].postMessage({ onLine: navigator.onLine });
});
