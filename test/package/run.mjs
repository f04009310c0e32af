// Package quality: `node test/package/run.mjs` (npm run test:package). Needs `npm run build` first.
// Each check prints PASS/FAIL; the last line is `N passed, N failed`, and the exit code is 1 on any failure.
//   publint       publint, at suggestion level: no message at all
//   attw          @arethetypeswrong/cli on the packed tarball, profile esm-only (the package is ESM only)
//   pack          `npm pack` holds exactly what users need: dist (entries, their chunks and their .d.ts),
//                 README.md, LICENSE, compat-table.md, the docs/ pages README links to, package.json; and every file package.json points at
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
