// The real-browser security suite: `node test/security/run.mjs` (npm run test:security), after
// `npm run build`. Runs the scenarios of scenarios.mjs (csp, trusted-types, globals, forged-messages,
// scope-isolation) in the four modes of test/browser (chromium-native, chromium-deleted, firefox, webkit) with
// the kit's server, harness, drivers and private network namespace, and writes test/security/results.json.
// Options: --mode=<name>[,<name>] and --only=<scenario>[,<scenario>]. BSP_DEBUG=1 prints a failed scenario's
// server log. Exits 1 on any failure. Run browser suites one at a time: `flock /tmp/bsp-browser.lock node …`.
// The runner code shared with test/browser and test/faults is the kit's (test/kit/README.md).
import { fileURLToPath } from 'node:url';
import { ensureNetns } from '../kit/netns.mjs';
import { withTimeout, short } from '../kit/util.mjs';
import { option, selectModes, checkScenarioNames, snapshotDist, loadHarness, polyfillBuilt, guardRun, startRunServer, runModes, cleanUp, exitRun } from '../kit/runner.mjs';
import { newCounts, count, printResult, failedResult, writeResults, unexpectedErrors, errorsFailure, nothingPassed } from '../kit/results.mjs';

ensureNetns(); // re-executes this script under `unshare -n` and exits, unless already inside

// A snapshot of the built polyfill: a rebuild elsewhere during the run cannot mix two builds.
snapshotDist('bsp-sec-dist-');

const { startServer, DIST_DIR, createContext, launchers: MODES } = await loadHarness();
const { addSecurityRoutes } = await import('./routes.mjs');
const { scenarios } = await import('./scenarios.mjs');

const SCENARIO_TIMEOUT = 90000;
const RUN_LIMIT_MS = 15 * 60 * 1000;
const RESULTS_FILE = fileURLToPath(new URL('./results.json', import.meta.url));

const modes = selectModes(MODES);
const only = option('only');
checkScenarioNames(only, scenarios);

const runStart = Date.now();
const results = { startedAt: new Date().toISOString(), complete: !only && modes.length === Object.keys(MODES).length, modes: {} };
const counts = newCounts();

if (!polyfillBuilt(DIST_DIR)) finish(1);

guardRun(RUN_LIMIT_MS, () => finish(1));

const server = await startRunServer(startServer, DIST_DIR);
const security = addSecurityRoutes(server);

// WebKit: evaluate with no eval in the page, which the CSP scenario forbids.
const onLaunch = (driver) => Object.assign(driver, { evaluateWithoutEval: true });
await runModes(modes, server, results, { launchers: MODES, scenarios, only, record, runScenario, engineInfo: true, onLaunch, timeLaunchFailure: true });
finish();

function finish(extraFailures = 0) {
  counts.failed += extraFailures;
  if (nothingPassed(counts)) counts.failed += 1;
  const ms = Date.now() - runStart;
  console.log('\nsummary');
  for (const [mode, modeResult] of Object.entries(results.modes)) {
    const line = Object.entries(modeResult.scenarios).map(([name, r]) => `${name} ${r.status}`).join(', ');
    console.log(`  ${mode.padEnd(17)} ${modeResult.browserVersion ?? '(no browser)'}: ${line} (${Math.round((modeResult.ms ?? 0) / 1000)} s)`);
  }
  writeResults(RESULTS_FILE, { ...results, finishedAt: new Date().toISOString(), ms, totals: counts });
  console.log(`${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped in ${Math.round(ms / 1000)} s`);
  exitRun(counts.failed > 0 ? 1 : 0);
}

async function runScenario(where, driver, scenario) {
  const pageFile = scenario.page ?? `security.html?policy=${scenario.policy}`;
  const ctx = createContext(driver, server, scenario.name, { pageFile, swPath: '/security/sw.js' });
  ctx.security = security;
  ctx.ctxName = `${driver.mode}-${scenario.name}`;
  ctx.details = {}; // what the engine did, for results.json (Trusted Types support, observable worker violations)
  const start = Date.now();
  let failure = null;
  let skipped = null;
  try {
    await withTimeout(() => scenario.run(ctx), scenario.timeout ?? SCENARIO_TIMEOUT, `scenario ${scenario.name}`);
  } catch (error) {
    if (error?.skip) skipped = error.skip;
    else failure = error;
  } finally {
    await cleanUp(() => ctx.cleanup());
  }
  if (skipped) return record(where, scenario.name, { status: 'skip', ms: Date.now() - start, reason: skipped, notes: ctx.notes, details: ctx.details });
  // A pass needs no error reported by the scenario's pages and workers either, except those it expects by name.
  const errors = failure ? [] : unexpectedErrors(server, `/${ctx.ctxName}/`, scenario.expectedErrors);
  if (errors.length) failure = new Error(errorsFailure(errors));
  if (failure) {
    const fields = ({ result, message }) => [result ?? '', message ? short(message, 200) : ''];
    const extra = { cspReports: security.reportsFor(ctx.ctxName).map((r) => r.report).slice(0, 20) };
    record(where, scenario.name, failedResult(server, `/${ctx.ctxName}/`, fields, { start, error: failure, notes: ctx.notes, details: ctx.details, extra }));
  } else {
    record(where, scenario.name, { status: 'pass', ms: Date.now() - start, notes: ctx.notes, details: ctx.details });
  }
}

function record({ modeResult }, name, result) {
  modeResult.scenarios[name] = result;
  count(counts, result);
  printResult(name, result, { errorMax: 900, notesPerLine: true });
}
