// The real-browser security suite (issue 4): `node test/security/run.mjs` (npm run test:security), after
// `npm run build`. Runs the scenarios of scenarios.mjs (csp, trusted-types, globals, forged-messages,
// scope-isolation) in the four modes of test/browser (chromium-native, chromium-deleted, firefox, webkit) with
// test/browser's server, harness, drivers and private network namespace, and writes test/security/results.json.
// Options: --mode=<name>[,<name>] and --only=<scenario>[,<scenario>]. BSP_DEBUG=1 prints a failed scenario's
// server log. Exits 1 on any failure. Run browser suites one at a time: `flock /tmp/bsp-browser.lock node …`.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import vm from 'node:vm';
import { fileURLToPath } from 'node:url';
import { ensureNetns, setupLinks } from '../browser/netns.mjs';

ensureNetns(); // re-executes this script under `unshare -n` and exits, unless already inside

// A snapshot of the built polyfill: a rebuild elsewhere during the run cannot mix two builds.
const snapshot = snapshotDist(process.env.BSP_DIST_DIR || fileURLToPath(new URL('../../dist', import.meta.url)));
if (snapshot) process.env.BSP_DIST_DIR = snapshot;

const { startServer, DIST_DIR } = await import('../browser/server.mjs');
const { createContext } = await import('../browser/harness.mjs');
const { launchChromium } = await import('../browser/drivers/chromium.mjs');
const { launchFirefox } = await import('../browser/drivers/firefox.mjs');
const { launchWebKit } = await import('../browser/drivers/webkit.mjs');
const { withTimeout, short, descendants } = await import('../browser/util.mjs');
const { addSecurityRoutes } = await import('./routes.mjs');
const { scenarios } = await import('./scenarios.mjs');

const MODES = {
  'chromium-native': launchChromium,
  'chromium-deleted': launchChromium,
  firefox: launchFirefox,
  webkit: launchWebKit,
};
const SCENARIO_TIMEOUT = 90000;
const LAUNCH_TIMEOUT = 90000;
const CLOSE_TIMEOUT = 30000;
const RUN_LIMIT_MS = 15 * 60 * 1000;
const RESULTS_FILE = fileURLToPath(new URL('./results.json', import.meta.url));

const option = (name) => process.argv.find((arg) => arg.startsWith(`--${name}=`))?.split('=')[1]?.split(',');
const modes = option('mode') ?? Object.keys(MODES);
const only = option('only');
for (const mode of modes) if (!MODES[mode]) throw new Error(`unknown mode ${mode}; known: ${Object.keys(MODES).join(', ')}`);
for (const name of only ?? []) {
  if (!scenarios.some((s) => s.name === name)) throw new Error(`unknown scenario ${name}; known: ${scenarios.map((s) => s.name).join(', ')}`);
}

const runStart = Date.now();
const results = { startedAt: new Date().toISOString(), complete: !only && modes.length === Object.keys(MODES).length, modes: {} };
const counts = { passed: 0, failed: 0, skipped: 0 };

