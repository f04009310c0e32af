// The build half of the stacks suite (run.mjs): everything that needs the npm registry or only the file system,
// done before the run enters its private network namespace.
//
//   installScratch()   packs the package (`npm pack`, what would be published) and installs the tarball with
//                      `npm install` into a scratch folder, next to the tools of tools.json: those ship native
//                      binaries per platform (Vite's rolldown, esbuild) or need them, so they cannot enter
//                      package-lock.json. webpack and workbox-webpack-plugin are plain JavaScript: they come from
//                      the project's own devDependencies, linked in.
//   buildStack()       copies a fixture app into the scratch folder and builds it with its own tool, the way its
//                      README snippet says; then builds it again with the polyfill's imports removed, to measure
//                      the bytes the import adds to the page and worker bundles
//   checkTypes()       the esbuild fixture is a typed project: `tsc --strict` (lib "WebWorker" for the worker, "DOM"
//                      for the page) against the tarball's .d.ts, no casts; and its control without the import
//                      must fail for the right reason
//   checkReadme()      README's "With your build tool" shows each fixture's files verbatim
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import ts from 'typescript';
import { rollup } from 'rollup';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = join(HERE, '..', '..');
const FIXTURES = join(HERE, 'fixtures');
/** What comes from the project's own node_modules (no native binaries: package-lock.json holds them). */
const LINKED = ['webpack', 'workbox-webpack-plugin'];

/**
 * The four stacks, in README's order. `tag` is the sync tag its queue registers; `build` runs the stack's tool in the app's folder;
 * `shown` are the files README shows verbatim; `serve` the folders the test server serves, in order.
 */
export const STACKS = [
  {
    name: 'webpack',
    tag: 'workbox-background-sync:api',
    build: buildWebpack,
    shown: ['webpack.config.js', 'src/main.js', 'src/sw.js'],
    serve: ['dist', 'public'],
  },
  {
    name: 'vite-pwa',
    tag: 'workbox-background-sync:api',
    build: viteBuild,
    shown: ['vite.config.js', 'src/main.js', 'src/sw.js'],
    serve: ['dist'],
  },
  {
    name: 'serwist',
    tag: 'serwist-background-sync:api',
    build: viteBuild,
    shown: ['vite.config.js', 'src/main.js', 'src/sw.js'],
    serve: ['dist'],
  },
  {
    name: 'esbuild',
    tag: 'outbox',
    build: (dir) => run(process.execPath, ['build.mjs'], dir),
    shown: ['build.mjs', 'src/main.ts', 'src/sw.ts'],
    serve: ['dist', 'public'],
  },
];

/** `vite build` in the app's folder, as its package.json script would run it. */
function viteBuild(dir) {
  return run(process.execPath, [join(dir, '..', 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'], dir);
}

function run(command, args, cwd) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 180000, env: { ...process.env, NODE_ENV: 'production' } });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`${basename(args[0])} ${args.slice(1).join(' ')} in ${basename(cwd)} exited ${result.status}:\n${(result.stdout + result.stderr).slice(-3000)}`);
  return result.stdout + result.stderr;
}

async function buildWebpack(dir) {
  const { default: webpack } = await import(pathToFileURL(join(ROOT, 'node_modules', 'webpack', 'lib', 'index.js')).href);
  const { default: config } = await import(pathToFileURL(join(dir, 'webpack.config.js')).href);
  const stats = await new Promise((resolve, reject) => webpack(config, (error, result) => (error ? reject(error) : resolve(result))));
  if (stats.hasErrors()) throw new Error(`webpack: ${stats.toString({ all: false, errors: true })}`);
}

/** The scratch folder: the packed tarball installed by npm with the tools of tools.json. Returns timings. */
export function installScratch(dir) {
  const start = Date.now();
  const tools = JSON.parse(readFileSync(join(HERE, 'tools.json'), 'utf8')).dependencies;
  const packDir = join(dir, 'pack');
  mkdirSync(packDir, { recursive: true });
  const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', packDir], { cwd: ROOT, encoding: 'utf8', timeout: 60000, stdio: ['ignore', 'pipe', 'pipe'] });
  const [{ filename }] = JSON.parse(out.slice(out.indexOf('[')));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({
    name: 'stacks-fixtures',
    private: true,
    type: 'module',
    dependencies: { 'background-sync-polyfill': `file:pack/${filename}`, ...tools },
  }, null, 2));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, encoding: 'utf8', timeout: 300000, stdio: ['ignore', 'pipe', 'pipe'] });
  for (const name of LINKED) symlinkSync(join(ROOT, 'node_modules', name), join(dir, 'node_modules', name), 'dir');
  const version = (name) => JSON.parse(readFileSync(join(dir, 'node_modules', name, 'package.json'), 'utf8')).version;
  return {
    ms: Date.now() - start,
    tarball: filename,
    versions: Object.fromEntries([...Object.keys(tools), ...LINKED].map((name) => [name, version(name)])),
    polyfill: version('background-sync-polyfill'),
  };
}

