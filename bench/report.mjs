// Turns one run's results into bench/results.json, bench/results.md (with the targets table, the details and what
// bounds each missed target) and bench/results.svg, and prints the targets table.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fmtMs, fmtRatio, fmtBytes, ratio, quantile } from './lib.mjs';
import { distributionChart, lineChart, document, COLORS } from './svg.mjs';

const LABELS = {
  'chromium-native': 'Chromium, native',
  'chromium-polyfill': 'Chromium, API deleted (polyfill)',
  'firefox-polyfill': 'Firefox ESR (polyfill)',
  'webkit-polyfill': 'WebKitGTK (polyfill)',
};
const COLOR = { 'chromium-native': COLORS.native, 'chromium-polyfill': COLORS.polyfill, 'firefox-polyfill': COLORS.firefox, 'webkit-polyfill': COLORS.webkit };
const MET = '✅ met';
const MISSED = '❌ missed';
const NOT_RUN = '— not measured';
/** A target that the floor measured in the same run already exceeds (docs/performance.md). */
const BLOCKED = '⛔ blocked';
const verdict = (ok) => (ok == null ? NOT_RUN : ok ? MET : MISSED);
const isInf = (v) => v === Infinity || v === 'Infinity';
const inf = (v, f = fmtMs) => (isInf(v) ? '∞' : f(v));
const ms = (v) => (v == null ? '–' : isInf(v) ? '∞' : `${fmtMs(v)} ms`);

/** Reads a results.json written by writeReport (for re-rendering): "Infinity" back to Infinity. */
export const reviveResults = (text) => JSON.parse(text, (key, value) => (value === 'Infinity' ? Infinity : value));
const pct = (v) => `${Math.round(v * 100)}%`;
/** How the kill benchmark's worker died in `id`, and where its time 0 is (bench/suites.mjs killRecovery). */
function killHow(id, v) {
  const seconds = (name) => (v?.prefs?.[name] != null ? `${v.prefs[name] / 1000} s` : '?');
  switch (id) {
    case 'chromium-native':
    case 'chromium-polyfill':
      return 'by CDP `ServiceWorker.stopAllWorkers`; time 0 when the call returns';
    case 'firefox-polyfill':
      return `by Firefox itself, its service worker lifetimes cut to ${seconds('dom.serviceWorkers.idle_timeout')} idle and ${seconds('dom.serviceWorkers.idle_extended_timeout')} more with an event pending; time 0 is the death, from the held handler's beats (every 100 ms: the last one + 50 ms)`;
    case 'webkit-polyfill':
      return 'with the web content process that hosts it (SIGKILL), in a MiniBrowser per repetition; time 0 is the kill';
    default:
      return '–';
  }
}

export function writeReport(results, { base = 'results' } = {}) {
  const file = (ext) => fileURLToPath(new URL(`./${base}.${ext}`, import.meta.url));
  // Infinity (a repetition whose event never came) survives the round trip as the string "Infinity".
  writeFileSync(file('json'), `${JSON.stringify(results, (key, value) => (value === Infinity ? 'Infinity' : value), 2)}\n`);
  const svg = renderSvg(results);
  if (svg) writeFileSync(file('svg'), svg);
  writeFileSync(file('md'), renderMarkdown(results, svg ? `${base}.svg` : null, base));
  console.log(`\n${renderConsole(results)}`);
  return [file('json'), file('md'), ...(svg ? [file('svg')] : [])];
}

// ---------------------------------------------------------------- targets

