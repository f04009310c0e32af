// The real-browser test suite: `node test/browser/run.mjs` (npm run test:browser).
// Runs every scenario in four modes (Chromium native, Chromium with the API deleted, Firefox ESR, WebKitGTK),
// each in a fresh browser profile, inside a private network namespace, and writes test/browser/results.json,
// from which compat-table.mjs renders compat-table.md. Options: --mode=<name>[,<name>] and
// --only=<scenario>[,<scenario>] to run a subset. BSP_DEBUG=1 prints a failed scenario's server log.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import vm from 'node:vm';
import { fileURLToPath } from 'node:url';
import { ensureNetns, setupLinks, RUN_LIMIT_MS } from './netns.mjs';

ensureNetns(); // re-executes this script under `unshare -n` and exits, unless already inside

// The run serves a snapshot of the built polyfill, so a rebuild during the run (npm run build elsewhere) can neither
// break a scenario halfway nor mix two builds in one run.
const snapshot = snapshotDist(process.env.BSP_DIST_DIR || fileURLToPath(new URL('../../dist', import.meta.url)));
if (snapshot) process.env.BSP_DIST_DIR = snapshot;

const { startServer, DIST_DIR } = await import('./server.mjs');
const { createContext } = await import('./harness.mjs');
const { scenarios } = await import('./scenarios.mjs');
const { launchChromium } = await import('./drivers/chromium.mjs');
const { launchFirefox } = await import('./drivers/firefox.mjs');
const { launchWebKit } = await import('./drivers/webkit.mjs');
const { withTimeout, short, descendants } = await import('./util.mjs');

const MODES = {
  'chromium-native': launchChromium,
  'chromium-deleted': launchChromium,
  firefox: launchFirefox,
  webkit: launchWebKit,
};
const SCENARIO_TIMEOUT = 60000;
const LAUNCH_TIMEOUT = 90000;
const CLOSE_TIMEOUT = 30000;
const RESULTS_FILE = fileURLToPath(new URL('./results.json', import.meta.url));

const option = (name) => process.argv.find((arg) => arg.startsWith(`--${name}=`))?.split('=')[1]?.split(',');
const modes = option('mode') ?? Object.keys(MODES);
const only = option('only');
for (const mode of modes) if (!MODES[mode]) throw new Error(`unknown mode ${mode}; known: ${Object.keys(MODES).join(', ')}`);

const results = { startedAt: new Date().toISOString(), complete: !only && modes.length === Object.keys(MODES).length, modes: {} };
const counts = { passed: 0, failed: 0, skipped: 0 };

const polyfillFile = join(DIST_DIR, 'background-sync-polyfill.js');
if (!existsSync(polyfillFile)) {
  console.log(`${polyfillFile} is missing: run \`npm run build\` first`);
  finish(1);
}

let currentDriver = null;
const watchdog = setTimeout(async () => {
  console.log(`\nthe whole run exceeded ${RUN_LIMIT_MS / 1000} s: giving up`);
  if (currentDriver) await withTimeout(() => currentDriver.close(), 15000, 'close').catch(() => {});
  finish(1);
}, RUN_LIMIT_MS);
watchdog.unref();
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    console.log(`\n${signal}: stopping`);
    finish(1);
  });
}

setupLinks();
const server = await startServer();
console.log(`test server ${server.origin}, polyfill from ${DIST_DIR}${snapshot ? ' (a snapshot of dist/ taken at the start)' : ''}`);

results.server = server.origin;

try {
  for (const mode of modes) await runMode(mode);
} finally {
  await server.close();
}
finish();

/** Writes results.json, prints the summary line and exits; `extraFailures` counts a run-level failure. */
function finish(extraFailures = 0) {
  counts.failed += extraFailures;
  writeFileSync(RESULTS_FILE, `${JSON.stringify({ ...results, finishedAt: new Date().toISOString(), totals: counts }, null, 2)}\n`);
  console.log(`\nresults written to ${RESULTS_FILE}`);
  console.log(`${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
  killChildren();
  if (snapshot) rmSync(snapshot, { recursive: true, force: true });
  process.exit(counts.failed > 0 ? 1 : 0);
}

/** Copies the classic builds to a private folder, once they parse (a build may be writing them); null if missing. */
function snapshotDist(source) {
  const files = ['background-sync-polyfill.js', 'background-sync-polyfill.min.js'];
  if (!files.every((file) => existsSync(join(source, file)))) return null;
  const dir = mkdtempSync(join(tmpdir(), 'bsp-dist-'));
  for (let attempt = 1; ; attempt++) {
    try {
      for (const file of files) {
        cpSync(join(source, file), join(dir, file));
        new vm.Script(readFileSync(join(dir, file), 'utf8'), { filename: file });
      }
      return dir;
    } catch (error) {
      if (attempt >= 20) throw new Error(`could not take a consistent copy of ${source}: ${error.message}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
    }
  }
}

