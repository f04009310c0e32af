// The periodic suite (`node bench/run.mjs --only=periodic`): Periodic Background Sync's register(), getTags() and
// dispatch at 1,000 registrations, against the polyfill's own one-shot path at the same count, in the same run.
//
// There is no native baseline. Chromium ships periodicSync, but fires it only for an installed web app with site
// engagement, on its own schedule (12 h at the least), and Workbox has no periodic support. So every ratio here is
// periodic / one-shot of the polyfill, in the same engine and run, the two kinds alternating repetition by repetition,
// each in a fresh scope; the worker (fixtures/sw.js) runs with `configure({ periodicMinInterval: 0 })`, so the
// interval is the app's minInterval, and its handlers settle at once.
//
//   register   `count` register() calls from a page, one after another and all started together: ms per call and in
//              all. Online, as an app registers: a one-shot tag fires at once, a periodic one (minInterval 1 h) waits.
//              Then one after another offline, where nothing fires and no pass reads the store: what grows online.
//   getTags    getTags() with `count` tags of its kind registered (offline, so none fires): ms per call.
//   dispatch   offline, `count` tags registered (100 in flight; periodic: minInterval 2 s, waited out so every one is
//              due), then the network back: from that call to the last handler's settle. The one-shot side is the
//              drain suite's measurement.
//   due        periodic only, online, a page open: `count` tags registered (100 in flight) with a minInterval long
//              enough that all are stored before the first is due; from the moment the last one is due (its stored
//              `notBefore`) to the last handler's settle, and each event's lag behind its own `notBefore`.
import { nodeNow, summary, quantile, ratio } from './lib.mjs';
import { openScope, setOnline, clockOffsets } from './suites.mjs';
import { sleep } from '../test/kit/util.mjs';

/** A periodic tag in the register suite must not fire while it is measured. */
const LONG_INTERVAL = 3600000;
/** The dispatch suite's periodic tags are due this long after they are stored. */
const SHORT_INTERVAL = 2000;
/** The one-shot page's check and the worker's register passes: let them end before the network comes back. */
const QUIET = 1300;

const KINDS = ['periodic', 'oneshot'];
const REGISTER_MODES = ['sequential', 'concurrent', 'sequentialOffline'];
/** Kinds in alternating order: repetition `rep` starts with the other kind than the one before. */
const order = (rep) => (rep % 2 ? [...KINDS].reverse() : KINDS);

/** The p50 of each tenth of a series of sequential latencies, pooled over repetitions: does a call slow as N grows? */
function tenths(series) {
  const out = [];
  for (let t = 0; t < 10; t++) {
    const pooled = [];
    for (const latencies of series) {
      const n = latencies.length;
      pooled.push(...latencies.slice(Math.floor((t * n) / 10), Math.floor(((t + 1) * n) / 10)));
    }
    out.push(quantile(pooled, 0.5));
  }
  return out;
}

/**
 * Concurrent calls: how long each tenth of them took to resolve (the time between the completion of call k·n/10 and
 * call (k+1)·n/10, the first from the start), median over repetitions. Flat after the first: linear in n.
 */
function completionTenths(series) {
  const out = [];
  for (let t = 0; t < 10; t++) {
    out.push(quantile(series.map((c) => {
      const n = c.length;
      const from = t === 0 ? 0 : c[Math.floor((t * n) / 10) - 1];
      return c[Math.floor(((t + 1) * n) / 10) - 1] - from;
    }), 0.5));
  }
  return out;
}

/** Unregisters the service worker registration (the polyfill drops its tags, periodic ones too), then closes. */
async function closeScope(handle) {
  await handle.evaluate(() => B.registration.unregister()).catch(() => {});
  await handle.close();
}

/** Waits (untimed) until `count` one-shot events of `prefix` have settled; whether they did. */
async function settled(handle, prefix, count, timeout = 120000) {
  await handle.call('expect', { prefix, count });
  const done = await handle.evaluate(({ p, t }) => B.waitDone(p, t), { p: prefix, t: timeout }, timeout + 5000);
  await handle.call('take', { prefix }, 60000).catch(() => {});
  return done.type === 'done';
}

/**
 * One register measurement: a fresh scope, `count` calls of `kind`. `how`: sequential | concurrent (online) |
 * sequentialOffline (nothing fires, and the worker's pass after each call returns before reading the store).
 */