export function targets(r) {
  const s = r.suites;
  const rows = [];
  const size = s.size;
  const scripts = size?.scripts;
  const page = scripts?.window;
  const universal = scripts?.universal;
  rows.push({
    what: 'the page script and the universal script (`dist/background-sync-polyfill.window.min.js`, `dist/background-sync-polyfill.min.js`)',
    how: 'exact bytes, gzip -9 and brotli q11',
    target: 'page ≤ 2,500 B gzip; universal ≤ 6,000 B gzip',
    measured: page && universal
      ? `page ${fmtBytes(page.gzip)} B gzip (${fmtBytes(page.brotli)} B brotli, ${fmtBytes(page.raw)} B minified); universal ${fmtBytes(universal.gzip)} B gzip (${fmtBytes(universal.brotli)} B brotli)`
      : 'not measured',
    verdict: verdict(page && universal ? page.gzip <= 2500 && universal.gzip <= 6000 : null),
  });
  const worker = scripts?.sw;
  rows.push({
    what: 'the worker script (`dist/background-sync-polyfill.sw.min.js`, idb included) against Workbox (worker side: workbox-background-sync + workbox-core + idb)',
    how: 'from the npm packages in the same run: bundled (rollup, NODE_ENV=production, terser), and its two prod builds',
    target: '≤ Workbox\'s prod builds (ratio ≤ 1.0; moonshot: ≤ its bundle)',
    measured: worker && size?.workbox
      ? `${fmtBytes(worker.gzip)} B gzip: ${fmtRatio(worker.gzip / size.workbox.prodBuilds.gzip)} against the prod builds (${fmtBytes(size.workbox.prodBuilds.gzip)} B gzip); ${fmtRatio(worker.gzip / size.workbox.bundle.gzip)} against the bundle (${fmtBytes(size.workbox.bundle.gzip)} B gzip)`
      : 'not measured',
    verdict: verdict(worker && size?.workbox ? worker.gzip <= size.workbox.prodBuilds.gzip : null),
  });
  const load = s.load;
  rows.push({
    what: 'loading the script where native exists',
    how: `main-thread time (trace event EvaluateScript), median of ${load?.loads ?? 30} page loads, Chromium; the script served cacheable, as from a CDN`,
    target: '≤ the detection alone + 0.02 ms',
    measured: load?.variants
      ? `${fmtMs(load.variants.polyfill.mainThread.p50)} ms against the detection alone ${fmtMs(load.variants.detect.mainThread.p50)} ms → **+${fmtMs(load.variants.polyfill.mainThread.p50 - load.variants.detect.mainThread.p50)} ms** (an empty script: ${fmtMs(load.variants.empty.mainThread.p50)} ms)` +
        (load.variants.floor ? `; floor, the detection and the global's accessor with nothing to load: ${fmtMs(load.variants.floor.mainThread.p50)} ms, +${fmtMs(load.variants.floor.mainThread.p50 - load.variants.detect.mainThread.p50)} ms over the detection` : '') +
        (load.variants.floorPlain ? ` (the global a plain object: +${fmtMs(load.variants.floorPlain.mainThread.p50 - load.variants.detect.mainThread.p50)} ms)` : '') +
        (load.variants.floorTakeover ? `; the floor with the takeover's triggers (docs/semantics.md §8): +${fmtMs(load.variants.floorTakeover.mainThread.p50 - load.variants.detect.mainThread.p50)} ms` : '') +
        (load.variants.before ? `; an earlier build's page script (BSP_LOAD_BEFORE): +${fmtMs(load.variants.before.mainThread.p50 - load.variants.detect.mainThread.p50)} ms` : '') +
        (load.uncached?.variants ? `; served no-store, compiled afresh each time: +${fmtMs(load.uncached.excessP50)} ms` : '')
      : 'not measured',
    // Blocked when even the floor (the detection and a global, nothing else) is past the target, in the same run.
    verdict: !load?.variants ? NOT_RUN
      : load.variants.polyfill.mainThread.p50 - load.variants.detect.mainThread.p50 <= 0.02 ? MET
        : load.variants.floorPlain && Math.min(load.variants.floor.mainThread.p50, load.variants.floorPlain.mainThread.p50) - load.variants.detect.mainThread.p50 > 0.02 ? BLOCKED
          : MISSED,
  });
  const reg = s.register;
  const rn = reg?.['chromium-native'];
  const rp = reg?.['chromium-polyfill'];
  const seqRatio = ratio(rp?.sequential.p50, rn?.sequential.p50);
  const concRatio = ratio(rp?.concurrent.p50, rn?.concurrent.p50);
  const seqFloor = s.idb?.['chromium-polyfill']?.workerTransactionAndSettle?.p50;
  rows.push({
    what: 'register() latency, polyfill (Chromium, API deleted) against native',
    how: `p50 and p95 of ${rp?.sequential.n ?? 500} sequential calls and of ${rp?.concurrent.n ?? 500} concurrent ones, one run`,
    target: 'polyfill/native at p50 ≤ 2.0 sequential, ≤ 1.5 concurrent',
    measured: rn && rp
      ? `sequential p50 ${fmtMs(rp.sequential.p50)} vs ${fmtMs(rn.sequential.p50)} ms → **${fmtRatio(seqRatio)}** (p95 ${fmtMs(rp.sequential.p95)} vs ${fmtMs(rn.sequential.p95)}); concurrent p50 ${fmtMs(rp.concurrent.p50)} vs ${fmtMs(rn.concurrent.p50)} ms → **${fmtRatio(concRatio)}** (p95 ${fmtMs(rp.concurrent.p95)} vs ${fmtMs(rn.concurrent.p95)})` +
        (seqFloor != null ? `; floor of the sequential case: a round trip answered once one raw transaction of the worker's has committed, then its outcome's transaction, ${fmtMs(seqFloor)} ms (${fmtRatio(ratio(seqFloor, rn.sequential.p50))}× native)` : '')
      : 'not measured',
    // Blocked when the sequential case's floor is past its target in the same run, and the concurrent one is met.
    verdict: seqRatio == null || concRatio == null ? NOT_RUN : seqRatio <= 2 && concRatio <= 1.5 ? MET
      : concRatio <= 1.5 && seqFloor != null && ratio(seqFloor, rn.sequential.p50) > 2 ? BLOCKED : MISSED,
  });
  const rc = s.reconnect;
  const cn = rc?.['chromium-native'];
  const cp = rc?.['chromium-polyfill'];
  const rcRatio = cn && cp ? (isInf(cp.latency.p50WithMisses) ? Infinity : isInf(cn.latency.p50WithMisses) ? 0 : ratio(cp.latency.p50WithMisses, cn.latency.p50WithMisses)) : null;
  // The floor: the polyfill never fires before its worker's own navigator.onLine is true (docs/semantics.md §3).
  const floor = cp?.workerOnLine?.p50;
  const floorRatio = cn && floor != null ? ratio(floor, cn.latency.p50WithMisses) : null;
  rows.push({
    what: 'reconnect → start of the sync handler, a page open',
    how: `from context.setOffline(false) to the handler's entry, ${cp?.reps ?? 15} repetitions each, alternating (and ${cp?.workerOnLine?.probes ?? 15} more each that measure the floor: when the worker's own \`navigator.onLine\` turns true)`,
    target: 'polyfill/native ≤ 1.5 at p50',
    measured: cn && cp
      ? `p50 ${ms(cp.latency.p50WithMisses)} vs ${ms(cn.latency.p50WithMisses)} → **${inf(rcRatio, fmtRatio)}** (p95 ${ms(cp.latency.p95WithMisses)} vs ${ms(cn.latency.p95WithMisses)}); fired in ${cp.fired}/${cp.reps} repetitions (native ${cn.fired}/${cn.reps})${cp.fired < cp.reps ? ', a miss counts as ∞' : ''}` +
        (floor != null ? `; floor: the worker's own \`navigator.onLine\` turns true at p50 ${ms(floor)} (${cp.workerOnLine.n} of ${cp.workerOnLine.probes} probes), ${fmtRatio(floorRatio)}× native${cn.workerOnLine ? "; native's worker: " + ms(cn.workerOnLine.p50) : ''}` : '')
      : 'not measured',
    verdict: rcRatio == null ? NOT_RUN : rcRatio <= 1.5 ? MET : floorRatio != null && floorRatio > 1.5 ? BLOCKED : MISSED,
  });
  const dr = s.drain;
  const dn = dr?.['chromium-native']?.[1000] ?? firstSize(dr?.['chromium-native']);
  const dp = dr?.['chromium-polyfill']?.[1000] ?? firstSize(dr?.['chromium-polyfill']);
  const drRatio = ratio(dp?.lastSettleMs, dn?.lastSettleMs);
  rows.push({
    what: `draining ${dp?.size ?? 1000} tags registered offline, once back online, until every handler has settled`,
    how: `median of ${dp?.reps ?? '–'} repetitions each, alternating`,
    target: 'ratio ≤ 1.25',
    measured: dn && dp
      ? `${ms(dp.lastSettleMs)} vs ${ms(dn.lastSettleMs)} → **${fmtRatio(drRatio)}** (until getTags() is empty: ${ms(dp.storeEmptyMs)} vs ${ms(dn.storeEmptyMs)})` +
        (s.idb?.['chromium-polyfill']?.claimFloor1000 && (dp.size ?? 1000) === 1000
          ? `; floor: one raw transaction that claims 1,000 records (a getAll, 1,000 puts) takes ${ms(s.idb['chromium-polyfill'].claimFloor1000.p50)} alone, ${fmtRatio(ratio(s.idb['chromium-polyfill'].claimFloor1000.p50, dn.lastSettleMs))}× native's whole drain` +
            (s.reconnect?.['chromium-polyfill']?.workerOnLine?.p50 != null ? `, and ${fmtRatio(ratio(s.idb['chromium-polyfill'].claimFloor1000.p50 + s.reconnect['chromium-polyfill'].workerOnLine.p50, dn.lastSettleMs))}× after the worker's own \`navigator.onLine\` turns true (${ms(s.reconnect['chromium-polyfill'].workerOnLine.p50)}, the reconnect floor)` : '')
          : '')
      : 'not measured',
    // Blocked when the claim alone, after the worker reads online, is past the target in the same run.
    verdict: drRatio == null ? NOT_RUN : drRatio <= 1.25 ? MET
      : s.idb?.['chromium-polyfill']?.claimFloor1000 && s.reconnect?.['chromium-polyfill']?.workerOnLine?.p50 != null &&
        ratio(s.idb['chromium-polyfill'].claimFloor1000.p50 + s.reconnect['chromium-polyfill'].workerOnLine.p50, dn.lastSettleMs) > 1.25 ? BLOCKED
        : MISSED,
  });
  const sp = dr?.['chromium-polyfill'];
  const sn = dr?.['chromium-native'];
  const growth = (series) => {
    const sizes = Object.keys(series ?? {}).map(Number).sort((a, b) => a - b);
    if (sizes.length < 2) return null;
    const first = series[sizes[0]].perTag.total;
    const last = series[sizes.at(-1)].perTag.total;
    return { sizes, first, last, ratio: ratio(last, first), all: sizes.map((n) => series[n].perTag.total) };
  };
  const gp = growth(sp);
  const gn = growth(sn);
  rows.push({
    what: 'scale: register and drain N tags',
    how: `time per tag (register + until all settled, / N) at ${gp ? gp.sizes.map((n) => fmtBytes(n)).join(', ') : '100, 1,000, 10,000'}`,
    target: `no super-linear growth: per-tag at ${gp ? fmtBytes(gp.sizes.at(-1)) : '10k'} ≤ 1.5× at ${gp ? fmtBytes(gp.sizes[0]) : '100'}`,
    measured: gp
      ? `polyfill ${gp.all.map((v) => fmtMs(v)).join(' / ')} ms per tag → **${fmtRatio(gp.ratio)}×**` + (gn ? `; native ${gn.all.map((v) => fmtMs(v)).join(' / ')} ms → ${fmtRatio(gn.ratio)}×` : '')
      : 'not measured',
    verdict: verdict(gp ? gp.ratio <= 1.5 : null),
  });
  const kn = s.kill?.['chromium-native'];
  const kp = s.kill?.['chromium-polyfill'];
  const killRatio = kn && kp ? (isInf(kp.recovery.p50WithMisses) ? Infinity : isInf(kn.recovery.p50WithMisses) ? 0 : ratio(kp.recovery.p50WithMisses, kn.recovery.p50WithMisses)) : null;
  rows.push({
    what: 'kill recovery: a worker stopped mid-event → the next attempt\'s sync handler starts, a page open',
    how: `CDP \`ServiceWorker.stopAllWorkers\` while attempt 1 holds (a \`waitUntil\` that never settles), to the entry of attempt 2's handler, ${kp?.reps ?? 20} repetitions each, alternating; both with 3 attempts, the first retry 1 s after a failure, ×2 (native: its \`BackgroundSync\` field trial; polyfill: \`configure()\`)`,
    target: 'kill recovery p50 ≤ 1.5× native',
    measured: kn && kp
      ? `p50 ${ms(kp.recovery.p50WithMisses)} vs ${ms(kn.recovery.p50WithMisses)} → **${inf(killRatio, fmtRatio)}** (p95 ${ms(kp.recovery.p95WithMisses)} vs ${ms(kn.recovery.p95WithMisses)}); recovered in ${kp.recovered}/${kp.killed} killed repetitions (native ${kn.recovered}/${kn.killed})${kp.recovered < kp.killed ? ', a miss counts as ∞' : ''}`
      : 'not measured',
    verdict: verdict(killRatio == null ? null : killRatio <= 1.5),
  });
  for (const id of ['firefox-polyfill', 'webkit-polyfill']) {
    const rg = s.register?.[id];
    const rcx = s.reconnect?.[id];
    const d = firstSize(s.drain?.[id]);
    const k = s.kill?.[id];
    if (!rg && !rcx && !d && !k) continue;
    rows.push({
      what: `${LABELS[id]}${r.browsers?.[id.split('-')[0]] ? `, ${r.browsers[id.split('-')[0]]}` : ''}`,
      how: `the same latency, drain and kill figures, polyfill only; offline is the network namespace's link going down${k ? `; the worker dies ${killHow(id, k)}` : ''}`,
      target: 'reported',
      measured: [
        rg ? `register p50 ${fmtMs(rg.sequential.p50)} ms sequential, ${fmtMs(rg.concurrent.p50)} ms concurrent (p95 ${fmtMs(rg.sequential.p95)} / ${fmtMs(rg.concurrent.p95)})` : null,
        rcx ? `reconnect p50 ${ms(rcx.latency.p50WithMisses)} (p95 ${ms(rcx.latency.p95WithMisses)}, fired ${rcx.fired}/${rcx.reps}; the page's \`online\` event alone: p50 ${ms(rcx.pageOnlineEvent.p50)})` : null,
        d ? `drain ${fmtBytes(d.size)}: all settled ${ms(d.lastSettleMs)} after the link came up, ${ms(d.spreadMs)} from first handler to last settle` : null,
        k ? `kill recovery p50 ${ms(k.recovery.p50WithMisses)} (p95 ${ms(k.recovery.p95WithMisses)}, recovered ${k.recovered}/${k.killed})` : null,
      ].filter(Boolean).join('; '),
      verdict: 'reported',
    });
  }
  // Appended last: whatBoundsIt reads the rows above by index.
  for (const [id, v] of Object.entries(s.periodic ?? {})) {
    if (!v) continue;
    rows.push({
      what: `Periodic Background Sync, ${fmtBytes(v.count)} registrations: ${LABELS[id] ?? id}`,
      how: `periodic against the polyfill's own one-shot path at the same count, alternating in one run (\`configure({ periodicMinInterval: 0 })\`)`,
      target: 'no native baseline (Chromium fires `periodicsync` only for installed apps, 12 h apart at the least; Workbox has no periodic support): reported as periodic / one-shot',
      measured: periodicSummary(v),
      verdict: 'reported',
    });
  }
  return rows;
}

