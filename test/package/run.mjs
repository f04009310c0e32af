// Package quality: `node test/package/run.mjs` (npm run test:package). Needs `npm run build` first.
// Each check prints PASS/FAIL; the last line is `N passed, N failed`, and the exit code is 1 on any failure.
//   publint       publint, at suggestion level: no message at all
//   attw          @arethetypeswrong/cli on the packed tarball, profile esm-only (the package is ESM only)
//   pack          `npm pack` holds exactly what users need: dist (entries, their chunks and their .d.ts),
//                 README.md, LICENSE, compat-table.md, the docs/ pages README links to, package.json; and every file package.json points at
//   entries       the tarball's package.json exports every entry (ESM, and the three classic scripts, plain and
//                 .min) at the expected files, all of them packed and listed in "sideEffects"
//   split         in the tarball, the page-only entries (ESM import graph of ./window, the .window scripts) hold no
//                 worker code (no idb import, openDB, indexedDB, SyncEvent, ExtendableEvent) and the worker-only
//                 ones no page wake-ups ('visibilitychange', 'pageshow'); each rule is first shown to fire on a fixture
//   types         type tests (test/package/types/) against the packed .d.ts, bundler and node16 resolution
//   api-reference README's "API reference" block declares exactly what the shipped .d.ts declares
//   options       README's configure() example lists every option with the default the .d.ts states
//   readme-links  README's relative links and #anchors resolve
//   changelog     CHANGELOG.md has an entry for package.json's version
//   license       LICENSE is the MIT license, as package.json says
//   screenshot    examples/outbox/screenshot.png is a real screenshot of the demo with messages sent, shown in README
// Options: --only=<check>[,<check>]
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { installPackedPackage } from '../e2e/build-fixtures.mjs';
import { checkScreenshot, countColour, hexToRgb } from '../e2e/png.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const HERE = fileURLToPath(new URL('.', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const bin = (name) => join(ROOT, 'node_modules', '.bin', name);

// ---------------------------------------------------------------------------------------------------------

async function checkPublint() {
  const { messages, pkg: linted } = await publint({ pkgDir: ROOT, level: 'suggestion', strict: false, pack: 'npm' });
  const lines = messages.map((m) => `${m.type}: ${formatMessage(m, linted) ?? m.code}`);
  if (lines.length) throw new Error(`publint found ${lines.length}:\n${lines.join('\n')}`);
  return 'no errors, warnings or suggestions';
}

