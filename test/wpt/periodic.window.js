// idlharness over the Periodic Background Sync IDL in a window that loaded the polyfill's classic script: our
// equivalent, for a window, of WPT's periodic-background-sync/idlharness.https.any.js
// (https://github.com/web-platform-tests/wpt/blob/master/periodic-background-sync/idlharness.https.any.js), written
// for this suite. WPT's file names `registration`, which only a service worker has; here a registration of our own
// stands in for it, so that its `periodicSync` (a PeriodicSyncManager) is tested as an instance too. The service
// worker's objects of WPT's file (its global, PeriodicSyncEvent) are periodic.serviceworker.js's.
// The spec: https://wicg.github.io/periodic-background-sync/
idl_test(
  ['periodic-background-sync'],
  ['service-workers', 'html', 'dom'],
  async (idlArray) => {
    self.testRegistration = await WPT.register('sw-plain.js', WPT.scope('periodic-window'));
    idlArray.add_objects({
      ServiceWorkerRegistration: ['testRegistration'],
      PeriodicSyncManager: ['testRegistration.periodicSync'],
    });
  },
);
