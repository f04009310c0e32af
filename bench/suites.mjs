// The measurements. Each takes "subjects" (one engine and mode each, see run.mjs) and returns plain data.
// Native and polyfill alternate repetition by repetition, so a noisy stretch of time hits both.
import { nodeNow, summary, quantile } from './lib.mjs';
import { processGone, webKitWebProcesses } from '../test/kit/processes.mjs';
import { sleep, waitFor, withTimeout } from '../test/kit/util.mjs';

/** The polyfill's page checks the store 1 s after each register(); wait that out so it never overlaps a measurement. */
const AFTER_REGISTER_QUIET = 1300;

let scopeCounter = 0;

/**
 * Opens the benchmark page of `subject` at a scope of its own and registers the benchmark worker there. `sw`: more
 * query parameters for the worker (the kill benchmark's retry policy).
 */
export async function openScope(subject, name, { script = 'min', instrument = false, scope, sw = {} } = {}) {
  const scopeName = scope ?? `${subject.id}-${name}-${Date.now().toString(36)}${scopeCounter++}`;
  const query = new URLSearchParams({ script, ...(instrument ? { instrument: '1' } : {}) });
  const page = await subject.driver.newPage();
  let step = 'goto';
  try {
    await page.goto(`${subject.origin}/bench/s/${scopeName}/page.html?${query}`);
    step = 'register the worker';
    // The scope name makes the worker's URL unique: a profiler can tell its target from the others.
    const swQuery = new URLSearchParams({ mode: subject.swMode, script, ...(instrument ? { instrument: '1' } : {}), scope: scopeName, ...sw });
    const { native } = await page.evaluate((url) => B.setup(url), `/bench/sw.js?${swQuery}`, 30000);
    step = 'ask the worker';
    const workerNative = await page.evaluate(() => B.call('native'));
    if (native !== subject.native || workerNative !== subject.native) {
      throw new Error(`${subject.id}: expected native=${subject.native}, page says ${native}, worker says ${workerNative}`);
    }
  } catch (error) {
    await page.close();
    error.message = `open ${scopeName}: ${step}: ${error.message}`;
    throw error;
  }
  return {
    page,
    scopeName,
    evaluate: (fn, arg, timeout) => page.evaluate(fn, arg, timeout),
    call: (cmd, args = {}, timeout = 20000) => page.evaluate(({ c, a, t }) => B.call(c, a, t), { c: cmd, a: args, t: timeout }, timeout + 2000),
    async close({ unregister = false } = {}) {
      // WebKitGTK 2.50 never completes later IndexedDB transactions on a store when a context goes away with a
      // readwrite transaction in flight (bench/webkit-idb-wedge.mjs reproduces it with a bare page). Let the page and
      // its worker finish their own work (the polyfill's post-register check, settles) before leaving.
      if (subject.engine === 'webkit') await sleep(3000);
      if (unregister) await page.evaluate(() => B.registration.unregister()).catch(() => {});
      await page.close();
    },
  };
}

/** Switches connectivity and waits until the page and its worker both agree. */
export async function setOnline(subject, handle, online, timeout = 20000) {
  await subject.driver.setOnline(online);
  await waitFor(async () => (await handle.evaluate(() => navigator.onLine)) === online, { timeout, interval: 25, label: `page onLine === ${online}` });
  await waitFor(async () => (await handle.call('onLine')) === online, { timeout, interval: 50, label: `worker onLine === ${online}` });
}

/**
 * The offset of the browser's clock from node's (browser - node), from the round trip with the smallest RTT, for the
 * page and for its worker (through the page). Both should be ~0: one machine, one wall clock.
 */
export async function clockOffsets(handle, samples = 12) {
  let best = { rtt: Infinity, offset: null };
  for (let i = 0; i < samples; i++) {
    const before = nodeNow();
    const inPage = await handle.evaluate(() => B.now());
    const after = nodeNow();
    if (after - before < best.rtt) best = { rtt: after - before, offset: inPage - (before + after) / 2 };
  }
  let worker = { rtt: Infinity, offset: null };
  for (let i = 0; i < samples; i++) {
    const { a, w, b } = await handle.evaluate(async () => {
      const a = B.now();
      const w = await B.call('now');
      return { a, w, b: B.now() };
    });
    if (b - a < worker.rtt) worker = { rtt: b - a, offset: w - (a + b) / 2 };
  }
  return { page: best, workerVsPage: worker };
}

