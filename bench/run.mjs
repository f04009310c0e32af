// `npm run bench`: every benchmark in one run, native and polyfill side by side.
//   Chromium (one browser: its native API on one site, the API deleted on another), Firefox ESR, WebKitGTK under Xvfb.
//   Runs inside a private network namespace (re-executes itself under `unshare -n`): real offline for Firefox and
//   WebKit, and no packet leaves the machine.
// Writes bench/results.json, bench/results.md and bench/results.svg, and prints the table.
//
// Options:
//   --quick                 small counts, for development (results are written to bench/results.quick.*)
//   --only=a,b              suites: size, load, register, reconnect, drain, scale, idb, kill, profile, periodic (default: all)
//   --engines=a,b           chromium, firefox, webkit
//   --reps=N                reconnect repetitions (default 30)
//   --loads=N               page loads per variant of the load suite (default 30)
//   --kill-reps=N           kill recovery repetitions per engine and mode (default 20; --quick: 3)
//   --kill-wait=MS          how long a kill repetition waits for the next attempt before it counts as a miss (90000)
//   --sizes=a,b             scale sizes (default 100,1000,10000)
//   --no-wait               do not wait for a quiet machine (1-minute load < 1.0) before starting
//   --no-profile            skip the profiling pass (CDP Profiler on page and worker, IndexedDB timed; bench/profiles/)
//   --out=NAME              write bench/NAME.{json,md,svg} instead (e.g. --only=periodic --out=results.periodic)
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cpus, loadavg, totalmem, release } from 'node:os';
import { ensureNetns } from '../test/kit/netns.mjs';
import { killChildren } from '../test/kit/processes.mjs';

// A full run takes some 30 min (the periodic suite some 5 of them); the limit leaves room for a kill suite whose misses wait out --kill-wait.
const RUN_LIMIT_MS = 90 * 60 * 1000;
const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
const option = (name) => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const quick = flag('quick');
// Only a full run (no option that narrows it) writes bench/results.*; others write bench/results.partial.* or .quick.*.
const partial = ['only', 'engines', 'reps', 'sizes', 'kill-reps', 'kill-wait'].some((name) => option(name) !== undefined);
/** The periodic suite in the engines other than Chromium: fewer repetitions, as for their drain, to keep the run short. */
const OTHER_ENGINE_PERIODIC = quick ? {} : { registerReps: 1, dispatchReps: 2, dueReps: 1 };
if (option('out') !== undefined && !/^[\w.-]+$/.test(option('out'))) {
  console.error(`--out=${option('out')}: a file name under bench/ without its extension (letters, digits, . _ -)`);
  process.exit(1);
}

if (!existsSync(fileURLToPath(new URL('../dist/background-sync-polyfill.min.js', import.meta.url)))) {
  console.error('dist/background-sync-polyfill.min.js is missing: run `npm run build` first (`npm run bench` does).');
  process.exit(1);
}

// Waiting for a quiet machine happens outside the namespace, before anything starts.
if (!process.env.BSP_IN_NETNS && !quick && !flag('no-wait')) await waitQuiet();
ensureNetns(RUN_LIMIT_MS);

const { setupLinks, setLinkOnline } = await import('../test/kit/netns.mjs');
const { startServer } = await import('./routes.mjs');
const { launchChromium, launchFirefox, launchWebKit } = await import('../test/kit/drivers/index.mjs');
const suites = await import('./suites.mjs');
const { periodicSuite } = await import('./periodic.mjs');
const { measureAll, measureComposition, checkBudget, readBudget } = await import('./size.mjs');
const { writeReport } = await import('./report.mjs');

const ALL_SUITES = ['size', 'load', 'register', 'reconnect', 'drain', 'scale', 'idb', 'kill', 'profile', 'periodic'];
const only = option('only')?.split(',') ?? ALL_SUITES.filter((suite) => suite !== 'profile' || !flag('no-profile'));
const engines = option('engines')?.split(',') ?? ['chromium', 'firefox', 'webkit'];
const want = (suite) => only.includes(suite);

