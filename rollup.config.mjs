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

const tsPlugin = () => typescript({ tsconfig: './tsconfig.json', noEmit: false, declaration: false, sourceMap: false, include: ['src/**/*.ts', 'polyfill/**/*.ts'] });

const minify = terser({
  ecma: 2017,
  module: false,
  compress: { passes: 2 },
  // WebIDL fidelity: the interface objects keep their names.
  keep_classnames: /^Sync(Manager|Event)$/,
  format: { comments: false },
});

export default [
  {
    input: 'polyfill/index.ts',
    plugins: [version(), nodeResolve(), lowerDependencies(), tsPlugin()],
    output: [
      { file: 'dist/background-sync-polyfill.js', format: 'iife', generatedCode: 'es2015' },
      { file: 'dist/background-sync-polyfill.min.js', format: 'iife', generatedCode: 'es2015', plugins: [minify] },
    ],
  },
  {
    input: { index: 'polyfill/index.ts', window: 'polyfill/window.ts', sw: 'polyfill/sw.ts' },
    external: ['idb'],
    plugins: [version(), tsPlugin()],
    output: { dir: 'dist/esm', format: 'es', chunkFileNames: 'shared-[hash].js', generatedCode: 'es2015' },
  },
];