async function registerOnce(subject, kind, how, count) {
  const handle = await openScope(subject, `preg-${kind}`, { sw: { periodicMinInterval: 0 } });
  const offline = how === 'sequentialOffline';
  try {
    if (offline) await setOnline(subject, handle, false);
    const prefix = `${{ sequential: 's', concurrent: 'c', sequentialOffline: 'f' }[how]}${kind === 'periodic' ? 'p' : 'o'}`;
    const fn = how === 'concurrent' ? 'registerKindConcurrent' : 'registerKindSequential';
    const r = await handle.evaluate(({ f, k, p, n, m }) => B[f](k, p, n, m), { f: fn, k: kind, p: prefix, n: count, m: LONG_INTERVAL }, 300000);
    // Online, one-shot tags fire as they come; let them settle (not timed) before the scope goes. Periodic ones never
    // fire here; offline, the scope is unregistered (its tags dropped) before the network comes back.
    const ok = kind === 'oneshot' && !offline ? await settled(handle, prefix, count) : true;
    return { ...r, unsettled: ok ? 0 : count };
  } finally {
    await closeScope(handle);
    if (offline) await subject.driver.setOnline(true);
  }
}

/**
 * One dispatch measurement: offline, `count` tags of `kind` registered (100 in flight), getTags() timed `getTagsReps`
 * times, every tag due, then the network back; until every handler has settled. A fresh scope.
 */
async function dispatchOnce(subject, kind, count, { getTagsReps, timeout }) {
  const handle = await openScope(subject, `pdis-${kind}`, { sw: { periodicMinInterval: 0 } });
  const prefix = kind === 'periodic' ? 'dp' : 'do';
  const result = { kind, count, registerMs: null, getTags: null, tagsSeen: null, firstEnterMs: null, lastSettleMs: null, spreadMs: null, complete: false, error: null };
  let step = 'clock offsets';
  try {
    const clock = await clockOffsets(handle, 6);
    step = 'go offline';
    await setOnline(subject, handle, false);
    step = 'register';
    result.registerMs = await handle.evaluate(({ k, p, n, m }) => B.registerKindMany(k, p, n, m, 100), { k: kind, p: prefix, n: count, m: SHORT_INTERVAL }, timeout);
    step = 'getTags';
    const tags = await handle.evaluate(({ k, p, n }) => B.getTagsTimes(k, p, n), { k: kind, p: prefix, n: getTagsReps }, timeout);
    result.getTags = tags.latencies;
    result.tagsSeen = Math.min(...tags.counts);
    if (result.tagsSeen !== count) throw new Error(`getTags() returned ${result.tagsSeen} of ${count} tags`);
    step = 'wait until due';
    // Periodic: until the last tag is due (as stored), then the same quiet as the one-shot side.
    let wait = QUIET + Math.min(count / 10, 2000);
    if (kind === 'periodic') {
      const due = Object.values(await handle.evaluate((p) => B.periodicDue(p), prefix, 60000));
      if (due.length !== count) throw new Error(`${due.length} of ${count} periodic records in the store`);
      wait = Math.max(wait, Math.max(...due) - Date.now() + 50);
    }
    await sleep(wait);
    const { seen } = await handle.call('expect', { prefix, count });
    if (seen) throw new Error(`${seen} events fired while offline`);
    step = 'dispatch';
    const doneP = handle.evaluate(({ p, t }) => B.waitDone(p, t), { p: prefix, t: timeout }, timeout + 5000);
    doneP.catch(() => {});
    await sleep(50);
    const t0 = nodeNow();
    await subject.driver.setOnline(true);
    const done = await doneP;
    // Unregistered at once: a periodic tag's next period starts 2 s after its event settled.
    if (kind === 'periodic') await handle.evaluate(() => B.registration.unregister()).catch(() => {});
    const workerOffset = (clock.page.offset ?? 0) + (clock.workerVsPage.offset ?? 0);
    if (done.type !== 'done') throw new Error(`not every event settled within ${timeout} ms`);
    result.complete = true;
    result.firstEnterMs = done.firstEnter - workerOffset - t0;
    result.lastSettleMs = done.lastSettle - workerOffset - t0;
    result.spreadMs = done.lastSettle - done.firstEnter;
  } catch (error) {
    result.error = `${step}: ${error.message}`;
    await subject.driver.setOnline(true).catch(() => {});
  } finally {
    await handle.call('take', { prefix }, 60000).catch(() => {});
    await closeScope(handle);
  }
  return result;
}

/**
 * Periodic tags due by the clock, online, a page open: `count` registered (100 in flight) with `interval`; from the
 * last one's notBefore to the last settle, and each event's lag behind its own notBefore (both Date.now() of the
 * worker). A fresh scope.
 */
