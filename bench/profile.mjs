// The profiling pass (`node bench/run.mjs --only=profile`, or `--profile` with the rest): where the polyfill's time
// goes where a target is missed. CDP Profiler on the page and on the service worker target (puppeteer-core attached
// to the benchmark's Chromium through its DevTools port), the unminified build for readable names, and every
// IndexedDB transaction timed with performance.measure() (fixtures/instrument.js). Profiles: bench/profiles/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';
import { openScope, setOnline, clockOffsets } from './suites.mjs';
import { nodeNow, summary, quantile } from './lib.mjs';
import { sleep, withTimeout } from '../test/kit/util.mjs';

export const PROFILES_DIR = fileURLToPath(new URL('./profiles/', import.meta.url));

export async function profile({ driver, native, polyfill, log = () => {}, quick = false }) {
  mkdirSync(PROFILES_DIR, { recursive: true });
  const browser = await withTimeout(
    puppeteer.connect({ browserWSEndpoint: await driver.browserWSEndpoint(), defaultViewport: null, protocolTimeout: 120000 }),
    20000,
    'puppeteer.connect',
  );
  const out = { dir: 'bench/profiles/' };
  try {
    const step = async (name, work) => {
      log(`profile: ${name}`);
      try {
        out[name] = await work();
      } catch (error) {
        out[name] = { error: error.message };
        log(`profile ${name} failed: ${error.message}`);
      }
    };
    await step('load', () => profileLoad(browser, driver, native, { loads: quick ? 5 : 20 }));
    await step('register', () => profileRegister(browser, polyfill, { count: quick ? 50 : 200 }));
    await step('reconnect', () => profileReconnect(browser, polyfill, { reps: quick ? 2 : 5 }));
    await step('drain', () => profileDrain(browser, polyfill, { count: quick ? 200 : 1000 }));
    await step('scale', () => profileScale(browser, polyfill, { count: quick ? 600 : 3000 }));
  } finally {
    await browser.disconnect().catch(() => {});
  }
  return out;
}

// ---------------------------------------------------------------- CDP Profiler helpers

async function findTarget(browser, predicate, label) {
  return withTimeout(browser.waitForTarget(predicate, { timeout: 15000 }), 16000, `target ${label}`);
}

const pageTarget = (browser, scopeName) => findTarget(browser, (t) => t.type() === 'page' && t.url().includes(`/s/${scopeName}/`), `page ${scopeName}`);
const workerTarget = (browser, scopeName) =>
  findTarget(browser, (t) => t.type() === 'service_worker' && t.url().includes(`scope=${scopeName}`), `worker ${scopeName}`);

async function startProfiler(target, intervalUs = 100) {
  const session = await target.createCDPSession();
  await session.send('Profiler.enable');
  await session.send('Profiler.setSamplingInterval', { interval: intervalUs });
  await session.send('Profiler.start');
  return {
    async stop(file) {
      const { profile } = await withTimeout(session.send('Profiler.stop'), 30000, 'Profiler.stop');
      await session.detach().catch(() => {});
      writeFileSync(`${PROFILES_DIR}${file}.cpuprofile`, JSON.stringify(profile));
      return profile;
    },
  };
}

/** Self time per function, and how the thread's wall time splits between idle, JS, GC and the engine itself. */
export function summarizeProfile(profile, { top = 10, divide = 1 } = {}) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const deltas = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]);
    const dt = deltas[i + 1] ?? 0;
    const { functionName, url, lineNumber } = node.callFrame;
    const key = `${functionName || '(anonymous)'}\t${url ? `${url.split('/').pop().split('?')[0]}:${lineNumber + 1}` : ''}`;
    self.set(key, (self.get(key) ?? 0) + dt);
  }
  const ms = (us) => us / 1000 / divide;
  const pick = (name) => ms([...self].filter(([k]) => k.startsWith(`${name}\t`)).reduce((t, [, v]) => t + v, 0));
  const wall = ms(profile.endTime - profile.startTime);
  const idle = pick('(idle)');
  const program = pick('(program)');
  const gc = pick('(garbage collector)');
  const functions = [...self]
    .filter(([k]) => !k.startsWith('('))
    .sort((a, b) => b[1] - a[1]);
  const inScript = (name) => ms(functions.filter(([k]) => k.includes(name)).reduce((t, [, v]) => t + v, 0));
  return {
    wallMs: wall,
    idleMs: idle,
    programMs: program,
    gcMs: gc,
    jsMs: ms(functions.reduce((t, [, v]) => t + v, 0)),
    polyfillJsMs: inScript('background-sync-polyfill') + inScript('full.js'),
    top: functions.slice(0, top).map(([k, v]) => {
      const [fn, where] = k.split('\t');
      return { fn, where, ms: ms(v) };
    }),
  };
}

