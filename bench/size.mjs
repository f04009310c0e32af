// Exact bytes of the three shipped classic scripts (page only, worker only, universal), minified, gzip (level 9)
// and brotli (quality 11), and of Workbox's worker side measured from the npm packages in the same run.
//
//   node bench/size.mjs                  prints the sizes, the targets and the ratios against Workbox
//   node bench/size.mjs --check          CI: fails (exit 1) when any of the three .min.js is over its budget in
//                                        bench/size-budget.json; prints measured/budget/target for each
//   node bench/size.mjs --write-budget   rewrites the budgets: the current bytes plus 2% headroom (targets kept)
//   node bench/size.mjs --json           the measurement as JSON
//
// The budgets are a regression guard: only they fail CI. The targets (per script, gzip) are reported, not enforced.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { constants, brotliCompressSync, gzipSync } from 'node:zlib';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const BUDGET_FILE = fileURLToPath(new URL('./size-budget.json', import.meta.url));
const HEADROOM = 0.02;

/**
 * The shipped classic scripts, keyed as in bench/size-budget.json's "scripts". `target` is the issue's gzip target:
 * the default when the budget file records none (the file's own "target" wins, so it can be edited there).
 */
export const SCRIPTS = {
  window: {
    file: 'dist/background-sync-polyfill.window.min.js',
    what: 'page only (<script src>)',
    target: { gzip: 2500, why: "the issue's target for the page-only script" },
  },
  sw: {
    file: 'dist/background-sync-polyfill.sw.min.js',
    what: 'worker only (importScripts())',
    target: { gzip: 4487, why: "Workbox's prod builds (workbox-background-sync.prod.js + workbox-core.prod.js, gzip)" },
  },
  universal: {
    file: 'dist/background-sync-polyfill.min.js',
    what: 'page + worker, one file',
    target: { gzip: 6000, why: "the issue's target for the one-file option" },
  },
};
export const SCRIPT_NAMES = Object.keys(SCRIPTS);
/** The universal script, which measurePolyfill() and the older fields describe. */
export const MIN_FILE = `${ROOT}${SCRIPTS.universal.file}`;
/** The universal script's gzip target. */
export const TARGET_GZIP = SCRIPTS.universal.target.gzip;
export const TARGET_RATIO = 0.65;

/** Exact compressed sizes of a buffer: gzip level 9 and brotli at its best quality, text mode. */
export function compressedSizes(buffer) {
  return {
    raw: buffer.length,
    gzip: gzipSync(buffer, { level: 9 }).length,
    brotli: brotliCompressSync(buffer, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        [constants.BROTLI_PARAM_SIZE_HINT]: buffer.length,
      },
    }).length,
  };
}

/** One classic script ('window', 'sw' or 'universal'), minified: { name, file, sha256, raw, gzip, brotli }. */
export function measureScript(name) {
  const script = SCRIPTS[name];
  if (!script) throw new Error(`unknown script "${name}"; known: ${SCRIPT_NAMES.join(', ')}`);
  const path = `${ROOT}${script.file}`;
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm run build\` first`);
  const buffer = readFileSync(path);
  return { name, file: script.file, sha256: createHash('sha256').update(buffer).digest('hex'), ...compressedSizes(buffer) };
}

/** All three classic scripts: { window, sw, universal }, each as measureScript() returns it. */
export function measureScripts() {
  return Object.fromEntries(SCRIPT_NAMES.map((name) => [name, measureScript(name)]));
}

/** The universal script (dist/background-sync-polyfill.min.js), as before there were three. */
export function measurePolyfill() {
  return measureScript('universal');
}

/** `process.env.NODE_ENV` → "production", as an app's bundler does for Workbox. */
const replaceNodeEnv = () => ({
  name: 'replace-node-env',
  transform(code) {
    if (!code.includes('process.env.NODE_ENV')) return null;
    return { code: code.replace(/process\.env\.NODE_ENV/g, '"production"'), map: null };
  },
});

/** A virtual entry module. */
const virtualEntry = (source) => ({
  name: 'virtual-entry',
  resolveId: (id) => (id === '\0entry' ? id : null),
  load: (id) => (id === '\0entry' ? source : null),
});

// What an app's worker ships to get Workbox's background sync: the Queue and the fetch plugin (idb and
// workbox-core included). Exposed on self so nothing is tree-shaken away.
const WORKBOX_ENTRY = `
import { Queue, BackgroundSyncPlugin } from 'workbox-background-sync';
self.workboxBackgroundSync = { Queue, BackgroundSyncPlugin };
`;

