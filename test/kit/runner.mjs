// The runner code shared by the real-browser suites: test/browser/run.mjs, test/faults/run.mjs and
// test/security/run.mjs (test/e2e/run.mjs uses guardRun and exitRun too). Each runner keeps its own results,
// summary and scenario specifics; this module holds the parts they have in common: options, the snapshot of dist/,
// loading the harness and starting the server, the watchdog and signals, launching each mode with time limits, and
// the last-resort cleanup and exit. Results (counts, printing, a failed scenario's record, the file) are results.mjs.
// It loads nothing that reads BSP_DIST_DIR until loadHarness(), so a runner can import it before the snapshot.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import vm from 'node:vm';
import { fileURLToPath } from 'node:url';
import { setupLinks } from './netns.mjs';
import { killChildren } from './processes.mjs';
import { withTimeout, option } from './util.mjs';

export { option };

export const LAUNCH_TIMEOUT = 90000;
export const CLOSE_TIMEOUT = 30000;
export const CLEANUP_TIMEOUT = 45000;

let snapshot = null;
let currentDriver = null;

/** The modes asked for with --mode (all of `known` by default); throws on an unknown one. */
export function selectModes(known) {
  const modes = option('mode') ?? Object.keys(known);
  for (const mode of modes) if (!known[mode]) throw new Error(`unknown mode ${mode}; known: ${Object.keys(known).join(', ')}`);
  return modes;
}

/** Exits 1, saying why, if --only names a scenario that does not exist (or names none). */
export function checkScenarioNames(only, scenarios) {
  const unknown = (only ?? []).filter((name) => !scenarios.some((s) => s.name === name));
  if (unknown.length || (only && only.length === 0)) {
    console.error(`unknown scenario ${unknown.join(', ') || '(none named)'} in --only; known: ${scenarios.map((s) => s.name).join(', ')}`);
    exitRun(1);
  }
}

/**
 * The run serves a snapshot of the built polyfill, so a rebuild during the run (npm run build elsewhere) can neither
 * break a scenario halfway nor mix two builds in one run. Points BSP_DIST_DIR at the snapshot (call this before
 * importing test-routes.mjs) and returns its folder, or null if dist/ has no build. exitRun removes it.
 */
export function snapshotDist(prefix = 'bsp-dist-') {
  const source = process.env.BSP_DIST_DIR || fileURLToPath(new URL('../../dist', import.meta.url));
  snapshot = copyBuilds(source, prefix);
  if (snapshot) process.env.BSP_DIST_DIR = snapshot;
  return snapshot;
}

/** Copies the classic builds to a private folder, once they parse (a build may be writing them); null if missing. */
function copyBuilds(source, prefix) {
  const files = ['', '.window', '.sw'].flatMap((kind) => [`background-sync-polyfill${kind}.js`, `background-sync-polyfill${kind}.min.js`]);
  if (!files.every((file) => existsSync(join(source, file)))) return null;
  const dir = mkdtempSync(join(tmpdir(), prefix));
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

/**
 * The test server (test-routes.mjs), the harness and the launchers of the four modes ('chromium-native',
 * 'chromium-deleted', 'firefox', 'webkit'). Call it after snapshotDist: test-routes.mjs reads BSP_DIST_DIR when loaded.
 */
export async function loadHarness() {
  const { startServer, DIST_DIR } = await import('./test-routes.mjs');
  const { createContext } = await import('./harness.mjs');
  const { launchers } = await import('./drivers/index.mjs');
  return { startServer, DIST_DIR, createContext, launchers };
}

/**
 * Brings up the namespace's network links, starts the test server with `startServer` and prints where it is and
 * where the polyfill comes from (then `more`: by default whether that is the snapshot of dist/).
 */
export async function startRunServer(startServer, distDir, more = snapshot ? ' (a snapshot of dist/ taken at the start)' : '') {
  setupLinks();
  const server = await startServer();
  console.log(`test server ${server.origin}, polyfill from ${distDir}${more}`);
  return server;
}

/** False, after saying so, if the polyfill was not built. */
export function polyfillBuilt(distDir) {
  const polyfillFile = join(distDir, 'background-sync-polyfill.js');
  if (existsSync(polyfillFile)) return true;
  console.log(`${polyfillFile} is missing: run \`npm run build\` first`);
  return false;
}

/**
 * Stops the run after `limitMs` (closing the browser in use) or on SIGINT/SIGTERM, by calling `stop` with the
 * reason (`run exceeded … s` or the signal's name); `stop` is expected to exit.
 */
export function guardRun(limitMs, stop) {
  const watchdog = setTimeout(async () => {
    console.log(`\nthe whole run exceeded ${limitMs / 1000} s: giving up`);
    if (currentDriver) await withTimeout(() => currentDriver.close(), 15000, 'close').catch(() => {});
    stop(`run exceeded ${limitMs / 1000} s`);
  }, limitMs);
  watchdog.unref();
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      console.log(`\n${signal}: stopping`);
      stop(signal);
    });
  }
}