// ---------------------------------------------------------------- load (native present)

/** 20 loads of the unminified build where the native API exists, sampled every 20 µs: what runs, per load. */
async function profileLoad(browser, driver, native, { loads }) {
  const page = await driver.newPage();
  const summaries = [];
  try {
    await page.goto(`${native.origin}/load/cached/empty.html`);
    const target = await findTarget(browser, (t) => t.type() === 'page' && t.url().includes('/load/cached/empty.html'), 'load page');
    // Warm the HTTP cache and the code cache, as the measured loads are repeat visits.
    for (let i = 0; i < 3; i++) await page.goto(`${native.origin}/load/cached/full.html`);
    for (let i = 0; i < loads; i++) {
      const profiler = await startProfiler(target, 20);
      await page.goto(`${native.origin}/load/cached/full.html`);
      const profile = await profiler.stop(i === 0 ? 'load-native-full' : 'load-native-full-last');
      summaries.push(profile);
      await page.goto(`${native.origin}/load/cached/empty.html`);
    }
  } finally {
    await page.close();
  }
  // Where EvaluateScript's main-thread time goes (trace events nested in it, v8 categories on): compiling, running,
  // producing the code cache; the polyfill against the empty script.
  const breakdown = {};
  const cdpPage = await driver.newPage();
  const cdp = await driver.cdp(cdpPage);
  try {
    const per = { empty: [], polyfill: [] };
    for (let i = 0; i < 3; i++) for (const variant of ['empty', 'polyfill']) await cdpPage.goto(`${native.origin}/load/cached/${variant}.html`);
    for (let i = 0; i < loads; i++) {
      for (const variant of ['empty', 'polyfill']) {
        const events = [];
        const onData = ({ value }) => events.push(...value);
        cdp.on('Tracing.dataCollected', onData);
        await withTimeout(cdp.send('Tracing.start', { categories: 'devtools.timeline,v8,disabled-by-default-v8.compile', transferMode: 'ReportEvents' }), 10000, 'Tracing.start');
        await cdpPage.goto(`${native.origin}/load/cached/${variant}.html`);
        const complete = new Promise((resolve) => cdp.once('Tracing.tracingComplete', resolve));
        await withTimeout(cdp.send('Tracing.end'), 10000, 'Tracing.end');
        await withTimeout(complete, 10000, 'tracingComplete');
        cdp.off('Tracing.dataCollected', onData);
        const evaluate = events.find((e) => e.name === 'EvaluateScript' && e.ph === 'X' && e.args?.data?.url?.endsWith(`/load/cached/${variant}.js`));
        if (!evaluate) continue;
        const inside = events.filter((e) => e.ph === 'X' && e.tid === evaluate.tid && e.ts >= evaluate.ts && e.ts + (e.dur ?? 0) <= evaluate.ts + evaluate.dur && e !== evaluate);
        const sum = (pred) => inside.filter(pred).reduce((t, e) => t + e.dur, 0) / 1000;
        per[variant].push({
          evaluate: evaluate.dur / 1000,
          compileScript: sum((e) => e.name === 'v8.compile'),
          run: sum((e) => e.name === 'v8.run'),
          lazyCompile: sum((e) => e.name === 'V8.CompileLazy' || e.name === 'V8.CompileCode'),
          produceCache: sum((e) => e.name === 'v8.produceCache'),
          consumeCache: sum((e) => e.name === 'v8.compile' && e.args?.data?.consumedCacheSize > 0),
        });
      }
    }
    for (const [variant, list] of Object.entries(per)) {
      breakdown[variant] = Object.fromEntries(Object.keys(list[0] ?? {}).map((k) => [k, quantile(list.map((x) => x[k]), 0.5)]));
    }
  } finally {
    await cdp.detach().catch(() => {});
    await cdpPage.close();
  }
  // Self time per function of the script, summed over loads, then per load.
  const merged = new Map();
  for (const profile of summaries) {
    for (const { fn, where, ms } of summarizeProfile(profile, { top: 1000 }).top) {
      if (!where.startsWith('full.js')) continue;
      const key = `${fn}\t${where}`;
      merged.set(key, (merged.get(key) ?? 0) + ms);
    }
  }
  const perLoad = [...merged].map(([k, v]) => ({ fn: k.split('\t')[0], where: k.split('\t')[1], ms: v / summaries.length })).sort((a, b) => b.ms - a.ms);
  return { loads: summaries.length, samplingUs: 20, scriptJsMsPerLoad: perLoad.reduce((t, f) => t + f.ms, 0), top: perLoad.slice(0, 12), traceBreakdownP50: breakdown };
}

