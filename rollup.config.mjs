// Builds the classic script (page and worker, idb inlined) and the ESM entries (idb left to the app's bundler).
// Types come from `tsc -p tsconfig.build.json` (see package.json "build").
import { readFileSync } from 'node:fs';
import typescript from '@rollup/plugin-typescript';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import ts from 'typescript';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));

/** Stamps the version into the code. */
const version = () => ({
  name: 'version',
  transform: (code) => (code.includes('__VERSION__') ? code.replace(/__VERSION__/g, JSON.stringify(pkg.version)) : null),
});

/** idb ships ES2018 (object spread); the classic script promises ES2017 syntax, so it is lowered here. */
const lowerDependencies = () => ({
  name: 'lower-dependencies',
  transform(code, id) {
    if (!id.includes('/node_modules/')) return null;
    const out = ts.transpileModule(code, {
      fileName: id,
      compilerOptions: { target: ts.ScriptTarget.ES2017, module: ts.ModuleKind.ESNext, sourceMap: true },
    });
    return { code: out.outputText, map: out.sourceMapText };
  },
});

/** src/protocol.ts's key, which our messages and the page's mark carry (docs/semantics.md §8). */
const PROTOCOL_KEY = readFileSync(new URL('./src/protocol.ts', import.meta.url), 'utf8').match(/PROTOCOL_KEY = '(\w+)'/)[1];

/**
 * The classic script: the ES bundle of polyfill/script.ts becomes the body of a function. Where the browser has
 * Background Sync (docs/semantics.md §6: the expression `hasNativeSync` of src/detect.ts returns, copied from the bundle,
 * so the check has one definition) and no preset asks for anything, the body is left unevaluated and
 * `BackgroundSyncPolyfill` is an accessor that evaluates it and installs on first read. Everywhere else the body runs
 * and installs at once. The copy rather than a call: the body's own copy compresses to almost nothing.
 *
 * Where the API is native, the body is also evaluated, to take over what the engine refuses (docs/semantics.md §8), on
 * the first read of `registration.sync` or `registration.periodicSync` (the getters are restored first, so the body wraps
 * the engine's own methods); in a service worker, on the first of our messages, which the body's handler (`hook`) then
 * answers, since a listener added during a dispatch would not hear it; in a window, on its `load` event, when the
 * origin's mark says the polyfill holds tags (src/page/install.ts). Each script carries only its own half of that: `suffix` is
 * '' (universal), '.window' or '.sw'.
 */
const lazyWhereNative = (suffix) => ({
  name: 'lazy-where-native',
  renderChunk(code) {
    const exported = /\nexport \{ (?:(\w+) as )?install \};\s*$/;
    const name = code.match(exported);
    if (!name) throw new Error('lazy-where-native: the bundle must end with `export { install };` or `export { x as install };`');
    const detect = code.match(/^function hasNativeSync\(\) \{\n\s*return ([^;]*);\n\}\n/m);
    if (!detect) throw new Error('lazy-where-native: the bundle must define `function hasNativeSync() { return …; }`');
    const body = code.replace(exported, `\nreturn ${name[1] || 'install'};\n`);
    return `(function () {
'use strict';
var g = self;
var name = 'BackgroundSyncPolyfill';
var load = function () {
${body}};
if (g[name] === undefined && (${detect[1]})) {
  var hook;
  var P = ServiceWorkerRegistration.prototype;
  var sync = Object.getOwnPropertyDescriptor(P, 'sync');
  var periodic = Object.getOwnPropertyDescriptor(P, 'periodicSync');
  // Getters named as WebIDL names them ("get sync"), written out: the cheapest way found (bench, load suite).
  var wrap = function (key, d, getter) {
    if (d && d.get) Object.defineProperty(P, key, { get: getter, enumerable: d.enumerable, configurable: true });
  };
  wrap('sync', sync, Object.getOwnPropertyDescriptor({ get sync() { g[name]; return sync.get.call(this); } }, 'sync').get);
  wrap('periodicSync', periodic, Object.getOwnPropertyDescriptor({ get periodicSync() { g[name]; return periodic.get.call(this); } }, 'periodicSync').get);
  Object.defineProperty(g, name, {
    get: function () {
      if (sync) Object.defineProperty(P, 'sync', sync);
      if (periodic) Object.defineProperty(P, 'periodicSync', periodic);
      delete g[name];
      hook = load()(undefined, true);
      return g[name];
    },
    set: function (value) {
      Object.defineProperty(g, name, { value: value, writable: true, configurable: true });
    },
    configurable: true,
  });
${suffix == '.window' ? '' : `  if (typeof ServiceWorkerGlobalScope != 'undefined') {
    g.addEventListener('message', function (event) {
      var data = event.data;
      if (data && typeof data == 'object' && Object.prototype.hasOwnProperty.call(data, '${PROTOCOL_KEY}')) {
        g[name];
        if (hook) hook(event);
      }
    });
  }
`}${suffix == '.sw' ? '' : `  ${suffix ? '' : 'else '}if (typeof window != 'undefined') {
    var look = function () {
      try {
        if (localStorage.getItem('${PROTOCOL_KEY}')) g[name];
      } catch (e) {}
    };
    // After the load (a listener costs the load less than a timer); at once if the page has loaded already.
    if (document.readyState == 'complete') look();
    else addEventListener('load', look);
  }
`}} else {
  load()();
}
})();
`;
  },
});

const tsPlugin = () => typescript({ tsconfig: './tsconfig.json', noEmit: false, declaration: false, sourceMap: false, include: ['src/**/*.ts', 'polyfill/**/*.ts'] });

const minify = terser({
  ecma: 2017,
  module: false,
  compress: { passes: 2 },
  // WebIDL fidelity: the interface objects keep their names.
  keep_classnames: /^(Periodic)?Sync(Manager|Event)$/,
  format: { comments: false },
});

/** A classic script: `suffix` '' (universal), '.window' (page only) or '.sw' (worker only). */
const classic = (suffix) => ({
  input: `polyfill/script${suffix}.ts`,
  plugins: [version(), nodeResolve(), lowerDependencies(), tsPlugin()],
  output: [
    { file: `dist/background-sync-polyfill${suffix}.js`, format: 'es', generatedCode: 'es2015', plugins: [lazyWhereNative(suffix)] },
    { file: `dist/background-sync-polyfill${suffix}.min.js`, format: 'es', generatedCode: 'es2015', plugins: [lazyWhereNative(suffix), minify] },
  ],
});

export default [
  classic(''),
  classic('.window'),
  classic('.sw'),
  {
    input: { index: 'polyfill/index.ts', window: 'polyfill/window.ts', sw: 'polyfill/sw.ts' },
    external: ['idb'],
    plugins: [version(), tsPlugin()],
    output: { dir: 'dist/esm', format: 'es', chunkFileNames: 'shared-[hash].js', generatedCode: 'es2015' },
  },
];
