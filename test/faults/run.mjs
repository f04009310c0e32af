// The real-browser fault suite: `node test/faults/run.mjs`.
// Kills workers, closes pages, SIGKILLs browsers, flaps the network and deploys a new worker mid-event, in Chromium
// (the API deleted), Firefox ESR and WebKitGTK, inside a private network namespace (test/kit/netns.mjs), then
// checks the invariants (invariants.mjs) over everything that fired and prints them as figures; periodic sync too.
// In native Chromium (chromium-native, launched with its BackgroundSync field trial for fast native retries) only
// mixed-native-storm runs: registrations the engine takes and those it refuses and the polyfill takes over, together.
// Options: --mode=chromium-deleted,firefox,webkit,chromium-native  --only=worker-killed,page-closed,browser-killed,storm,
//          worker-update,periodic-worker-killed,periodic-browser-restart,periodic-storm,mixed-native-storm
//          --seed=<n> (the storms' random handler failures; printed). Writes test/faults/results.json.
// Exit 1 if a scenario fails or a figure that must be 0 is not.
// The runner code shared with test/browser and test/security is the kit's (test/kit/README.md).
import { fileURLToPath } from 'node:url';
import { ensureNetns } from '../kit/netns.mjs';
import { withTimeout, short, describeError } from '../kit/util.mjs';
import { option, selectModes, checkScenarioNames, snapshotDist, loadHarness, polyfillBuilt, guardRun, startRunServer, runModes, cleanUp, exitRun } from '../kit/runner.mjs';
import { printResult, writeResults, unexpectedErrors, errorsFailure, nothingPassed } from '../kit/results.mjs';

ensureNetns(); // re-executes this script under `unshare -n` and exits, unless already inside

const RUN_LIMIT_MS = 18 * 60 * 1000;
snapshotDist();

const { startServer, DIST_DIR, createContext, launchers } = await loadHarness();
const { scenarios, NATIVE_RETRY } = await import('./scenarios.mjs');
const { createRecorder } = await import('./recorder.mjs');
const { violations } = await import('./invariants.mjs');

const MODES = {
  'chromium-deleted': launchers['chromium-deleted'],
  firefox: launchers.firefox,
  webkit: launchers.webkit,
  'chromium-native': (mode) => launchers['chromium-native'](mode, { nativeRetry: NATIVE_RETRY }),
};
const COLUMNS = ['registered', 'fired', 'trusted', 'retried', 'succeeded', 'exhausted', 'lost', 'concurrent', 'overAttempts', 'badLastChance', 'reregisterMissed', 'unregistered', 'periodic', 'pTooSoon', 'pConcurrent', 'pLate', 'pLost', 'pUnregistered', 'flapsSeen', 'killToRefire', 'duration'];
const RESULTS_FILE = fileURLToPath(new URL('./results.json', import.meta.url));

const modes = selectModes(MODES);
const only = option('only');
const seed = Number(option('seed')?.[0] ?? process.env.BSP_FAULT_SEED ?? 20261124);
checkScenarioNames(only, scenarios);

const runStart = Date.now();
const results = { startedAt: new Date().toISOString(), seed, modes: {}, figures: [], failures: [] };

if (!polyfillBuilt(DIST_DIR)) {
  results.failures.push({ error: 'dist/ missing' });
  finish();
}

guardRun(RUN_LIMIT_MS, (error) => {
  results.failures.push({ error });
  finish();
});

const server = await startRunServer(startServer, DIST_DIR, `; storm seed ${seed}`);

await runModes(modes, server, results, { launchers: MODES, scenarios, only, record, runScenario });
finish();

async function runScenario(where, driver, scenario) {
  const ctx = createContext(driver, server, scenario.name);
  const owned = [];
  ctx.own = (browser) => owned.push(browser);
  ctx.seed = seed;
  const rec = createRecorder(ctx);
  const reason = scenario.skip?.(ctx);
  if (reason) return record(where, scenario.name, { status: 'skip', ms: 0, reason });
  const start = Date.now();
  let notes = [];
  let error = null;
  try {
    notes = (await withTimeout(() => scenario.run(ctx, rec), scenario.timeout, `scenario ${scenario.name}`)) ?? [];
  } catch (e) {
    error = describeError(e);
  } finally {
    // Periodic schedules are judged up to here: the pages close next, and with them what wakes the worker.
    rec.endObservation();
    await cleanUp(async () => {
      await ctx.cleanup();
      for (const browser of owned) await browser.close().catch(() => {});
    });
  }
  const ms = Date.now() - start;
  const { figures, problems } = rec.check(scenario.policy, scenario.judge);
  const bad = violations(figures);
  if (!error && figures.tags + figures.pTags === 0) error = 'nothing was registered: the scenario checked nothing';
  if (!error && figures.firings + figures.pFired === 0) error = 'nothing fired: the scenario checked nothing';
  if (!error && bad.length) error = `invariants violated: ${bad.join(', ')}`;
  // Errors the pages and workers reported (they carry no tag, so the recorder's log has none of them).
  const errors = unexpectedErrors(server, `/${driver.mode}-${scenario.name}/`, scenario.expectedErrors);
  if (!error && errors.length) error = errorsFailure(errors);
  const result = {
    status: error ? 'fail' : 'pass',
    ms,
    figures,
    notes,
    ...(ctx.flaps ? { flaps: ctx.flaps } : {}),
    ...(ctx.killRecovery ? { killRecovery: ctx.killRecovery } : {}),
    ...(errors.length ? { workerErrors: errors } : {}),
    ...(error ? { error, problems: problems.slice(0, 30), kills: rec.kills, serverLog: serverLog(rec), tags: tagHistories(rec, problems) } : {}),
  };
  record(where, scenario.name, result);
}

