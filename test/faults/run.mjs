// The real-browser fault suite of issue 4 ("Reliability"): `node test/faults/run.mjs`.
// Kills workers, closes pages, SIGKILLs browsers, flaps the network and deploys a new worker mid-event, in Chromium
// (the API deleted), Firefox ESR and WebKitGTK, inside a private network namespace (test/browser/netns.mjs), then
// checks the invariants (invariants.mjs) over everything that fired and prints them as figures.
// Options: --mode=chromium-deleted,firefox,webkit  --only=worker-killed,page-closed,browser-killed,storm,worker-update
//          --seed=<n> (the storm's random handler failures; printed). Writes test/faults/results.json.
// Exit 1 if a scenario fails or a figure that must be 0 is not.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import vm from 'node:vm';
import { fileURLToPath } from 'node:url';
import { ensureNetns, setupLinks } from '../browser/netns.mjs';

ensureNetns(); // re-executes this script under `unshare -n` and exits, unless already inside

const RUN_LIMIT_MS = 18 * 60 * 1000;
const snapshot = snapshotDist(process.env.BSP_DIST_DIR || fileURLToPath(new URL('../../dist', import.meta.url)));
if (snapshot) process.env.BSP_DIST_DIR = snapshot;

const { startServer, DIST_DIR } = await import('../browser/server.mjs');
const { createContext } = await import('../browser/harness.mjs');
const { launchChromium } = await import('../browser/drivers/chromium.mjs');
const { launchFirefox } = await import('../browser/drivers/firefox.mjs');
const { launchWebKit } = await import('../browser/drivers/webkit.mjs');
const { withTimeout, short, descendants } = await import('../browser/util.mjs');
const { scenarios } = await import('./scenarios.mjs');
const { createRecorder } = await import('./recorder.mjs');
const { violations } = await import('./invariants.mjs');

const MODES = { 'chromium-deleted': launchChromium, firefox: launchFirefox, webkit: launchWebKit };
const COLUMNS = ['registered', 'fired', 'retried', 'succeeded', 'exhausted', 'lost', 'concurrent', 'overAttempts', 'badLastChance', 'reregisterMissed', 'unregistered', 'duration'];
const LAUNCH_TIMEOUT = 90000;
const CLOSE_TIMEOUT = 30000;
const RESULTS_FILE = fileURLToPath(new URL('./results.json', import.meta.url));

const option = (name) => process.argv.find((arg) => arg.startsWith(`--${name}=`))?.split('=')[1]?.split(',');
const modes = option('mode') ?? Object.keys(MODES);
const only = option('only');
const seed = Number(option('seed')?.[0] ?? process.env.BSP_FAULT_SEED ?? 20261124);
for (const mode of modes) if (!MODES[mode]) throw new Error(`unknown mode ${mode}; known: ${Object.keys(MODES).join(', ')}`);
for (const name of only ?? []) if (!scenarios.some((s) => s.name === name)) throw new Error(`unknown scenario ${name}; known: ${scenarios.map((s) => s.name).join(', ')}`);

const runStart = Date.now();
const results = { startedAt: new Date().toISOString(), seed, modes: {}, figures: [], failures: [] };
let currentDriver = null;

const polyfillFile = join(DIST_DIR, 'background-sync-polyfill.js');
if (!existsSync(polyfillFile)) {
  console.log(`${polyfillFile} is missing: run \`npm run build\` first`);
  results.failures.push({ error: 'dist/ missing' });
  finish();
}

const watchdog = setTimeout(async () => {
  console.log(`\nthe whole run exceeded ${RUN_LIMIT_MS / 1000} s: giving up`);
  results.failures.push({ error: `run exceeded ${RUN_LIMIT_MS / 1000} s` });
  if (currentDriver) await withTimeout(() => currentDriver.close(), 15000, 'close').catch(() => {});
  finish();
}, RUN_LIMIT_MS);
watchdog.unref();
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    console.log(`\n${signal}: stopping`);
    results.failures.push({ error: signal });
    finish();
  });
}

setupLinks();
const server = await startServer();
console.log(`test server ${server.origin}, polyfill from ${DIST_DIR}; storm seed ${seed}`);

