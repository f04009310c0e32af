// idlharness over the Periodic Background Sync IDL inside a service worker that loaded the polyfill with
// importScripts() (after the kit's fixture that deletes Chromium's native API when ?mode=deleted): our equivalent of
// WPT's periodic-background-sync/idlharness.https.any.js
// (https://github.com/web-platform-tests/wpt/blob/master/periodic-background-sync/idlharness.https.any.js), with the
// same objects, written for this suite. The page (periodic.serviceworker.page.js) collects the results.
// The spec: https://wicg.github.io/periodic-background-sync/
importScripts('/fixtures/delete-native.js', '/dist/background-sync-polyfill.js');
importScripts('/resources/testharness.js', '/resources/WebIDLParser.js', '/resources/idlharness.js');

// WPT's objects, as its file gives them, two of them wrong in every engine (wpt-bugs.mjs, where run.mjs judges
// their subtests expected failures of WPT's test): `new PeriodicSyncEvent("tag")` leaves out the required init
// dictionary and throws, and `onperiodicsync` is the handler (null), not a ServiceWorkerGlobalScope. Beside them,
// what they meant: a PeriodicSyncEvent built as the IDL says, and the subtest below for self.onperiodicsync.
idl_test(
  ['periodic-background-sync'],
  ['service-workers', 'html', 'dom'],
  (idlArray) => {
    idlArray.add_objects({
      ServiceWorkerGlobalScope: ['self', 'onperiodicsync'],
      ServiceWorkerRegistration: ['registration'],
      PeriodicSyncManager: ['registration.periodicSync'],
      PeriodicSyncEvent: ['new PeriodicSyncEvent("tag")', "new PeriodicSyncEvent('periodicsync', { tag: 'tag' })"],
    });
  },
);

// self.onperiodicsync's value, which idlharness does not read: an event handler attribute of the global
// (https://html.spec.whatwg.org/multipage/webappapis.html#event-handler-attributes), null until set, that returns
// the handler set and calls it, with the global as `this`, for a periodicsync event dispatched to the global.
test(() => {
  assert_equals(self.onperiodicsync, null, 'null before a handler is set');
  const calls = [];
  const handler = function (event) {
    calls.push({ self: this, event });
  };
  const event = new PeriodicSyncEvent('periodicsync', { tag: 'wpt-onperiodicsync' });
  try {
    self.onperiodicsync = handler;
    assert_equals(self.onperiodicsync, handler, 'the handler set');
    self.dispatchEvent(event);
  } finally {
    self.onperiodicsync = null;
  }
  assert_equals(calls.length, 1, 'the handler ran once for a periodicsync event');
  assert_equals(calls[0].self, self, 'the handler\'s this');
  assert_equals(calls[0].event, event, 'the handler\'s argument');
  assert_equals(self.onperiodicsync, null, 'null once set to null');
  self.dispatchEvent(new PeriodicSyncEvent('periodicsync', { tag: 'wpt-onperiodicsync-unset' }));
  assert_equals(calls.length, 1, 'a handler set back to null no longer runs');
}, 'self.onperiodicsync: null by default, and a handler set on it runs for a periodicsync event');
done();