if (!existsSync(join(DIST_DIR, 'background-sync-polyfill.js'))) {
  console.log(`${join(DIST_DIR, 'background-sync-polyfill.js')} is missing: run \`npm run build\` first`);
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
const security = addSecurityRoutes(server);
console.log(`test server ${server.origin}, polyfill from ${DIST_DIR}${snapshot ? ' (a snapshot of dist/ taken at the start)' : ''}`);

try {
  for (const mode of modes) await runMode(mode);
} finally {
  await server.close();
}
finish();

function finish(extraFailures = 0) {
  counts.failed += extraFailures;
  const ms = Date.now() - runStart;
  writeFileSync(RESULTS_FILE, `${JSON.stringify({ ...results, finishedAt: new Date().toISOString(), ms, totals: counts }, null, 2)}\n`);
  console.log('\nsummary');
  for (const [mode, modeResult] of Object.entries(results.modes)) {
    const line = Object.entries(modeResult.scenarios).map(([name, r]) => `${name} ${r.status}`).join(', ');
    console.log(`  ${mode.padEnd(17)} ${modeResult.browserVersion ?? '(no browser)'}: ${line} (${Math.round((modeResult.ms ?? 0) / 1000)} s)`);
  }
  console.log(`\nresults written to ${RESULTS_FILE}`);
  console.log(`${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped in ${Math.round(ms / 1000)} s`);
  killChildren();
  if (snapshot) rmSync(snapshot, { recursive: true, force: true });
  process.exit(counts.failed > 0 ? 1 : 0);
}

/** Copies the classic builds to a private folder, once they parse (a build may be writing them); null if missing. */
function snapshotDist(source) {
  const files = ['background-sync-polyfill.js', 'background-sync-polyfill.min.js'];
  if (!files.every((file) => existsSync(join(source, file)))) return null;
  const dir = mkdtempSync(join(tmpdir(), 'bsp-sec-dist-'));
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
    modeResult.ms = Date.now() - modeStart;
    return;
  }
  currentDriver = driver;
  driver.evaluateWithoutEval = true; // WebKit: evaluate with no eval in the page, which the CSP scenario forbids
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
  const pageFile = scenario.page ?? `security.html?policy=${scenario.policy}`;
  const ctx = createContext(driver, server, scenario.name, { pageFile, swPath: '/security/sw.js' });
  ctx.security = security;
  ctx.ctxName = `${driver.mode}-${scenario.name}`;
  ctx.details = {}; // what the engine did, for results.json (Trusted Types support, observable worker violations)
  const start = Date.now();
  try {
    await withTimeout(() => scenario.run(ctx), scenario.timeout ?? SCENARIO_TIMEOUT, `scenario ${scenario.name}`);
    record(modeResult, scenario.name, { status: 'pass', ms: Date.now() - start, notes: ctx.notes, details: ctx.details });
  } catch (error) {
    if (error?.skip) {
      record(modeResult, scenario.name, { status: 'skip', ms: Date.now() - start, reason: error.skip, notes: ctx.notes, details: ctx.details });
    } else {
      const scopePart = `/${ctx.ctxName}/`;
      const start0 = server.log[0]?.receivedAt ?? 0;
      const serverLog = server.log
        .filter((entry) => entry.scope?.includes(scopePart))
        .slice(-60)
        .map(({ type, tag, result, instance, scope, t, message }) =>
          [`+${t - start0}ms`, type, tag?.split(':').pop(), result ?? '', message ? short(message, 200) : '', `worker=${instance}`, scope.replace(server.origin, '')].filter(Boolean).join(' '));
      if (process.env.BSP_DEBUG) for (const line of serverLog) console.log(`        log ${line}`);
      const swErrors = server.entries({ type: 'swError' }).filter((e) => e.scope?.includes(scopePart));
      record(modeResult, scenario.name, {
        status: 'fail',
        ms: Date.now() - start,
        error: describeError(error),
        notes: ctx.notes,
        details: ctx.details,
        serverLog,
        cspReports: security.reportsFor(ctx.ctxName).map((r) => r.report).slice(0, 20),
        ...(swErrors.length ? { workerErrors: swErrors.map((e) => e.message) } : {}),
      });
    }
  } finally {
    await withTimeout(() => ctx.cleanup(), 45000, 'cleanup').catch((error) => console.log(`   cleanup failed: ${error.message}`));
  }
}

function record(modeResult, name, result) {
  modeResult.scenarios[name] = result;
  const label = { pass: 'PASS', fail: 'FAIL', skip: 'SKIP' }[result.status];
  counts[{ pass: 'passed', fail: 'failed', skip: 'skipped' }[result.status]] += 1;
  const detail = result.status === 'skip' ? ` (${result.reason})` : ` ${result.ms} ms`;
  console.log(`   ${label} ${name}${detail}`);
  for (const note of result.notes ?? []) console.log(`        - ${note}`);
  if (result.error) console.log(`        ${short(result.error, 900)}`);
  for (const message of result.workerErrors ?? []) console.log(`        worker error: ${short(message, 400)}`);
}

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