async function dueOnce(subject, count, interval, { timeout }) {
  const handle = await openScope(subject, 'pdue', { sw: { periodicMinInterval: 0 } });
  const prefix = 'due';
  const result = { count, interval, registerMs: null, storedBeforeFirstDue: null, lastDueToLastSettleMs: null, firstDueToFirstEnterMs: null, lag: null, complete: false, error: null };
  let step = 'clock offsets';
  try {
    const clock = await clockOffsets(handle, 6);
    await handle.call('expect', { prefix, count });
    step = 'register';
    result.registerMs = await handle.evaluate(({ p, n, m }) => B.registerKindMany('periodic', p, n, m, 100), { p: prefix, n: count, m: interval }, timeout);
    const registeredAt = Date.now();
    step = 'read notBefore';
    const due = await handle.evaluate((p) => B.periodicDue(p), prefix, 60000);
    const times = Object.values(due);
    if (times.length !== count) throw new Error(`${times.length} of ${count} periodic records in the store`);
    const firstDue = Math.min(...times);
    const lastDue = Math.max(...times);
    // The run is clean when every tag was stored before the first came due (registration and dispatch apart).
    result.storedBeforeFirstDue = registeredAt < firstDue;
    result.dueSpreadMs = lastDue - firstDue;
    step = 'dispatch';
    const done = await handle.evaluate(({ p, t }) => B.waitDone(p, t), { p: prefix, t: timeout + interval }, timeout + interval + 5000);
    await handle.evaluate(() => B.registration.unregister()).catch(() => {});
    if (done.type !== 'done') throw new Error(`not every event settled within ${timeout} ms of being due`);
    const taken = await handle.call('take', { prefix }, 60000);
    // The worker's event stamps (performance.timeOrigin + now()) to its Date.now(), the clock of notBefore.
    const workerVsWall = await handle.call('wallVsNow');
    result.wallVsNow = workerVsWall;
    result.complete = true;
    result.lastDueToLastSettleMs = done.lastSettle + workerVsWall - lastDue;
    result.firstDueToFirstEnterMs = done.firstEnter + workerVsWall - firstDue;
    result.lag = summary(Object.entries(taken.wall).map(([tag, t]) => t - due[tag]));
    result.clock = clock;
  } catch (error) {
    result.error = `${step}: ${error.message}`;
  } finally {
    await handle.call('take', { prefix }, 60000).catch(() => {});
    await closeScope(handle);
  }
  return result;
}

/**
 * The suite for each subject (an engine with the polyfill). `count`: registrations (1,000); `registerReps`: repetitions
 * of each register measurement per kind; `dispatchReps`: of the dispatch one per kind; `dueReps`: of the due one.
 */
export async function periodicSuite(subjects, { count = 1000, registerReps = 2, dispatchReps = 3, dueReps = 2, getTagsReps = 20, timeout = 240000, log = () => {} } = {}) {
  const out = {};
  for (const subject of subjects) {
    const raw = { sequential: { periodic: [], oneshot: [] }, concurrent: { periodic: [], oneshot: [] }, sequentialOffline: { periodic: [], oneshot: [] }, dispatch: { periodic: [], oneshot: [] }, due: [] };
    for (const how of REGISTER_MODES) {
      for (let rep = 0; rep < registerReps; rep++) {
        for (const kind of order(rep)) {
          const r = await registerOnce(subject, kind, how, count);
          raw[how][kind].push(r);
          log(`${subject.id} ${how} register, ${kind}, rep ${rep + 1}: ${count} calls in ${r.total.toFixed(0)} ms, p50 ${quantile(r.latencies, 0.5).toFixed(2)} ms`);
        }
      }
    }
    for (let rep = 0; rep < dispatchReps; rep++) {
      for (const kind of order(rep)) {
        const r = await dispatchOnce(subject, kind, count, { getTagsReps, timeout });
        raw.dispatch[kind].push(r);
        log(`${subject.id} dispatch, ${kind}, rep ${rep + 1}: register ${r.registerMs?.toFixed(0)} ms, getTags p50 ${r.getTags ? quantile(r.getTags, 0.5).toFixed(2) : '–'} ms, all settled ${r.lastSettleMs?.toFixed(0) ?? '–'} ms after online${r.error ? `  (${r.error})` : ''}`);
      }
    }
    // Long enough that every tag is stored before the first is due: three times the periodic registration above.
    const registered = quantile(raw.dispatch.periodic.map((r) => r.registerMs).filter((v) => v != null), 0.5) ?? 2000;
    const interval = Math.max(3000, Math.ceil((registered * 3 + 1000) / 1000) * 1000);
    for (let rep = 0; rep < dueReps; rep++) {
      const r = await dueOnce(subject, count, interval, { timeout });
      raw.due.push(r);
      log(`${subject.id} due by the clock, rep ${rep + 1} (minInterval ${interval} ms): last due → last settle ${r.lastDueToLastSettleMs?.toFixed(0) ?? '–'} ms, lag p50 ${r.lag?.p50?.toFixed(0) ?? '–'} ms${r.error ? `  (${r.error})` : ''}`);
    }
    out[subject.id] = summarize(raw, { count, interval });
  }
  return out;
}