function record({ mode }, name, result) {
  results.modes[mode].scenarios[name] = result;
  if (result.figures) results.figures.push({ mode, scenario: name, ...result.figures, ms: result.ms });
  if (result.status === 'fail') results.failures.push({ mode, scenario: name, error: result.error });
  printResult(name, result, { errorMax: 900 });
  for (const problem of result.problems ?? []) console.log(`        ${short(problem, 300)}`);
  if (result.status === 'fail' && process.env.BSP_DEBUG) for (const line of result.serverLog ?? []) console.log(`        log ${line}`);
}

/** For each tag a problem names (at most 10): its register() calls and every log entry of it, times from its first. */
function tagHistories(rec, problems) {
  const named = [...new Set(problems.map((p) => /"([^"]+)"/.exec(p)?.[1]).filter(Boolean))].slice(0, 10);
  return Object.fromEntries(named.map((tag) => {
    const registrations = [...rec.registrations, ...rec.periodicRegistrations].filter((r) => r.tag === tag).sort((a, b) => a.t - b.t);
    const t0 = registrations[0]?.t ?? 0;
    return [tag.split(':').pop(), {
      t0,
      registrations: registrations.map(({ t, tDone, from, minInterval }) =>
        `${minInterval === undefined ? 'register' : `periodic register(minInterval ${minInterval})`} +${t - t0}..+${tDone - t0}ms from ${from}`),
      log: rec.log().filter((e) => e.tag === tag && e.type !== 'beat').map(({ type, t, receivedAt, instance, lastChance, result, behaviour }) =>
        [`+${t - t0}ms`, type, lastChance === undefined ? '' : `lastChance=${lastChance}`, result ?? '', behaviour ?? '', `worker=${instance}`, `received +${receivedAt - t0}ms`].filter(Boolean).join(' ')),
    }];
  }));
}

/** The scenario's log, compact, for a failure's record. */
function serverLog(rec) {
  const start0 = rec.log()[0]?.t ?? 0;
  return rec
    .log()
    .filter((e) => e.type !== 'beat')
    .slice(-80)
    .map(({ type, tag, lastChance, result, build, instance, t, behaviour }) =>
      [`+${t - start0}ms`, type, tag?.split(':').pop(), lastChance === undefined ? '' : `lastChance=${lastChance}`, result ?? '', behaviour ?? '', build ? `build=${build}` : '', `worker=${instance}`]
        .filter(Boolean)
        .join(' '));
}

/** The storm's flaps its page saw (offline events) of those caused, or '-' where a scenario does not flap. */
function flapsCell(flaps) {
  return flaps ? `${flaps.seenOffline}/${flaps.planned}${flaps.seenOffline === 0 ? ' (no flaps)' : ''}` : '-';
}

/** The one-shot events the engine dispatched (isTrusted) / the polyfill's, or '-' where none says. */
function trustedCell(f) {
  return f.trusted || f.untrusted ? `${f.trusted}/${f.untrusted}` : '-';
}

/** Periodic sync's tags/events/failed events, or '-' where a scenario has none. */
function periodicCell(f) {
  return f.pTags || f.pFired ? `${f.pTags}/${f.pFired}/${f.pFailed}` : '-';
}

function table() {
  const rows = [];
  for (const [mode, modeResult] of Object.entries(results.modes)) {
    for (const [name, r] of Object.entries(modeResult.scenarios)) {
      const f = r.figures;
      const cells = f
        ? [f.tags, f.firings, trustedCell(f), f.retried, f.succeeded, f.exhausted, f.lost, f.concurrent, f.overAttempts, f.badLastChance, f.reregisterMissed, f.unregistered,
          periodicCell(f), f.pTooSoon, f.pConcurrent, f.pLate, f.pLost, f.pUnregistered, flapsCell(r.flaps), r.killRecovery ? `${r.killRecovery.ms} ms` : '-', `${Math.round(r.ms / 1000)} s`]
        : COLUMNS.map((c) => (c === 'duration' ? '-' : r.status === 'skip' ? 'skip' : '-'));
      rows.push([mode, name, r.status.toUpperCase(), ...cells.map(String)]);
    }
  }
  const header = ['mode', 'scenario', 'result', ...COLUMNS];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

function finish() {
  results.finishedAt = new Date().toISOString();
  results.totalMs = Date.now() - runStart;
  const figureFailures = results.figures.filter((f) => violations(f).length > 0).length;
  console.log(`\n${table()}`);
  writeResults(RESULTS_FILE, results);
  console.log(`total ${Math.round(results.totalMs / 1000)} s; storm seed ${seed}`);
  const passed = Object.values(results.modes).flatMap((m) => Object.values(m.scenarios)).filter((r) => r.status === 'pass').length;
  if (nothingPassed({ passed, failed: results.failures.length, skipped: 0 })) results.failures.push({ error: 'no scenario passed' });
  const failed = results.failures.length + figureFailures > 0;
  console.log(failed ? `${results.failures.length} failure(s)` : 'no failures');
  exitRun(failed ? 1 : 0);
}
