// The end-to-end suite: `node test/e2e/run.mjs` (npm run test:e2e). Needs `npm run build` first.
//   demo     the outbox demo (examples/outbox/) in Chromium (native, and with ?force) and Firefox
//   refresh  the demo's periodic refresh (Periodic Background Sync) runs on schedule with the polyfill (Chromium
//            with ?force, Firefox) and shows it live; native Chromium refuses it (not an installed app) and the
//            demo says so
//   workbox  workbox-background-sync on top of the polyfill: Chromium with the API deleted, Firefox (and
//            native Chromium as the control)
//   bundler  the packed package imported by name and bundled by Rollup: Chromium with the API deleted, Firefox
//   stacks   apps built from the packed package by webpack + InjectManifest, Vite + vite-plugin-pwa, Serwist and
//            esbuild, their queued POSTs replayed by sync events: Chromium with the API deleted, Firefox (and
//            native Chromium as the control)
//            (test/stacks/README.md). Its tools are installed with npm, and the apps built, before the run enters
//            the namespace, which has no way out to the registry.
// Like test/browser/run.mjs it runs inside the kit's private network namespace (`unshare -n`), so that offline is
// real for Firefox and nothing leaves the machine, with the kit's drivers, server and results. Options:
//   --only=demo,refresh,workbox,bundler,stacks   a subset of the tests
//   --browser=chromium-native,chromium-deleted,firefox   a subset of the browsers
//   --update-screenshot           copy the Firefox demo screenshot to examples/outbox/screenshot.png
// Screenshots and results.json go to $BSP_E2E_OUT (default: <tmpdir>/bsp-e2e).
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NETNS_MARKER, ensureNetns, setupLinks } from '../kit/netns.mjs';
import { killChildren } from '../kit/processes.mjs';
import { option, describeError } from '../kit/util.mjs';
import { printResult, writeResults } from '../kit/results.mjs';

const runStart = Date.now();
if (process.env[NETNS_MARKER] !== '1' && (!option('only') || option('only').includes('stacks'))) {
  const { prepare } = await import('../stacks/replay.mjs');
  await prepare();
}
ensureNetns(); // re-executes this script under `unshare -n` and exits, unless already inside