// ---------------------------------------------------------------- register()

async function profileRegister(browser, polyfill, { count }) {
  const handle = await openScope(polyfill, 'prof-register', { script: 'full', instrument: true });
  try {
    const [pageT, workerT] = await Promise.all([pageTarget(browser, handle.scopeName), workerTarget(browser, handle.scopeName)]);
    const result = {};
    for (const kind of ['sequential', 'concurrent', 'sequentialOffline']) {
      const offline = kind === 'sequentialOffline';
      if (offline) await setOnline(polyfill, handle, false);
      await handle.evaluate(() => B.idbLog());
      await handle.call('idbLog');
      const [pageP, workerP] = await Promise.all([startProfiler(pageT), startProfiler(workerT)]);
      const start = nodeNow();
      const latencies = await handle.evaluate(
        ({ p, n, k }) => (k === 'concurrent' ? B.registerConcurrent(p, n) : B.registerSequential(p, n)),
        { p: kind, n: count, k: kind },
        120000,
      );
      if (!offline) {
        await handle.call('expect', { prefix: kind, count });
        await handle.evaluate(({ p }) => B.waitDone(p, 60000), { p: kind }, 65000);
      }
      const wall = nodeNow() - start;
      const [pageProfile, workerProfile] = await Promise.all([pageP.stop(`register-${kind}-page`), workerP.stop(`register-${kind}-worker`)]);
      const pageTx = (await handle.evaluate(() => B.idbLog())) ?? [];
      const workerTx = (await handle.call('idbLog')) ?? [];
      const txSummary = (list, mode) => {
        const chosen = list.filter((t) => t.mode === mode && t.end != null);
        return { count: chosen.length, perRegister: chosen.length / count, ms: summary(chosen.map((t) => t.end - t.start)), durability: [...new Set(chosen.map((t) => t.durability))] };
      };
      result[kind] = {
        count,
        wallMs: wall,
        latency: summary(latencies),
        pageReadwrite: txSummary(pageTx, 'readwrite'),
        pageReadonly: txSummary(pageTx, 'readonly'),
        workerReadwrite: txSummary(workerTx, 'readwrite'),
        page: summarizeProfile(pageProfile, { divide: count }),
        worker: summarizeProfile(workerProfile, { divide: count }),
      };
      if (offline) {
        await handle.call('expect', { prefix: kind, count });
        await setOnline(polyfill, handle, true);
        await handle.evaluate(({ p }) => B.waitDone(p, 60000), { p: kind }, 65000);
      }
      await handle.call('take', { prefix: kind });
      await sleep(1500);
    }
    return result;
  } finally {
    await handle.close({ unregister: true });
  }
}

// ---------------------------------------------------------------- reconnect

/** A timeline of each repetition: setOffline(false) at 0, then what the page and the worker did, in ms. */
/**
 * With `prefix` registered offline: clears the IndexedDB logs, starts a profiler on each target, brings the network
 * back at t0 and waits (up to `timeout`) for the worker's report that every event of `prefix` settled.
 */
async function profiledOnline(polyfill, handle, targets, prefix, timeout) {
  await handle.evaluate(() => B.idbLog());
  await handle.call('idbLog');
  const profilers = await Promise.all(targets.map((target) => startProfiler(target)));
  const doneP = handle.evaluate(({ p, t }) => B.waitDone(p, t), { p: prefix, t: timeout }, timeout + 5000);
  doneP.catch(() => {});
  await sleep(50);
  const t0 = nodeNow();
  await polyfill.driver.setOnline(true);
  return { profilers, t0, done: await doneP };
}

