// The WPT suite: `node test/wpt/run.mjs` (npm run test:wpt). web-platform-tests' testharness.js and idlharness.js
// (from the npm package wpt-runner) over the Background Sync and Periodic Background Sync IDL (from @webref/idl),
// served by the kit's test server (routes.mjs), in the four modes of the kit: chromium-native (the control),
// chromium-deleted, firefox, webkit. Five tests, each a page whose subtests testharness runs and
// testharnessreport.js keeps:
//
//   window           idlharness over background-sync.idl in a page that loaded the polyfill's classic script
//                    (idlharness.window.js)
//   worker           the same in a service worker that importScripts() the polyfill (idlharness.serviceworker.js)
//   iframe           registration.sync and SyncManager of a same-origin iframe used after it is removed
//                    (detached-iframe.js)
//   periodic-window  idlharness over periodic-background-sync.idl in a page with the polyfill, with
//                    registration.periodicSync as an object (periodic.window.js)
//   periodic-worker  the same in a service worker with the polyfill, with the objects of WPT's
//                    periodic-background-sync/idlharness.https.any.js: self, registration, registration.periodicSync,
//                    PeriodicSyncEvent instances and onperiodicsync (periodic.serviceworker.js)
//
// In chromium-native the periodic tests run with the periodic-background-sync permission granted to the test origin
// through DevTools (Browser.setPermission), which native Chromium denies to a site that is not an installed app.
//
// Every subtest must pass in chromium-deleted, firefox and webkit. In chromium-native, a subtest may fail only if
// native-allow-list.mjs names it (a bug of Chromium's own), and an allow-listed subtest that passes fails the run.
// In every mode, a subtest that wpt-bugs.mjs names (WPT's own test file is wrong: it fails in every engine) must
// fail with the message that bug gives: it is an expected failure of WPT's test, counted apart and printed with
// the reason and the WPT file's URL; one that passes or fails otherwise is a failure.
// A test that cannot run (a launch, a page, the harness) is a failure (judge.mjs says how each result counts).
// The last line is `N passed, N failed, N expected failures (bugs in WPT's tests)`: the subtests whose result is
// the expected one, the others plus each test that could not run, and the subtests of wpt-bugs.mjs that failed as
// that bug makes them. Options: --mode=<name>[,<name>], --only=<test>[,<test>], --verbose (every subtest by
// name). The run is inside the kit's private network namespace, like the other browser suites.
import { ensureNetns } from '../kit/netns.mjs';
import { option, selectModes, checkScenarioNames, snapshotDist, loadHarness, polyfillBuilt, guardRun, startRunServer, runModes, exitRun } from '../kit/runner.mjs';
import { newCounts, nothingPassed } from '../kit/results.mjs';
import { describeError, short, sleep, withTimeout } from '../kit/util.mjs';
import { allowListProblems, judge, wptBugProblems } from './judge.mjs';
import { addWptRoutes } from './routes.mjs';
import { NATIVE_ALLOWED } from './native-allow-list.mjs';
import { WPT_BUGS } from './wpt-bugs.mjs';

const RUN_LIMIT_MS = 6 * 60 * 1000;
/** How long a page has to report its results: testharness gives up at 60 s (the pages' long timeout) before this. */
const RESULTS_TIMEOUT_MS = 90000;
const NATIVE_MODE = 'chromium-native';

ensureNetns(RUN_LIMIT_MS); // re-executes this script under `unshare -n` and exits, unless already inside

// `periodic`: in chromium-native, the test origin is granted the periodic-background-sync permission first.
const TESTS = [{ name: 'window' }, { name: 'worker' }, { name: 'iframe' }, { name: 'periodic-window', periodic: true }, { name: 'periodic-worker', periodic: true }];

snapshotDist('bsp-wpt-dist-');
const { startServer, DIST_DIR, launchers } = await loadHarness();
const modes = selectModes(launchers);
const only = option('only');
const verbose = process.argv.includes('--verbose');
checkScenarioNames(only, TESTS);

const counts = newCounts();
let wptBugCount = 0; // subtests that failed as a bug of WPT's own test makes them (wpt-bugs.mjs)
const startedAt = Date.now();
const summary = []; // { mode, test, passed, failed, allowed, wptBugs }, for the table at the end

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
    console.log("\nsubtests per mode and test (passed / failed / expected failures of WPT's own test; allow-listed native failures in brackets):");
    for (const { mode, test, passed, failed, allowed, wptBugs } of summary) {
      console.log(`   ${mode.padEnd(17)} ${test.padEnd(15)} ${String(passed).padStart(4)} passed ${String(failed).padStart(3)} failed ${String(wptBugs).padStart(2)} WPT bug${allowed ? ` [${allowed} allow-listed]` : ''}`);
    }
  }
  if (wptBugCount) {
    console.log("\nexpected failures because WPT's own test is wrong (wpt-bugs.mjs), in every mode:");
    for (const url of new Set(WPT_BUGS.map((entry) => entry.url))) console.log(`   ${url}`);
    for (const reason of new Set(WPT_BUGS.map((entry) => entry.reason))) console.log(`     ${reason}`);
  }
  console.log(`\nwall time ${Math.round((Date.now() - startedAt) / 1000)} s`);
  console.log(`${counts.passed} passed, ${counts.failed} failed, ${wptBugCount} expected failures (bugs in WPT's tests)`);
  exitRun(counts.failed > 0 ? 1 : 0);
}