/**
 * Workbox's worker side, bundled from the npm packages the way an app does: node-resolve, NODE_ENV=production,
 * terser with the options our own build uses. Also the sum of the two prebuilt CDN prod files, for reference.
 */
export async function measureWorkbox() {
  const [{ rollup }, { nodeResolve }, { default: terser }] = await Promise.all([
    import('rollup'),
    import('@rollup/plugin-node-resolve'),
    import('@rollup/plugin-terser'),
  ]);
  const warnings = [];
  const bundle = await rollup({
    input: '\0entry',
    plugins: [virtualEntry(WORKBOX_ENTRY), nodeResolve({ browser: true }), replaceNodeEnv()],
    onwarn: (warning) => warnings.push(warning.message),
  });
  let code;
  try {
    const { output } = await bundle.generate({
      format: 'iife',
      generatedCode: 'es2015',
      plugins: [terser({ ecma: 2020, module: false, compress: { passes: 2 }, format: { comments: false } })],
    });
    code = output[0].code;
  } finally {
    await bundle.close();
  }
  const require = createRequire(import.meta.url);
  const version = (name) => JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')).version;
  const prodFiles = ['workbox-background-sync', 'workbox-core'].map((name) => {
    const file = require.resolve(`${name}/build/${name}.prod.js`);
    return { name, ...compressedSizes(readFileSync(file)) };
  });
  const sum = (key) => prodFiles.reduce((total, f) => total + f[key], 0);
  return {
    label: `workbox-background-sync ${version('workbox-background-sync')} + workbox-core ${version('workbox-core')} + idb ${version('idb')}`,
    entry: WORKBOX_ENTRY.trim().split('\n'),
    bundle: compressedSizes(Buffer.from(code)),
    prodBuilds: { files: prodFiles, raw: sum('raw'), gzip: sum('gzip'), brotli: sum('brotli') },
    warnings,
  };
}

/**
 * Where the bytes go: the project's own rollup config (first output, the classic script) built in memory, each
 * module's rendered code minified on its own. Minified bytes per module and group; the shares are what matters.
 */