// ---------------------------------------------------------------- load cost (Chromium, native API present)

/**
 * Main-thread time of evaluating each variant's script (trace event EvaluateScript), per page load, variants in
 * rotating order. Two ways of serving: `cached` (max-age, as a CDN serves a versioned file: after the warm-up, loads
 * reuse the HTTP cache and V8's code cache; the headline) and `uncached` (no-store: compiled afresh every time).
 */
export async function loadCost(subject, { loads = 30, warmup = 3, variants = ['empty', 'polyfill', 'unrun', 'detect', 'floor', 'floorPlain', 'floorTakeover', ...(process.env.BSP_LOAD_BEFORE ? ['before'] : [])] } = {}) {
  const page = await subject.driver.newPage();
  const cdp = await subject.driver.cdp(page);
  const result = { loads, warmup, unit: 'ms', cached: {}, uncached: {} };
  try {
    for (const serving of ['cached', 'uncached']) {
      const samples = Object.fromEntries(variants.map((v) => [v, []]));
      const offThread = Object.fromEntries(variants.map((v) => [v, []]));
      const dir = serving === 'cached' ? 'cached/' : '';
      for (let round = 0; round < warmup + loads; round++) {
        // Rotate the order, so no variant always goes first after a navigation of the same kind.
        const order = variants.map((_, i) => variants[(i + round) % variants.length]);
        for (const variant of order) {
          const events = [];
          const onData = ({ value }) => events.push(...value);
          cdp.on('Tracing.dataCollected', onData);
          await withTimeout(cdp.send('Tracing.start', { categories: 'devtools.timeline', transferMode: 'ReportEvents' }), 10000, 'Tracing.start');
          await page.goto(`${subject.origin}/load/${dir}${variant}.html`);
          const complete = new Promise((resolve) => cdp.once('Tracing.tracingComplete', resolve));
          await withTimeout(cdp.send('Tracing.end'), 10000, 'Tracing.end');
          await withTimeout(complete, 10000, 'tracingComplete');
          cdp.off('Tracing.dataCollected', onData);
          if (round < warmup) continue;
          const url = `/load/${dir}${variant}.js`;
          const about = (e) => {
            const data = e.args?.data ?? e.args ?? {};
            return typeof data.url === 'string' ? data.url.endsWith(url) : typeof data.fileName === 'string' && data.fileName.endsWith(url);
          };
          const evaluate = events.filter((e) => e.name === 'EvaluateScript' && e.ph === 'X' && about(e));
          if (!evaluate.length) throw new Error(`no EvaluateScript trace event for ${url}`);
          const mainTid = evaluate[0].tid;
          samples[variant].push(evaluate.reduce((total, e) => total + e.dur, 0) / 1000);
          const background = events.filter((e) => e.ph === 'X' && e.tid !== mainTid && (e.name === 'v8.parseOnBackground' || e.name === 'BackgroundJSStreamManager::RunScriptStreamingTask') && about(e));
          offThread[variant].push(background.reduce((total, e) => total + e.dur, 0) / 1000);
        }
      }
      const out = result[serving];
      out.variants = {};
      for (const v of variants) out.variants[v] = { mainThread: summary(samples[v]), offThreadParse: summary(offThread[v]), samples: samples[v] };
      const base = out.variants.empty.mainThread.p50;
      out.excessP50 = out.variants.polyfill.mainThread.p50 - base;
      if (out.variants.unrun) out.unrunExcessP50 = out.variants.unrun.mainThread.p50 - base;
      if (out.variants.detect) out.detectExcessP50 = out.variants.detect.mainThread.p50 - base;
      if (out.variants.floor) out.floorExcessP50 = out.variants.floor.mainThread.p50 - base;
    }
  } finally {
    await cdp.detach().catch(() => {});
    await page.close();
  }
  // The headline: repeat loads of a cacheable script.
  Object.assign(result, {
    variants: result.cached.variants,
    excessP50: result.cached.excessP50,
    unrunExcessP50: result.cached.unrunExcessP50,
    detectExcessP50: result.cached.detectExcessP50,
    floorExcessP50: result.cached.floorExcessP50,
  });
  return result;
}

// ---------------------------------------------------------------- register() latency

