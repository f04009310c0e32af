// The real-browser test suite: `node test/browser/run.mjs` (npm run test:browser).
// Runs every scenario in four modes (Chromium native, Chromium with the API deleted, Firefox ESR, WebKitGTK),
// each in a fresh browser profile, inside a private network namespace, and writes test/browser/results.json,
// from which compat-table.mjs renders compat-table.md. Options: --mode=<name>[,<name>] and
// --only=<scenario>[,<scenario>] to run a subset. BSP_DEBUG=1 prints a failed scenario's server log.
// The server, harness, drivers, namespace and runner are the shared kit's (test/kit/README.md).
import { fileURLToPath } from 'node:url';
import { ensureNetns, RUN_LIMIT_MS } from '../kit/netns.mjs';
import { withTimeout } from '../kit/util.mjs';
import { option, selectModes, snapshotDist, loadHarness, polyfillBuilt, guardRun, startRunServer, runModes, cleanUp, exitRun } from '../kit/runner.mjs';
import { newCounts, count, printResult, failedResult, writeResults } from '../kit/results.mjs';

ensureNetns(); // re-executes this script under `unshare -n` and exits, unless already inside

snapshotDist();

const { startServer, DIST_DIR, createContext, launchers: MODES } = await loadHarness();
const { scenarios } = await import('./scenarios.mjs');

const SCENARIO_TIMEOUT = 60000;
const RESULTS_FILE = fileURLToPath(new URL('./results.json', import.meta.url));

const modes = selectModes(MODES);
const only = option('only');

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
  writeResults(RESULTS_FILE, { ...results, finishedAt: new Date().toISOString(), totals: counts });
  console.log(`${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
  exitRun(counts.failed > 0 ? 1 : 0);
}

async function runScenario(where, driver, scenario) {
  const ctx = createContext(driver, server, scenario.name);
  const reason = scenario.skip?.(ctx);
  if (reason) return record(where, scenario.name, { status: 'skip', ms: 0, reason });
  const start = Date.now();
  try {
    await withTimeout(() => scenario.run(ctx), scenario.timeout ?? SCENARIO_TIMEOUT, `scenario ${scenario.name}`);
    record(where, scenario.name, { status: 'pass', ms: Date.now() - start, notes: ctx.notes });
  } catch (error) {
    const fields = ({ lastChance, result, outcome, build }) => [
      lastChance === undefined ? '' : `lastChance=${lastChance}`,
      result ?? '',
      outcome ? JSON.stringify(outcome) : '',
      build ? `build=${build}` : '',
    ];
    record(where, scenario.name, failedResult(server, `/${driver.mode}-${scenario.name}/`, fields, { start, error, notes: ctx.notes }));
  } finally {
    await cleanUp(() => ctx.cleanup());
  }
}

function record({ modeResult }, name, result) {
  modeResult.scenarios[name] = result;
  count(counts, result);
  printResult(name, result, { errorMax: 700 });
}
