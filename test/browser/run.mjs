// The real-browser test suite: `node test/browser/run.mjs` (npm run test:browser).
// Runs every scenario in three modes, each in a fresh browser profile, inside a private network
// namespace, and writes test/browser/results.json. Options: --mode=<name>[,<name>] and
// --only=<scenario>[,<scenario>] to run a subset.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureNetns, setupLinks } from './netns.mjs';

ensureNetns(); // re-executes this script under `unshare -n` and exits, unless already inside

const { startServer, DIST_DIR } = await import('./server.mjs');
const { createContext } = await import('./harness.mjs');
const { scenarios } = await import('./scenarios.mjs');
const { launchChromium } = await import('./drivers/chromium.mjs');
const { launchFirefox } = await import('./drivers/firefox.mjs');
const { withTimeout, short } = await import('./util.mjs');

const MODES = {
  'chromium-native': launchChromium,
  'chromium-deleted': launchChromium,
  firefox: launchFirefox,
};
const SCENARIO_TIMEOUT = 60000;
const RUN_LIMIT_MS = 9 * 60 * 1000;
const RESULTS_FILE = fileURLToPath(new URL('./results.json', import.meta.url));

const option = (name) => process.argv.find((arg) => arg.startsWith(`--${name}=`))?.split('=')[1]?.split(',');
const modes = option('mode') ?? Object.keys(MODES);
const only = option('only');
for (const mode of modes) if (!MODES[mode]) throw new Error(`unknown mode ${mode}; known: ${Object.keys(MODES).join(', ')}`);

const results = { startedAt: new Date().toISOString(), modes: {} };
const counts = { passed: 0, failed: 0, skipped: 0 };

const polyfillFile = join(DIST_DIR, 'background-sync-polyfill.js');
if (!existsSync(polyfillFile)) {
  console.log(`${polyfillFile} is missing: run \`npm run build\` first`);
  finish(1);
}

let currentDriver = null;
const watchdog = setTimeout(async () => {
  console.log(`\nthe whole run exceeded ${RUN_LIMIT_MS / 1000} s: giving up`);
  await currentDriver?.close().catch(() => {});
  finish(1);
}, RUN_LIMIT_MS);
watchdog.unref();

setupLinks();
const server = await startServer();
console.log(`test server ${server.origin}, polyfill from ${DIST_DIR}`);

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
  process.exit(counts.failed > 0 ? 1 : 0);
}

async function runMode(mode) {
  console.log(`\n== ${mode}`);
  const modeResult = { browserVersion: null, scenarios: {} };
  results.modes[mode] = modeResult;
  const selected = scenarios.filter((scenario) => !only || only.includes(scenario.name));
  let driver;
  try {
    driver = await MODES[mode](mode);
  } catch (error) {
    console.log(`   could not launch: ${error.message}`);
    for (const scenario of selected) record(modeResult, scenario.name, { status: 'fail', ms: 0, error: `launch failed: ${error.message}` });
    return;
  }
  currentDriver = driver;
  modeResult.browserVersion = driver.version;
  console.log(`   ${driver.version}`);
  try {
    for (const scenario of selected) await runScenario(driver, modeResult, scenario);
  } finally {
    await driver.close();
    currentDriver = null;
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
    const swErrors = server.entries({ type: 'swError' }).filter((e) => e.scope?.includes(`/${driver.mode}-${scenario.name}`));
    record(modeResult, scenario.name, {
      status: 'fail',
      ms: Date.now() - start,
      error: describeError(error),
      notes: ctx.notes,
      ...(swErrors.length ? { workerErrors: swErrors.map((e) => e.message) } : {}),
    });
  } finally {
    await withTimeout(() => ctx.cleanup(), 20000, 'cleanup').catch((error) => console.log(`   cleanup failed: ${error.message}`));
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

/** Last resort: kill processes this run started (direct children of this process), by pid. */
function killChildren() {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid) process.kill(Number(entry), 'SIGKILL');
    } catch {
      // gone already
    }
  }
}