/** Waits until every event of these prefixes has settled in the worker (not timed); returns how many settled. */
async function settle(handle, prefixes, count, timeout) {
  const results = [];
  for (const prefix of prefixes) {
    await handle.call('expect', { prefix, count });
    const done = await handle.evaluate(({ p, t }) => B.waitDone(p, t), { p: prefix, t: timeout }, timeout + 5000);
    await handle.call('take', { prefix });
    results.push(done);
  }
  return results;
}

/**
 * 500 sequential register() calls per subject, in blocks of 100 alternating between subjects, then 500 concurrent
 * ones per subject, alternating. Online, as an app registers: events fire as they come. Between blocks every event
 * settles (not timed).
 */
export async function registerLatency(subjects, { sequential = 500, concurrent = 500, block = 100, log = () => {} } = {}) {
  const handles = new Map();
  const data = Object.fromEntries(subjects.map((s) => [s.id, { sequential: [], concurrent: [], unsettled: 0 }]));
  try {
    for (const subject of subjects) handles.set(subject.id, await openScope(subject, 'register'));
    const blocks = Math.ceil(sequential / block);
    for (let b = 0; b < blocks; b++) {
      for (const subject of subjects) {
        const handle = handles.get(subject.id);
        const prefix = `seq${b}`;
        const n = Math.min(block, sequential - b * block);
        const latencies = await handle.evaluate(({ p, n }) => B.registerSequential(p, n), { p: prefix, n }, 120000);
        data[subject.id].sequential.push(...latencies);
        const [done] = await settle(handle, [prefix], n, 60000);
        if (done.type !== 'done') data[subject.id].unsettled += n;
      }
    }
    log(`sequential done`);
    for (const subject of subjects) {
      const handle = handles.get(subject.id);
      const latencies = await handle.evaluate(({ p, n }) => B.registerConcurrent(p, n), { p: 'conc', n: concurrent }, 120000);
      data[subject.id].concurrent.push(...latencies);
      const [done] = await settle(handle, ['conc'], concurrent, 60000);
      if (done.type !== 'done') data[subject.id].unsettled += concurrent;
    }
  } finally {
    for (const handle of handles.values()) await handle.close({ unregister: true });
  }
  const out = {};
  for (const [id, d] of Object.entries(data)) {
    out[id] = { sequential: summary(d.sequential), concurrent: summary(d.concurrent), unsettled: d.unsettled };
  }
  return out;
}

// ---------------------------------------------------------------- reconnect latency

/**
 * From the call that brings the network back (Chromium: context.setOffline(false); others: the namespace's link up)
 * to the entry of the sync handler, with one page open. One tag registered offline per repetition.
 */