/** The polyfill's imports of a source file: the lines the "bare" build removes. */
const POLYFILL_IMPORT = /^import 'background-sync-polyfill[^']*';\n/gm;

/**
 * Builds the fixture `stack` into `<dir>/<name>/` with its tool, and a copy without the polyfill's imports into
 * `<dir>/<name>-bare/`. Returns the served folders, the bytes of each bundle (raw and gzip -9) and the build time.
 */
export async function buildStack(dir, stack) {
  const app = join(dir, stack.name);
  const bare = join(dir, `${stack.name}-bare`);
  for (const target of [app, bare]) {
    rmSync(target, { recursive: true, force: true });
    cpSync(join(FIXTURES, stack.name), target, { recursive: true });
  }
  const strip = (folder) => {
    for (const file of sourceFiles(join(folder, 'src'))) {
      const text = readFileSync(file, 'utf8');
      const stripped = text.replace(POLYFILL_IMPORT, '');
      if (stripped === text) continue;
      writeFileSync(file, stripped);
    }
  };
  strip(bare);
  const start = Date.now();
  await stack.build(app);
  const ms = Date.now() - start;
  await stack.build(bare);
  const sizes = { with: bundleSizes(join(app, 'dist')), without: bundleSizes(join(bare, 'dist')) };
  const added = {};
  for (const side of ['page', 'worker']) {
    added[side] = { raw: sizes.with[side].raw - sizes.without[side].raw, gzip: sizes.with[side].gzip - sizes.without[side].gzip };
  }
  return { app, serve: stack.serve.map((folder) => join(app, folder)), ms, sizes, added };
}

function sourceFiles(folder) {
  return readdirSync(folder, { recursive: true }).map((file) => join(folder, file)).filter((file) => /\.(js|ts)$/.test(file) && statSync(file).isFile());
}

/** The page bundle (every .js but the worker) and the worker bundle (sw.js), raw and gzip -9. */
function bundleSizes(dist) {
  const files = readdirSync(dist, { recursive: true }).filter((file) => file.endsWith('.js'));
  if (!files.includes('sw.js')) throw new Error(`no sw.js among ${files.join(', ')} in ${dist}`);
  const size = (list) => {
    const buffers = list.map((file) => readFileSync(join(dist, file)));
    return { raw: buffers.reduce((sum, b) => sum + b.length, 0), gzip: buffers.reduce((sum, b) => sum + gzipSync(b, { level: 9 }).length, 0), files: list };
  };
  return { page: size(files.filter((file) => file !== 'sw.js')), worker: size(['sw.js']) };
}

/** observe-worker.js and what it imports, as one classic script for the server to put before each sw.js. */
export async function bundleObserver() {
  const bundle = await rollup({ input: join(HERE, 'observe-worker.js') });
  try {
    const { output } = await bundle.generate({ format: 'iife' });
    return output[0].code;
  } finally {
    await bundle.close();
  }
}

// ---------------------------------------------------------------------------------------------------------

function tsc(project) {
  const result = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project, '--pretty', 'false'], { cwd: dirname(project), encoding: 'utf8', timeout: 120000 });
  if (result.error) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
}

/** Every cast, non-null assertion, `any` and @ts- directive in a TypeScript file, as "line: text". */
export function castsIn(file) {
  const text = readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found = [];
  const at = (node) => `${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}: ${node.getText().slice(0, 80)}`;
  const visit = (node) => {
    if (ts.isAsExpression(node) || ts.isTypeAssertionExpression(node) || ts.isNonNullExpression(node) || node.kind === ts.SyntaxKind.AnyKeyword) found.push(at(node));
    ts.forEachChild(node, visit);
  };
  visit(source);
  for (const [index, line] of text.split('\n').entries()) if (/@ts-(ignore|expect-error|nocheck)/.test(line)) found.push(`${index + 1}: ${line.trim()}`);
  return found;
}

/**
 * The esbuild fixture as a typed project: both tsconfigs (strict; "WebWorker" for sw.ts, "DOM" for main.ts)
 * compile against the installed tarball's types, with no cast; a control copy of sw.ts without the polyfill's
 * import fails on `registration.sync` (the types come from the package, not from somewhere else).
 */
