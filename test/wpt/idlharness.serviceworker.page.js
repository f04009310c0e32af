// The page of the service worker's idlharness test: registers idlharness.serviceworker.js at a scope of its own
// and takes its subtests into this page's results (fetch_tests_from_worker), where the runner reads them.
(async () => {
  const scope = WPT.scope('worker');
  const old = await navigator.serviceWorker.getRegistration(scope);
  if (old) await old.unregister();
  const registration = await navigator.serviceWorker.register(`/wpt/idlharness.serviceworker.js?mode=${WPT.swMode}`, { scope });
  fetch_tests_from_worker(registration.installing || registration.waiting || registration.active);
})().catch((error) => {
  // Registering failed: a failing subtest says so (the harness would otherwise wait for tests that never come).
  test(() => {
    throw error;
  }, 'the idlharness service worker registers');
});