export async function measureComposition() {
  const [{ rollup }, { minify }, config] = await Promise.all([
    import('rollup'),
    import('terser'),
    import('../rollup.config.mjs'),
  ]);
  const entry = config.default[0];
  const cwd = process.cwd();
  process.chdir(ROOT); // the config's paths are relative to the project root
  let modules;
  try {
    const bundle = await rollup({ input: entry.input, plugins: entry.plugins, onwarn: () => {} });
    try {
      const { output } = await bundle.generate({ format: 'iife', generatedCode: 'es2015' });
      modules = output[0].modules;
    } finally {
      await bundle.close();
    }
  } finally {
    process.chdir(cwd);
  }
  const rows = [];
  for (const [id, info] of Object.entries(modules)) {
    if (!info.code) continue;
    const { code } = await minify(info.code, { ecma: 2017, module: false, compress: { passes: 2 }, mangle: { toplevel: true }, format: { comments: false } });
    const file = id.startsWith(ROOT) ? id.slice(ROOT.length) : id;
    const group = file.includes('node_modules/idb/') ? 'idb (dependency)' : file.replace(/^src\//, '').replace(/\/[^/]+$/, '/').replace(/\.ts$/, '');
    rows.push({ file, group, minified: Buffer.byteLength(code ?? '') });
  }
  // Each half alone, built and minified like the classic script: the worker half is what compares with Workbox's
  // worker side.
  const halves = {};
  process.chdir(ROOT);
  try {
    for (const [name, input] of [['worker', 'polyfill/sw.ts'], ['page', 'polyfill/window.ts']]) {
      const bundle = await rollup({ input, plugins: entry.plugins, onwarn: () => {} });
      try {
        const { output } = await bundle.generate({ format: 'iife', generatedCode: 'es2015' });
        const { code } = await minify(output[0].code, {
          ecma: 2017, module: false, compress: { passes: 2 }, keep_classnames: /^Sync(Manager|Event)$/, format: { comments: false },
        });
        halves[name] = { input, ...compressedSizes(Buffer.from(code)) };
      } finally {
        await bundle.close();
      }
    }
  } finally {
    process.chdir(cwd);
  }
  const total = rows.reduce((t, r) => t + r.minified, 0);
  const groups = {};
  for (const r of rows) groups[r.group] = (groups[r.group] ?? 0) + r.minified;
  return {
    halves,
    totalMinified: total,
    modules: rows.sort((a, b) => b.minified - a.minified).map((r) => ({ ...r, share: r.minified / total })),
    groups: Object.entries(groups).sort((a, b) => b[1] - a[1]).map(([group, minified]) => ({ group, minified, share: minified / total })),
  };
}

export async function measureAll() {
  const scripts = measureScripts();
  const polyfill = scripts.universal;
  const workbox = await measureWorkbox();
  let budget = {};
  try {
    budget = readBudget();
  } catch {
    // no budget file: the default targets
  }
  for (const [name, script] of Object.entries(scripts)) {
    const target = budget.scripts?.[name]?.target?.gzip ?? SCRIPTS[name].target.gzip;
    script.what = SCRIPTS[name].what;
    script.target = { gzip: target, met: script.gzip <= target };
    script.vsWorkbox = { gzip: script.gzip / workbox.bundle.gzip, brotli: script.brotli / workbox.bundle.brotli, gzipVsProdBuilds: script.gzip / workbox.prodBuilds.gzip };
  }
  return {
    polyfill,
    scripts,
    workbox,
    ratio: {
      gzip: polyfill.gzip / workbox.bundle.gzip,
      brotli: polyfill.brotli / workbox.bundle.brotli,
      gzipVsProdBuilds: polyfill.gzip / workbox.prodBuilds.gzip,
    },
    target: { gzip: scripts.universal.target.gzip, ratio: TARGET_RATIO },
    targets: Object.fromEntries(Object.entries(scripts).map(([name, s]) => [name, s.target])),
  };
}

/**
 * bench/size-budget.json. Its per-script entries are under "scripts"; the universal script's entries are also
 * returned as top-level "gzip" and "brotli", the shape older readers (bench/report.mjs) use.
 */
export function readBudget() {
  const budget = JSON.parse(readFileSync(BUDGET_FILE, 'utf8'));
  if (!budget.scripts || typeof budget.scripts !== 'object') throw new Error(`${BUDGET_FILE}: no "scripts" object`);
  return { ...budget, gzip: budget.scripts.universal?.gzip, brotli: budget.scripts.universal?.brotli };
}

/**
 * CI: exact bytes of every classic script against its budget. `measured` is { window, sw, universal } as
 * measureScripts() returns it, or (older callers) one measurement of the universal script, the other two then
 * being measured from dist/. Returns the messages, whether all are within budget, and per script the verdicts.
 * Only the budgets decide `ok`; the targets are reported.
 */
export function checkBudget(measured = measureScripts(), budget = readBudget()) {
  const scripts = measured && typeof measured.gzip === 'number' ? { ...measureScripts(), universal: measured } : measured;
  const lines = [];
  const verdicts = {};
  let ok = true;
  for (const name of SCRIPT_NAMES) {
    const script = scripts[name];
    if (!script) throw new Error(`no measurement of the ${name} script`);
    const entry = budget.scripts?.[name];
    if (!entry) throw new Error(`${BUDGET_FILE}: no "scripts.${name}" entry`);
    if (entry.file && entry.file !== script.file) throw new Error(`${BUDGET_FILE}: "scripts.${name}.file" is ${entry.file}, the script is ${script.file}`);
    const target = entry.target?.gzip;
    if (!Number.isInteger(target)) throw new Error(`${BUDGET_FILE}: "scripts.${name}.target.gzip" must be an integer`);
    const verdict = { file: script.file, target: { gzip: target, met: script.gzip <= target }, ok: true };
    lines.push(`${script.file}: ${SCRIPTS[name].what}, ${fmt(script.raw)} B minified`);
    for (const key of ['gzip', 'brotli']) {
      const limit = entry[key]?.budget;
      if (!Number.isInteger(limit)) throw new Error(`${BUDGET_FILE}: "scripts.${name}.${key}.budget" must be an integer`);
      const over = script[key] - limit;
      if (over > 0) verdict.ok = ok = false;
      verdict[key] = { measured: script[key], budget: limit, over: Math.max(over, 0) };
      lines.push(
        `  ${over > 0 ? 'OVER ' : 'ok   '} ${key.padEnd(6)} ${fmt(script[key]).padStart(6)} B  budget ${fmt(limit).padStart(6)} B` +
          (over > 0 ? `  (${fmt(over)} B over)` : `  (${fmt(-over)} B to spare)`) +
          (key === 'gzip' ? `  target ${fmt(target)} B: ${verdict.target.met ? 'met' : `not met (${fmt(script.gzip - target)} B above)`}` : ''),
      );
    }
    verdicts[name] = verdict;
  }
  return { ok, lines, scripts: verdicts };
}

function writeBudget(scripts) {
  let previous = {};
  try {
    previous = readBudget().scripts;
  } catch {
    // no budget yet, or an older shape: the targets come from SCRIPTS
  }
  const entry = (bytes) => ({ measured: bytes, budget: Math.floor(bytes * (1 + HEADROOM)) });
  const budget = {
    note:
      `Regression guards checked by \`node bench/size.mjs --check\` (npm run size), one per classic script: the bytes measured on ` +
      `${new Date().toISOString().slice(0, 10)} plus ${HEADROOM * 100}% headroom. CI fails when any script is over its budget. ` +
      'The targets (gzip) are reported, not enforced: lower the budgets as the scripts shrink (`node bench/size.mjs --write-budget`).',
    scripts: Object.fromEntries(
      SCRIPT_NAMES.map((name) => {
        const s = scripts[name];
        const target = previous?.[name]?.target ?? { gzip: SCRIPTS[name].target.gzip, why: SCRIPTS[name].target.why };
        return [name, { file: s.file, what: SCRIPTS[name].what, target, gzip: entry(s.gzip), brotli: entry(s.brotli) }];
      }),
    ),
  };
  writeFileSync(BUDGET_FILE, `${JSON.stringify(budget, null, 2)}\n`);
  return budget;
}

const fmt = (n) => n.toLocaleString('en-US');

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = new Set(process.argv.slice(2));
  try {
    if (args.has('--check')) {
      const { ok, lines, scripts } = checkBudget(measureScripts());
      console.log('size of the classic scripts (minified) against bench/size-budget.json (the budget fails CI; the target is reported):');
      for (const line of lines) console.log(`  ${line}`);
      const over = Object.entries(scripts).filter(([, v]) => !v.ok).map(([, v]) => v.file);
      if (!ok) {
        console.log(`\nOver budget: ${over.join(', ')}. Shrink it, or, if the growth is intended, run`);
        console.log('`node bench/size.mjs --write-budget` and commit bench/size-budget.json with the reason.');
        process.exit(1);
      }
      console.log('all three within budget');
    } else if (args.has('--write-budget')) {
      const budget = writeBudget(measureScripts());
      console.log(`wrote ${BUDGET_FILE}:`);
      for (const [name, s] of Object.entries(budget.scripts)) console.log(`  ${name.padEnd(9)} ${s.file}: gzip ${s.gzip.budget} B, brotli ${s.brotli.budget} B (target ${s.target.gzip} B gzip)`);
    } else {
      const result = await measureAll();
      if (args.has('--json')) console.log(JSON.stringify(result, null, 2));
      else {
        const { scripts, workbox } = result;
        for (const s of Object.values(scripts)) {
          console.log(`${s.file}, ${s.what}: ${fmt(s.raw)} B minified, ${fmt(s.gzip)} B gzip, ${fmt(s.brotli)} B brotli; ` +
            `target ≤ ${fmt(s.target.gzip)} B gzip: ${s.target.met ? 'met' : 'missed'}; gzip ${s.vsWorkbox.gzip.toFixed(2)}× Workbox bundled, ${s.vsWorkbox.gzipVsProdBuilds.toFixed(2)}× its prod builds`);
        }
        console.log(`Workbox (${workbox.label}), bundled: ${fmt(workbox.bundle.raw)} B raw, ${fmt(workbox.bundle.gzip)} B gzip, ${fmt(workbox.bundle.brotli)} B brotli`);
        console.log(`Workbox prod builds (two CDN files): ${fmt(workbox.prodBuilds.raw)} B raw, ${fmt(workbox.prodBuilds.gzip)} B gzip, ${fmt(workbox.prodBuilds.brotli)} B brotli`);
        console.log(`ratio universal/Workbox bundled: gzip ${result.ratio.gzip.toFixed(2)}, brotli ${result.ratio.brotli.toFixed(2)} (benchmark target ≤ ${TARGET_RATIO})`);
      }
    }
  } catch (error) {
    console.error(`bench/size.mjs: ${error.message}`);
    process.exit(2);
  }
}