async function profileReconnect(browser, polyfill, { reps }) {
  const handle = await openScope(polyfill, 'prof-reconnect', { script: 'full', instrument: true });
  const timelines = [];
  try {
    const [pageT, workerT] = await Promise.all([pageTarget(browser, handle.scopeName), workerTarget(browser, handle.scopeName)]);
    const clock = await clockOffsets(handle);
    const pageOffset = clock.page.offset ?? 0;
    const workerOffset = pageOffset + (clock.workerVsPage.offset ?? 0);
    for (let rep = 0; rep < reps; rep++) {
      await setOnline(polyfill, handle, false);
      const prefix = `prc${rep}`;
      await handle.evaluate((tag) => B.registration.sync.register(tag), `${prefix}/0`);
      await sleep(1500);
      await handle.call('expect', { prefix, count: 1 });
      await handle.call('diagnostics');
      const { profilers: [pageP, workerP], t0, done } = await profiledOnline(polyfill, handle, [pageT, workerT], prefix, 10000);
      await Promise.all([pageP.stop(`reconnect-${rep}-page`), workerP.stop(`reconnect-${rep}-worker`)]);
      const fromPage = (t) => (t == null ? null : t - pageOffset - t0);
      const fromWorker = (t) => (t == null ? null : t - workerOffset - t0);
      const pageTx = ((await handle.evaluate(() => B.idbLog())) ?? []).filter((t) => fromPage(t.start) >= 0);
      const workerTx = ((await handle.call('idbLog')) ?? []).filter((t) => fromWorker(t.start) >= 0);
      const diagnostics = await handle.call('diagnostics');
      const poke = diagnostics.find((e) => e.type === 'poke' && fromWorker(e.t) >= 0);
      const onlineAt = await handle.evaluate(() => B.onlineAt[B.onlineAt.length - 1] ?? null);
      const firstWorkerRw = workerTx.find((t) => t.mode === 'readwrite');
      timelines.push({
        fired: done.type === 'done',
        pageOnlineEvent: fromPage(onlineAt),
        pageReadStart: fromPage(pageTx[0]?.start),
        pageReadEnd: fromPage(pageTx[0]?.end),
        pageReads: pageTx.length,
        pokeAtWorker: fromWorker(poke?.t),
        workerOnLineAtPoke: poke ? poke.onLine : null,
        claimStart: fromWorker(firstWorkerRw?.start),
        claimEnd: fromWorker(firstWorkerRw?.end),
        claimDurability: firstWorkerRw?.durability ?? null,
        handlerEntry: done.type === 'done' ? fromWorker(done.firstEnter) : null,
      });
      if (done.type !== 'done') {
        // Bring it home for the next repetition: a page poke (focus) once the worker sees online.
        await handle.evaluate(() => dispatchEvent(new Event('online')));
        await handle.evaluate(({ p }) => B.waitDone(p, 70000), { p: prefix }, 75000);
      }
      await handle.call('take', { prefix });
      await handle.evaluate(({ p }) => B.waitTagsGone(p, 20000), { p: prefix }, 25000);
    }
  } finally {
    await handle.close({ unregister: true });
  }
  const keys = ['pageOnlineEvent', 'pageReadStart', 'pageReadEnd', 'pokeAtWorker', 'claimStart', 'claimEnd', 'handlerEntry'];
  const median = Object.fromEntries(keys.map((k) => [k, quantile(timelines.map((t) => t[k]).filter((v) => v != null), 0.5)]));
  return { reps: timelines.length, fired: timelines.filter((t) => t.fired).length, median, timelines };
}

// ---------------------------------------------------------------- drain