export async function reconnect(subjects, { reps = 30, timeout = 10000, log = () => {} } = {}) {
  const data = Object.fromEntries(subjects.map((s) => [s.id, { reps: [], clock: null }]));
  const scopes = Object.fromEntries(subjects.map((s) => [s.id, `${s.id}-reconnect-${Date.now().toString(36)}`]));
  for (let rep = 0; rep < reps; rep++) {
    for (const subject of subjects) {
      const d = data[subject.id];
      // Every other repetition measures the floor instead: when the worker's own navigator.onLine turns true.
      const probe = rep % 2 === 1;
      const record = { rep, probe, latency: null, pageOnline: null, poke: null, pokeWorkerOnLine: null, workerOnline: null, workerOnLineAt: null, switchCall: null, error: null };
      d.reps.push(record);
      let handle;
      let step = 'open the page';
      try {
        handle = await openScope(subject, 'reconnect', { scope: scopes[subject.id] });
        step = 'clock offsets';
        if (!d.clock) d.clock = await clockOffsets(handle);
        step = 'go offline';
        await setOnline(subject, handle, false);
        const prefix = `rc${rep}`;
        step = 'register offline';
        await handle.evaluate((tag) => B.registration.sync.register(tag), `${prefix}/0`);
        await sleep(AFTER_REGISTER_QUIET);
        step = 'expect';
        const { seen } = await handle.call('expect', { prefix, count: 1 });
        if (seen) throw new Error('the event fired while offline');
        await handle.call('diagnostics');
        if (probe) await handle.call('probeOnLine');
        step = 'wait for the event';
        const doneP = handle.evaluate(({ p, t }) => B.waitDone(p, t), { p: prefix, t: timeout }, timeout + 5000);
        doneP.catch(() => {});
        await sleep(50);
        const t0 = nodeNow();
        await subject.driver.setOnline(true);
        const t1 = nodeNow();
        record.switchCall = t1 - t0;
        const done = await doneP;
        // Browser times to node's clock: worker = page + workerVsPage; page = node + page offset.
        const pageOffset = d.clock.page.offset ?? 0;
        const workerOffset = pageOffset + (d.clock.workerVsPage.offset ?? 0);
        const onlineAt = await handle.evaluate(() => B.onlineAt[B.onlineAt.length - 1] ?? null);
        if (onlineAt != null) record.pageOnline = onlineAt - pageOffset - t0;
        const diagnostics = await handle.call('diagnostics');
        const poke = diagnostics.find((e) => e.type === 'poke' && e.t - workerOffset >= t0);
        if (poke) {
          record.poke = poke.t - workerOffset - t0;
          record.pokeWorkerOnLine = poke.onLine;
        }
        const flip = diagnostics.find((e) => e.type === 'workerOnLine' && e.t - workerOffset >= t0);
        if (flip) record.workerOnLineAt = flip.t - workerOffset - t0;
        const online = diagnostics.find((e) => e.type === 'online');
        if (online) record.workerOnline = online.t - workerOffset - t0;
        if (done.type !== 'done') {
          record.error = `no sync event within ${timeout} ms of going online (page online event ${fmt(record.pageOnline)}, ` +
            `poke at the worker ${fmt(record.poke)} with worker onLine=${record.pokeWorkerOnLine}, worker online event ${fmt(record.workerOnline)})`;
          throw new Error(record.error);
        }
        record.latency = done.firstEnter - workerOffset - t0;
        await handle.call('take', { prefix });
        await handle.evaluate(({ p }) => B.waitTagsGone(p, 20000), { p: prefix }, 25000);
      } catch (error) {
        record.error ??= `${step}: ${error.message}`;
        await subject.driver.setOnline(true).catch(() => {});
        // Leave no tag behind for the next repetition: a fresh scope.
        if (handle) await handle.close({ unregister: true });
        handle = null;
        scopes[subject.id] = `${subject.id}-reconnect-${Date.now().toString(36)}`;
      } finally {
        if (handle) await handle.close({ unregister: rep === reps - 1 });
      }
    }
    log(`rep ${rep + 1}/${reps}: ${subjects.map((s) => {
      const r = data[s.id].reps.at(-1);
      return `${s.id} ${r.latency != null ? `${r.latency.toFixed(1)} ms` : `FAILED: ${r.error}`}`;
    }).join(', ')}`);
  }
  const out = {};
  for (const [id, d] of Object.entries(data)) {
    // The latency figures come from the repetitions that were not probing for the floor.
    const measured = d.reps.filter((r) => !r.probe);
    const ok = measured.filter((r) => r.latency != null);
    // A repetition whose event never came counts as +Infinity: it moves the percentiles, it is not dropped.
    const withMisses = measured.map((r) => (r.latency != null ? r.latency : Infinity));
    const probes = d.reps.filter((r) => r.probe);
    out[id] = {
      reps: measured.length,
      fired: ok.length,
      latency: { ...summary(ok.map((r) => r.latency)), p50WithMisses: quantileInf(withMisses, 0.5), p95WithMisses: quantileInf(withMisses, 0.95) },
      pageOnlineEvent: summary(d.reps.map((r) => r.pageOnline).filter((v) => v != null)),
      pokeAtWorker: summary(measured.map((r) => r.poke).filter((v) => v != null)),
      workerOnlineEvent: summary(d.reps.map((r) => r.workerOnline).filter((v) => v != null)),
      // The floor: the worker's own navigator.onLine turning true (it never fires before), in the probing repetitions.
      ...(probes.length ? { workerOnLine: { probes: probes.length, ...summary(probes.map((r) => r.workerOnLineAt).filter((v) => v != null)) } } : {}),
      switchCall: summary(d.reps.map((r) => r.switchCall).filter((v) => v != null)),
      samples: ok.map((r) => r.latency),
      repetitions: d.reps,
      failures: d.reps.filter((r) => r.error).map((r) => `rep ${r.rep}: ${r.error}`),
      clock: d.clock,
    };
  }
  return out;
}

const fmt = (v) => (v == null ? 'never' : `${v.toFixed(1)} ms`);

