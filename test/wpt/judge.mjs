// How test/wpt/run.mjs judges one test's results in one mode, apart from the browsers so that it is unit-tested
// (test/unit/wpt-judge.test.ts).
//
// `result` is what the runner got: { tests: [{ name, status, message }], harness: { status, message }, alive }
// from testharnessreport.js, or { error } for a test that could not run. `allowList` is the entries of
// native-allow-list.mjs for this test (none outside chromium-native). A subtest counts as passed when its result is
// the expected one: PASS, or a failure of an allow-listed subtest; as failed otherwise, an allow-listed subtest that
// passes included. A test that could not run, a harness that did not end OK, a test with no subtest, a page that no
// longer answers and an allow-listed subtest that did not run each add one failure (a "problem").

/**
 * Returns { passed, failed, failures, allowedFailures, problems, raw }: `passed` and `failed` are the counts above;
 * `failures` the subtests that count as failed (with why), `allowedFailures` the allow-listed ones that failed as
 * expected (with the reason), `problems` the failures that are not a subtest's, and `raw` the plain PASS / not-PASS
 * counts of the subtests.
 */
export function judge(result, allowList = []) {
  const tests = result.tests ?? [];
  const problems = [];
  if (result.error) problems.push(`did not run: ${result.error}`);
  else {
    if (result.harness?.status !== 'OK') problems.push(`harness ${result.harness?.status}: ${result.harness?.message}`);
    if (!tests.length) problems.push('no subtest ran');
    if (result.alive !== true) problems.push(`the page no longer answers after its subtests: ${result.alive}`);
    for (const entry of allowList) if (!tests.some((t) => t.name === entry.name)) problems.push(`allow-listed subtest did not run: ${entry.name}`);
  }
  const failures = [];
  const allowedFailures = [];
  let passed = 0;
  for (const test of tests) {
    const allowed = allowList.find((entry) => entry.name === test.name);
    if (test.status === 'PASS' && !allowed) passed += 1;
    else if (test.status === 'PASS') failures.push({ ...test, message: `allow-listed as a native failure (${allowed.reason}) but passed: remove it from native-allow-list.mjs` });
    else if (allowed) allowedFailures.push({ ...test, reason: allowed.reason });
    else failures.push(test);
  }
  const raw = { passed: tests.filter((t) => t.status === 'PASS').length, failed: tests.filter((t) => t.status !== 'PASS').length };
  return { passed: passed + allowedFailures.length, failed: failures.length + problems.length, failures, allowedFailures, problems, raw };
}

/** The problems of an allow-list (an array of { test, name, reason, url? }) against the suite's test names. */
export function allowListProblems(allowList, testNames) {
  const problems = [];
  const seen = new Set();
  for (const entry of allowList) {
    const key = `${entry?.test}\n${entry?.name}`;
    if (!entry || !testNames.includes(entry.test)) problems.push(`${JSON.stringify(entry)}: test must be one of ${testNames.join(', ')}`);
    else if (typeof entry.name !== 'string' || !entry.name) problems.push(`${JSON.stringify(entry)}: no subtest name`);
    else if (typeof entry.reason !== 'string' || !entry.reason) problems.push(`${JSON.stringify(entry)}: no reason`);
    else if (seen.has(key)) problems.push(`${JSON.stringify(entry)}: listed twice`);
    seen.add(key);
  }
  return problems;
}
