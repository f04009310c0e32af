// How test/wpt/run.mjs judges one test's results in one mode, apart from the browsers so that it is unit-tested
// (test/unit/wpt-judge.test.ts).
//
// `result` is what the runner got: { tests: [{ name, status, message }], harness: { status, message }, alive }
// from testharnessreport.js, or { error } for a test that could not run. `allowList` is the entries of
// native-allow-list.mjs for this test (none outside chromium-native); `wptBugs` the entries of wpt-bugs.mjs for
// this test (in every mode): subtests that WPT's own test file gets wrong, each with the failure message it gives.
// A subtest counts as passed when its result is the expected one: PASS, or a failure of an allow-listed subtest.
// A listed WPT bug that fails with its message is an expected failure of WPT's test: neither passed nor failed,
// but counted and reported apart. Every other subtest counts as failed: an allow-listed subtest or a WPT bug that
// passes included, and a WPT bug that fails with another message. A test that could not run, a harness that did
// not end OK, a test with no subtest, a page that no longer answers and a listed subtest (allow-listed or WPT bug)
// that did not run each add one failure (a "problem").

/**
 * Returns { passed, failed, failures, allowedFailures, wptBugFailures, problems, raw }: `passed` and `failed` are
 * the counts above; `failures` the subtests that count as failed (with why), `allowedFailures` the allow-listed
 * ones that failed as expected (with the reason), `wptBugFailures` the subtests that failed as WPT's bug makes them
 * (with the reason and the WPT file's url), `problems` the failures that are not a subtest's, and `raw` the plain
 * PASS / not-PASS counts of the subtests.
 */
export function judge(result, allowList = [], wptBugs = []) {
  const tests = result.tests ?? [];
  const problems = [];
  if (result.error) problems.push(`did not run: ${result.error}`);
  else {
    if (result.harness?.status !== 'OK') problems.push(`harness ${result.harness?.status}: ${result.harness?.message}`);
    if (!tests.length) problems.push('no subtest ran');
    if (result.alive !== true) problems.push(`the page no longer answers after its subtests: ${result.alive}`);
    for (const entry of allowList) if (!tests.some((t) => t.name === entry.name)) problems.push(`allow-listed subtest did not run: ${entry.name}`);
    for (const entry of wptBugs) if (!tests.some((t) => t.name === entry.name)) problems.push(`subtest listed as a bug of WPT's test did not run: ${entry.name}`);
  }
  const failures = [];
  const allowedFailures = [];
  const wptBugFailures = [];
  let passed = 0;
  for (const test of tests) {
    const bug = wptBugs.find((entry) => entry.name === test.name);
    const allowed = allowList.find((entry) => entry.name === test.name);
    if (bug) {
      if (test.status === 'PASS') failures.push({ ...test, message: `listed as a bug of WPT's test (${bug.reason}, ${bug.url}) but passed: the entry of wpt-bugs.mjs is stale, or the engine accepts what WebIDL rejects` });
      else if (bug.failure.test(test.message ?? '')) wptBugFailures.push({ ...test, reason: bug.reason, url: bug.url });
      else failures.push({ ...test, message: `${test.message} (not the failure of WPT's bug, ${bug.failure}: a failure of its own)` });
    } else if (test.status === 'PASS' && !allowed) passed += 1;
    else if (test.status === 'PASS') failures.push({ ...test, message: `allow-listed as a native failure (${allowed.reason}) but passed: remove it from native-allow-list.mjs` });
    else if (allowed) allowedFailures.push({ ...test, reason: allowed.reason });
    else failures.push(test);
  }
  const raw = { passed: tests.filter((t) => t.status === 'PASS').length, failed: tests.filter((t) => t.status !== 'PASS').length };
  return { passed: passed + allowedFailures.length, failed: failures.length + problems.length, failures, allowedFailures, wptBugFailures, problems, raw };
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

/**
 * The problems of a list of WPT's bugs (wpt-bugs.mjs): those of allowListProblems, and an entry without the WPT
 * file's url or without `failure`, the RegExp its failure message matches.
 */
export function wptBugProblems(bugs, testNames) {
  const problems = allowListProblems(bugs, testNames);
  for (const entry of bugs) {
    if (!entry) continue;
    if (typeof entry.url !== 'string' || !/^https:\/\//.test(entry.url)) problems.push(`${JSON.stringify(entry)}: no url of the WPT file`);
    if (!(entry.failure instanceof RegExp)) problems.push(`${JSON.stringify(entry)}: no failure (a RegExp of the message the bug gives)`);
  }
  return problems;
}