/** One line of the periodic suite's ratios for a subject: periodic vs one-shot, **ratio**. */
function periodicSummary(v) {
  const reg = v.register;
  const d = v.dispatch;
  const vs = (a, b, x) => `${ms(a)} vs ${ms(b)} → **${fmtRatio(x)}**`;
  return [
    `sequential register() p50 ${vs(reg.sequential.periodic.latency.p50, reg.sequential.oneshot.latency.p50, v.ratios.sequentialP50)} (${fmtBytes(v.count)} in ${ms(reg.sequential.periodic.totalMs)} vs ${ms(reg.sequential.oneshot.totalMs)})`,
    `${fmtBytes(v.count)} concurrent in ${vs(reg.concurrent.periodic.totalMs, reg.concurrent.oneshot.totalMs, v.ratios.concurrentTotal)}`,
    `getTags() p50 ${vs(d.periodic.getTags.p50, d.oneshot.getTags.p50, v.ratios.getTagsP50)}`,
    `dispatch of ${fmtBytes(v.count)} due, network back → last settle ${vs(d.periodic.lastSettleMs, d.oneshot.lastSettleMs, v.ratios.dispatch)} (first handler → last settle ${vs(d.periodic.spreadMs, d.oneshot.spreadMs, v.ratios.dispatchSpread)})`,
    `due by the clock, online: last due → last settle ${ms(v.due.lastDueToLastSettleMs)} (each event's lag behind its due time p50 ${ms(v.due.lagP50)}, p95 ${ms(v.due.lagP95)})`,
    `sequential calls slow from the first tenth to the last ×${fmtRatio(v.growth.periodic)} online (one-shot ×${fmtRatio(v.growth.oneshot)})${v.growth.offline ? `, ×${fmtRatio(v.growth.offline.periodic)} offline (one-shot ×${fmtRatio(v.growth.offline.oneshot)})` : ''}`,
  ].join('; ');
}

function policyText(policy) {
  if (!policy) return '–';
  return `${policy.maxAttempts} attempts, the first retry ${fmtMs(policy.initialRetryDelay)} ms after a failure, each later one ×${policy.retryDelayFactor}`;
}

function firstSize(series) {
  if (!series) return null;
  const sizes = Object.keys(series).map(Number).sort((a, b) => a - b);
  const pick = sizes.includes(1000) ? 1000 : sizes.at(-1);
  return pick == null ? null : { size: pick, ...series[pick] };
}

// ---------------------------------------------------------------- console

