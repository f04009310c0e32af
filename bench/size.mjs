// Exact bytes of the shipped classic script, gzip (level 9) and brotli (quality 11), and of Workbox's worker side
// measured from the npm packages in the same run.
//
//   node bench/size.mjs                  prints the sizes and the ratio against Workbox
//   node bench/size.mjs --check          CI: fails (exit 1) when the .min.js is over bench/size-budget.json
//   node bench/size.mjs --write-budget   rewrites the budget: the current bytes plus 2% headroom
//   node bench/size.mjs --json           the measurement as JSON
//
// The budget is a regression guard. The target (3,000 B gzip) is reported by `npm run bench`, not enforced.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { constants, brotliCompressSync, gzipSync } from 'node:zlib';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const MIN_FILE = `${ROOT}dist/background-sync-polyfill.min.js`;
export const BUDGET_FILE = fileURLToPath(new URL('./size-budget.json', import.meta.url));
export const TARGET_GZIP = 3000;
export const TARGET_RATIO = 0.65;
const HEADROOM = 0.02;

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

export function measurePolyfill() {
  if (!existsSync(MIN_FILE)) throw new Error(`${MIN_FILE} is missing: run \`npm run build\` first`);
  const buffer = readFileSync(MIN_FILE);
  return { file: 'dist/background-sync-polyfill.min.js', sha256: createHash('sha256').update(buffer).digest('hex'), ...compressedSizes(buffer) };
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
  const polyfill = measurePolyfill();
  const workbox = await measureWorkbox();
  return {
    polyfill,
    workbox,
    ratio: {
      gzip: polyfill.gzip / workbox.bundle.gzip,
      brotli: polyfill.brotli / workbox.bundle.brotli,
      gzipVsProdBuilds: polyfill.gzip / workbox.prodBuilds.gzip,
    },
    target: { gzip: TARGET_GZIP, ratio: TARGET_RATIO },
  };
}

export function readBudget() {
  return JSON.parse(readFileSync(BUDGET_FILE, 'utf8'));
}

/** CI: exact bytes against the committed budget. Returns the messages and whether it passed. */
export function checkBudget(polyfill = measurePolyfill(), budget = readBudget()) {
  const lines = [];
  let ok = true;
  for (const key of ['gzip', 'brotli']) {
    const limit = budget[key]?.budget;
    if (!Number.isInteger(limit)) throw new Error(`${BUDGET_FILE}: "${key}.budget" must be an integer`);
    const over = polyfill[key] - limit;
    if (over > 0) ok = false;
    lines.push(
      `${over > 0 ? 'OVER ' : 'ok   '} ${key.padEnd(6)} ${String(polyfill[key]).padStart(6)} B  budget ${limit} B` +
        (over > 0 ? `  (${over} B over)` : `  (${-over} B to spare)`),
    );
  }
  return { ok, lines };
}

function writeBudget(polyfill) {
  const entry = (bytes) => ({ measured: bytes, budget: Math.floor(bytes * (1 + HEADROOM)) });
  const budget = {
    file: polyfill.file,
    note:
      `Regression guard checked by \`node bench/size.mjs --check\`: the bytes measured on ${new Date().toISOString().slice(0, 10)} ` +
      `plus ${HEADROOM * 100}% headroom. The target is ${TARGET_GZIP} B gzip (the benchmark target), not met yet: lower these numbers as the bundle shrinks.`,
    gzip: entry(polyfill.gzip),
    brotli: entry(polyfill.brotli),
  };
  writeFileSync(BUDGET_FILE, `${JSON.stringify(budget, null, 2)}\n`);
  return budget;
}

const fmt = (n) => n.toLocaleString('en-US');

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = new Set(process.argv.slice(2));
  try {
    if (args.has('--check')) {
      const polyfill = measurePolyfill();
      const { ok, lines } = checkBudget(polyfill);
      console.log(`size of ${polyfill.file} (${fmt(polyfill.raw)} B raw) against bench/size-budget.json:`);
      for (const line of lines) console.log(`  ${line}`);
      if (!ok) {
        console.log('\nThe bundle grew past its size budget. Shrink it, or, if the growth is intended, run');
        console.log('`node bench/size.mjs --write-budget` and commit bench/size-budget.json with the reason.');
        process.exit(1);
      }
    } else if (args.has('--write-budget')) {
      const budget = writeBudget(measurePolyfill());
      console.log(`wrote ${BUDGET_FILE}: gzip ${budget.gzip.budget} B, brotli ${budget.brotli.budget} B`);
    } else {
      const result = await measureAll();
      if (args.has('--json')) console.log(JSON.stringify(result, null, 2));
      else {
        const { polyfill, workbox, ratio } = result;
        console.log(`${polyfill.file}: ${fmt(polyfill.raw)} B raw, ${fmt(polyfill.gzip)} B gzip, ${fmt(polyfill.brotli)} B brotli`);
        console.log(`Workbox (${workbox.label}), bundled: ${fmt(workbox.bundle.raw)} B raw, ${fmt(workbox.bundle.gzip)} B gzip, ${fmt(workbox.bundle.brotli)} B brotli`);
        console.log(`Workbox prod builds (two CDN files): ${fmt(workbox.prodBuilds.gzip)} B gzip, ${fmt(workbox.prodBuilds.brotli)} B brotli`);
        console.log(`ratio polyfill/Workbox: gzip ${ratio.gzip.toFixed(2)}, brotli ${ratio.brotli.toFixed(2)} (target ≤ ${TARGET_RATIO})`);
        console.log(`target ≤ ${fmt(TARGET_GZIP)} B gzip: ${polyfill.gzip <= TARGET_GZIP ? 'met' : 'missed'}`);
      }
    }
  } catch (error) {
    console.error(`bench/size.mjs: ${error.message}`);
    process.exit(2);
  }
}
