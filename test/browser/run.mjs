// The real-browser test suite: `node test/browser/run.mjs` (npm run test:browser).
// Runs every scenario in four modes (Chromium native, Chromium with the API deleted, Firefox ESR, WebKitGTK),
// each in a fresh browser profile, inside a private network namespace, and writes test/browser/results.json,
// from which compat-table.mjs renders compat-table.md. Options: --mode=<name>[,<name>] and
// --only=<scenario>[,<scenario>] to run a subset. BSP_DEBUG=1 prints a failed scenario's server log.
// The server, harness, drivers, namespace and runner are the shared kit's (test/kit/README.md).
import { fileURLToPath } from 'node:url';
import { ensureNetns, RUN_LIMIT_MS } from '../kit/netns.mjs';
import { withTimeout } from '../kit/util.mjs';
import { option, selectModes, checkScenarioNames, snapshotDist, loadHarness, polyfillBuilt, guardRun, startRunServer, runModes, cleanUp, exitRun } from '../kit/runner.mjs';
import { newCounts, count, printResult, failedResult, writeResults, unexpectedErrors, errorsFailure, nothingPassed } from '../kit/results.mjs';

ensureNetns(); // re-executes this script under `unshare -n` and exits, unless already inside

snapshotDist();

const { startServer, DIST_DIR, createContext, launchers } = await loadHarness();
const { scenarios, NATIVE_RETRY } = await import('./scenarios.mjs');

// chromium-native runs with Chromium's BackgroundSync field trial set to the same fast retry schedule as the
// polyfill's runs (maxAttempts 3, 1 s, factor 2), so `retry-policy` measures real native retries and lastChance.
const MODES = { ...launchers, 'chromium-native': (mode) => launchers['chromium-native'](mode, { nativeRetry: NATIVE_RETRY }) };

const SCENARIO_TIMEOUT = 60000;
const RESULTS_FILE = fileURLToPath(new URL('./results.json', import.meta.url));

const modes = selectModes(MODES);
const only = option('only');
checkScenarioNames(only, scenarios);

const results = { startedAt: new Date().toISOString(), complete: !only && modes.length === Object.keys(MODES).length, modes: {} };
const counts = newCounts();

if (!polyfillBuilt(DIST_DIR)) finish(1);

guardRun(RUN_LIMIT_MS, () => finish(1));

const server = await startRunServer(startServer, DIST_DIR);

results.server = server.origin;

await runModes(modes, server, results, { launchers: MODES, scenarios, only, record, runScenario, engineInfo: true });
finish();

/** Writes results.json, prints the summary line and exits; `extraFailures` counts a run-level failure. */
function finish(extraFailures = 0) {
  counts.failed += extraFailures;
  if (nothingPassed(counts)) counts.failed += 1;
  writeResults(RESULTS_FILE, { ...results, finishedAt: new Date().toISOString(), totals: counts });
  console.log(`${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
  exitRun(counts.failed > 0 ? 1 : 0);
}

async function runScenario(where, driver, scenario) {
  const ctx = createContext(driver, server, scenario.name);
  const reason = scenario.skip?.(ctx);
  if (reason) return record(where, scenario.name, { status: 'skip', ms: 0, reason });
  const start = Date.now();
  const scopePart = `/${driver.mode}-${scenario.name}/`;
  const fields = ({ lastChance, result, outcome, build }) => [
    lastChance === undefined ? '' : `lastChance=${lastChance}`,
    result ?? '',
    outcome ? JSON.stringify(outcome) : '',
    build ? `build=${build}` : '',
  ];
  let failure = null;
  try {
    await withTimeout(() => scenario.run(ctx), scenario.timeout ?? SCENARIO_TIMEOUT, `scenario ${scenario.name}`);
  } catch (error) {
    failure = error;
  } finally {
    await cleanUp(() => ctx.cleanup());
  }
  // A pass needs no error reported by the scenario's pages and workers either (read after the cleanup, so what
  // they reported while it ran has arrived), except those the scenario expects by name.
  const errors = failure ? [] : unexpectedErrors(server, scopePart, scenario.expectedErrors);
  if (errors.length) failure = new Error(errorsFailure(errors));
  if (failure) record(where, scenario.name, failedResult(server, scopePart, fields, { start, error: failure, notes: ctx.notes }));
  else record(where, scenario.name, { status: 'pass', ms: Date.now() - start, notes: ctx.notes });
}

function record({ modeResult }, name, result) {
  modeResult.scenarios[name] = result;
  count(counts, result);
  printResult(name, result, { errorMax: 700 });
}