/** A quantile where misses are +Infinity (sorted last). */
function quantileInf(values, q) {
  const sorted = values.slice().sort((a, b) => a - b);
  if (!sorted.length) return null;
  const pos = (sorted.length - 1) * q;
  const lo = sorted[Math.floor(pos)];
  const hi = sorted[Math.ceil(pos)];
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return Infinity;
  return lo + (hi - lo) * (pos - Math.floor(pos));
}

// ---------------------------------------------------------------- drain and scale

/**
 * One repetition: offline, register `count` tags (at most 100 in flight), back online, until every handler has
 * settled; then until getTags() is empty. A fresh scope each time.
 */
async function drainOnce(subject, count, { timeout }) {
  const handle = await openScope(subject, `drain${count}`);
  const prefix = `d${count}`;
  const result = { count, registerMs: null, firstEnterMs: null, lastSettleMs: null, spreadMs: null, storeEmptyMs: null, settled: 0, complete: false };
  try {
    const clock = await clockOffsets(handle, 6);
    await setOnline(subject, handle, false);
    result.registerMs = await handle.evaluate(({ p, n }) => B.registerMany(p, n, 100), { p: prefix, n: count }, timeout);
    await sleep(AFTER_REGISTER_QUIET + Math.min(count / 10, 2000)); // the polyfill's check reads every record
    const { seen } = await handle.call('expect', { prefix, count });
    if (seen) throw new Error(`${seen} events fired while offline`);
    const doneP = handle.evaluate(({ p, t }) => B.waitDone(p, t), { p: prefix, t: timeout }, timeout + 5000);
    doneP.catch(() => {});
    await sleep(50);
    const t0 = nodeNow();
    await subject.driver.setOnline(true);
    const done = await doneP;
    const workerOffset = (clock.page.offset ?? 0) + (clock.workerVsPage.offset ?? 0);
    if (done.type === 'done') {
      result.complete = true;
      result.settled = done.count;
      result.firstEnterMs = done.firstEnter - workerOffset - t0;
      result.lastSettleMs = done.lastSettle - workerOffset - t0;
      result.spreadMs = done.lastSettle - done.firstEnter;
      // Polling getTags() has a cost of its own with many tags: poll less often as they grow (resolution: interval).
      const interval = Math.max(25, Math.round(count / 20));
      result.storeEmptyResolutionMs = interval;
      const gone = await handle.evaluate(({ p, t, i }) => B.waitTagsGone(p, t, i), { p: prefix, t: timeout, i: interval }, timeout + 5000);
      if (gone.at != null) result.storeEmptyMs = gone.at - (clock.page.offset ?? 0) - t0;
    } else {
      const taken = await handle.call('take', { prefix }, 60000);
      result.settled = taken.settle.length;
      result.error = `only ${result.settled} of ${count} settled within ${timeout} ms`;
    }
  } catch (error) {
    result.error = error.message;
    await subject.driver.setOnline(true).catch(() => {});
  } finally {
    await handle.call('take', { prefix }, 60000).catch(() => {});
    await handle.close({ unregister: true });
  }
  return result;
}

/** Drain and scale: for each size, `reps[size]` repetitions per subject, alternating. */
export async function drainScale(subjects, { sizes, reps, timeout = 240000, log = () => {} }) {
  const out = {};
  for (const subject of subjects) out[subject.id] = {};
  for (const size of sizes) {
    const runs = Object.fromEntries(subjects.map((s) => [s.id, []]));
    for (let rep = 0; rep < (reps[size] ?? 1); rep++) {
      for (const subject of subjects) {
        const r = await drainOnce(subject, size, { timeout: size >= 10000 ? Math.max(timeout, 600000) : timeout });
        runs[subject.id].push(r);
        log(`${subject.id} ${size} tags, rep ${rep + 1}: register ${r.registerMs?.toFixed(0)} ms, all settled ${r.lastSettleMs?.toFixed(0) ?? '–'} ms after online, store empty ${r.storeEmptyMs?.toFixed(0) ?? '–'} ms${r.error ? `  (${r.error})` : ''}`);
      }
    }
    for (const subject of subjects) {
      const list = runs[subject.id];
      const ok = list.filter((r) => r.complete);
      const med = (key) => quantile(ok.map((r) => r[key]).filter((v) => v != null), 0.5);
      const registerMs = med('registerMs');
      const lastSettleMs = med('lastSettleMs');
      out[subject.id][size] = {
        reps: list.length,
        complete: ok.length,
        registerMs,
        firstEnterMs: med('firstEnterMs'),
        lastSettleMs,
        spreadMs: med('spreadMs'),
        storeEmptyMs: med('storeEmptyMs'),
        perTag: {
          register: registerMs == null ? null : registerMs / size,
          drain: lastSettleMs == null ? null : lastSettleMs / size,
          total: registerMs == null || lastSettleMs == null ? null : (registerMs + lastSettleMs) / size,
        },
        runs: list,
      };
    }
  }
  return out;
}