function renderConsole(r) {
  const rows = targets(r);
  const lines = [`benchmark ${r.date}${r.quick ? ' (quick: small counts, not for the record)' : ''}`, ''];
  for (const row of rows) {
    lines.push(`${row.verdict.padEnd(16)} ${row.what.replace(/`/g, '')}`);
    lines.push(`${''.padEnd(17)}target ${row.target}; measured ${row.measured.replace(/\*\*/g, '')}`);
  }
  if (r.errors.length) lines.push('', 'errors:', ...r.errors.map((e) => `  ${e}`));
  return lines.join('\n');
}

// ---------------------------------------------------------------- markdown

function table(head, rows) {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');
}

function renderMarkdown(r, svgFile, base = 'results') {
  const s = r.suites;
  const m = r.machine;
  const out = [];
  out.push('# Benchmarks', '');
  out.push(`Measured by ${r.partial && r.command ? `\`${r.command}\`` : '`npm run bench` (`bench/run.mjs`)'} on ${r.date.slice(0, 16).replace('T', ' ')} UTC${r.quick ? ' — **quick run: small counts, not for the record**' : r.partial ? ' — **partial run**' : ''}.`);
  if (r.source?.commit) {
    out.push(`Source: commit \`${r.source.commit}\` (${r.source.subject})${r.source.sourceChanged?.length ? `, with uncommitted changes in ${r.source.sourceChanged.map((l) => `\`${l.slice(3)}\``).join(', ')}` : ''}; the script measured has sha256 \`${(r.polyfillSha256 ?? '').slice(0, 12)}…\`.`);
  }
  out.push(`Every number below comes from that one run; \`bench/${base}.json\` has them all, with every repetition.`, '');
  out.push(`- Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGB} GB; ${m.os}; node ${m.node}.`);
  const quiet = m.quietWait;
  out.push(`- Load average (1, 5, 15 min) at the start ${m.loadavgStart.map((v) => v.toFixed(2)).join(', ')}, at the end ${m.loadavgEnd?.map((v) => v.toFixed(2)).join(', ') ?? '–'}.` +
    (quiet ? (quiet.quiet ? ` The run waited ${quiet.minutes} min for a 1-minute load below 1.0.` : ` **The machine never got quiet** (1-minute load ≥ 1.0 for ${quiet.minutes} min: ${quiet.loads.join(', ')}); the run went ahead. Other test suites were running on its 2 cores, so absolute times are noisy; the ratios, taken from native and polyfill alternating in one run, are what to read.`) : ''));
  out.push(`- Browsers: ${Object.values(r.browsers).join('; ') || '–'}. Chromium runs its native API on one site (http://127.0.0.1) and the API deleted on another (http://127.0.0.2), in one browser, alternating repetition by repetition; Firefox ESR and WebKitGTK (MiniBrowser under Xvfb) have no Background Sync, so they run the polyfill only.`);
  out.push(`- Polyfill: \`dist/background-sync-polyfill.min.js\`, in the page and in the worker. The sync handler under test stamps its entry and lets its event settle at once, so the numbers are the machinery's.`, '');
  if (svgFile) out.push(`![Reconnect latency distributions, and per-tag cost against the number of tags](${svgFile})`, '');
  out.push('## Targets', '');
  out.push(table(['what', 'measured how', 'target', 'measured', ''], targets(r).map((row) => [row.what, row.how, row.target, row.measured, row.verdict])), '');
  out.push('Only the size is enforced, by `node bench/size.mjs --check` against `bench/size-budget.json` (exact bytes; the budget is the current size plus 2%, a regression guard, since the 3,000 B target is not met). Nothing else is timed in CI.', '');
  if (r.errors.length) out.push('**Errors in this run:**', '', ...r.errors.map((e) => `- ${e}`), '');

  out.push('## Details', '');
  if (s.size?.polyfill) {
    const z = s.size;
    out.push('### Size', '');
    const rows = [['`dist/background-sync-polyfill.min.js` (page + worker)', z.polyfill]];
    if (z.composition?.halves) {
      rows.push(['its worker half alone (`polyfill/sw.ts`, same build)', z.composition.halves.worker]);
      rows.push(['its page half alone (`polyfill/window.ts`, same build)', z.composition.halves.page]);
    }
    rows.push([`Workbox worker side, bundled (${z.workbox.label})`, z.workbox.bundle]);
    rows.push(['Workbox prod builds (`workbox-background-sync.prod.js` + `workbox-core.prod.js`)', z.workbox.prodBuilds]);
    out.push(table(['', 'minified', 'gzip', 'brotli'], rows.map(([name, v]) => [name, `${fmtBytes(v.raw)} B`, `${fmtBytes(v.gzip)} B`, `${fmtBytes(v.brotli)} B`])), '');
    out.push(`Workbox's entry: \`${z.workbox.entry.join(' ')}\`. Budget (\`bench/size-budget.json\`): gzip ${fmtBytes(z.budget.gzip.budget)} B, brotli ${fmtBytes(z.budget.brotli.budget)} B — ${z.budget.check.ok ? 'within budget' : '**over budget**'}.`, '');
    if (z.composition?.groups) {
      out.push('Where the minified bytes go (each module minified on its own, from the project\'s rollup config):', '');
      out.push(table(['part', 'minified', 'share'], z.composition.groups.map((g) => [g.group, `${fmtBytes(g.minified)} B`, pct(g.share)])), '');
    }
  }
  if (s.load?.variants) {
    out.push('### Loading the script where the API is native (Chromium)', '');
    out.push(`Main-thread time of evaluating the script (trace event \`EvaluateScript\`: compile on the main thread and running the top level), ${s.load.loads} loads of each page after ${s.load.warmup} warm-up rounds, the variants in rotating order. *Cached*: the script is served with \`max-age\`, as a CDN serves a versioned file, so the measured loads are repeat visits that reuse the HTTP cache and V8's code cache (the headline). *No-store*: compiled afresh every load. \`unrun\` is a control: the same bytes wrapped in a function that is never called (parsed and compiled, not run). Off-thread parse is the streaming parser on a background thread, not main-thread time.`, '');
    const rows = [];
    for (const serving of ['cached', 'uncached']) {
      const block = s.load[serving];
      if (!block?.variants) continue;
      for (const [k, v] of Object.entries(block.variants)) {
        rows.push([serving === 'cached' ? 'cached' : 'no-store', k, `${fmtMs(v.mainThread.p50)} ms`, `${fmtMs(v.mainThread.p95)} ms`, `${fmtMs(v.offThreadParse.p50)} ms`]);
      }
    }
    out.push(table(['served', 'script', 'main thread p50', 'p95', 'off-thread parse p50'], rows), '');
  }
  if (s.register) {
    out.push('### register() latency', '');
    out.push('Online, in the page, as an app registers: events fire as they come. Sequential: blocks of 100, alternating between the modes; every event settles between blocks (not timed). Concurrent: all calls started in one go, each timed from its own call.', '');
    const native = s.register['chromium-native'];
    out.push(table(['', 'sequential p50', 'p95', 'concurrent p50', 'p95', 'vs native at p50 (seq / conc)'], Object.entries(s.register).map(([id, v]) => [
      LABELS[id] ?? id, `${fmtMs(v.sequential.p50)} ms`, `${fmtMs(v.sequential.p95)} ms`, `${fmtMs(v.concurrent.p50)} ms`, `${fmtMs(v.concurrent.p95)} ms`,
      id.startsWith('chromium') && native ? `${fmtRatio(ratio(v.sequential.p50, native.sequential.p50))} / ${fmtRatio(ratio(v.concurrent.p50, native.concurrent.p50))}` : '–',
    ])), '');
  }
  if (s.reconnect) {
    out.push('### Reconnect → handler entry', '');
    out.push('One tag registered offline per repetition, one page open. Time 0 is the call that brings the network back (Chromium: `context.setOffline(false)`; Firefox and WebKit: the namespace\'s link going up, `ip link set … up`), taken in node; the end is `performance.timeOrigin + performance.now()` at the handler\'s first line, corrected by the measured clock offset (page and worker against node, smallest-RTT round trip). A repetition with no event within the time limit is a miss and counts as ∞ in the percentiles "with misses".', '');
    out.push(table(['', 'fired', 'p50', 'p95', 'p50 / p95 with misses', 'page `online` event p50', 'poke reaches the worker p50', 'call returned p50'], Object.entries(s.reconnect).map(([id, v]) => [
      LABELS[id] ?? id, `${v.fired}/${v.reps}`, ms(v.latency.p50), ms(v.latency.p95), `${ms(v.latency.p50WithMisses)} / ${ms(v.latency.p95WithMisses)}`,
      ms(v.pageOnlineEvent.p50), v.pokeAtWorker.n ? ms(v.pokeAtWorker.p50) : '–', ms(v.switchCall.p50),
    ])), '');
    const misses = Object.entries(s.reconnect).flatMap(([id, v]) => v.failures.slice(0, 3).map((f) => `- ${LABELS[id] ?? id}, ${f}`));
    if (misses.length) out.push('Misses (first three per mode):', '', ...misses, '');
  }
  if (s.kill) {
    out.push('### Kill recovery', '');
    out.push(`One tag per repetition, at a scope of its own, one page open, with the same retry policy on both sides (${policyText(Object.values(s.kill)[0]?.policy)}). Its first firing holds (a \`waitUntil\` that never settles, beating every 100 ms) and its worker dies mid-event; the end is the entry of the next attempt's handler (\`performance.timeOrigin + performance.now()\` at its first line), which must run in a new worker instance. Node's times are moved to the worker's clock by the measured offset. A killed repetition whose next attempt never came within the time limit is a miss and counts as ∞ in the percentiles "with misses"; one that failed before the kill measured nothing and is only listed.`, '');
    out.push(table(['', 'how the worker died; time 0', 'recovered', 'p50', 'p95', 'p50 / p95 with misses', 'min – max', 'attempt 1 ran before time 0 (p50)'], Object.entries(s.kill).map(([id, v]) => [
      LABELS[id] ?? id, killHow(id, v), `${v.recovered}/${v.killed} killed (${v.reps} repetitions)`, ms(v.recovery.p50), ms(v.recovery.p95), `${ms(v.recovery.p50WithMisses)} / ${ms(v.recovery.p95WithMisses)}`,
      `${ms(v.recovery.min)} – ${ms(v.recovery.max)}`, ms(v.firstRan.p50),
    ])), '');
    const lastChance = Object.entries(s.kill).filter(([, v]) => v.nextLastChance > 0);
    if (lastChance.length) out.push(`**The next attempt came as the last chance** (attempt 3 of 3: an attempt was lost) in ${lastChance.map(([id, v]) => `${LABELS[id] ?? id} (${v.nextLastChance} repetitions)`).join(', ')}.`, '');
    const failures = Object.entries(s.kill).flatMap(([id, v]) => v.failures.slice(0, 3).map((f) => `- ${LABELS[id] ?? id}, ${f}`));
    if (failures.length) out.push('Failures and misses (first three per mode):', '', ...failures, '');
  }
  if (s.drain) {
    out.push('### Drain and scale', '');
    out.push('Offline, N tags registered (at most 100 in flight), then back online (Chromium: `setOffline(false)`; others: the link). Times from that call. A fresh scope per repetition; medians of the repetitions.', '');
    const rows = [];
    for (const [id, series] of Object.entries(s.drain)) {
      for (const [n, v] of Object.entries(series)) {
        rows.push([LABELS[id] ?? id, fmtBytes(Number(n)), `${v.complete}/${v.reps}`, ms(v.registerMs), ms(v.firstEnterMs), ms(v.lastSettleMs), ms(v.storeEmptyMs),
          `${fmtMs(v.perTag.register)} + ${fmtMs(v.perTag.drain)} = ${fmtMs(v.perTag.total)} ms`]);
      }
    }
    out.push(table(['', 'tags', 'complete', 'register all', 'first handler', 'all settled', 'getTags() empty', 'per tag: register + drain'], rows), '');
    const incomplete = Object.entries(s.drain).flatMap(([id, series]) => Object.values(series).flatMap((v) => v.runs.filter((x) => x.error).map((x) => `- ${LABELS[id] ?? id}, ${fmtBytes(x.count)} tags: ${x.error}`)));
    if (incomplete.length) out.push(...incomplete, '');
  }
  if (s.periodic) out.push(...periodicDetails(s.periodic));
  if (s.idb) {
    out.push('### What a register() is made of: raw IndexedDB', '');
    out.push('Sequential readwrite transactions (one get, one put), in a page of the polyfill\'s site, with each durability, and a page\'s message round trip to its active worker (a port, answered at once). The worker, which owns the store, writes with `durability: \'relaxed\'` (docs/semantics.md §5); a page\'s register() is one round trip plus one such transaction of the worker\'s. *Worker floor*: exactly that, bare (a message with a port, one raw relaxed transaction in the worker, the answer once committed); *with outcome*: the same, with a second transaction after each answer (a get and a delete), as each fired event\'s outcome is written. *Claim 1,000*: one raw relaxed transaction of the worker\'s that reads 1,000 records shaped like the polyfill\'s with one getAll and writes each back, as the claim before a drain does.', '');
    out.push(table(['', 'strict p50', 'p95', 'relaxed p50', 'p95', 'default p50', 'round trip p50', 'worker floor p50', 'with outcome p50', 'claim 1,000 p50'], Object.entries(s.idb).filter(([, v]) => v).map(([id, v]) => [
      LABELS[id] ?? id, ms(v.strict.p50), ms(v.strict.p95), ms(v.relaxed.p50), ms(v.relaxed.p95), ms(v.default.p50),
      v.messageRoundTrip ? ms(v.messageRoundTrip.p50) : '–', v.workerTransaction ? ms(v.workerTransaction.p50) : '–',
      v.workerTransactionAndSettle ? ms(v.workerTransactionAndSettle.p50) : '–', v.claimFloor1000 ? ms(v.claimFloor1000.p50) : '–',
    ])), '');
  }
  out.push(...whatBoundsIt(r));
  out.push('## Method', '');
  out.push(
    '- `npm run bench` re-executes itself in a private network namespace (`unshare -n`, as the browser suite does): Firefox and WebKit go offline for real when the namespace\'s link goes down; Chromium uses `context.setOffline()`. No packet leaves the machine; the server listens on loopback only.',
    '- All browser-side times are `performance.timeOrigin + performance.now()` (Firefox with `privacy.reduceTimerPrecision` off; WebKit rounds to 1 ms). Node\'s side uses the same wall clock.',
    '- Medians and percentiles only (linear interpolation between ranks), never a single run; ratios are polyfill/native from the same run, with the two modes alternating.',
    '- Kill recovery runs in browsers of its own: Chromium started with `--force-fieldtrials=BackgroundSync/…` so that native retries follow the same policy as the polyfill\'s `configure()`, Firefox with short service worker lifetimes (`dom.serviceWorkers.idle_timeout` and `idle_extended_timeout`: it ends the worker itself), and a fresh MiniBrowser per WebKit repetition (WebKitWebDriver ends its session when a page\'s process dies); the workers report each firing\'s entry and beats to the server (`POST /bench/kill`), which also tells the first firing of a tag to hold.',
    '- The profiling pass (`node bench/run.mjs --only=profile`) attaches the CDP Profiler to the page and the service worker target, loads the unminified build for readable names, and times every IndexedDB transaction with `performance.measure()` (`bench/fixtures/instrument.js`). Profiles go to `bench/profiles/` (open them in Chrome DevTools).',
    '',
  );
  return out.join('\n');
}

