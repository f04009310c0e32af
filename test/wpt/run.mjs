// The WPT suite: `node test/wpt/run.mjs` (npm run test:wpt). web-platform-tests' testharness.js and idlharness.js
// (from the npm package wpt-runner) over the Background Sync IDL (from @webref/idl), served by the kit's test server
// (routes.mjs), in the four modes of the kit: chromium-native (the control), chromium-deleted, firefox, webkit.
// Three tests, each a page whose subtests testharness runs and testharnessreport.js keeps:
//
//   window   idlharness in a page that loaded the polyfill's classic script (idlharness.window.js)
//   worker   idlharness in a service worker that importScripts() the polyfill (idlharness.serviceworker.js)
//   iframe   registration.sync and SyncManager of a same-origin iframe used after it is removed (detached-iframe.js)
//
// Every subtest must pass in chromium-deleted, firefox and webkit. In chromium-native, a subtest may fail only if
// native-allow-list.mjs names it (a bug of Chromium's own), and an allow-listed subtest that passes fails the run.
// A test that cannot run (a launch, a page, the harness) is a failure (judge.mjs says how each result counts).
// The last line is `N passed, N failed`: the subtests whose result is the expected one, and the others plus each
// test that could not run. Options: --mode=<name>[,<name>], --only=<test>[,<test>], --verbose (every subtest by
// name). The run is inside the kit's private network namespace, like the other browser suites.
import { ensureNetns } from '../kit/netns.mjs';
import { option, selectModes, checkScenarioNames, snapshotDist, loadHarness, polyfillBuilt, guardRun, startRunServer, runModes, exitRun } from '../kit/runner.mjs';
import { newCounts, nothingPassed } from '../kit/results.mjs';
import { describeError, short, sleep, withTimeout } from '../kit/util.mjs';
import { allowListProblems, judge } from './judge.mjs';
import { addWptRoutes } from './routes.mjs';
import { NATIVE_ALLOWED } from './native-allow-list.mjs';

const RUN_LIMIT_MS = 6 * 60 * 1000;
/** How long a page has to report its results: testharness gives up at 60 s (the pages' long timeout) before this. */
const RESULTS_TIMEOUT_MS = 90000;
const NATIVE_MODE = 'chromium-native';

ensureNetns(RUN_LIMIT_MS); // re-executes this script under `unshare -n` and exits, unless already inside

const TESTS = [{ name: 'window' }, { name: 'worker' }, { name: 'iframe' }];

snapshotDist('bsp-wpt-dist-');
const { startServer, DIST_DIR, launchers } = await loadHarness();
const modes = selectModes(launchers);
const only = option('only');
const verbose = process.argv.includes('--verbose');
checkScenarioNames(only, TESTS);

const counts = newCounts();
const startedAt = Date.now();
const summary = []; // { mode, test, passed, failed, allowed }, for the table at the end

if (!polyfillBuilt(DIST_DIR)) finish(1);
checkAllowList();
guardRun(RUN_LIMIT_MS, () => finish(1));

const server = await startRunServer(startServer, DIST_DIR);
addWptRoutes(server);

await runModes(modes, server, { modes: {} }, { launchers, scenarios: TESTS, only, record, runScenario });
finish();

/** Prints the per-mode table and the closing line, and exits (1 on any failure). */
function finish(extraFailures = 0) {
  counts.failed += extraFailures;
  if (nothingPassed(counts)) counts.failed += 1;
  if (summary.length) {
    console.log('\nsubtests per mode and test (passed / failed; allow-listed native failures in brackets):');
    for (const { mode, test, passed, failed, allowed } of summary) {
      console.log(`   ${mode.padEnd(17)} ${test.padEnd(7)} ${String(passed).padStart(4)} passed ${String(failed).padStart(3)} failed${allowed ? ` [${allowed} allow-listed]` : ''}`);
    }
  }
  console.log(`\nwall time ${Math.round((Date.now() - startedAt) / 1000)} s`);
  console.log(`${counts.passed} passed, ${counts.failed} failed`);
  exitRun(counts.failed > 0 ? 1 : 0);
}

/** Exits 1 on an allow-list entry that does not name a test and a subtest with a reason. */
function checkAllowList() {
  const problems = allowListProblems(NATIVE_ALLOWED, TESTS.map((t) => t.name));
  for (const problem of problems) console.log(`native-allow-list.mjs: ${problem}`);
  if (problems.length) finish(1);
}

async function runScenario(where, driver, test) {
  const start = Date.now();
  let page = null;
  try {
    page = await driver.newPage();
    await page.goto(`${server.origin}/wpt/${test.name}.html?sw=${driver.swMode}`);
    const results = await waitForResults(page);
    // A renderer that crashed or hung answers nothing: the page must still run script after its subtests.
    const alive = await withTimeout(() => page.evaluate(() => document.title.length > 0), 10000, 'the page after its subtests').catch((error) => error);
    record(where, test.name, { ms: Date.now() - start, ...results, alive: alive === true ? true : describeError(alive) });
  } catch (error) {
    record(where, test.name, { ms: Date.now() - start, error: describeError(error) });
  } finally {
    await page?.close();
  }
}

/** Polls the page until testharnessreport.js has its results. */
async function waitForResults(page) {
  const deadline = Date.now() + RESULTS_TIMEOUT_MS;
  for (;;) {
    const results = await page.evaluate(() => self.__wptResults ?? null);
    if (results) return results;
    if (Date.now() > deadline) throw new Error(`no results from testharness after ${RESULTS_TIMEOUT_MS / 1000} s`);
    await sleep(250);
  }
}

/** Judges a test's results in a mode (judge.mjs), counts them, prints them and keeps them for the table. */
function record({ mode }, testName, result) {
  const allowList = mode === NATIVE_MODE ? NATIVE_ALLOWED.filter((entry) => entry.test === testName) : [];
  const { passed, failed, failures, allowedFailures, problems, raw } = judge(result, allowList);
  counts.passed += passed;
  counts.failed += failed;
  summary.push({ mode, test: testName, passed: raw.passed, failed: raw.failed, allowed: allowedFailures.length });
  console.log(`   ${failed ? 'FAIL' : 'PASS'} ${testName}: ${raw.passed} subtests passed, ${raw.failed} failed${allowedFailures.length ? ` (${allowedFailures.length} allow-listed)` : ''}  ${result.ms} ms`);
  for (const problem of problems) console.log(`        ${short(problem, 600)}`);
  for (const test of failures) console.log(`        ${test.status} ${test.name}: ${short(test.message ?? '', 400)}`);
  for (const test of allowedFailures) console.log(`        ${test.status} (allow-listed: ${test.reason}) ${test.name}`);
  if (verbose) for (const test of result.tests ?? []) if (test.status === 'PASS') console.log(`        PASS ${test.name}`);
}
