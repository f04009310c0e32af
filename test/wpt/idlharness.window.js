// idlharness over the Background Sync IDL in a window that loaded the polyfill's classic script, with
// a registration of our own so that its instances are tested too: registration.sync (SyncManager) and the
// registration's `sync` attribute. The spec: https://wicg.github.io/background-sync/spec/
idl_test(
  ['background-sync'],
  ['service-workers', 'html', 'dom'],
  async (idlArray) => {
    self.testRegistration = await WPT.register('sw-plain.js', WPT.scope('window'));
    idlArray.add_objects({
      ServiceWorkerRegistration: ['testRegistration'],
      SyncManager: ['testRegistration.sync'],
    });
  },
);
