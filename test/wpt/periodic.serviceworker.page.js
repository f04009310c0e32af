// The page of the service worker's idlharness test over the Periodic Background Sync IDL: registers
// periodic.serviceworker.js at a scope of its own and takes its subtests into this page's results.
WPT.fetchTestsFromServiceWorker('periodic.serviceworker.js', 'periodic-worker');