export function checkTypes(app) {
  const failures = [];
  for (const project of ['tsconfig.sw.json', 'tsconfig.json']) {
    const options = JSON.parse(readFileSync(join(app, project), 'utf8')).compilerOptions;
    if (options.strict !== true) failures.push(`${project}: not strict`);
    const { status, output } = tsc(join(app, project));
    if (status !== 0) failures.push(`${project}: tsc exited ${status}:\n${output}`);
  }
  const lib = JSON.parse(readFileSync(join(app, 'tsconfig.sw.json'), 'utf8')).compilerOptions.lib;
  if (!lib.includes('WebWorker') || lib.includes('DOM')) failures.push(`tsconfig.sw.json: lib ${JSON.stringify(lib)}, not the worker's`);
  for (const file of ['src/sw.ts', 'src/main.ts']) {
    const casts = castsIn(join(app, file));
    if (casts.length) failures.push(`${file} has casts:\n${casts.join('\n')}`);
  }
  const sw = readFileSync(join(app, 'src', 'sw.ts'), 'utf8');
  for (const used of ["addEventListener('sync'", "addEventListener('periodicsync'", 'event.tag', 'registration.sync.register']) {
    if (!sw.includes(used)) failures.push(`src/sw.ts no longer uses ${used}: the typed project must use the sync and periodic sync events`);
  }
  const control = join(app, 'control');
  mkdirSync(join(control, 'src'), { recursive: true });
  writeFileSync(join(control, 'src', 'sw.ts'), sw.replace(POLYFILL_IMPORT, 'export {};\n'));
  writeFileSync(join(control, 'tsconfig.sw.json'), readFileSync(join(app, 'tsconfig.sw.json')));
  const result = tsc(join(control, 'tsconfig.sw.json'));
  if (result.status === 0 || !/TS2339: Property 'sync' does not exist/.test(result.output)) {
    failures.push(`the control without the import should fail with TS2339 on registration.sync, got exit ${result.status}: ${result.output}`);
  }
  if (failures.length) throw new Error(failures.join('\n'));
  const version = JSON.parse(readFileSync(join(ROOT, 'node_modules', 'typescript', 'package.json'), 'utf8')).version;
  return `tsc ${version} --strict: src/sw.ts (lib WebWorker: sync and periodicsync events, registration.sync) and src/main.ts (lib DOM: registration.periodicSync) compile against the tarball's types with no cast; without the import, registration.sync is TS2339`;
}

// ---------------------------------------------------------------------------------------------------------

/** README's marker before each shown file: `<!-- stack: <stack>/<file> -->`, then a fenced block. */
const SNIPPET = /<!-- stack: ([\w-]+\/[\w./-]+) -->\n```\w*\n([\s\S]*?)```\n/g;

/**
 * Each file of `shown` is in README, verbatim, after its marker; no marker names a file the suite does not check.
 * With `sizes` ({stack: {page, worker}} gzip bytes added), the section's table states exactly those, one row per
 * stack in order.
 */
export function checkReadme(sizes, readme = readFileSync(join(ROOT, 'README.md'), 'utf8')) {
  const snippets = new Map([...readme.matchAll(SNIPPET)].map(([, path, code]) => [path, code]));
  const failures = [];
  const expected = STACKS.flatMap((stack) => stack.shown.map((file) => `${stack.name}/${file}`));
  for (const path of expected) {
    const file = readFileSync(join(FIXTURES, path), 'utf8');
    if (!snippets.has(path)) failures.push(`README shows no ${path} (a \`<!-- stack: ${path} -->\` marker, then the file in a code block)`);
    else if (snippets.get(path) !== file) failures.push(`README's ${path} differs from test/stacks/fixtures/${path}:\n${firstDifference(snippets.get(path), file)}`);
  }
  for (const path of snippets.keys()) if (!expected.includes(path)) failures.push(`README shows ${path}, which the suite does not check`);
  if (sizes) {
    const section = readme.slice(readme.indexOf('## With your build tool'));
    const rows = [...section.matchAll(/^\| [^|]+ \| \+([\d,]+) B \| \+([\d,]+) B \|/gm)].map(([, page, worker]) => ({ page: Number(page.replace(/,/g, '')), worker: Number(worker.replace(/,/g, '')) }));
    const measured = STACKS.map((stack) => ({ page: sizes[stack.name].page, worker: sizes[stack.name].worker }));
    if (JSON.stringify(rows) !== JSON.stringify(measured)) {
      failures.push(`README's table of the bytes added (gzip) says ${JSON.stringify(rows)}; measured now, in the order ${STACKS.map((s) => s.name).join(', ')}: ${JSON.stringify(measured)}`);
    }
  }
  if (failures.length) throw new Error(failures.join('\n'));
  return `${expected.length} files of ${STACKS.length} stacks, verbatim${sizes ? ', and the bytes added as measured' : ''}`;
}

function firstDifference(shown, actual) {
  const a = shown.split('\n');
  const b = actual.split('\n');
  const line = a.findIndex((text, index) => text !== b[index]);
  const at = line === -1 ? a.length : line;
  return `line ${at + 1}: README ${JSON.stringify(a[at])}, fixture ${JSON.stringify(b[at])}`;
}