try {
  for (const mode of modes) await runMode(mode);
} finally {
  await server.close();
}
finish();

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
    for (const scenario of selected) record(mode, scenario.name, { status: 'fail', ms: 0, error: `launch failed: ${error.message}` });
    return;
  }
  currentDriver = driver;
  modeResult.browserVersion = driver.version;
  console.log(`   ${driver.version}`);
  try {
    for (const scenario of selected) await runScenario(driver, mode, scenario);
  } finally {
    await withTimeout(() => driver.close(), CLOSE_TIMEOUT, `close ${mode}`).catch((error) => console.log(`   close failed: ${error.message}`));
    currentDriver = null;
    modeResult.ms = Date.now() - modeStart;
    console.log(`   (${mode}: ${Math.round(modeResult.ms / 1000)} s)`);
  }
}

async function runScenario(driver, mode, scenario) {
  const ctx = createContext(driver, server, scenario.name);
  const owned = [];
  ctx.own = (browser) => owned.push(browser);
  ctx.seed = seed;
  const rec = createRecorder(ctx);
  const reason = scenario.skip?.(ctx);
  if (reason) return record(mode, scenario.name, { status: 'skip', ms: 0, reason });
  const start = Date.now();
  let notes = [];
  let error = null;
  try {
    notes = (await withTimeout(() => scenario.run(ctx, rec), scenario.timeout, `scenario ${scenario.name}`)) ?? [];
  } catch (e) {
    error = describeError(e);
  } finally {
    await withTimeout(async () => {
      await ctx.cleanup();
      for (const browser of owned) await browser.close().catch(() => {});
    }, 45000, 'cleanup').catch((e) => console.log(`   cleanup failed: ${e.message}`));
  }
  const ms = Date.now() - start;
  const { figures, problems } = rec.check(scenario.policy);
  const bad = violations(figures);
  if (!error && figures.tags === 0) error = 'nothing was registered: the scenario checked nothing';
  if (!error && figures.firings === 0) error = 'nothing fired: the scenario checked nothing';
  if (!error && bad.length) error = `invariants violated: ${bad.join(', ')}`;
  const result = {
    status: error ? 'fail' : 'pass',
    ms,
    figures,
    notes,
    ...(error ? { error, problems: problems.slice(0, 30), kills: rec.kills, serverLog: serverLog(rec) } : {}),
  };
  record(mode, scenario.name, result);
}

function record(mode, name, result) {
  results.modes[mode].scenarios[name] = result;
  if (result.figures) results.figures.push({ mode, scenario: name, ...result.figures, ms: result.ms });
  if (result.status === 'fail') results.failures.push({ mode, scenario: name, error: result.error });
  const label = { pass: 'PASS', fail: 'FAIL', skip: 'SKIP' }[result.status];
  const detail = result.status === 'skip' ? ` (${result.reason})` : ` ${result.ms} ms`;
  console.log(`   ${label} ${name}${detail}${result.notes?.length ? `  [${result.notes.join('; ')}]` : ''}`);
  if (result.error) console.log(`        ${short(result.error, 900)}`);
  for (const problem of result.problems ?? []) console.log(`        ${short(problem, 300)}`);
  if (result.status === 'fail' && process.env.BSP_DEBUG) for (const line of result.serverLog ?? []) console.log(`        log ${line}`);
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

function table() {
  const rows = [];
  for (const [mode, modeResult] of Object.entries(results.modes)) {
    for (const [name, r] of Object.entries(modeResult.scenarios)) {
      const f = r.figures;
      const cells = f
        ? [f.tags, f.firings, f.retried, f.succeeded, f.exhausted, f.lost, f.concurrent, f.overAttempts, f.badLastChance, f.reregisterMissed, f.unregistered, `${Math.round(r.ms / 1000)} s`]
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
  writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\n${table()}`);
  console.log(`\ntotal ${Math.round(results.totalMs / 1000)} s; storm seed ${seed}; results written to ${RESULTS_FILE}`);
  const failed = results.failures.length + figureFailures > 0;
  console.log(failed ? `${results.failures.length} failure(s)` : 'no failures');
  for (const pid of descendants(process.pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  if (snapshot) rmSync(snapshot, { recursive: true, force: true });
  process.exit(failed ? 1 : 0);
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

function describeError(error) {
  return String(error?.message ?? error)
    .replace(/\n+\S+ !== \S+\s*$/, '')
    .replace(/\s*\n+\s*/g, ' | ')
    .trim();
}