const COUNTS = quick
  ? { loads: 15, warmup: 2, sequential: 40, concurrent: 40, block: 20, reconnect: 3, drainReps: 1, drain: 100, scale: [20, 100, 400], scaleReps: { 20: 1, 100: 1, 400: 1 }, idb: 30, kill: 3, periodic: { count: 100, registerReps: 1, dispatchReps: 1, dueReps: 1, getTagsReps: 5 } }
  : { loads: 30, warmup: 3, sequential: 500, concurrent: 500, block: 100, reconnect: 30, drainReps: 5, drain: 1000, scale: [100, 1000, 10000], scaleReps: { 100: 5, 1000: 5, 10000: 1 }, idb: 200, kill: 20, periodic: { count: 1000, registerReps: 2, dispatchReps: 3, dueReps: 2, getTagsReps: 20 } };
if (option('reps')) COUNTS.reconnect = Number(option('reps'));
if (option('loads')) COUNTS.loads = Number(option('loads'));
if (option('kill-reps')) COUNTS.kill = Number(option('kill-reps'));
const KILL_WAIT = Number(option('kill-wait') ?? 90000);
/**
 * The kill suite's Firefox ends a service worker whose event outlives these lifetimes (ms), waitUntil or not: some
 * 6 s into the held event. Short, as in the fault suite's worker-killed, but its 1 s idle timeout would end the
 * worker woken for the retry before the retry's own 1 s timer, and the repetition would measure that race (the next
 * attempt then waited for the page's 60 s periodic check) instead of how soon the death was noticed.
 */
const FIREFOX_SHORT_LIFETIME = { 'dom.serviceWorkers.idle_timeout': 3000, 'dom.serviceWorkers.idle_extended_timeout': 3000 };
if (option('sizes')) {
  COUNTS.scale = option('sizes').split(',').map(Number);
  COUNTS.scaleReps = Object.fromEntries(COUNTS.scale.map((n) => [n, COUNTS.scaleReps[n] ?? 1]));
}
const OTHER_ENGINE_DRAIN_REPS = quick ? 1 : 3;

const started = Date.now();
const watchdog = setTimeout(() => {
  console.log(`\nthe benchmark exceeded ${RUN_LIMIT_MS / 60000} min: giving up`);
  killChildren();
  process.exit(1);
}, RUN_LIMIT_MS);
watchdog.unref();

const log = (...args) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s]`, ...args);

const results = {
  date: new Date().toISOString(),
  quick,
  partial,
  machine: machineInfo(),
  source: sourceInfo(),
  /** What was run: a partial run's report says how to repeat it. */
  command: ['node', 'bench/run.mjs', ...argv].join(' '),
  counts: COUNTS,
  browsers: {},
  suites: {},
  errors: [],
};

setupLinks();
const server = await startServer();
log(`server ${server.origin} (native site) and ${server.otherOrigin} (API deleted)`);
results.polyfillSha256 = server.minSha256;
if (results.source.newerThanDist.length) {
  log(`warning: dist/ is older than ${results.source.newerThanDist.join(', ')}: run \`npm run build\` (npm run bench does)`);
  results.errors.push(`dist/ was older than the source (${results.source.newerThanDist.join(', ')}): not what the commit builds`);
}

async function guarded(name, work) {
  try {
    return await work();
  } catch (error) {
    log(`${name} failed: ${error.stack || error.message}`);
    results.errors.push(`${name}: ${error.message}`);
    return null;
  }
}

