// Served as /resources/testharnessreport.js, the file testharness.js pages load next to it: keeps the results of
// every subtest of the page (those fetched from a worker with fetch_tests_from_worker included) in
// self.__wptResults once the harness completes, for test/wpt/run.mjs to read.
(() => {
  const TEST_STATUS = ['PASS', 'FAIL', 'TIMEOUT', 'NOTRUN', 'PRECONDITION_FAILED'];
  const HARNESS_STATUS = ['OK', 'ERROR', 'TIMEOUT', 'PRECONDITION_FAILED'];
  add_completion_callback((tests, harness) => {
    self.__wptResults = {
      harness: { status: HARNESS_STATUS[harness.status] ?? String(harness.status), message: harness.message ?? null },
      tests: tests.map((test) => ({ name: test.name, status: TEST_STATUS[test.status] ?? String(test.status), message: test.message ?? null })),
    };
  });
})();