// ---------------------------------------------------------------- what bounds register(): raw IndexedDB

/** Raw readwrite transactions (one get, one put) with each durability, in a page of the polyfill's site. */
export async function idbBound(subject, { count = 200 } = {}) {
  const handle = await openScope(subject, 'idb');
  const out = {};
  try {
    for (const durability of ['strict', 'relaxed', 'default']) {
      const latencies = await handle.evaluate(({ n, d }) => B.idbTransactions(n, d), { n: count, d: durability }, 120000);
      out[durability] = summary(latencies);
    }
    // The polyfill's page asks its worker, which owns the store (docs/semantics.md §4): a round trip with no work.
    if (!subject.native) {
      out.messageRoundTrip = summary(await handle.evaluate((n) => B.messageRoundTrips(n), count, 120000));
      // The floor of a register() the worker stores, bare: the round trip and one transaction of the worker's; and with
      // a second transaction after each answer, as each event's outcome is written.
      out.workerTransaction = summary(await handle.evaluate((n) => B.workerTransactionRoundTrips(n, false), count, 120000));
      out.workerTransactionAndSettle = summary(await handle.evaluate((n) => B.workerTransactionRoundTrips(n, true), count, 120000));
      // The floor of draining 1,000 tags: one transaction of the worker's that reads 1,000 records and writes each back.
      out.claimFloor1000 = summary(await handle.evaluate(() => B.claimFloor(1000, 9), undefined, 120000));
    }
  } finally {
    await handle.close({ unregister: true });
  }
  return out;
}

// ---------------------------------------------------------------- kill recovery

/**
 * The kill benchmark's retry policy: 3 attempts, the first retry 1 s after a failure, each later one twice as late.
 * The polyfill gets it through configure() in the worker (fixtures/sw.js), native Chromium through its
 * `BackgroundSync` field trial (run.mjs: the kit's chromium driver, `nativeRetry`).
 */
export const KILL_POLICY = { maxAttempts: 3, initialRetryDelay: 1000, retryDelayFactor: 2 };
/** fixtures/sw.js: a held `kill` firing beats every 100 ms; after this long without a beat, its worker is dead. */
const KILL_BEAT_MS = 100;
const KILL_BEAT_SILENCE = 1000;

/** Registers `tag` from `handle`'s page and waits until its first firing holds (three beats): that firing's entry. */
async function holdFirstFiring(handle, killLog, scope, tag) {
  await handle.evaluate((t) => B.registration.sync.register(t), tag);
  const [first] = await killLog.waitForEntries({ type: 'enter', scope, tag }, { timeout: 15000, label: `the first firing of ${tag}` });
  await waitFor(() => killLog.entries({ type: 'beat', scope, tag, instance: first.instance }).length >= 3, { timeout: 10000, interval: 50, label: `the held firing of ${tag} to beat` });
  return first;
}

/** The death of the worker instance holding `tag`, in the worker's clock: its last beat + half a beat (±50 ms). */
function deathByBeats(killLog, scope, tag, instance, timeout) {
  return waitFor(() => {
    const beats = killLog.entries({ type: 'beat', scope, tag, instance });
    if (!beats.length || Date.now() - Math.max(...beats.map((b) => b.receivedAt)) <= KILL_BEAT_SILENCE) return null;
    return Math.max(...beats.map((b) => b.t)) + KILL_BEAT_MS / 2;
  }, { timeout, interval: 50, label: `the worker holding ${tag} to stop beating` });
}

/** The next firing of `tag` after the killed one: it must run in another worker instance. */
async function nextAttempt(killLog, scope, tag, first, timeout) {
  const entries = await killLog.waitForEntries({ type: 'enter', scope, tag }, { count: 2, timeout, label: `the next attempt of ${tag}` });
  const next = entries[1];
  if (next.instance === first.instance) throw new Error(`the next attempt ran in the killed worker instance (${first.instance}): it was not stopped`);
  return next;
}