try {
  if (want('size')) {
    log('size');
    results.suites.size = await guarded('size', async () => {
      const size = await measureAll();
      size.budget = { ...readBudget(), check: checkBudget(size.polyfill) };
      if (size.polyfill.sha256 !== server.minSha256) results.errors.push('dist/ changed between the server\'s snapshot and the size measurement: rebuild and run again');
      size.composition = await measureComposition().catch((error) => ({ error: error.message }));
      return size;
    });
  }

  if (engines.includes('chromium') && ['load', 'register', 'reconnect', 'drain', 'scale', 'idb', 'profile', 'periodic'].some(want)) {
    await withDriver('chromium', () => launchChromium('chromium', { deletedOrigin: server.otherOrigin, debuggingPort: want('profile') }), async (driver) => {
      const pair = chromiumPair(driver);
      const [native, polyfill] = pair;
      if (want('load')) {
        log('chromium: load cost');
        results.suites.load = await guarded('load', () => suites.loadCost(native, { loads: COUNTS.loads, warmup: COUNTS.warmup }));
      }
      if (want('idb')) {
        log('chromium: raw IndexedDB transactions');
        (results.suites.idb ??= {})['chromium-polyfill'] = await guarded('idb chromium', () => suites.idbBound(polyfill, { count: COUNTS.idb }));
      }
      if (want('register')) {
        log('chromium: register() latency');
        Object.assign((results.suites.register ??= {}), await guarded('register chromium', () => suites.registerLatency(pair, { ...COUNTS, log })));
      }
      if (want('reconnect')) {
        log('chromium: reconnect latency');
        Object.assign((results.suites.reconnect ??= {}), await guarded('reconnect chromium', () => suites.reconnect(pair, { reps: COUNTS.reconnect, log })));
      }
      if (want('drain') || want('scale')) {
        const sizes = want('scale') ? COUNTS.scale : [COUNTS.drain];
        const reps = want('scale') ? COUNTS.scaleReps : { [COUNTS.drain]: COUNTS.drainReps };
        log(`chromium: drain and scale (${sizes.join(', ')} tags)`);
        Object.assign((results.suites.drain ??= {}), await guarded('drain chromium', () => suites.drainScale(pair, { sizes, reps, log })));
      }
      if (want('periodic')) {
        // No native subject: Chromium fires periodicsync only for installed apps on its own schedule (bench/periodic.mjs).
        log(`chromium: periodic sync against one-shot, ${COUNTS.periodic.count} registrations (API deleted)`);
        Object.assign((results.suites.periodic ??= {}), await guarded('periodic chromium', () => periodicSuite([polyfill], { ...COUNTS.periodic, log })));
      }
      if (want('profile')) {
        log('chromium: profiling pass');
        const { profile } = await import('./profile.mjs');
        results.suites.profile = await guarded('profile', () => profile({ driver, native, polyfill, log, quick }));
      }
    });
  }

  // Firefox with full timer precision (sub-millisecond latencies) and long protocol calls; WebKit with long evaluations.
  const others = [
    ['firefox', () => launchFirefox('firefox', { prefs: { 'privacy.reduceTimerPrecision': false }, protocolTimeout: 120000 })],
    ['webkit', () => launchWebKit('webkit', { scriptTimeout: 300000, oneWindow: true })],
  ];
  for (const [engine, launch] of others) {
    if (!engines.includes(engine) || !['register', 'reconnect', 'drain', 'idb', 'periodic'].some(want)) continue;
    await withDriver(engine, launch, async (driver) => {
      const subject = { id: `${engine}-polyfill`, engine, label: `${driver.version} (polyfill)`, native: false, driver, origin: server.origin, swMode: 'polyfill' };
      if (want('idb')) {
        log(`${engine}: raw IndexedDB transactions`);
        (results.suites.idb ??= {})[subject.id] = await guarded(`idb ${engine}`, () => suites.idbBound(subject, { count: COUNTS.idb }));
      }
      if (want('register')) {
        log(`${engine}: register() latency`);
        Object.assign((results.suites.register ??= {}), await guarded(`register ${engine}`, () => suites.registerLatency([subject], { ...COUNTS, log })));
      }
      if (want('reconnect')) {
        log(`${engine}: reconnect latency`);
        Object.assign((results.suites.reconnect ??= {}), await guarded(`reconnect ${engine}`, () => suites.reconnect([subject], { reps: COUNTS.reconnect, timeout: engine === 'webkit' ? 20000 : 15000, log })));
      }
      if (want('drain')) {
        log(`${engine}: drain ${COUNTS.drain} tags`);
        Object.assign((results.suites.drain ??= {}), await guarded(`drain ${engine}`, () => suites.drainScale([subject], { sizes: [COUNTS.drain], reps: { [COUNTS.drain]: OTHER_ENGINE_DRAIN_REPS }, log })));
      }
      if (want('periodic')) {
        log(`${engine}: periodic sync against one-shot, ${COUNTS.periodic.count} registrations`);
        Object.assign((results.suites.periodic ??= {}), await guarded(`periodic ${engine}`, () => periodicSuite([subject], { ...COUNTS.periodic, ...OTHER_ENGINE_PERIODIC, log })));
      }
    });
  }

  // Kill recovery runs in browsers of its own: native Chromium with the kill policy forced through its field trial,
  // Firefox with short service worker lifetimes (it kills the worker itself), a WebKit per repetition.
  if (want('kill')) {
    const killOptions = { reps: COUNTS.kill, timeout: KILL_WAIT, killLog: server.killLog, log };
    const { KILL_POLICY } = suites;
    if (engines.includes('chromium')) {
      const nativeRetry = { maxAttempts: KILL_POLICY.maxAttempts, initialRetryDelaySec: KILL_POLICY.initialRetryDelay / 1000, retryDelayFactor: KILL_POLICY.retryDelayFactor };
      await withDriver('chromium', () => launchChromium('chromium', { deletedOrigin: server.otherOrigin, nativeRetry }), async (driver) => {
        log(`chromium: kill recovery (${COUNTS.kill} repetitions each, alternating)`);
        Object.assign((results.suites.kill ??= {}), recoveredSome(await guarded('kill chromium', () => suites.killRecovery(chromiumPair(driver), killOptions))));
      });
    }
    if (engines.includes('firefox')) {
      const launch = () => launchFirefox('firefox', { prefs: { 'privacy.reduceTimerPrecision': false, ...FIREFOX_SHORT_LIFETIME }, protocolTimeout: 120000 });
      await withDriver('firefox', launch, async (driver) => {
        log(`firefox: kill recovery (${COUNTS.kill} repetitions, worker lifetimes ${JSON.stringify(FIREFOX_SHORT_LIFETIME)})`);
        const subject = { id: 'firefox-polyfill', engine: 'firefox', label: `${driver.version} (polyfill)`, native: false, driver, origin: server.origin, swMode: 'polyfill' };
        const result = await guarded('kill firefox', () => suites.killRecovery([subject], killOptions));
        if (result) result[subject.id].prefs = FIREFOX_SHORT_LIFETIME;
        Object.assign((results.suites.kill ??= {}), recoveredSome(result));
      });
    }
    if (engines.includes('webkit')) {
      log(`webkit: kill recovery (${COUNTS.kill} repetitions, a MiniBrowser each)`);
      const subject = { id: 'webkit-polyfill', engine: 'webkit', native: false, driver: null, origin: server.origin, swMode: 'polyfill' };
      const launch = () => launchWebKit('webkit', { scriptTimeout: 60000 });
      const result = await guarded('kill webkit', () => suites.killRecoveryWebKit(subject, { ...killOptions, launch }));
      if (result) {
        const { browser, ...byId } = result;
        if (browser) results.browsers.webkit ??= browser;
        Object.assign((results.suites.kill ??= {}), recoveredSome(byId));
      }
    }
  }
} finally {
  setLinkOnline(true);
  await server.close();
}