async function profileDrain(browser, polyfill, { count }) {
  const handle = await openScope(polyfill, 'prof-drain', { script: 'full', instrument: true });
  try {
    const [pageT, workerT] = await Promise.all([pageTarget(browser, handle.scopeName), workerTarget(browser, handle.scopeName)]);
    const clock = await clockOffsets(handle, 6);
    const workerOffset = (clock.page.offset ?? 0) + (clock.workerVsPage.offset ?? 0);
    await setOnline(polyfill, handle, false);
    const prefix = 'pd';
    const registerMs = await handle.evaluate(({ p, n }) => B.registerMany(p, n, 100), { p: prefix, n: count }, 240000);
    await sleep(2500);
    await handle.call('expect', { prefix, count });
    const { profilers: [pageP, workerP], t0, done } = await profiledOnline(polyfill, handle, [pageT, workerT], prefix, 120000);
    // Until the store is empty: the settle transactions are part of the drain.
    const gone = await handle.evaluate(({ p }) => B.waitTagsGone(p, 60000, 50), { p: prefix }, 65000);
    const [pageProfile, workerProfile] = await Promise.all([pageP.stop('drain-page'), workerP.stop('drain-worker')]);
    const workerTx = ((await handle.call('idbLog')) ?? []).filter((t) => t.end != null);
    const rel = (t) => t - workerOffset - t0;
    const rw = workerTx.filter((t) => t.mode === 'readwrite');
    await handle.call('take', { prefix });
    return {
      count,
      registerMs,
      fired: done.type === 'done',
      firstEnterMs: done.type === 'done' ? rel(done.firstEnter) : null,
      lastSettleMs: done.type === 'done' ? rel(done.lastSettle) : null,
      storeEmptyMs: gone.at == null ? null : gone.at - (clock.page.offset ?? 0) - t0,
      workerReadwrite: rw.map((t) => ({ startMs: rel(t.start), ms: t.end - t.start, durability: t.durability })).slice(0, 20),
      workerReadwriteCount: rw.length,
      worker: summarizeProfile(workerProfile),
      page: summarizeProfile(pageProfile),
    };
  } finally {
    await handle.close({ unregister: true });
  }
}

// ---------------------------------------------------------------- scale: registering many tags offline

/**
 * Registers `count` tags offline (100 in flight) with IndexedDB timed in the page: how register()'s own transaction
 * and the page's store reads (its check() after each register()) change as the store fills up.
 */
async function profileScale(browser, polyfill, { count }) {
  const handle = await openScope(polyfill, 'prof-scale', { script: 'full', instrument: true });
  try {
    const pageT = await pageTarget(browser, handle.scopeName);
    await setOnline(polyfill, handle, false);
    await handle.evaluate(() => B.idbLog());
    const pageP = await startProfiler(pageT, 200);
    const t0 = await handle.evaluate(() => B.now());
    const registerMs = await handle.evaluate(({ p, n }) => B.registerMany(p, n, 100), { p: 'ps', n: count }, 600000);
    const pageProfile = await pageP.stop('scale-register-offline-page');
    const tx = ((await handle.evaluate(() => B.idbLog())) ?? []).filter((t) => t.end != null && t.start <= t0 + registerMs);
    const tenth = (list, which) => {
      const chosen = list.slice().sort((a, b) => a.start - b.start);
      const k = Math.max(1, Math.floor(chosen.length / 10));
      const part = which === 'first' ? chosen.slice(0, k) : chosen.slice(-k);
      return summary(part.map((t) => t.end - t.start));
    };
    const rw = tx.filter((t) => t.mode === 'readwrite');
    const ro = tx.filter((t) => t.mode === 'readonly');
    const busy = (list) => list.reduce((total, t) => total + (t.end - t.start), 0);
    const result = {
      count,
      registerMs,
      perTagMs: registerMs / count,
      registerTx: { count: rw.length, firstTenth: tenth(rw, 'first'), lastTenth: tenth(rw, 'last') },
      storeReads: { count: ro.length, firstTenth: tenth(ro, 'first'), lastTenth: tenth(ro, 'last'), totalMs: busy(ro) },
      page: summarizeProfile(pageProfile),
    };
    // Bring the tags home so the next user of this origin starts clean.
    await handle.call('expect', { prefix: 'ps', count });
    await setOnline(polyfill, handle, true);
    await handle.evaluate(({ p }) => B.waitDone(p, 120000), { p: 'ps' }, 125000);
    await handle.evaluate(({ p }) => B.waitTagsGone(p, 120000, 200), { p: 'ps' }, 125000);
    await handle.call('take', { prefix: 'ps' });
    return result;
  } finally {
    await handle.close({ unregister: true });
  }
}
