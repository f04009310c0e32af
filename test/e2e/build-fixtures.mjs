// Bundles the fixtures the way an app would: the package is packed (`npm pack`, what would be published),
// installed into a scratch node_modules, and the fixtures import it by name. Rollup (the project's own
// bundler) with @rollup/plugin-node-resolve then follows the package's "exports" like any app's build.
//
//   page.js       imports 'background-sync-polyfill'      (the page half, picked by the global scope)
//   sw-plain.js   imports 'background-sync-polyfill/sw'   (the worker half)
//   sw-workbox.js imports 'background-sync-polyfill', then workbox-background-sync/-routing/-strategies
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rollup } from 'rollup';
import { nodeResolve } from '@rollup/plugin-node-resolve';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = join(HERE, '..', '..');
const FIXTURES = join(HERE, 'fixtures');
const DELETE_NATIVE = join(HERE, '..', 'kit', 'fixtures', 'delete-native.js');

/** Workbox's modules read process.env.NODE_ENV; bundlers replace it. */
const nodeEnv = (value) => ({
  name: 'node-env',
  transform: (code) => (code.includes('process.env.NODE_ENV') ? { code: code.replace(/process\.env\.NODE_ENV/g, JSON.stringify(value)), map: null } : null),
});

/**
 * Packs the package and installs the tarball in `dir/node_modules`, with its dependency (idb) and Workbox
 * linked from the project's node_modules. Returns the tarball's file list.
 */
export function installPackedPackage(dir) {
  const packDir = join(dir, 'pack');
  mkdirSync(packDir, { recursive: true });
  const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', packDir], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const [{ filename, files }] = JSON.parse(out.slice(out.indexOf('[')));
  const modules = join(dir, 'node_modules');
  mkdirSync(modules, { recursive: true });
  execFileSync('tar', ['-xzf', join(packDir, filename), '-C', packDir], { timeout: 30000 });
  renameSync(join(packDir, 'package'), join(modules, 'background-sync-polyfill'));
  for (const name of ['idb', 'workbox-background-sync', 'workbox-routing', 'workbox-strategies', 'workbox-core']) {
    symlinkSync(join(ROOT, 'node_modules', name), join(modules, name), 'dir');
  }
  return files.map((file) => file.path);
}

/** Builds the fixtures into `<dir>/www`; returns that folder. Throws when a bundle fails. */
export async function buildFixtures(dir = mkdtempSync(join(tmpdir(), 'bsp-e2e-fixtures-'))) {
  installPackedPackage(dir);
  // The fixtures sit next to the scratch node_modules, so that 'background-sync-polyfill' resolves to the tarball.
  const src = join(dir, 'src');
  mkdirSync(src, { recursive: true });
  for (const file of readdirSync(FIXTURES)) copyFileSync(join(FIXTURES, file), join(src, file));
  // The workers' first import, shared with the other suites' workers.
  copyFileSync(DELETE_NATIVE, join(src, 'delete-native.js'));
  const www = join(dir, 'www');
  mkdirSync(www, { recursive: true });
  copyFileSync(join(src, 'page.html'), join(www, 'page.html'));
  for (const entry of ['page.js', 'sw-plain.js', 'sw-workbox.js']) {
    const bundle = await rollup({
      input: join(src, entry),
      plugins: [nodeEnv('production'), nodeResolve({ browser: true })],
      onwarn(warning, warn) {
        // Workbox's modules use `this` at the top level of some helpers; harmless in a bundle.
        if (warning.code === 'THIS_IS_UNDEFINED') return;
        warn(warning);
      },
    });
    try {
      await bundle.write({ file: join(www, entry), format: 'iife', sourcemap: false });
    } finally {
      await bundle.close();
    }
  }
  return www;
}

export function removeFixtures(www) {
  rmSync(join(www, '..'), { recursive: true, force: true });
}

// `node test/e2e/build-fixtures.mjs`: builds once and prints where.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(await buildFixtures());
}