results.finishedAt = new Date().toISOString();
results.machine.loadavgEnd = loadavg();
const files = writeReport(results, { base: option('out') ?? (quick ? 'results.quick' : partial ? 'results.partial' : 'results') });
log(`wrote ${files.join(', ')}`);
clearTimeout(watchdog);
killChildren();
process.exit(results.errors.length ? 1 : 0);

/** A kill suite in which some mode never saw a next attempt measured nothing there: an error of the run. */
function recoveredSome(byId) {
  for (const [id, v] of Object.entries(byId ?? {})) {
    if (!v.recovered) results.errors.push(`kill ${id}: no repetition recovered (${v.failures[0] ?? 'no failure recorded'})`);
  }
  return byId;
}

/** Chromium's two subjects in one browser: its native API on the server's origin, the API deleted on the other. */
function chromiumPair(driver) {
  return [
    { id: 'chromium-native', engine: 'chromium', label: 'Chromium, native', native: true, driver, origin: server.origin, swMode: 'native' },
    { id: 'chromium-polyfill', engine: 'chromium', label: 'Chromium, API deleted (polyfill)', native: false, driver, origin: server.otherOrigin, swMode: 'deleted' },
  ];
}

async function withDriver(engine, launch, work) {
  log(`launching ${engine}`);
  let driver;
  try {
    driver = await launch();
  } catch (error) {
    log(`${engine} could not launch: ${error.message}`);
    results.errors.push(`${engine}: launch failed: ${error.message}`);
    return;
  }
  results.browsers[engine] = driver.version;
  log(`${engine}: ${driver.version}`);
  try {
    await work(driver);
  } finally {
    await driver.close();
  }
}