function checkAttw() {
  const result = spawnSync(bin('attw'), ['--pack', '.', '--profile', 'esm-only', '--no-definitely-typed', '--format', 'json'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 180000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw result.error;
  let report;
  try {
    report = JSON.parse(result.stdout.slice(result.stdout.indexOf('{')));
  } catch {
    throw new Error(`attw printed no JSON (exit ${result.status}): ${result.stderr || result.stdout}`);
  }
  const problems = report.problems ? Object.values(report.problems).flat() : report.analysis?.problems ?? [];
  const ignored = new Set(['node10', 'node16-cjs']); // the esm-only profile: an ESM-only package
  const real = problems.filter((p) => !ignored.has(p.resolutionKind));
  if (real.length || result.status !== 0) {
    const text = real.map((p) => `${p.kind} ${p.entrypoint ?? p.fileName ?? ''} ${p.resolutionKind ?? p.resolutionOption ?? ''} ${p.moduleSpecifier ? `(${p.moduleSpecifier})` : ''}`.trim());
    throw new Error(`attw (exit ${result.status}) found ${real.length}:\n${text.join('\n') || result.stderr}`);
  }
  const entries = Object.keys(report.analysis?.entrypoints ?? {});
  return `no problems (profile esm-only) in ${entries.join(', ')}`;
}

// ---------------------------------------------------------------------------------------------------------

/** The files `npm pack` would publish. */
function packedFiles() {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', timeout: 60000, stdio: ['ignore', 'pipe', 'pipe'] });
  return JSON.parse(out.slice(out.indexOf('[')))[0].files.map((f) => f.path).sort();
}

/** Relative specifiers a JS or .d.ts file imports (static imports, re-exports, side-effect imports, reference paths). */
function relativeImports(file) {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
  const found = source.referencedFiles.map((r) => r.fileName);
  for (const statement of source.statements) {
    if ((ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)) && statement.moduleSpecifier && ts.isStringLiteral(statement.moduleSpecifier)) {
      found.push(statement.moduleSpecifier.text);
    }
  }
  return found.filter((s) => s.startsWith('.'));
}

function resolveRelative(fromFile, specifier, declaration) {
  const base = posix.normalize(posix.join(posix.dirname(fromFile), specifier));
  const candidates = declaration
    ? [base, base.replace(/\.js$/, '.d.ts'), `${base}.d.ts`, `${base}/index.d.ts`]
    : [base, `${base}.js`, `${base}/index.js`];
  return candidates.find((c) => /\.(js|d\.ts)$/.test(c) && existsSync(join(ROOT, c))) ?? null;
}

/** Every file package.json points at, as package-relative paths. */
function referencedByPackageJson() {
  const targets = [pkg.main, pkg.module, pkg.types, pkg.unpkg, pkg.jsdelivr, ...(Array.isArray(pkg.sideEffects) ? pkg.sideEffects : [])];
  const walk = (value) => {
    if (typeof value === 'string') targets.push(value);
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk(pkg.exports);
  return [...new Set(targets.filter(Boolean).map((t) => posix.normalize(t.replace(/^\.\//, ''))))];
}

/**
 * The pages of docs/ that README links to: users read them beside README, and the unminified build cites
 * docs/semantics.md, so they ship too.
 */
function linkedDocs() {
  const withoutCode = readme.replace(/```[\s\S]*?```/g, '');
  const targets = [...withoutCode.matchAll(/\]\((docs\/[^)#\s]+\.md)(?:#[^)]*)?\)/g)].map((m) => posix.normalize(m[1]));
  return [...new Set(['docs/semantics.md', ...targets])];
}

/** What users need: the entries package.json names, everything they import, and the docs. */
function neededFiles() {
  const needed = new Set(['package.json', 'README.md', 'LICENSE', 'compat-table.md', ...linkedDocs()]);
  const queue = referencedByPackageJson().filter((f) => f !== 'package.json');
  const unresolved = [];
  while (queue.length) {
    const file = queue.shift();
    if (needed.has(file)) continue;
    needed.add(file);
    if (!existsSync(join(ROOT, file))) continue;
    const declaration = file.endsWith('.d.ts');
    for (const specifier of relativeImports(join(ROOT, file))) {
      const target = resolveRelative(file, specifier, declaration);
      if (target) queue.push(target);
      else unresolved.push(`${file} imports ${specifier}, which resolves to no file`);
    }
  }
  return { needed: [...needed].sort(), unresolved };
}

function checkPack() {
  const packed = packedFiles();
  const { needed, unresolved } = neededFiles();
  const missing = needed.filter((f) => !packed.includes(f));
  const extra = packed.filter((f) => !needed.includes(f));
  const problems = [
    ...missing.map((f) => `missing from the package: ${f}${existsSync(join(ROOT, f)) ? '' : ' (the file does not exist)'}`),
    ...extra.map((f) => `not needed by users, but packed: ${f}`),
    ...unresolved,
  ];
  if (problems.length) throw new Error(problems.join('\n'));
  return `${packed.length} files: ${packed.join(', ')}`;
}

// ---------------------------------------------------------------------------------------------------------

/** The tarball `npm pack` makes, extracted once: { dir (the package folder), files (its paths) }. */
let packed = null;
const scratch = [];
process.on('exit', () => scratch.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
function packedPackage() {
  if (!packed) {
    const dir = mkdtempSync(join(tmpdir(), 'bsp-packed-'));
    scratch.push(dir);
    const files = installPackedPackage(dir).map((f) => posix.normalize(f)).sort();
    packed = { dir: join(dir, 'node_modules', 'background-sync-polyfill'), files };
  }
  return packed;
}

const CLASSIC = (suffix, min) => `./dist/background-sync-polyfill${suffix}${min}.js`;
const TYPES = (name) => `./dist/types/polyfill/${name}.d.ts`;
/** Every entry users import or load, with the files it must point at. */
const EXPECTED_EXPORTS = {
  '.': { types: TYPES('index'), default: './dist/esm/index.js' },
  './window': { types: TYPES('window'), default: './dist/esm/window.js' },
  './sw': { types: TYPES('sw'), default: './dist/esm/sw.js' },
  './script': { types: TYPES('index'), default: CLASSIC('', '') },
  './script.min': { types: TYPES('index'), default: CLASSIC('', '.min') },
  './script/window': { types: TYPES('window'), default: CLASSIC('.window', '') },
  './script/window.min': { types: TYPES('window'), default: CLASSIC('.window', '.min') },
  './script/sw': { types: TYPES('sw'), default: CLASSIC('.sw', '') },
  './script/sw.min': { types: TYPES('sw'), default: CLASSIC('.sw', '.min') },
};

/** What is wrong with `manifest` (a package.json) and `files` (the tarball's paths) as to the entries. */
function entryProblems(manifest, files) {
  const problems = [];
  const inTarball = (target) => files.includes(posix.normalize(target.replace(/^\.\//, '')));
  const exportsMap = manifest.exports ?? {};
  const sideEffects = Array.isArray(manifest.sideEffects) ? manifest.sideEffects.map((f) => posix.normalize(f.replace(/^\.\//, ''))) : null;
  for (const [subpath, expected] of Object.entries(EXPECTED_EXPORTS)) {
    const entry = exportsMap[subpath];
    if (!entry) {
      problems.push(`exports has no "${subpath}"`);
      continue;
    }
    for (const [condition, target] of Object.entries(expected)) {
      if (entry[condition] !== target) problems.push(`exports["${subpath}"].${condition} is ${JSON.stringify(entry[condition])}, expected ${target}`);
    }
    for (const target of Object.values(entry)) {
      if (typeof target === 'string' && !inTarball(target)) problems.push(`exports["${subpath}"] points at ${target}, which is not in the tarball`);
    }
    // The entries run on import: a bundler that believed them pure would drop `import 'background-sync-polyfill/window'`.
    if (!sideEffects) problems.push('"sideEffects" is not a list of the entry files');
    else if (!sideEffects.includes(posix.normalize(expected.default.replace(/^\.\//, '')))) problems.push(`"sideEffects" does not list ${expected.default} (exports["${subpath}"])`);
  }
  for (const field of ['unpkg', 'jsdelivr']) {
    if (!manifest[field] || !inTarball(manifest[field])) problems.push(`"${field}" (${manifest[field]}) is not a file in the tarball`);
  }
  return [...new Set(problems)];
}

function checkEntries() {
  // The check must be able to fail: a manifest without one new entry, a tarball without one script.
  const controlManifest = structuredClone(pkg);
  delete controlManifest.exports['./script/sw.min'];
  controlManifest.exports['./script/window'] = { ...controlManifest.exports['./script/window'], types: TYPES('index') };
  controlManifest.sideEffects = controlManifest.sideEffects.filter((f) => !f.endsWith('.window.min.js'));
  const allFiles = Object.values(EXPECTED_EXPORTS).flatMap((e) => Object.values(e)).map((f) => f.slice(2));
  const control = entryProblems(controlManifest, allFiles.filter((f) => f !== 'dist/background-sync-polyfill.sw.js'));
  for (const expected of ['no "./script/sw.min"', 'exports["./script/window"].types', 'does not list ./dist/background-sync-polyfill.window.min.js', 'points at ./dist/background-sync-polyfill.sw.js, which is not in the tarball']) {
    if (!control.some((p) => p.includes(expected))) throw new Error(`the entries check cannot fail: its control did not report "${expected}" (it reported: ${control.join('; ') || 'nothing'})`);
  }

  const { dir, files } = packedPackage();
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const problems = entryProblems(manifest, files);
  if (problems.length) throw new Error(problems.join('\n'));
  return `${Object.keys(EXPECTED_EXPORTS).length} entries (${Object.keys(EXPECTED_EXPORTS).join(', ')}) point at packed files listed in "sideEffects"; the control fails as it must`;
}
// ---------------------------------------------------------------------------------------------------------

/**
 * What a JS file holds, from its syntax tree (so comments do not count): identifiers, string literals, names of
 * classes, and the specifiers it imports (static, re-exports, dynamic).
 */
function jsFacts(file) {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
  const facts = { identifiers: new Set(), strings: new Set(), classes: new Set(), imports: [] };
  const visit = (node) => {
    if (ts.isIdentifier(node)) facts.identifiers.add(node.text);
    else if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) facts.strings.add(node.text);
    if ((ts.isClassDeclaration(node) || ts.isClassExpression(node)) && node.name) facts.classes.add(node.name.text);
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) facts.imports.push(node.moduleSpecifier.text);
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) facts.imports.push(node.arguments[0].text);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return facts;
}

/** The facts of `entry` and every module it reaches through relative imports, merged; `bare` the other specifiers. */
function graphFacts(entry) {
  const merged = { identifiers: new Set(), strings: new Set(), classes: new Set(), imports: [], bare: new Set(), files: [] };
  const queue = [entry];
  const seen = new Set();
  while (queue.length) {
    const file = queue.shift();
    if (seen.has(file)) continue;
    seen.add(file);
    if (!existsSync(file)) throw new Error(`${file} is imported but missing`);
    merged.files.push(file);
    const facts = jsFacts(file);
    for (const key of ['identifiers', 'strings', 'classes']) facts[key].forEach((v) => merged[key].add(v));
    for (const specifier of facts.imports) {
      merged.imports.push(specifier);
      if (specifier.startsWith('.')) queue.push(join(dirname(file), specifier));
      else merged.bare.add(specifier);
    }
  }
  return merged;
}

/** Marks of the worker half: none may reach a page-only entry. */
const WORKER_CODE = {
  "an import of 'idb'": (f) => f.imports.some((s) => s === 'idb' || s.startsWith('idb/')),
  openDB: (f) => f.identifiers.has('openDB'),
  indexedDB: (f) => f.identifiers.has('indexedDB'),
  'a SyncEvent definition': (f) => f.classes.has('SyncEvent') || f.strings.has('SyncEvent'),
  ExtendableEvent: (f) => f.identifiers.has('ExtendableEvent'),
};
/** Marks of the page half's wake-ups: none may reach a worker-only entry. */
const PAGE_CODE = {
  "'visibilitychange'": (f) => f.strings.has('visibilitychange'),
  "'pageshow'": (f) => f.strings.has('pageshow'),
};
const found = (marks, facts) => Object.keys(marks).filter((name) => marks[name](facts));

/**
 * What is wrong with the split, for `facts` of an entry that is `kind` ('window', 'sw' or 'universal'). The
 * required marks keep the rules honest: a page entry without page code (or a universal one without either half)
 * would mean the marks no longer match what the build emits, and their absence elsewhere would prove nothing.
 */
function splitProblems(kind, facts, label) {
  const problems = [];
  if (kind === 'window') {
    for (const name of found(WORKER_CODE, facts)) problems.push(`${label} (page only) holds worker code: ${name}`);
    for (const specifier of facts.bare ?? []) problems.push(`${label} (page only) imports ${specifier}: a page needs no dependency`);
    if (!found(PAGE_CODE, facts).length) problems.push(`${label} (page only) has none of the page marks (${Object.keys(PAGE_CODE).join(', ')}): are the rules stale?`);
  } else if (kind === 'sw') {
    for (const name of found(PAGE_CODE, facts)) problems.push(`${label} (worker only) holds page wake-up code: ${name}`);
    if (!WORKER_CODE['a SyncEvent definition'](facts)) problems.push(`${label} (worker only) defines no SyncEvent: are the rules stale?`);
  } else {
    if (!found(PAGE_CODE, facts).length || !WORKER_CODE['a SyncEvent definition'](facts)) problems.push(`${label} (universal) lacks the page or the worker marks: are the rules stale?`);
  }
  return problems;
}

/** Shows that every rule fires: for each mark, a page (or worker) entry whose graph holds just that mark, two hops away. */
function splitControls() {
  const dir = mkdtempSync(join(tmpdir(), 'bsp-split-control-'));
  scratch.push(dir);
  const fixtures = {
    "an import of 'idb'": "import { deleteDB } from 'idb'; export const x = deleteDB;",
    openDB: 'export const x = () => self.openDB;',
    indexedDB: "export const x = () => indexedDB.open('x');",
    'a SyncEvent definition': 'export class SyncEvent extends Event {}',
    ExtendableEvent: 'export const x = self.ExtendableEvent;',
    "'visibilitychange'": "document.addEventListener('visibilitychange', () => {});",
    "'pageshow'": "addEventListener('pageshow', () => {});",
  };
  // The same words in comments only: no rule may fire on them.
  const comments = `/* openDB indexedDB SyncEvent ExtendableEvent 'SyncEvent' 'visibilitychange' 'pageshow' */\n// import { openDB } from 'idb';\n`;
  const failures = [];
  let n = 0;
  for (const [mark, code] of Object.entries(fixtures)) {
    const kind = mark in WORKER_CODE ? 'window' : 'sw';
    const base = join(dir, String(n++));
    mkdirSync(base);
    // entry → (dynamic import) → re-export → the module with the mark; the entry carries the other half's required mark.
    const required = kind === 'window' ? "addEventListener('pageshow', () => {});" : "self.E = class SyncEvent {};";
    writeFileSync(join(base, 'entry.js'), `${comments}${required}\nimport('./hop.js');\n`);
    writeFileSync(join(base, 'hop.js'), `${comments}export * from './mark.js';\n`);
    writeFileSync(join(base, 'mark.js'), `${comments}${code}\n`);
    const problems = splitProblems(kind, graphFacts(join(base, 'entry.js')), `control ${mark}`);
    if (!problems.some((p) => p.endsWith(`: ${mark}`))) failures.push(`the rule "${mark}" did not fire on its control (reported: ${problems.join('; ') || 'nothing'})`);
    const clean = join(dir, String(n++));
    mkdirSync(clean);
    writeFileSync(join(clean, 'entry.js'), `${comments}${required}\nimport './hop.js';\n`);
    writeFileSync(join(clean, 'hop.js'), `${comments}export const y = 1;\n`);
    const cleanProblems = splitProblems(kind, graphFacts(join(clean, 'entry.js')), `clean control for ${mark}`);
    if (cleanProblems.length) failures.push(`a clean ${kind} control (the marks in comments only) was reported: ${cleanProblems.join('; ')}`);
  }
  // A bare import other than idb in a page entry, and the stale-rule guards.
  const bare = join(dir, String(n++));
  mkdirSync(bare);
  writeFileSync(join(bare, 'entry.js'), "import 'left-pad';\naddEventListener('pageshow', () => {});\n");
  if (!splitProblems('window', graphFacts(join(bare, 'entry.js')), 'control').some((p) => p.includes('imports left-pad'))) failures.push('a page entry importing a dependency was not reported');
  if (!splitProblems('window', graphFacts(join(bare, 'entry.js')), 'control').every((p) => !p.includes('stale'))) failures.push('a page entry with page marks was reported stale');
  writeFileSync(join(bare, 'empty.js'), 'export {};\n');
  for (const kind of ['window', 'sw', 'universal']) {
    if (!splitProblems(kind, graphFacts(join(bare, 'empty.js')), 'control').some((p) => p.includes('stale'))) failures.push(`an empty ${kind} entry was not reported as lacking its marks`);
  }
  if (failures.length) throw new Error(`the split check cannot fail as it must:\n${failures.join('\n')}`);
  return Object.keys(fixtures).length;
}

function checkSplit() {
  const rules = splitControls();
  const { dir } = packedPackage();
  const problems = [];
  const summary = [];
  for (const [kind, esm, suffix] of [['window', 'window', '.window'], ['sw', 'sw', '.sw'], ['universal', 'index', '']]) {
    const graph = graphFacts(join(dir, 'dist', 'esm', `${esm}.js`));
    problems.push(...splitProblems(kind, graph, `dist/esm/${esm}.js's import graph (${graph.files.length} modules)`));
    summary.push(`dist/esm/${esm}.js: ${graph.files.length} modules, imports ${[...graph.bare].join(', ') || 'nothing outside'}`);
    for (const min of ['', '.min']) {
      const file = `dist/background-sync-polyfill${suffix}${min}.js`;
      if (!existsSync(join(dir, file))) {
        problems.push(`${file} is not in the tarball`);
        continue;
      }
      const facts = jsFacts(join(dir, file));
      problems.push(...splitProblems(kind, { ...facts, bare: new Set(facts.imports) }, file));
    }
  }
  if (problems.length) throw new Error(problems.join('\n'));
  return `page-only entries hold no worker code, worker-only entries no page wake-ups (${summary.join('; ')}); each of the ${rules} rules fires on its control`;
}

// ---------------------------------------------------------------------------------------------------------

/** Runs tsc on one project; returns { status, output }. */
function tsc(project) {
  const result = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project, '--pretty', 'false'], {
    cwd: dirname(project),
    encoding: 'utf8',
    timeout: 120000,
  });
  if (result.error) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
}

function checkTypes() {
  const dir = mkdtempSync(join(tmpdir(), 'bsp-types-'));
  try {
    installPackedPackage(dir);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'type-tests', private: true, type: 'module' }));
    for (const file of readdirSync(join(HERE, 'types'))) copyFileSync(join(HERE, 'types', file), join(dir, file));
    const projects = [];
    for (const resolution of ['bundler', 'node16']) {
      const module = resolution === 'bundler' ? 'ESNext' : 'Node16';
      for (const [name, lib, files] of [
        ['page', ['ES2020', 'DOM'], ['page.ts', 'window.ts']],
        ['worker', ['ES2020', 'WebWorker'], ['worker.ts', 'worker-main.ts']],
        ['no-import', ['ES2020', 'DOM'], ['no-import.ts']],
      ]) {
        const project = join(dir, `tsconfig.${name}.${resolution}.json`);
        writeFileSync(project, JSON.stringify({
          compilerOptions: { target: 'ES2020', module, moduleResolution: resolution, lib, types: [], strict: true, noEmit: true, skipLibCheck: false },
          files,
        }));
        projects.push({ name, resolution, project });
      }
    }
    const failures = [];
    for (const { name, resolution, project } of projects) {
      const { status, output } = tsc(project);
      const clean = output;
      if (name === 'no-import') {
        // The control must fail, and for the right reason.
        if (status === 0 || !/TS2339: Property 'sync' does not exist/.test(output)) {
          failures.push(`${name} (${resolution}) should fail with TS2339 on registration.sync, got exit ${status}: ${clean}`);
        }
      } else if (status !== 0) failures.push(`${name} (${resolution}):\n${clean}`);
    }
    if (failures.length) throw new Error(failures.join('\n'));
    return `page, window, worker and main-in-worker code compile against the tarball's types (bundler and node16); misuse is rejected; the no-import control fails as it must`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------

const printer = ts.createPrinter({ removeComments: true });

/** Canonical text of the declarations in `statements`: one entry per interface/var/type, members sorted. */
function canonical(statements, source) {
  const out = [];
  const text = (node) => printer.printNode(ts.EmitHint.Unspecified, node, source).replace(/\s+/g, ' ').trim();
  for (const statement of statements) {
    if (ts.isModuleDeclaration(statement) && statement.name.text === 'global' && statement.body && ts.isModuleBlock(statement.body)) {
      out.push(...canonical(statement.body.statements, source));
    } else if (ts.isInterfaceDeclaration(statement)) {
      const heritage = (statement.heritageClauses ?? []).map(text).join(' ');
      const params = statement.typeParameters ? `<${statement.typeParameters.map(text).join(', ')}>` : '';
      const members = statement.members.map(text).sort();
      out.push(`interface ${statement.name.text}${params}${heritage ? ` ${heritage}` : ''} { ${members.join(' ')} }`);
    } else if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations) out.push(`var ${text(declaration)}`);
    } else if (ts.isTypeAliasDeclaration(statement) || ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement) || ts.isEnumDeclaration(statement)) {
      out.push(text(statement));
    } else if (ts.isExportDeclaration(statement) || ts.isExportAssignment(statement)) {
      const printed = text(statement);
      if (printed !== 'export {};') out.push(printed);
    }
  }
  return out;
}

/** A fenced block of README: the first ```lang block after the heading that matches. */
function readmeBlock(heading, lang) {
  const start = readme.search(heading);
  if (start < 0) throw new Error(`README has no heading matching ${heading}`);
  const rest = readme.slice(start);
  const match = rest.match(new RegExp('```' + lang + '\\n([\\s\\S]*?)\\n```'));
  if (!match) throw new Error(`README: no \`\`\`${lang} block under ${heading}`);
  return match[1];
}

/** The declarations the packed .d.ts files make, from the entry points' .d.ts and what they import. */
function shippedDeclarations() {
  const { needed } = neededFiles();
  const declarations = [];
  for (const file of needed.filter((f) => f.endsWith('.d.ts'))) {
    const source = ts.createSourceFile(file, readFileSync(join(ROOT, file), 'utf8'), ts.ScriptTarget.Latest, true);
    declarations.push(...canonical(source.statements, source).map((d) => ({ d, file })));
  }
  return declarations;
}

function checkApiReference() {
  const block = readmeBlock(/^## API reference/m, 'ts');
  const source = ts.createSourceFile('README.ts', block, ts.ScriptTarget.Latest, true);
  const syntax = source.parseDiagnostics ?? [];
  if (syntax.length) throw new Error(`README's API block does not parse: ${syntax.map((d) => ts.flattenDiagnosticMessageText(d.messageText, ' ')).join('; ')}`);
  const documented = canonical(source.statements, source);
  const shipped = shippedDeclarations();
  const count = (list, item) => list.filter((x) => x === item).length;
  const problems = [];
  for (const { d, file } of shipped) if (count(documented, d) < count(shipped.map((s) => s.d), d)) problems.push(`in ${file} but not in README:\n    ${d}`);
  for (const d of new Set(documented)) if (count(shipped.map((s) => s.d), d) < count(documented, d)) problems.push(`in README but not in the shipped types:\n    ${d}`);
  if (problems.length) throw new Error(`README's API reference differs from the .d.ts:\n${[...new Set(problems)].join('\n')}`);
  return `${documented.length} declarations match the shipped .d.ts`;
}

/** README's configure() example vs BackgroundSyncPolyfillOptions and the defaults its JSDoc states. */
function checkOptions() {
  let options = null;
  for (const f of neededFiles().needed.filter((file) => file.endsWith('.d.ts'))) {
    const source = ts.createSourceFile(f, readFileSync(join(ROOT, f), 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node) => {
      if (ts.isInterfaceDeclaration(node) && node.name.text === 'BackgroundSyncPolyfillOptions') {
        options = node.members.map((member) => {
          const doc = ts.getJSDocCommentsAndTags(member).map((d) => d.getText()).join(' ');
          const stated = doc.match(/\((?:Chromium:|default)\s*([\w.]+)\)/);
          return { name: member.name.getText(source), stated: stated ? stated[1] : null };
        });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  if (!options) throw new Error('no BackgroundSyncPolyfillOptions in the shipped .d.ts');
  const block = readmeBlock(/^## Options/m, 'js');
  const documented = new Map([...block.matchAll(/^\s*(\w+):\s*([^,\n]+),/gm)].map((m) => [m[1], m[2].trim()]));
  const problems = [];
  for (const { name, stated } of options) {
    if (!documented.has(name)) problems.push(`option ${name} is missing from README's Options example`);
    else if (stated !== null && documented.get(name) !== stated) problems.push(`option ${name}: README gives ${documented.get(name)}, the .d.ts says the default is ${stated}`);
  }
  for (const name of documented.keys()) if (!options.some((o) => o.name === name)) problems.push(`README's Options example has ${name}, which the types do not`);
  if (problems.length) throw new Error(problems.join('\n'));
  return `${options.length} options, defaults as the .d.ts states: ${options.map((o) => `${o.name}=${o.stated}`).join(', ')}`;
}

// ---------------------------------------------------------------------------------------------------------

const slug = (heading) => heading.toLowerCase().trim().replace(/[^\p{L}\p{N}\s-]/gu, '').replace(/\s/g, '-');

function checkReadmeLinks() {
  const withoutCode = readme.replace(/```[\s\S]*?```/g, '');
  const anchors = new Set([...withoutCode.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => slug(m[1].replace(/`/g, ''))));
  const problems = [];
  const links = [...withoutCode.matchAll(/!?\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1]);
  for (const link of links) {
    if (/^[a-z]+:/i.test(link)) continue;
    if (link.startsWith('#')) {
      if (!anchors.has(link.slice(1))) problems.push(`no section for ${link}`);
      continue;
    }
    const path = normalize(join(ROOT, link.split('#')[0]));
    if (!path.startsWith(ROOT) || !existsSync(path)) problems.push(`${link} does not exist`);
  }
  if (problems.length) throw new Error([...new Set(problems)].join('\n'));
  return `${links.length} links resolve`;
}

function checkChangelog() {
  const file = join(ROOT, 'CHANGELOG.md');
  if (!existsSync(file)) throw new Error('CHANGELOG.md is missing');
  const text = readFileSync(file, 'utf8');
  const escaped = pkg.version.replace(/\./g, '\\.');
  if (!new RegExp(`^##\\s+\\[?${escaped}\\]?`, 'm').test(text)) throw new Error(`CHANGELOG.md has no "## ${pkg.version}" entry for package.json's version`);
  return `has an entry for ${pkg.version}`;
}

function checkLicense() {
  const text = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
  if (pkg.license !== 'MIT') throw new Error(`package.json license is ${pkg.license}`);
  if (!/^MIT License/.test(text) || !text.includes('Permission is hereby granted, free of charge') || !/Copyright \(c\) \d{4}/.test(text)) {
    throw new Error('LICENSE is not the MIT license text with a copyright line');
  }
  return 'MIT';
}

function checkScreenshotFile() {
  const file = join(ROOT, 'examples', 'outbox', 'screenshot.png');
  if (!existsSync(file)) throw new Error('examples/outbox/screenshot.png is missing (node test/e2e/run.mjs --only=demo --browser=firefox --update-screenshot)');
  const image = checkScreenshot(readFileSync(file));
  const sent = countColour(image, hexToRgb('#1a7f37'));
  const queued = countColour(image, hexToRgb('#9a6700'));
  const failed = countColour(image, hexToRgb('#cf222e'));
  // Three sent badges are about 3 × 110 × 20 px at 1x; the 'online' pill adds a little.
  if (sent < 3 * 1200) throw new Error(`the screenshot shows too little of the sent colour (${sent} px): are the messages sent?`);
  if (queued > 40 || failed > 40) throw new Error(`the screenshot shows queued (${queued} px) or failed (${failed} px) badges`);
  if (!/!\[[^\]]*\]\(examples\/outbox\/screenshot\.png\)/.test(readme)) throw new Error('README does not show examples/outbox/screenshot.png');
  return `${image.width}×${image.height}, ${sent} px of the sent colour, shown in README`;
}

// ---------------------------------------------------------------------------------------------------------

const CHECKS = {
  publint: checkPublint,
  attw: checkAttw,
  pack: checkPack,
  entries: checkEntries,
  split: checkSplit,
  types: checkTypes,
  'api-reference': checkApiReference,
  options: checkOptions,
  'readme-links': checkReadmeLinks,
  changelog: checkChangelog,
  license: checkLicense,
  screenshot: checkScreenshotFile,
};

const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
const unknownChecks = (only ?? []).filter((name) => !CHECKS[name]);
if (unknownChecks.length) {
  console.log(`unknown check ${unknownChecks.map((name) => `"${name}"`).join(', ')}; known: ${Object.keys(CHECKS).join(', ')}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
if (!existsSync(join(ROOT, 'dist', 'esm', 'index.js'))) {
  console.log('dist/ is missing: run `npm run build` first');
  console.log('0 passed, 1 failed');
  process.exit(1);
}

const counts = { passed: 0, failed: 0 };
for (const [name, check] of Object.entries(CHECKS)) {
  if (only && !only.includes(name)) continue;
  const start = Date.now();
  try {
    const detail = await check();
    counts.passed++;
    console.log(`PASS ${name} (${Date.now() - start} ms): ${detail}`);
  } catch (error) {
    counts.failed++;
    console.log(`FAIL ${name} (${Date.now() - start} ms)\n  ${String(error.message ?? error).replace(/\n/g, '\n  ')}`);
  }
}
console.log(`${counts.passed} passed, ${counts.failed} failed`);
// A run in which nothing passed proves nothing: it never exits 0.
process.exit(counts.failed || !counts.passed ? 1 : 0);
