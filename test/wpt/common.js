// What the test pages of test/wpt share. Their URL says which worker mode the kit's driver runs in:
// ?sw=native | deleted | firefox | webkit; 'deleted' (Chromium with the native API deleted) makes a worker run
// the kit's fixtures/delete-native.js before the polyfill, as the page's own API was deleted by the driver.
const WPT = {
  swMode: new URL(location.href).searchParams.get('sw') || 'native',

  /** A scope of this test's own (each mode runs in a fresh browser profile). */
  scope: (name) => new URL(`/wpt/scope/${name}/`, location.href).href,

  /** Registers `script` (a file of this folder) at `scope` and resolves once its worker is activated. */
  async register(script, scope) {
    const registration = await navigator.serviceWorker.register(`/wpt/${script}?mode=${WPT.swMode}`, { scope });
    // serviceWorker.ready is not "activated" in WebKitGTK (docs/testing.md): wait for the state itself.
    for (let i = 0; i < 400 && !(registration.active && registration.active.state === 'activated'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    if (!(registration.active && registration.active.state === 'activated')) throw new Error(`the worker of ${scope} never activated`);
    return registration;
  },

  /**
   * For the page of a service-worker test: registers `script` (a file of this folder) afresh at the scope `name`
   * and takes the subtests it runs into this page's results (fetch_tests_from_worker), where the runner reads them.
   */
  fetchTestsFromServiceWorker(script, name) {
    (async () => {
      const scope = WPT.scope(name);
      const old = await navigator.serviceWorker.getRegistration(scope);
      if (old) await old.unregister();
      const registration = await navigator.serviceWorker.register(`/wpt/${script}?mode=${WPT.swMode}`, { scope });
      fetch_tests_from_worker(registration.installing || registration.waiting || registration.active);
    })().catch((error) => {
      // Registering failed: a failing subtest says so (the harness would otherwise wait for tests that never come).
      test(() => {
        throw error;
      }, `the service worker ${script} registers`);
    });
  },
};