let modules;
try {
  modules = await Promise.all([
    import('../kit/drivers/index.mjs'),
    import('../kit/util.mjs'),
    import('./build-fixtures.mjs'),
    import('./tests/demo.mjs'),
    import('./tests/refresh.mjs'),
    import('./tests/workbox.mjs'),
    import('./tests/bundler.mjs'),
    import('../stacks/replay.mjs'),
  ]);
} catch (error) {
  console.log(`could not load the suite: ${error.stack || error.message}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const [{ launchers }, { withTimeout, waitFor }, { buildFixtures, removeFixtures }, { demo }, { refresh }, { workbox }, { bundler }, { stacks, removeScratch }] = modules;

const TESTS = [demo, refresh, workbox, bundler, stacks];
/** The tests that need no Rollup-bundled fixtures: examples/ (its own server), and the stacks (their own build). */
const DEMO_TESTS = [demo, refresh, stacks];
const BROWSERS = { 'chromium-native': launchers['chromium-native'], 'chromium-deleted': launchers['chromium-deleted'], firefox: launchers.firefox };
const CASE_TIMEOUT = 120000;
const RUN_LIMIT_MS = 12 * 60 * 1000;
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OUTPUT = process.env.BSP_E2E_OUT || join(tmpdir(), 'bsp-e2e');

const only = option('only');
const browsers = option('browser');
const unknown = [
  ...(only ?? []).filter((name) => !TESTS.some((t) => t.name === name)).map((name) => `unknown test "${name}" (--only=${TESTS.map((t) => t.name).join(',')})`),
  ...(browsers ?? []).filter((name) => !BROWSERS[name]).map((name) => `unknown browser "${name}" (--browser=${Object.keys(BROWSERS).join(',')})`),
];
if (unknown.length) {
  console.log(unknown.join('\n'));
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const updateScreenshot = process.argv.includes('--update-screenshot');

const counts = { passed: 0, failed: 0 };
const results = { startedAt: new Date().toISOString(), cases: [] };
let currentDriver = null;

const watchdog = setTimeout(async () => {
  console.log(`\nthe whole run exceeded ${RUN_LIMIT_MS / 1000} s: giving up`);
  await currentDriver?.close().catch(() => {});
  finish(1);
}, RUN_LIMIT_MS);
watchdog.unref();

if (!existsSync(join(ROOT, 'dist', 'background-sync-polyfill.min.js'))) {
  console.log('dist/ is missing: run `npm run build` first');
  finish(1);
}
mkdirSync(OUTPUT, { recursive: true });
setupLinks();

const cases = TESTS.filter((test) => !only || only.includes(test.name)).flatMap((test) =>
  test.cases.filter((c) => !browsers || browsers.includes(c.browser)).map((c) => ({ test, variant: c })),
);
if (!cases.length) {
  console.log(`no test runs in ${(browsers ?? []).join(', ')} among ${only ? only.join(', ') : 'the tests'}: nothing to run`);
  finish(1);
}

let www = null;
if (cases.some(({ test }) => !DEMO_TESTS.includes(test))) {
  const start = Date.now();
  try {
    www = await withTimeout(() => buildFixtures(), 120000, 'build the fixtures');
    console.log(`fixtures bundled from the packed package in ${Date.now() - start} ms: ${www}`);
  } catch (error) {
    console.log(`could not build the fixtures: ${error.stack || error.message}`);
    for (const c of cases.filter(({ test }) => !DEMO_TESTS.includes(test))) record(c, { status: 'fail', ms: 0, error: `fixture build failed: ${error.message}` });
    cases.splice(0, cases.length, ...cases.filter(({ test }) => DEMO_TESTS.includes(test)));
  }
}

try {
  // Cases with no browser (the stacks' build checks) first.
  for (const c of cases.filter(({ variant }) => variant.browser === 'none')) await runCase(null, c);
  for (const browser of Object.keys(BROWSERS)) {
    const group = cases.filter(({ variant }) => variant.browser === browser);
    if (group.length) await runBrowser(browser, group);
  }
} finally {
  if (www) removeFixtures(www);
  removeScratch();
}
finish();

async function runBrowser(browser, group) {
  console.log(`\n== ${browser}`);
  let driver;
  try {
    driver = await withTimeout(() => BROWSERS[browser](browser), 90000, `launch ${browser}`);
  } catch (error) {
    for (const c of group) record(c, { status: 'fail', ms: 0, error: `launch failed: ${error.message}` });
    return;
  }
  currentDriver = driver;
  console.log(`   ${driver.version}`);
  try {
    for (const c of group) await runCase(driver, c);
  } finally {
    await withTimeout(() => driver.close(), 30000, `close ${browser}`).catch((error) => console.log(`   close failed: ${error.message}`));
    currentDriver = null;
  }
}

async function runCase(driver, c) {
  const ctx = createContext(driver);
  const start = Date.now();
  try {
    await withTimeout(() => c.test.run(ctx, c.variant), CASE_TIMEOUT, `${c.test.name} [${c.variant.label}]`);
    record(c, { status: 'pass', ms: Date.now() - start, notes: ctx.notes, browserVersion: driver?.version });
  } catch (error) {
    record(c, { status: 'fail', ms: Date.now() - start, notes: ctx.notes, browserVersion: driver?.version, error: describeError(error).slice(0, 1500) });
  } finally {
    await withTimeout(() => ctx.cleanup(), 20000, 'cleanup').catch((error) => console.log(`   cleanup failed: ${error.message}`));
  }
}

function createContext(driver) {
  const pages = [];
  const notes = [];
  const pageErrors = [];
  return {
    driver,
    www,
    outputDir: OUTPUT,
    updateScreenshot,
    notes,
    note: (text) => notes.push(text),
    /** Uncaught errors and unhandled rejections the browser reported from the pages of this case. */
    pageErrors,
    async newPage() {
      const page = await driver.newPage();
      pages.push(page);
      // playwright and puppeteer both emit `pageerror` for an uncaught error in the page.
      page.raw.on?.('pageerror', (error) => pageErrors.push(String((error && (error.stack || error.message)) || error)));
      return page;
    },
    /** Switches the browser's connectivity and waits until the page agrees. */
    async setOnline(online, page) {
      await driver.setOnline(online);
      if (page) {
        await waitFor(async () => (await page.evaluate(() => navigator.onLine)) === online, {
          timeout: 20000,
          interval: 100,
          label: `navigator.onLine === ${online} in the page`,
        });
      }
    },
    async cleanup() {
      await Promise.all(pages.map((page) => page.close()));
      await driver?.setOnline(true);
    },
  };
}

function record(c, result) {
  const name = `${c.test.name} [${c.variant.label}]`;
  counts[result.status === 'pass' ? 'passed' : 'failed'] += 1;
  results.cases.push({ name, ...result });
  printResult(name, result, { errorMax: 1600 });
}

function finish(extraFailures = 0) {
  counts.failed += extraFailures;
  try {
    mkdirSync(OUTPUT, { recursive: true });
    writeResults(join(OUTPUT, 'results.json'), { ...results, finishedAt: new Date().toISOString(), totals: counts }, 'screenshots and results');
  } catch (error) {
    console.log(`could not write results: ${error.message}`);
  }
  console.log(`${counts.passed} passed, ${counts.failed} failed`);
  const stacksMs = results.cases.filter((c) => c.name.startsWith('stacks ')).reduce((sum, c) => sum + c.ms, 0);
  if (stacksMs) console.log(`stacks: ${(stacksMs / 1000).toFixed(1)} s in browsers (install and builds before the run: see "stacks [build]")`);
  console.log(`the whole run: ${((Date.now() - runStart) / 1000).toFixed(1)} s`);
  killChildren();
  // A run in which nothing passed proves nothing: it never exits 0.
  process.exit(counts.failed > 0 || counts.passed === 0 ? 1 : 0);
}