// ---------------------------------------------------------------- periodic sync

function periodicDetails(periodic) {
  const out = ['### Periodic Background Sync against one-shot', ''];
  const entries = Object.entries(periodic).filter(([, v]) => v);
  const count = fmtBytes(entries[0]?.[1].count ?? 1000);
  out.push(
    `**No native baseline.** Chromium ships \`periodicSync\`, but fires \`periodicsync\` only for an installed web app with site engagement, on its own schedule (12 h apart at the least), and Workbox has no periodic support; Firefox and WebKit have neither API. So the ratios here are the polyfill's periodic path against its own one-shot path at the same count (${count}), in the same engine and run, the two kinds alternating repetition by repetition, each in a fresh scope. The worker runs \`BackgroundSyncPolyfill.configure({ periodicMinInterval: 0 })\` (the interval is the app's \`minInterval\`), and both handlers let their event settle at once.`,
    '',
    `- *register*: ${count} calls from the page, online, one after another, then ${count} started together, then one after another offline, each from a fresh scope: ms per call and in all. Online, a one-shot tag fires as it comes (settled between measurements, not timed) and a periodic one (\`minInterval\` 1 h) waits: what an app sees of each. Offline nothing fires, and the worker's pass after each call returns before reading the store.`,
    `- *getTags()*: with ${count} tags of its kind registered (offline, so none has fired), sequential calls.`,
    `- *dispatch*: offline, ${count} tags registered, 100 in flight (periodic: \`minInterval\` 2 s, waited out so every one is due), then the network back: from that call to the last handler's settle. The one-shot side is the drain suite's measurement.`,
    '- *due by the clock* (periodic only; one-shot has nothing due by time but retries): online, a page open, the tags registered 100 in flight with a `minInterval` long enough that all are stored before the first is due; from the moment the last one is due (its stored `notBefore`, read from the polyfill\'s database) to the last handler\'s settle, and each event\'s lag behind its own `notBefore` (both the worker\'s `Date.now()`).',
    '',
  );
  const rows = [];
  for (const [id, v] of entries) {
    const reg = v.register;
    const d = v.dispatch;
    const row = (what, a, b, x) => [LABELS[id] ?? id, what, a, b, `**${fmtRatio(x)}**`];
    rows.push(row('sequential register() p50 / p95', `${ms(reg.sequential.periodic.latency.p50)} / ${ms(reg.sequential.periodic.latency.p95)}`, `${ms(reg.sequential.oneshot.latency.p50)} / ${ms(reg.sequential.oneshot.latency.p95)}`, v.ratios.sequentialP50));
    rows.push(row(`${count} sequential, in all`, ms(reg.sequential.periodic.totalMs), ms(reg.sequential.oneshot.totalMs), v.ratios.sequentialTotal));
    if (reg.sequentialOffline) {
      rows.push(row('sequential register() offline p50 / p95', `${ms(reg.sequentialOffline.periodic.latency.p50)} / ${ms(reg.sequentialOffline.periodic.latency.p95)}`, `${ms(reg.sequentialOffline.oneshot.latency.p50)} / ${ms(reg.sequentialOffline.oneshot.latency.p95)}`, v.ratios.sequentialOfflineP50));
      rows.push(row(`${count} sequential offline, in all`, ms(reg.sequentialOffline.periodic.totalMs), ms(reg.sequentialOffline.oneshot.totalMs), v.ratios.sequentialOfflineTotal));
    }
    rows.push(row('concurrent register() p50 / p95, each from its call', `${ms(reg.concurrent.periodic.latency.p50)} / ${ms(reg.concurrent.periodic.latency.p95)}`, `${ms(reg.concurrent.oneshot.latency.p50)} / ${ms(reg.concurrent.oneshot.latency.p95)}`, v.ratios.concurrentP50));
    rows.push(row(`${count} concurrent, in all`, ms(reg.concurrent.periodic.totalMs), ms(reg.concurrent.oneshot.totalMs), v.ratios.concurrentTotal));
    rows.push(row(`${count} registered offline, 100 in flight, in all`, ms(d.periodic.registerManyMs), ms(d.oneshot.registerManyMs), v.ratios.registerMany));
    rows.push(row(`getTags() with ${count} registered, p50 / p95`, `${ms(d.periodic.getTags.p50)} / ${ms(d.periodic.getTags.p95)}`, `${ms(d.oneshot.getTags.p50)} / ${ms(d.oneshot.getTags.p95)}`, v.ratios.getTagsP50));
    rows.push(row(`dispatch ${count} due: network back → first handler / last settle (complete runs)`, `${ms(d.periodic.firstEnterMs)} / ${ms(d.periodic.lastSettleMs)} (${d.periodic.complete}/${d.periodic.reps})`, `${ms(d.oneshot.firstEnterMs)} / ${ms(d.oneshot.lastSettleMs)} (${d.oneshot.complete}/${d.oneshot.reps})`, v.ratios.dispatch));
    rows.push(row(`dispatch ${count} due: first handler → last settle`, ms(d.periodic.spreadMs), ms(d.oneshot.spreadMs), v.ratios.dispatchSpread));
  }
  out.push(table(['', 'measure', 'periodic', 'one-shot', 'periodic / one-shot'], rows), '');
  out.push(`Sequential register(), p50 (ms) of each tenth of the ${count} calls, pooled over the repetitions (flat: a call does not slow as tags accumulate in the scope):`, '');
  const tenthRows = [];
  for (const [id, v] of entries) {
    for (const how of ['sequential', 'sequentialOffline']) {
      if (!v.register[how]) continue;
      for (const kind of ['periodic', 'oneshot']) {
        const t = v.register[how][kind].tenthsP50;
        const growth = how === 'sequential' ? v.growth[kind] : v.growth.offline?.[kind];
        tenthRows.push([LABELS[id] ?? id, `${kind === 'periodic' ? 'periodic' : 'one-shot'}, ${how === 'sequential' ? 'online' : 'offline'}`, ...t.map((x) => fmtMs(x)), `×${fmtRatio(growth)}`]);
      }
    }
  }
  out.push(table(['', '', ...Array.from({ length: 10 }, (_, i) => `${i + 1}/10`), 'last / first'], tenthRows), '');
  out.push(`${count} concurrent register() calls, ms each tenth of them took to resolve (from the completion of the tenth before; the first from the start), median of the repetitions (flat after the first: linear):`, '');
  const completionRows = [];
  for (const [id, v] of entries) {
    for (const kind of ['periodic', 'oneshot']) {
      const t = v.register.concurrent[kind].completionTenths;
      if (t) completionRows.push([LABELS[id] ?? id, kind === 'periodic' ? 'periodic' : 'one-shot', ...t.map((x) => fmtMs(x)), `×${fmtRatio(v.growth.concurrent?.[kind])}`]);
    }
  }
  out.push(table(['', '', ...Array.from({ length: 10 }, (_, i) => `${i + 1}/10`), 'last / second'], completionRows), '');
  out.push('Periodic tags due by the clock, online, a page open:', '');
  out.push(table(['', 'minInterval', 'complete', 'registered in (100 in flight)', 'due times spread over', 'first due → first handler', 'last due → last settle', 'lag behind its due time p50 / p95 / max'], entries.map(([id, v]) => [
    LABELS[id] ?? id, ms(v.due.interval), `${v.due.complete}/${v.due.reps}${v.due.complete && v.due.storedBeforeFirstDue < v.due.complete ? ` (in ${v.due.complete - v.due.storedBeforeFirstDue}, some were due before all were stored)` : ''}`,
    ms(v.due.registerManyMs), ms(v.due.dueSpreadMs), ms(v.due.firstDueToFirstEnterMs), ms(v.due.lastDueToLastSettleMs), `${ms(v.due.lagP50)} / ${ms(v.due.lagP95)} / ${ms(v.due.lagMax)}`,
  ])), '');
  out.push(...periodicReading(entries, count));
  const failures = entries.flatMap(([id, v]) => [...v.dispatch.periodic.runs, ...v.dispatch.oneshot.runs, ...v.due.runs].filter((x) => x.error).map((x) => `- ${LABELS[id] ?? id}, ${x.kind ?? 'periodic, due by the clock'}: ${x.error}`));
  if (failures.length) out.push('Failed repetitions:', '', ...failures, '');
  const unsettled = entries.filter(([, v]) => v.register.sequential.oneshot.unsettled || v.register.concurrent.oneshot.unsettled);
  if (unsettled.length) out.push(`One-shot tags that did not settle after the register measurement: ${unsettled.map(([id, v]) => `${LABELS[id] ?? id} ${v.register.sequential.oneshot.unsettled + v.register.concurrent.oneshot.unsettled}`).join(', ')}.`, '');
  return out;
}