/** A worker's clock against node's (worker - node), from clockOffsets(). */
const workerOffset = (clock) => (clock.page.offset ?? 0) + (clock.workerVsPage.offset ?? 0);

const newKillRecord = (rep) => ({ rep, killed: false, recovery: null, firstRanMs: null, killCallMs: null, nextLastChance: null, error: null });

/**
 * Kill recovery: from a worker stopped mid-event to the entry of the next attempt's sync handler, one page open,
 * with KILL_POLICY. Each repetition registers one tag at a scope of its own; its first firing holds (a waitUntil
 * that never settles, fixtures/sw.js `killAttempt`) and its worker dies:
 *   Chromium (native and API deleted, alternating repetition by repetition): CDP ServiceWorker.stopAllWorkers; time 0
 *     is when the call returns (Chromium has stopped the workers by then), in node's clock, moved to the worker's
 *     by the measured clock offset;
 *   Firefox (a browser with short service worker lifetimes, run.mjs): Firefox terminates the worker itself some
 *     seconds into the event; time 0 is the death, from the held handler's beats: the last one + half a beat, in
 *     the worker's clock.
 * The end is the next firing's entry stamp (the handler's first line), which must be in another worker instance.
 * A killed repetition with no next attempt within `timeout` is a miss: ∞ in the percentiles "with misses".
 */
export async function killRecovery(subjects, { reps = 20, timeout = 90000, killLog, log = () => {} }) {
  const data = Object.fromEntries(subjects.map((s) => [s.id, { reps: [], clock: null }]));
  for (let rep = 0; rep < reps; rep++) {
    for (const subject of subjects) data[subject.id].reps.push(await killOnce(subject, rep, data[subject.id], { timeout, killLog }));
    log(`kill rep ${rep + 1}/${reps}: ${subjects.map((s) => describeKill(s.id, data[s.id].reps.at(-1))).join(', ')}`);
  }
  return summarizeKills(data);
}

async function killOnce(subject, rep, d, { timeout, killLog }) {
  const record = newKillRecord(rep);
  const tag = `kill${rep}/0`;
  let handle;
  let step = 'open the page';
  try {
    handle = await openScope(subject, 'kill', { sw: KILL_POLICY });
    const scope = `${subject.origin}/bench/s/${handle.scopeName}/`;
    step = 'clock offsets';
    d.clock ??= await clockOffsets(handle);
    step = 'the first firing';
    const first = await holdFirstFiring(handle, killLog, scope, tag);
    step = 'stop the worker';
    let zero; // time 0, in the worker's clock
    if (subject.engine === 'chromium') {
      const before = nodeNow();
      await subject.driver.stopAllWorkers(handle.page);
      const after = nodeNow();
      record.killCallMs = after - before;
      zero = after + workerOffset(d.clock);
    } else {
      zero = await deathByBeats(killLog, scope, tag, first.instance, 20000);
    }
    record.killed = true;
    record.firstRanMs = zero - first.t;
    step = 'the next attempt';
    const next = await nextAttempt(killLog, scope, tag, first, timeout);
    const late = killLog.entries({ type: 'beat', scope, tag, instance: first.instance }).filter((b) => b.t > zero + KILL_BEAT_MS);
    if (late.length) {
      record.killed = false; // not a miss: the worker was not stopped at time 0, so this repetition measured nothing
      throw new Error(`the killed worker beat ${late.length} more times after time 0: it was not stopped then`);
    }
    record.recovery = next.t - zero;
    record.nextLastChance = next.lastChance;
    step = 'settle';
    await handle.evaluate((p) => B.waitTagsGone(p, 20000), tag.slice(0, tag.lastIndexOf('/')), 25000);
  } catch (error) {
    record.error = `${step}: ${error.message}`;
  } finally {
    if (handle) await handle.close({ unregister: true }).catch(() => {});
  }
  return record;
}

/**
 * The same in WebKitGTK, where a service worker has no process of its own: it runs in the web content process of a
 * page of its origin, and dies when that process does (the fault suite's worker-killed). Per repetition a MiniBrowser
 * of its own (`launch`; WebKitWebDriver deletes its session when a page crashes): page A registers the worker (it
 * runs in A's process), page B, in a process of its own, registers the tag, and A's process is SIGKILLed while the
 * first firing holds. Time 0 is the kill, in node's clock, moved to the worker's by the offset measured through
 * page B; the next attempt reports to the server, which needs no session.
 */
