// idlharness over the Background Sync IDL inside a service worker that loaded the polyfill with importScripts()
// (after the kit's fixture that deletes Chromium's native API when ?mode=deleted). The page
// (idlharness.serviceworker.page.js) collects the results with fetch_tests_from_worker.
// The spec: https://wicg.github.io/background-sync/spec/
importScripts('/fixtures/delete-native.js', '/dist/background-sync-polyfill.js');
importScripts('/resources/testharness.js', '/resources/WebIDLParser.js', '/resources/idlharness.js');

idl_test(
  ['background-sync'],
  ['service-workers', 'html', 'dom'],
  (idlArray) => {
    idlArray.add_objects({
      ServiceWorkerGlobalScope: ['self'],
      ServiceWorkerRegistration: ['registration'],
      SyncManager: ['registration.sync'],
      // A valid SyncEvent: `tag` is a required member of SyncEventInit.
      SyncEvent: ["new SyncEvent('sync', { tag: 'tag' })"],
    });
  },
);
done();