async function runMode(mode) {
  console.log(`\n== ${mode}`);
  const modeResult = { browserVersion: null, scenarios: {} };
  results.modes[mode] = modeResult;
  const selected = scenarios.filter((scenario) => !only || only.includes(scenario.name));
  let driver;
  const modeStart = Date.now();
  try {
    driver = await withTimeout(() => MODES[mode](mode), LAUNCH_TIMEOUT, `launch ${mode}`);
  } catch (error) {
    console.log(`   could not launch: ${error.message}`);
    for (const scenario of selected) record(modeResult, scenario.name, { status: 'fail', ms: 0, error: `launch failed: ${error.message}` });
    return;
  }
  currentDriver = driver;
  modeResult.browserVersion = driver.version;
  modeResult.engine = driver.engine;
  modeResult.nativeSync = driver.nativeSync;
  console.log(`   ${driver.version}`);
  try {
    for (const scenario of selected) await runScenario(driver, modeResult, scenario);
  } finally {
    await withTimeout(() => driver.close(), CLOSE_TIMEOUT, `close ${mode}`).catch((error) => console.log(`   close failed: ${error.message}`));
    currentDriver = null;
    modeResult.ms = Date.now() - modeStart;
    console.log(`   (${mode}: ${Math.round(modeResult.ms / 1000)} s)`);
  }
}

async function runScenario(driver, modeResult, scenario) {
  const ctx = createContext(driver, server, scenario.name);
  const reason = scenario.skip?.(ctx);
  if (reason) return record(modeResult, scenario.name, { status: 'skip', ms: 0, reason });
  const start = Date.now();
  try {
    await withTimeout(() => scenario.run(ctx), scenario.timeout ?? SCENARIO_TIMEOUT, `scenario ${scenario.name}`);
    record(modeResult, scenario.name, { status: 'pass', ms: Date.now() - start, notes: ctx.notes });
  } catch (error) {
    // What the workers of this scenario reported (the ground truth of what fired), for the failure's record.
    const start0 = server.log[0]?.receivedAt ?? 0;
    const serverLog = server.log
      .filter((entry) => entry.scope?.includes(`/${driver.mode}-${scenario.name}/`))
      .slice(-60)
      .map(({ type, tag, lastChance, result, build, instance, scope, t, outcome }) =>
        [`+${t - start0}ms`, type, tag?.split(':').pop(), lastChance === undefined ? '' : `lastChance=${lastChance}`, result ?? '', outcome ? JSON.stringify(outcome) : '',
          build ? `build=${build}` : '', `worker=${instance}`, scope.replace(server.origin, '')].filter(Boolean).join(' '));
    if (process.env.BSP_DEBUG) for (const line of serverLog) console.log(`        log ${line}`);
    const swErrors = server.entries({ type: 'swError' }).filter((e) => e.scope?.includes(`/${driver.mode}-${scenario.name}/`));
    record(modeResult, scenario.name, {
      status: 'fail',
      ms: Date.now() - start,
      error: describeError(error),
      notes: ctx.notes,
      serverLog,
      ...(swErrors.length ? { workerErrors: swErrors.map((e) => e.message) } : {}),
    });
  } finally {
    await withTimeout(() => ctx.cleanup(), 45000, 'cleanup').catch((error) => console.log(`   cleanup failed: ${error.message}`));
  }
}

function record(modeResult, name, result) {
  modeResult.scenarios[name] = result;
  const label = { pass: 'PASS', fail: 'FAIL', skip: 'SKIP' }[result.status];
  counts[{ pass: 'passed', fail: 'failed', skip: 'skipped' }[result.status]] += 1;
  const detail = result.status === 'skip' ? ` (${result.reason})` : ` ${result.ms} ms`;
  console.log(`   ${label} ${name}${detail}${result.notes?.length ? `  [${result.notes.join('; ')}]` : ''}`);
  if (result.error) console.log(`        ${short(result.error, 700)}`);
  for (const message of result.workerErrors ?? []) console.log(`        worker error: ${short(message, 400)}`);
}

/** One readable line: assertion messages without node's trailing `false !== true`, diffs kept compact. */
function describeError(error) {
  return String(error?.message ?? error)
    .replace(/\n+\S+ !== \S+\s*$/, '')
    .replace(/\s*\n+\s*/g, ' | ')
    .trim();
}

/** Last resort: kill the processes this run started (its descendants: browsers, drivers, Xvfb), by pid. */
function killChildren() {
  for (const pid of descendants(process.pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}