function summarize(raw, { count, interval }) {
  const kinds = (fn) => Object.fromEntries(KINDS.map((k) => [k, fn(k)]));
  const med = (list, key) => quantile(list.filter((r) => r.complete !== false && r[key] != null).map((r) => r[key]), 0.5);
  const register = {};
  for (const how of REGISTER_MODES) {
    register[how] = kinds((k) => {
      const reps = raw[how][k];
      return {
        reps: reps.length,
        latency: summary(reps.flatMap((r) => r.latencies)),
        totalMs: quantile(reps.map((r) => r.total), 0.5),
        perCallMs: quantile(reps.map((r) => r.total / count), 0.5),
        totals: reps.map((r) => r.total),
        ...(how !== 'concurrent' ? { tenthsP50: tenths(reps.map((r) => r.latencies)) } : { completionTenths: completionTenths(reps.map((r) => r.completions)) }),
        unsettled: reps.reduce((a, r) => a + r.unsettled, 0),
      };
    });
  }
  const dispatch = kinds((k) => {
    const reps = raw.dispatch[k];
    const ok = reps.filter((r) => r.complete);
    return {
      reps: reps.length,
      complete: ok.length,
      registerManyMs: med(ok, 'registerMs'),
      getTags: summary(reps.flatMap((r) => r.getTags ?? [])),
      firstEnterMs: med(ok, 'firstEnterMs'),
      lastSettleMs: med(ok, 'lastSettleMs'),
      spreadMs: med(ok, 'spreadMs'),
      runs: reps,
    };
  });
  const dueOk = raw.due.filter((r) => r.complete);
  const due = {
    interval,
    reps: raw.due.length,
    complete: dueOk.length,
    storedBeforeFirstDue: dueOk.filter((r) => r.storedBeforeFirstDue).length,
    registerManyMs: med(dueOk, 'registerMs'),
    dueSpreadMs: med(dueOk, 'dueSpreadMs'),
    lastDueToLastSettleMs: med(dueOk, 'lastDueToLastSettleMs'),
    firstDueToFirstEnterMs: med(dueOk, 'firstDueToFirstEnterMs'),
    lagP50: med(dueOk.map((r) => ({ v: r.lag.p50 })), 'v'),
    lagP95: med(dueOk.map((r) => ({ v: r.lag.p95 })), 'v'),
    lagMax: dueOk.length ? Math.max(...dueOk.map((r) => r.lag.max)) : null,
    runs: raw.due,
  };
  const p = (how, key) => ratio(register[how].periodic.latency[key], register[how].oneshot.latency[key]);
  const ratios = {
    sequentialP50: p('sequential', 'p50'),
    sequentialTotal: ratio(register.sequential.periodic.totalMs, register.sequential.oneshot.totalMs),
    sequentialOfflineP50: p('sequentialOffline', 'p50'),
    sequentialOfflineTotal: ratio(register.sequentialOffline.periodic.totalMs, register.sequentialOffline.oneshot.totalMs),
    concurrentP50: p('concurrent', 'p50'),
    concurrentTotal: ratio(register.concurrent.periodic.totalMs, register.concurrent.oneshot.totalMs),
    getTagsP50: ratio(dispatch.periodic.getTags.p50, dispatch.oneshot.getTags.p50),
    registerMany: ratio(dispatch.periodic.registerManyMs, dispatch.oneshot.registerManyMs),
    dispatch: ratio(dispatch.periodic.lastSettleMs, dispatch.oneshot.lastSettleMs),
    // From the first handler on: without the engine's own delay in seeing the network back (about 1 s in Firefox, 5 s
    // in WebKitGTK, which both kinds wait alike).
    dispatchSpread: ratio(dispatch.periodic.spreadMs, dispatch.oneshot.spreadMs),
  };
  // Growth within a sequential run: the last tenth's p50 over the first's (flat ≈ 1).
  const growthOf = (how) => kinds((k) => {
    const t = register[how][k].tenthsP50;
    return ratio(t[9], t[0]);
  });
  // Concurrent: the last tenth's time to resolve over the second's (the first carries the start-up).
  const concurrent = kinds((k) => {
    const t = register.concurrent[k].completionTenths;
    return ratio(t[9], t[1]);
  });
  const growth = { ...growthOf('sequential'), offline: growthOf('sequentialOffline'), concurrent };
  return { count, register, dispatch, due, ratios, growth };
}