/**
 * What the numbers say, where the data says it: each sentence is printed only when its condition holds in this run.
 * The causes named are the code's (src/worker/install.ts, src/worker/dispatcher.ts, src/store/db.ts, src/page/host.ts).
 */
function periodicReading(entries, count) {
  const out = [];
  const grows = entries.filter(([, v]) => v.growth.periodic > 1.5 && v.growth.offline && v.growth.offline.periodic < 1.5 * Math.max(1, v.growth.offline.oneshot ?? 1));
  if (grows.length) {
    const each = grows.map(([id, v]) => `${LABELS[id] ?? id} ×${fmtRatio(v.growth.periodic)} online, ×${fmtRatio(v.growth.offline.periodic)} offline (one-shot ×${fmtRatio(v.growth.oneshot)} and ×${fmtRatio(v.growth.offline.oneshot)})`).join('; ');
    out.push(`**A periodic register() slows as periodic tags accumulate, online only.** The p50 of the last tenth of the ${count} sequential calls over the first tenth's: ${each}. Online, a call costs more the more tags are stored, so ${count} calls cost more than linearly in all. After answering a periodic register() the worker runs a pass (src/worker/install.ts), and a pass (\`claimDue\`, src/store/db.ts) is one readwrite transaction that reads every record of the scope with one \`getAll\`: O(n) for n tags stored, and the next register()'s own transaction waits behind it. Offline the pass returns before it reads the store. One-shot tags pass too, after each event settles, but a fired tag leaves the store, so their passes read next to nothing.`, '');
  }
  const unbatched = entries.filter(([, v]) => v.ratios.concurrentTotal > 3);
  if (unbatched.length) {
    out.push(`**${count} periodic register() calls started together take ${unbatched.map(([id, v]) => `${fmtRatio(v.ratios.concurrentTotal)}×`).join(' / ')} as long as one-shot ones** (${unbatched.map(([id]) => LABELS[id] ?? id).join(' / ')}): a page sends each periodic register() as a request of its own (\`periodicPageHost\`, src/page/host.ts), answered after a transaction of its own, where the one-shot calls of one turn travel as one request and share one transaction. The same holds with 100 in flight (${unbatched.map(([, v]) => `${fmtRatio(v.ratios.registerMany)}×`).join(' / ')}).`, '');
  }
  return out;
}

// ---------------------------------------------------------------- what bounds it