/**
 * Runs each of `modes` in turn in a fresh `results.modes[mode]` ({ browserVersion, scenarios }), then closes `server`.
 * For each mode: launches the browser with `launchers[mode](mode)` (within LAUNCH_TIMEOUT), records its version
 * (and its engine and nativeSync too with `engineInfo`), calls `onLaunch(driver)`, runs `runScenario(where, driver, scenario)` for each
 * of `scenarios` that --only selects, then closes the browser (within CLOSE_TIMEOUT) and records modeResult.ms.
 * If the launch fails, each selected scenario is passed to `record(where, name, result)` as failed (and modeResult.ms
 * is set too if `timeLaunchFailure`). `where` is `{ mode, modeResult }`.
 */
export async function runModes(modes, server, results, { launchers, scenarios, only, record, runScenario, engineInfo = false, onLaunch = () => {}, timeLaunchFailure = false }) {
  try {
    for (const mode of modes) {
      const where = { mode, modeResult: { browserVersion: null, scenarios: {} } };
      results.modes[mode] = where.modeResult;
      await runMode(where, {
        launch: launchers[mode],
        selected: scenarios.filter((scenario) => !only || only.includes(scenario.name)),
        record,
        runScenario,
        engineInfo,
        onLaunch,
        timeLaunchFailure,
      });
    }
  } finally {
    await server.close();
  }
}

async function runMode(where, { launch, selected, record, runScenario, engineInfo, onLaunch, timeLaunchFailure }) {
  const { mode, modeResult } = where;
  console.log(`\n== ${mode}`);
  let driver;
  const modeStart = Date.now();
  try {
    driver = await withTimeout(() => launch(mode), LAUNCH_TIMEOUT, `launch ${mode}`);
  } catch (error) {
    console.log(`   could not launch: ${error.message}`);
    for (const scenario of selected) record(where, scenario.name, { status: 'fail', ms: 0, error: `launch failed: ${error.message}` });
    if (timeLaunchFailure) modeResult.ms = Date.now() - modeStart;
    return;
  }
  currentDriver = driver;
  modeResult.browserVersion = driver.version;
  if (engineInfo) Object.assign(modeResult, { engine: driver.engine, nativeSync: driver.nativeSync });
  onLaunch(driver);
  console.log(`   ${driver.version}`);
  try {
    for (const scenario of selected) await runScenario(where, driver, scenario);
  } finally {
    await withTimeout(() => driver.close(), CLOSE_TIMEOUT, `close ${mode}`).catch((error) => console.log(`   close failed: ${error.message}`));
    currentDriver = null;
    modeResult.ms = Date.now() - modeStart;
    console.log(`   (${mode}: ${Math.round(modeResult.ms / 1000)} s)`);
  }
}

/** Runs a scenario's cleanup within CLEANUP_TIMEOUT; a failure is printed, not thrown. */
export function cleanUp(work) {
  return withTimeout(work, CLEANUP_TIMEOUT, 'cleanup').catch((error) => console.log(`   cleanup failed: ${error.message}`));
}

/** Kills what is left of the run (by pid), removes the snapshot of dist/ and exits with `code`. */
export function exitRun(code) {
  killChildren();
  if (snapshot) rmSync(snapshot, { recursive: true, force: true });
  process.exit(code);
}