export async function killRecoveryWebKit(subject, { reps = 20, timeout = 90000, killLog, launch, log = () => {} }) {
  const d = { reps: [], clock: null, browser: null };
  for (let rep = 0; rep < reps; rep++) {
    d.reps.push(await killOnceWebKit(subject, rep, d, { timeout, killLog, launch }));
    log(`kill rep ${rep + 1}/${reps}: ${describeKill(subject.id, d.reps.at(-1))}`);
  }
  return { ...summarizeKills({ [subject.id]: d }), browser: d.browser };
}

async function killOnceWebKit(subject, rep, d, { timeout, killLog, launch }) {
  const record = newKillRecord(rep);
  const tag = `kill${rep}/0`;
  let browser;
  let step = 'launch WebKit';
  try {
    browser = await launch();
    d.browser ??= browser.version;
    const own = { ...subject, driver: browser };
    const before = new Set(webKitWebProcesses());
    step = 'open page A';
    const pageA = await openScope(own, 'kill', { sw: KILL_POLICY });
    const processA = webKitWebProcesses().filter((pid) => !before.has(pid));
    const beforeB = new Set(webKitWebProcesses());
    step = 'open page B';
    const pageB = await openScope(own, 'kill', { sw: KILL_POLICY, scope: pageA.scopeName });
    const processB = webKitWebProcesses().filter((pid) => !beforeB.has(pid));
    if (processA.length !== 1 || processB.length !== 1) throw new Error(`pages A and B should each have a web process of their own, found ${processA.length} and ${processB.length} new`);
    const scope = `${subject.origin}/bench/s/${pageA.scopeName}/`;
    step = 'clock offsets';
    const clock = await clockOffsets(pageB);
    d.clock ??= clock;
    step = 'the first firing';
    const first = await holdFirstFiring(pageB, killLog, scope, tag);
    step = 'SIGKILL page A\'s web process';
    process.kill(processA[0], 'SIGKILL');
    const zero = nodeNow() + workerOffset(clock);
    record.killed = true;
    record.firstRanMs = zero - first.t;
    await waitFor(() => processGone(processA[0]), { timeout: 5000, interval: 20, label: 'page A\'s web process gone' });
    step = 'the next attempt';
    const next = await nextAttempt(killLog, scope, tag, first, timeout);
    record.recovery = next.t - zero;
    record.nextLastChance = next.lastChance;
    if (processGone(processB[0])) throw new Error('page B\'s web process died too');
  } catch (error) {
    record.error = `${step}: ${error.message}`;
  } finally {
    // The session is gone with page A's process: closing the driver ends MiniBrowser, its driver and Xvfb by pid.
    if (browser) await browser.close().catch(() => {});
  }
  return record;
}

function describeKill(id, r) {
  if (r.recovery != null) return `${id} ${r.recovery.toFixed(0)} ms${r.error ? ` (then: ${r.error})` : ''}`;
  return `${id} ${r.killed ? 'MISSED' : 'FAILED before the kill'}: ${r.error}`;
}

function summarizeKills(data) {
  const out = {};
  for (const [id, d] of Object.entries(data)) {
    const killed = d.reps.filter((r) => r.killed);
    const ok = killed.filter((r) => r.recovery != null);
    // A killed repetition whose next attempt never came counts as +Infinity; one that failed before the kill
    // measured nothing and is only listed.
    const withMisses = killed.map((r) => (r.recovery != null ? r.recovery : Infinity));
    out[id] = {
      reps: d.reps.length,
      killed: killed.length,
      recovered: ok.length,
      recovery: { ...summary(ok.map((r) => r.recovery)), p50WithMisses: quantileInf(withMisses, 0.5), p95WithMisses: quantileInf(withMisses, 0.95) },
      firstRan: summary(killed.map((r) => r.firstRanMs)),
      killCall: summary(killed.map((r) => r.killCallMs).filter((v) => v != null)),
      nextLastChance: ok.filter((r) => r.nextLastChance).length,
      policy: KILL_POLICY,
      samples: ok.map((r) => r.recovery),
      repetitions: d.reps,
      failures: d.reps.filter((r) => r.error).map((r) => `rep ${r.rep}: ${r.error}`),
      clock: d.clock,
    };
  }
  return out;
}
