// Subtests that fail in every engine and every mode because web-platform-tests' own test file is wrong, not the
// browser or the polyfill. Our tests mirror WPT's files (the same objects), so they run these subtests too; each is
// judged an expected failure of WPT's test in all four modes (judge.mjs): it counts neither as passed nor as failed,
// and the runner prints it with the reason and the WPT file. Each entry names a test of run.mjs and a subtest
// exactly, and `failure` is the message the bug gives: a subtest that fails with another message (a missing
// interface, say) is a failure, and so is one that passes (the entry is stale, or an engine accepts what WebIDL
// says it must reject) or no longer runs.
//
// Both are in periodic-background-sync/idlharness.https.any.js, whose `add_objects` our periodic-worker test
// (periodic.serviceworker.js) repeats:
//   https://github.com/web-platform-tests/wpt/blob/master/periodic-background-sync/idlharness.https.any.js
//   https://wpt.fyi/results/periodic-background-sync/idlharness.https.any.js
const PERIODIC_IDLHARNESS = 'https://github.com/web-platform-tests/wpt/blob/master/periodic-background-sync/idlharness.https.any.js';

// `new PeriodicSyncEvent("tag")` passes no PeriodicSyncEventInit, which the IDL requires (its `tag` member is
// required): WebIDL's overload resolution throws a TypeError for the missing second argument, in every engine.
const NO_INIT = {
  test: 'periodic-worker',
  failure: /^assert_equals: Unexpected exception when evaluating object expected null but got object "TypeError\b/,
  reason: 'WPT\'s test is wrong: new PeriodicSyncEvent("tag") leaves out the required PeriodicSyncEventInit, so the constructor throws a TypeError',
  url: PERIODIC_IDLHARNESS,
};

// `onperiodicsync` as an object of ServiceWorkerGlobalScope: it evaluates to the handler attribute's value, null
// by default, not the global scope; idlharness then calls null's hasOwnProperty (each engine's own TypeError).
// The attribute itself is tested on `self` ("ServiceWorkerGlobalScope interface: self must inherit property
// "onperiodicsync" …"), and periodic.serviceworker.js checks its value and its handler with a subtest of its own.
const HANDLER_AS_GLOBAL = {
  test: 'periodic-worker',
  failure: /\bnull\b.*\bhasOwnProperty\b|\bhasOwnProperty\b.*\bnull\b/,
  reason: 'WPT\'s test is wrong: it gives `onperiodicsync` (the handler, null) as an instance of ServiceWorkerGlobalScope',
  url: PERIODIC_IDLHARNESS,
};

export const WPT_BUGS = [
  { ...NO_INIT, name: 'PeriodicSyncEvent must be primary interface of new PeriodicSyncEvent("tag")' },
  { ...NO_INIT, name: 'Stringification of new PeriodicSyncEvent("tag")' },
  { ...NO_INIT, name: 'PeriodicSyncEvent interface: new PeriodicSyncEvent("tag") must inherit property "tag" with the proper type' },
  { ...HANDLER_AS_GLOBAL, name: 'ServiceWorkerGlobalScope interface: onperiodicsync must inherit property "onperiodicsync" with the proper type' },
];