function whatBoundsIt(r) {
  const s = r.suites;
  const p = s.profile;
  const out = ['## What bounds each missed target', ''];
  if (!p) out.push('_No profiling pass in this run: `node bench/run.mjs --only=profile` (or `--profile`) adds it._', '');
  const rows = targets(r);
  const missed = (i) => rows[i]?.verdict === MISSED;

  if (missed(0) || missed(1)) {
    const z = s.size;
    const groups = z.composition?.groups ?? [];
    const idb = groups.find((g) => g.group.startsWith('idb'));
    out.push('### Size');
    out.push('');
    const worker = z.scripts?.sw;
    out.push(`The universal script carries both halves and idb; the page script carries no store and no idb. ${worker ? `The worker script alone is ${fmtBytes(worker.gzip)} B gzip, ${fmtRatio(worker.gzip / z.workbox.prodBuilds.gzip)}× Workbox's prod builds (${fmtBytes(z.workbox.prodBuilds.gzip)} B, idb included): the gap is the worker's own code. ` : ''}` +
      `${idb ? `idb is ${pct(idb.share)} of the minified bytes; the rest is our own code: ${groups.filter((g) => !g.group.startsWith('idb')).slice(0, 4).map((g) => `${g.group} ${pct(g.share)}`).join(', ')}. ` : ''}` +
      `idb stays: the project keeps its queue through idb by design. The rest is the fidelity the polyfill promises: WebIDL-shaped interfaces and errors, leases, retries, batching; the worker's own code has to shrink to meet its target.`, '');
  }

  if (missed(2) && s.load?.variants) {
    const l = s.load;
    const pl = p?.load;
    const b = pl?.traceBreakdownP50;
    out.push('### Loading where native exists');
    out.push('');
    let text = `The polyfill script costs +${fmtMs(l.excessP50)} ms of main-thread time per (repeat) load over an empty script. Two controls split it: the same bytes parsed and compiled but never run cost +${fmtMs(l.unrunExcessP50)} ms, and docs/semantics.md §6's detection alone (\`'SyncManager' in self && 'sync' in ServiceWorkerRegistration.prototype\`, a one-line script) costs +${fmtMs(l.detectExcessP50)} ms — mostly the first access to \`ServiceWorkerRegistration\`, whose interface object Blink instantiates lazily, so even the detection has a price. The script tests for the native API before anything else: the build wraps the whole polyfill in a function (\`lazyWhereNative\` in rollup.config.mjs) that runs only where the API is missing, or on the first read of \`BackgroundSyncPolyfill\`. Beyond the detection and the compile, about ${fmtMs(l.excessP50 - Math.max(l.unrunExcessP50 ?? 0, 0) - Math.max(l.detectExcessP50 ?? 0, 0))} ms remain.${l.uncached ? ` Served no-store (compiled afresh every load) it is +${fmtMs(l.uncached.excessP50)} ms, of which compiling the bytes (\`unrun\`) is +${fmtMs(l.uncached.unrunExcessP50)} ms: on a first visit, size is the cost.` : ''}`;
    if (b?.polyfill && b?.empty) {
      text += ` Inside \`EvaluateScript\` (repeat loads of the cacheable script, trace with the v8 categories, p50 of ${pl.loads} loads each): compiling on the main thread ${fmtMs(b.polyfill.compileScript)} ms (empty script: ${fmtMs(b.empty.compileScript)}), running the top level ${fmtMs(b.polyfill.run)} ms (empty: ${fmtMs(b.empty.run)}), producing a code cache ${fmtMs(b.polyfill.produceCache)} ms (empty: ${fmtMs(b.empty.produceCache)}).`;
    }
    if (pl?.top?.length) {
      text += ` The CPU profile of ${pl.loads} loads of the unminified build (sampled every ${pl.samplingUs} µs, which inflates absolute times; the split is what counts) puts the script's own time in ${pl.top.slice(0, 4).map((f) => `\`${f.fn}\` ${fmtMs(f.ms)} ms`).join(', ')} per load.`;
    }
    text += ` What bounds it: docs/semantics.md §6's check itself costs more than the 0.1 ms target on this machine, so no script that performs it can meet the target here; a smaller script lowers the first-visit cost.`;
    out.push(text, '');
  }

  if (missed(3)) {
    const reg = p?.register;
    const idbRaw = s.idb?.['chromium-polyfill'];
    out.push('### register()');
    out.push('');
    let text = 'The page thread mostly waits. A page\'s register() is a request to its active worker, which owns the store (docs/semantics.md §4): a message with a port, one IndexedDB readwrite transaction in the worker (read the record and the order counter, write them, and claim the tag where the worker may fire it now), committed with `durability: \'relaxed\'` (§5), and the answer on the port; the calls a page makes in one turn travel as one request and share one transaction. After answering, the worker fires the tag, and writes its outcome in one more readwrite transaction on the same object stores.';
    if (idbRaw) {
      text += ` On this machine a bare readwrite transaction (one get, one put) takes ${ms(idbRaw.strict.p50)} at p50 with strict durability and ${ms(idbRaw.relaxed.p50)} relaxed; native Chromium's whole register() takes ${ms(s.register?.['chromium-native']?.sequential.p50)}.`;
      if (idbRaw.messageRoundTrip) text += ` A page's bare message round trip to its worker takes ${ms(idbRaw.messageRoundTrip.p50)}.`;
      if (idbRaw.workerTransaction) text += ` The floor of this design, measured bare: a round trip answered once one raw transaction of the worker's has committed takes ${ms(idbRaw.workerTransaction.p50)} (${fmtRatio(ratio(idbRaw.workerTransaction.p50, s.register?.['chromium-native']?.sequential.p50))}× native's register()), and ${ms(idbRaw.workerTransactionAndSettle.p50)} (${fmtRatio(ratio(idbRaw.workerTransactionAndSettle.p50, s.register?.['chromium-native']?.sequential.p50))}×) when an outcome's transaction follows each answer, as it does here where every register() fires.`;
    }
    if (reg?.sequential?.page) {
      const seq = reg.sequential;
      text += ` Profiled (${seq.count} sequential calls, online): per register() the page ran ${fmtMs(seq.pageReadwrite.perRegister, 2)} readwrite transaction (p50 ${ms(seq.pageReadwrite.ms.p50)} from creation to \`complete\`) and the worker ${fmtMs(seq.workerReadwrite.perRegister, 2)} (claim and settle, p50 ${ms(seq.workerReadwrite.ms.p50)} each), all ${seq.pageReadwrite.durability.concat(seq.workerReadwrite.durability).filter((v, i, a) => a.indexOf(v) === i).join('/')}. IndexedDB runs readwrite transactions over the same stores one at a time, so each register() queues behind the previous tag's claim and settle.` +
        ` JavaScript is the small part: ${fmtMs(seq.page.jsMs)} ms per call in the page (the page thread was idle ${fmtMs(seq.page.idleMs)} of ${fmtMs(seq.page.wallMs)} ms) and ${fmtMs(seq.worker.jsMs)} ms in the worker.`;
      if (reg.sequentialOffline) text += ` Offline, where nothing fires, the same calls take ${ms(reg.sequentialOffline.latency.p50)} at p50 (their own transaction: ${ms(reg.sequentialOffline.pageReadwrite.ms.p50)}).`;
      if (reg.concurrent) text += ` ${reg.concurrent.count} concurrent calls ran as ${reg.concurrent.pageReadwrite.count} readwrite transaction${reg.concurrent.pageReadwrite.count === 1 ? '' : 's'} in the page (p50 ${ms(reg.concurrent.latency.p50)}).`;
    }
    text += ' What bounds the sequential case: the message round trip and the register transaction, then each fired tag\'s outcome transaction, which IndexedDB runs one at a time with the next register()\'s, against native Chromium\'s bookkeeping in the browser process.';
    out.push(text, '');
  }

  if (missed(4)) {
    const rc = s.reconnect?.['chromium-polyfill'];
    const native = s.reconnect?.['chromium-native'];
    const tl = p?.reconnect?.median;
    out.push('### Reconnect');
    out.push('');
    let text = '';
    const reps = rc?.repetitions ?? [];
    const stale = reps.filter((x) => x.latency != null && x.pokeWorkerOnLine === false);
    const fresh = reps.filter((x) => x.latency != null && x.pokeWorkerOnLine === true);
    if (stale.length) {
      const med = (list, key) => quantile(list.map((x) => x[key]).filter((v) => v != null), 0.5);
      text += `In ${stale.length} of ${reps.length} repetitions the page's poke reached the worker (p50 ${ms(med(stale, 'poke'))} after \`setOffline(false)\`) while the worker's own \`navigator.onLine\` still read \`false\`: Chromium updates the worker after the page, and ${rc.workerOnlineEvent.n ? `fired the worker's \`online\` event in only ${rc.workerOnlineEvent.n} repetitions` : 'fired no `online` event in the worker in any repetition'}. The dispatcher then looks at its own \`navigator.onLine\` again after 4 ms, doubling the step up to 100 ms (src/worker/dispatcher.ts, for at most \`ONLINE_LAG\` = 5 s), before it claims, so those repetitions start the handler at p50 ${ms(med(stale, 'latency'))}` +
        (fresh.length ? `, against ${ms(med(fresh, 'latency'))} for the ${fresh.length} where the worker already read online` : '') +
        `; native starts it at ${ms(native?.latency.p50)}. The wait is deliberate: a handler run while the worker's own fetches still fail would spend an attempt. `;
    }
    if (tl) {
      text += `The polyfill's own path, from the profiled repetitions (median of ${p.reconnect.reps}, profiler attached; the worker read online by then in ${p.reconnect.timelines.filter((x) => x.workerOnLineAtPoke).length} of them): the page's \`online\` event at ${ms(tl.pageOnlineEvent)}; the page pokes its own worker at once${tl.pageReadStart != null && tl.pageReadStart < tl.handlerEntry ? ` and reads the store (a readonly transaction, ${ms(tl.pageReadStart)} → ${ms(tl.pageReadEnd)})` : ' (it reads the store for other scopes a second later, out of the way of the claim)'}; the poke reaches the worker at ${ms(tl.pokeAtWorker)}; the worker claims in a strict readwrite transaction (${ms(tl.claimStart)} → ${ms(tl.claimEnd)}); the handler starts at ${ms(tl.handlerEntry)}. `;
    }
    if (rc && rc.fired < rc.reps) {
      const staleAtPoke = rc.failures.filter((f) => /worker onLine=false/.test(f)).length;
      text += `**${rc.reps - rc.fired} of ${rc.reps} repetitions never fired within the time limit**${staleAtPoke ? ` (in ${staleAtPoke} of them the poke came while the worker read offline)` : ''}: see the misses listed above. `;
    }
    text += 'What bounds it: the worker claims in a strict readwrite transaction before the handler starts, so that two workers (an update, a second instance) never fire one tag at once.';
    out.push(text, '');
  }

  if (missed(5)) {
    const d = p?.drain;
    out.push('### Drain');
    out.push('');
    let text = '';
    if (d?.worker) {
      text += `Profiled drain of ${fmtBytes(d.count)} tags: the first handler started ${ms(d.firstEnterMs)} after \`setOffline(false)\` and the last settled at ${ms(d.lastSettleMs)}; getTags() was empty at ${ms(d.storeEmptyMs)}. The worker ran ${d.workerReadwriteCount} readwrite transactions; the first, the claim of every due record in one strict transaction, took ${ms(d.workerReadwrite[0]?.ms)} before any handler could start. Worker JS: ${fmtMs(d.worker.jsMs)} ms of ${fmtMs(d.worker.wallMs)} ms (top: ${d.worker.top.slice(0, 4).map((f) => `\`${f.fn}\`${f.where ? ` (${f.where})` : ''} ${fmtMs(f.ms)} ms`).join(', ')}). `;
    }
    text += 'The polyfill\'s floor: one claim transaction that writes every due record (a lease each, so that no other worker fires them) before the first handler runs, then settle transactions; native Chromium keeps its registrations in the browser process and dispatches from there.';
    out.push(text, '');
  }

  if (missed(6)) {
    const sc = p?.scale;
    const series = s.drain?.['chromium-polyfill'] ?? {};
    const sizes = Object.keys(series).map(Number).sort((a, b) => a - b);
    out.push('### Scale');
    out.push('');
    let text = `Per tag, the polyfill's register phase grows from ${ms(series[sizes[0]]?.perTag.register)} at ${fmtBytes(sizes[0])} tags to ${ms(series[sizes.at(-1)]?.perTag.register)} at ${fmtBytes(sizes.at(-1))}; its drain per tag stays flat (${ms(series[sizes[0]]?.perTag.drain)} → ${ms(series[sizes.at(-1)]?.perTag.drain)}). So the growth is in registering. `;
    if (sc?.registerTx) {
      const top = (name) => sc.page.top.find((f) => f.fn === name && !f.where)?.ms;
      text += `Profiled offline registration of ${fmtBytes(sc.count)} tags (100 in flight): a burst of register() calls is followed by one page \`check()\` (1 s after the last call, at most 5 s after the first), which reads every record of the origin (\`listAll()\`, a \`getAll\`): the page read the whole store ${sc.storeReads.count} times. Those reads were in flight ${ms(sc.storeReads.totalMs)} of the ${ms(sc.registerMs)} and compete with the writes for the object store; register()'s own transaction took ${ms(sc.registerTx.firstTenth.p50)} at p50 in the first tenth and ${ms(sc.registerTx.lastTenth.p50)} in the last.` +
        (top('getAll') != null && top('put') != null ? ` In the page's CPU profile \`getAll\` already takes ${ms(top('getAll'))} against ${ms(top('put'))} for all the \`put\`s (plus ${ms(sc.page.programMs)} of native time the profiler leaves unattributed, \`(program)\`).` : '') + ' ';
    }
    const native = s.drain?.['chromium-native'] ?? {};
    const nsizes = Object.keys(native).map(Number).sort((a, b) => a - b);
    text += 'What is left grows with the store: every register() transaction and every check works on an object store that holds all N records. ' +
      (nsizes.length > 1 ? `For scale: native Chromium grows more on this measure, its register() from ${ms(native[nsizes[0]].perTag.register)} per tag at ${fmtBytes(nsizes[0])} to ${ms(native[nsizes.at(-1)].perTag.register)} at ${fmtBytes(nsizes.at(-1))}, and getTags() took ${ms(native[nsizes.at(-1)].storeEmptyMs)} to come back empty after a ${fmtBytes(nsizes.at(-1))}-tag drain; that is the browser's own storage, which a page cannot profile.` : '');
    out.push(text, '');
  }
  if (missed(7)) {
    const kp = s.kill['chromium-polyfill'];
    const kn = s.kill['chromium-native'];
    const delay = kp.policy?.initialRetryDelay;
    out.push('### Kill recovery');
    out.push('');
    out.push(`Both sides wait the same retry delay (${ms(delay)}) after the killed attempt counts as failed. Native Chromium counts it failed when its browser process sees the worker stop, so its recovery (p50 ${ms(kn.recovery.p50)}) is that delay plus the worker's restart. The polyfill's p50 of ${ms(kp.recovery.p50WithMisses)} is ${ms(kp.recovery.p50WithMisses - delay)} beyond the delay: the time the polyfill takes to learn that the worker holding the firing died (the page and a new worker instance are not told of a stop; the polyfill has to find out), then to wake a worker for the retry. What bounds it is how that death is detected (src/worker/dispatcher.ts).`, '');
  }
  if (out.length === 2) out.push(rows.slice(0, 8).every((row) => row.verdict === NOT_RUN) ? 'No target with a number was measured in this run.' : 'Every target with a number was met in this run.', '');
  return out;
}