/**
 * Exits 1 on an allow-list entry that does not name a test and a subtest with a reason, and on a WPT bug that does
 * not name them with a reason, the WPT file's url and the failure it gives.
 */
function checkAllowList() {
  const names = TESTS.map((t) => t.name);
  const problems = [
    ...allowListProblems(NATIVE_ALLOWED, names).map((problem) => `native-allow-list.mjs: ${problem}`),
    ...wptBugProblems(WPT_BUGS, names).map((problem) => `wpt-bugs.mjs: ${problem}`),
  ];
  for (const problem of problems) console.log(problem);
  if (problems.length) finish(1);
}

async function runScenario(where, driver, test) {
  const start = Date.now();
  let page = null;
  let session = null;
  try {
    page = await driver.newPage();
    if (test.periodic && where.mode === NATIVE_MODE) session = await grantPeriodicSync(driver, page);
    await page.goto(`${server.origin}/wpt/${test.name}.html?sw=${driver.swMode}`);
    if (session) await checkPeriodicSyncGranted(page);
    const results = await waitForResults(page);
    // A renderer that crashed or hung answers nothing: the page must still run script after its subtests.
    const alive = await withTimeout(() => page.evaluate(() => document.title.length > 0), 10000, 'the page after its subtests').catch((error) => error);
    record(where, test.name, { ms: Date.now() - start, ...results, alive: alive === true ? true : describeError(alive) });
  } catch (error) {
    record(where, test.name, { ms: Date.now() - start, error: describeError(error) });
  } finally {
    await session?.detach().catch(() => {});
    await page?.close();
  }
}

/**
 * Native Chromium denies periodic-background-sync to a site that is not an installed app: grants it to the test
 * origin through DevTools (CDP Browser.setPermission), on a CDP session that stays attached for the whole test
 * (Chromium drops a session's permission overrides when it detaches). Not Browser.grantPermissions, which would deny
 * every permission it does not list, background-sync included.
 */
async function grantPeriodicSync(driver, page) {
  const session = await driver.cdp(page);
  try {
    const permission = { permission: { name: 'periodic-background-sync' }, setting: 'granted', origin: server.origin };
    await withTimeout(session.send('Browser.setPermission', permission), 10000, 'Browser.setPermission periodic-background-sync');
  } catch (error) {
    await session.detach().catch(() => {});
    throw error;
  }
  return session;
}

/** Throws unless the page sees the periodic-background-sync permission granted (the test then did not run). */
async function checkPeriodicSyncGranted(page) {
  const state = await page.evaluate(() => navigator.permissions.query({ name: 'periodic-background-sync' }).then((status) => status.state, (error) => `${error.name}: ${error.message}`));
  if (state !== 'granted') throw new Error(`periodic-background-sync is ${state} in the page after Browser.setPermission, not granted`);
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
  const wptBugs = WPT_BUGS.filter((entry) => entry.test === testName);
  const { passed, failed, failures, allowedFailures, wptBugFailures, problems, raw } = judge(result, allowList, wptBugs);
  counts.passed += passed;
  counts.failed += failed;
  wptBugCount += wptBugFailures.length;
  const failedRaw = raw.failed - wptBugFailures.length;
  summary.push({ mode, test: testName, passed: raw.passed, failed: failedRaw, allowed: allowedFailures.length, wptBugs: wptBugFailures.length });
  const notes = [allowedFailures.length && `${allowedFailures.length} allow-listed`, wptBugFailures.length && `${wptBugFailures.length} expected failures of WPT's test`].filter(Boolean);
  console.log(`   ${failed ? 'FAIL' : 'PASS'} ${testName}: ${raw.passed} subtests passed, ${failedRaw} failed${notes.length ? ` (${notes.join(', ')})` : ''}  ${result.ms} ms`);
  for (const problem of problems) console.log(`        ${short(problem, 600)}`);
  for (const test of failures) console.log(`        ${test.status} ${test.name}: ${short(test.message ?? '', 400)}`);
  for (const test of allowedFailures) console.log(`        ${test.status} (allow-listed: ${test.reason}) ${test.name}`);
  for (const test of wptBugFailures) console.log(`        ${test.status} (expected: ${test.reason}; ${test.url}) ${test.name}: ${short(test.message ?? '', 200)}`);
  if (verbose) for (const test of result.tests ?? []) if (test.status === 'PASS') console.log(`        PASS ${test.name}`);
}
