// The page of the service worker's idlharness test over the Background Sync IDL: registers
// idlharness.serviceworker.js at a scope of its own and takes its subtests into this page's results.
WPT.fetchTestsFromServiceWorker('idlharness.serviceworker.js', 'worker');