// ---------------------------------------------------------------- picture

function renderSvg(r) {
  const width = 980;
  let y = 10;
  let body = '';
  const rc = r.suites.reconnect;
  if (rc) {
    const order = ['chromium-native', 'chromium-polyfill', 'firefox-polyfill', 'webkit-polyfill'].filter((id) => rc[id]);
    const chart = distributionChart({
      x: 20, y, width: width - 40,
      title: 'Reconnect → sync handler entry, one page open (every repetition a dot; box p25–p75, bar p50)',
      rows: order.map((id) => ({ label: LABELS[id], color: COLOR[id], samples: rc[id].samples, misses: rc[id].reps - rc[id].fired })),
      timeoutLabel: 'the time limit',
    });
    body += chart.svg;
    y += chart.height + 20;
  }
  const dr = r.suites.drain;
  const chromium = ['chromium-native', 'chromium-polyfill'].filter((id) => dr?.[id] && Object.keys(dr[id]).length > 1);
  if (chromium.length) {
    const series = [];
    for (const id of chromium) {
      const pts = (key) => Object.entries(dr[id]).map(([n, v]) => [Number(n), v.perTag[key]]).filter((p) => p[1] != null).sort((a, b) => a[0] - b[0]);
      const who = id === 'chromium-native' ? 'native' : 'polyfill (API deleted)';
      series.push({ label: `${who}: register + drain`, color: COLOR[id], points: pts('total') });
      series.push({ label: `${who}: register only`, color: COLOR[id], dash: '5 4', points: pts('register') });
    }
    const chart = lineChart({
      x: 20, y, width: width - 40, height: 320,
      title: 'Per-tag cost against the number of tags (Chromium; flat = linear)',
      series, xLabel: 'tags registered offline, then drained', yLabel: 'ms per tag',
    });
    body += chart.svg;
    y += chart.height + 10;
  }
  if (!body) return null;
  return document(width, y, body, 'background-sync-polyfill benchmarks');
}
