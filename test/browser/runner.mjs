// The runner code shared by the real-browser suites: test/browser/run.mjs, test/faults/run.mjs and
// test/security/run.mjs. Each runner keeps its own results, summary and scenario specifics; this module holds the
// parts they have in common: options, the snapshot of dist/, loading the harness and starting the server, the
// watchdog and signals, launching each mode with time limits, printing a scenario's result, a failed scenario's
// record with its server log, and the last-resort cleanup and exit.
// It loads nothing that reads BSP_DIST_DIR until loadHarness(), so a runner can import it before the snapshot.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import vm from 'node:vm';
import { fileURLToPath } from 'node:url';
import { setupLinks } from './netns.mjs';
import { withTimeout, short, descendants } from './util.mjs';

export const LAUNCH_TIMEOUT = 90000;
export const CLOSE_TIMEOUT = 30000;
export const CLEANUP_TIMEOUT = 45000;

const LABELS = { pass: 'PASS', fail: 'FAIL', skip: 'SKIP' };
const COUNT_KEYS = { pass: 'passed', fail: 'failed', skip: 'skipped' };

let snapshot = null;
let currentDriver = null;

/** `--name=a,b` as ['a', 'b'], or undefined. */
export const option = (name) => process.argv.find((arg) => arg.startsWith(`--${name}=`))?.split('=')[1]?.split(',');

/** The modes asked for with --mode (all of `known` by default); throws on an unknown one. */
export function selectModes(known) {
  const modes = option('mode') ?? Object.keys(known);
  for (const mode of modes) if (!known[mode]) throw new Error(`unknown mode ${mode}; known: ${Object.keys(known).join(', ')}`);
  return modes;
}

/** Throws if --only names a scenario that does not exist. */
export function checkScenarioNames(only, scenarios) {
  for (const name of only ?? []) {
    if (!scenarios.some((s) => s.name === name)) throw new Error(`unknown scenario ${name}; known: ${scenarios.map((s) => s.name).join(', ')}`);
  }
}

/**
 * The run serves a snapshot of the built polyfill, so a rebuild during the run (npm run build elsewhere) can neither
 * break a scenario halfway nor mix two builds in one run. Points BSP_DIST_DIR at the snapshot (call this before
 * importing server.mjs) and returns its folder, or null if dist/ has no build. exitRun removes it.
 */
export function snapshotDist(prefix = 'bsp-dist-') {
  const source = process.env.BSP_DIST_DIR || fileURLToPath(new URL('../../dist', import.meta.url));
  snapshot = copyBuilds(source, prefix);
  if (snapshot) process.env.BSP_DIST_DIR = snapshot;
  return snapshot;
}

/** Copies the classic builds to a private folder, once they parse (a build may be writing them); null if missing. */
function copyBuilds(source, prefix) {
  const files = ['background-sync-polyfill.js', 'background-sync-polyfill.min.js'];
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
 * test/browser's server, harness and the launchers of the four modes ('chromium-native', 'chromium-deleted',
 * 'firefox', 'webkit'). Call it after snapshotDist: server.mjs reads BSP_DIST_DIR when loaded.
 */
export async function loadHarness() {
  const { startServer, DIST_DIR } = await import('./server.mjs');
  const { createContext } = await import('./harness.mjs');
  const { launchChromium } = await import('./drivers/chromium.mjs');
  const { launchFirefox } = await import('./drivers/firefox.mjs');
  const { launchWebKit } = await import('./drivers/webkit.mjs');
  const launchers = { 'chromium-native': launchChromium, 'chromium-deleted': launchChromium, firefox: launchFirefox, webkit: launchWebKit };
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

/** `{ passed, failed, skipped }`, as results.json's totals. */
export const newCounts = () => ({ passed: 0, failed: 0, skipped: 0 });

/** Adds a result to `counts` by its status. */
export function count(counts, result) {
  counts[COUNT_KEYS[result.status]] += 1;
}

/**
 * Prints a scenario's result: `PASS name 123 ms`, its notes (inline in brackets, or one per line with
 * `notesPerLine`), its error (cut at `errorMax`) and the worker errors.
 */
export function printResult(name, result, { errorMax = 700, notesPerLine = false } = {}) {
  const detail = result.status === 'skip' ? ` (${result.reason})` : ` ${result.ms} ms`;
  const inlineNotes = !notesPerLine && result.notes?.length ? `  [${result.notes.join('; ')}]` : '';
  console.log(`   ${LABELS[result.status]} ${name}${detail}${inlineNotes}`);
  if (notesPerLine) for (const note of result.notes ?? []) console.log(`        - ${note}`);
  if (result.error) console.log(`        ${short(result.error, errorMax)}`);
  for (const message of result.workerErrors ?? []) console.log(`        worker error: ${short(message, 400)}`);
}

/**
 * The result of a scenario that threw `error`, with what its workers reported (the ground truth of what fired): the
 * last 60 server log entries whose scope contains `scopePart`, one line each (`fields(entry)` gives the middle of the
 * line), printed with BSP_DEBUG; and the messages of the workers' uncaught errors, if any. `details` (if given) goes
 * after the notes, `extra` after the server log.
 */
export function failedResult(server, scopePart, fields, { start, error, notes, details, extra = {} }) {
  const start0 = server.log[0]?.receivedAt ?? 0;
  const serverLog = server.log
    .filter((entry) => entry.scope?.includes(scopePart))
    .slice(-60)
    .map((entry) =>
      [`+${entry.t - start0}ms`, entry.type, entry.tag?.split(':').pop(), ...fields(entry), `worker=${entry.instance}`, entry.scope.replace(server.origin, '')]
        .filter(Boolean)
        .join(' '));
  if (process.env.BSP_DEBUG) for (const line of serverLog) console.log(`        log ${line}`);
  const workerErrors = server
    .entries({ type: 'swError' })
    .filter((e) => e.scope?.includes(scopePart))
    .map((e) => e.message);
  return {
    status: 'fail',
    ms: Date.now() - start,
    error: describeError(error),
    notes,
    ...(details ? { details } : {}),
    serverLog,
    ...extra,
    ...(workerErrors.length ? { workerErrors } : {}),
  };
}

/** One readable line: assertion messages without node's trailing `false !== true`, diffs kept compact. */
export function describeError(error) {
  return String(error?.message ?? error)
    .replace(/\n+\S+ !== \S+\s*$/, '')
    .replace(/\s*\n+\s*/g, ' | ')
    .trim();
}

/** Last resort: kill the processes this run started (its descendants: browsers, drivers, Xvfb), by pid. */
export function killChildren() {
  for (const pid of descendants(process.pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

/** Kills what is left of the run, removes the snapshot of dist/ and exits with `code`. */
export function exitRun(code) {
  killChildren();
  if (snapshot) rmSync(snapshot, { recursive: true, force: true });
  process.exit(code);
}