function machineInfo() {
  const cpuList = cpus();
  const [cpuModel] = [...new Set(cpuList.map((c) => c.model))];
  let os = release();
  try {
    os = /PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? os;
  } catch {
    // keep the kernel release
  }
  return {
    cpu: cpuModel,
    cores: cpuList.length,
    memoryGB: Math.round(totalmem() / 2 ** 30),
    os: `${os}, Linux ${release()}`,
    node: process.version,
    loadavgStart: loadavg(),
    quietWait: process.env.BSP_QUIET_WAIT ? JSON.parse(process.env.BSP_QUIET_WAIT) : null,
  };
}

/** Which commit was measured, and whether the source differed from it. */
function sourceInfo() {
  const git = (...args) => {
    try {
      return execFileSync('git', args, { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8', timeout: 10000 }).trim();
    } catch {
      return null;
    }
  };
  const dirty = git('status', '--porcelain', '--', 'src', 'polyfill', 'rollup.config.mjs', 'package.json');
  // A dist/ older than the source it is built from measures something else than the commit.
  const root = fileURLToPath(new URL('..', import.meta.url));
  const built = statSync(`${root}dist/background-sync-polyfill.min.js`).mtimeMs;
  const newer = [];
  const walk = (dir) => {
    for (const entry of readdirSync(`${root}${dir}`, { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (statSync(`${root}${path}`).mtimeMs > built) newer.push(path);
    }
  };
  walk('src');
  walk('polyfill');
  return {
    commit: git('rev-parse', '--short', 'HEAD'),
    subject: git('log', '-1', '--format=%s'),
    sourceChanged: dirty ? dirty.split('\n') : [],
    newerThanDist: newer,
  };
}

/** Before a full run: wait (up to 30 min, checking every minute) for the 1-minute load to drop below 1.0. */
async function waitQuiet() {
  const limit = 30;
  const seen = [];
  for (let minute = 0; ; minute++) {
    const load = loadavg()[0];
    seen.push(Number(load.toFixed(2)));
    if (load < 1.0) {
      console.log(`machine quiet enough (1-minute load ${load.toFixed(2)}): starting`);
      process.env.BSP_QUIET_WAIT = JSON.stringify({ quiet: true, minutes: minute, loads: seen });
      return;
    }
    if (minute >= limit) {
      console.log(`the machine never got quiet in ${limit} min (1-minute load ${load.toFixed(2)}): running anyway`);
      process.env.BSP_QUIET_WAIT = JSON.stringify({ quiet: false, minutes: minute, loads: seen });
      return;
    }
    console.log(`1-minute load ${load.toFixed(2)} ≥ 1.0: waiting a minute for a quieter machine (${minute}/${limit}; --no-wait skips this)`);
    await new Promise((resolve) => setTimeout(resolve, 60000));
  }
}
