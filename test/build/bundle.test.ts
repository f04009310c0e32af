// @vitest-environment node
/**
 * The built classic scripts (universal, page-only `.window`, worker-only `.sw`; plain and minified): ES2017 syntax,
 * and no runtime feature the supported engines lack (core-js-compat, through babel-plugin-polyfill-corejs3's usage
 * detection); lazy where the API is native; and each split script installs nothing where it does not belong.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import vm from 'node:vm';
import { parse } from 'acorn';
import { transformAsync } from '@babel/core';
import compat from 'core-js-compat';

const variants = (suffix: string) => [`dist/background-sync-polyfill${suffix}.js`, `dist/background-sync-polyfill${suffix}.min.js`];
/** The universal script (page + worker). */
const universal = variants('');
/** The page-only script, for `<script src>`. */
const pageOnly = variants('.window');
/** The worker-only script, for `importScripts()`. */
const workerOnly = variants('.sw');
const files = [...universal, ...pageOnly, ...workerOnly];
/** The scripts that install the page half in a window. */
const forWindows = [...universal, ...pageOnly];
const read = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');

/** The engines we support: everything with service workers and IndexedDB. */
export const DECLARED = { safari: '11.3', ios: '11.3', firefox: '44', chrome: '45', edge: '17', samsung: '4' };
/**
 * The first versions of those engines that parse ES2017 (async functions): older ones cannot run any ES2017
 * script. Chrome and Samsung have native Background Sync from 49 and 5.0, so the polyfill is dormant there.
 */
export const PARSING = { safari: '11.3', ios: '11.3', firefox: '52', chrome: '55', edge: '17', samsung: '6.2' };

/**
 * Every core-js module that usage detection flags for PARSING, with why the bundle does without it.
 * A module missing here fails the test: avoid the feature, or add a fallback and say so here.
 */
const REVIEWED: Record<string, string> = {
  // Flagged by a method name only; the bundle calls the array or string method of that name.
  'es.error.cause': 'no Error is constructed with a cause option',
  'es.iterator.constructor': 'no iterator helpers: .filter/.map/.some are called on arrays',
  'es.iterator.filter': 'Array.prototype.filter only',
  'es.iterator.map': 'Array.prototype.map only',
  'es.iterator.some': 'Array.prototype.some only',
  'es.iterator.every': 'Array.prototype.every only (src/worker/install.ts checks a request\'s tags after Array.isArray)',
  'es.regexp.test': "RegExp#test on a literal (src/page/permissions.ts): core-js only makes test() call an exec the regexp redefines, and a literal redefines none",
  'es.map.get-or-insert': 'Map#get only',
  'es.map.get-or-insert-computed': 'Map#get only',
  'es.weak-map.get-or-insert': 'WeakMap#get only',
  'es.weak-map.get-or-insert-computed': 'WeakMap#get only',
  'es.set.difference.v2': 'no Set methods beyond has/add',
  'es.set.intersection.v2': 'no Set methods beyond has/add',
  'es.set.is-disjoint-from.v2': 'no Set methods beyond has/add',
  'es.set.is-subset-of.v2': 'no Set methods beyond has/add',
  'es.set.is-superset-of.v2': 'no Set methods beyond has/add',
  'es.set.symmetric-difference.v2': 'no Set methods beyond has/add',
  'es.set.union.v2': 'no Set methods beyond has/add',
  'es.string.match-all': 'the only "matchAll" is Clients#matchAll',
  'es.regexp.exec': 'one String#replace of a fixed regexp without named groups or sticky flag (idb)',
  'es.regexp.to-string': 'no RegExp is converted to a string',
  'es.string.replace': 'one String#replace of a fixed regexp with a string replacement (idb)',
  // Used, and present in every PARSING engine; core-js flags a conformance edge the bundle never reaches.
  'es.array.from': 'Array.from over Map iterators only; the flag is for iterator closing on abrupt completion',
  'es.array.includes': 'includes() on dense arrays of strings (idb); the flag is for holes/typed-array edge cases',
  'es.string.includes': 'flagged by the name of Array#includes; no string is searched with includes()',
  'es.array.iterator': 'for-of over plain arrays; the flag is for Symbol.unscopables/iterator naming edges',
  'es.array.push': 'push() of one item on small arrays; the flag is for length overflow past 2^53-1',
  'es.array.sort': 'sort() with a comparator on numbers; the flag is for sort stability, and orders are unique',
  'es.map': 'Map with string keys; the flag is for -0 key normalisation and subclassing',
  'es.set': 'Set with string keys; the flag is for -0 key normalisation and subclassing',
  'es.weak-map': 'WeakMap keyed by objects we create; the flag is for frozen-object keys',
  'es.object.assign': 'Object.assign of plain records (lowered spread); the flag is for symbol/property order edges',
  'es.promise': 'native Promise; the flag is for unhandled-rejection events and species, not relied on',
  'web.dom-collections.iterator': 'for-of over arrays only, not over DOM collections',
  'web.self': 'self exists in windows and workers; the flag is for its property descriptor',
  // Every engine with service workers but EdgeHTML (Edge 17, 18; retired, and not supported: README) constructs DOMException.
  'web.dom-exception.constructor': 'DOMException is constructible in every supported engine; only EdgeHTML lacks it, and the README no longer lists it',
  'web.dom-exception.stack': 'see web.dom-exception.constructor',
  'web.dom-exception.to-string-tag': 'see web.dom-exception.constructor',
};

async function flaggedModules(code: string, targets: Record<string, string>): Promise<string[]> {
  const out = await transformAsync(code, {
    babelrc: false, configFile: false, sourceType: 'script', targets,
    plugins: [['babel-plugin-polyfill-corejs3', { method: 'usage-global', version: '3.51' }]],
  });
  const found = [...out!.code!.matchAll(/core-js\/modules\/([\w.-]+?)(?:\.js)?["']/g)].map((m) => m[1]);
  return [...new Set(found)].sort();
}

describe('the classic script', () => {
  it.each(files)('%s parses as ES2017', (file) => {
    expect(() => parse(read(file), { ecmaVersion: 2017, sourceType: 'script' })).not.toThrow();
  });

  it('the ES2017 check rejects later syntax (so it can fail)', () => {
    expect(() => parse('const a = { ...b };', { ecmaVersion: 2017 })).toThrow();
    expect(() => parse('async function* g() {}', { ecmaVersion: 2017 })).toThrow();
  });

  it('uses no ES feature the ES2017 engines lack, except the reviewed ones', async () => {
    const flagged = await flaggedModules(read(universal[0]), PARSING);
    const unreviewed = flagged.filter((m) => !(m in REVIEWED));
    expect(unreviewed, 'avoid these features or add a fallback and review them').toEqual([]);
  });

  it.each(files)('%s as shipped (minified too) uses no ES feature the ES2017 engines lack, except the reviewed ones', async (file) => {
    const flagged = await flaggedModules(read(file), PARSING);
    expect(flagged.filter((m) => !(m in REVIEWED)), 'avoid these features or add a fallback and review them').toEqual([]);
  });

  it('every reviewed module is still flagged by the detection, so the table stays honest', async () => {
    const flagged = await flaggedModules(read(universal[0]), PARSING);
    expect(Object.keys(REVIEWED).filter((m) => !flagged.includes(m))).toEqual([]);
  });

  it('core-js-compat still says the reviewed conformance gaps are real for these targets', () => {
    const { list } = compat({ targets: PARSING, modules: Object.keys(REVIEWED) });
    // A module core-js no longer flags for PARSING can leave the table.
    expect(list.length).toBeGreaterThan(0);
    expect(list).toContain('web.dom-exception.constructor');
  });

  it('engines older than PARSING cannot parse ES2017, which is why they are not targets of the script', () => {
    // Chrome 45 and Firefox 44 predate async functions: ES2017 syntax is itself the floor.
    const { targets } = compat({ targets: DECLARED, modules: ['es.array.includes'] });
    expect(Object.keys(targets['es.array.includes'] || {})).toContain('chrome');
  });

  it('puts no debugging leftovers or source maps into what visitors download', () => {
    for (const file of files) {
      expect(read(file)).not.toMatch(/sourceMappingURL|debugger;/);
    }
  });
});

describe('the classic script where the browser has Background Sync (docs/semantics.md §6: zero cost beyond the check)', () => {
  type Env = { syncManager: boolean; registration: 'none' | 'plain' | 'with-sync'; preset?: object };
  const ENVS: Env[] = [
    { syncManager: true, registration: 'with-sync' },
    { syncManager: true, registration: 'plain' },
    { syncManager: false, registration: 'with-sync' },
    { syncManager: false, registration: 'plain' },
    { syncManager: true, registration: 'none' },
    { syncManager: false, registration: 'none' },
  ];

  /**
   * A bare global (neither a window nor a worker, so install() adds only BackgroundSyncPolyfill) with `env`. The
   * split scripts warn there, as anywhere they have no half; the warnings are kept out of the test output.
   */
  function run(file: string, env: Env) {
    const g: Record<string, unknown> = { console: { ...console, warn: () => {} } };
    g.self = g;
    if (env.syncManager) g.SyncManager = function SyncManager() {};
    if (env.registration !== 'none') {
      const Registration = function ServiceWorkerRegistration() {};
      if (env.registration === 'with-sync') Object.defineProperty(Registration.prototype, 'sync', { get() { return 'native'; }, configurable: true });
      g.ServiceWorkerRegistration = Registration;
    }
    if (env.preset) g.BackgroundSyncPolyfill = env.preset;
    vm.runInNewContext(read(file), g);
    return g;
  }
  const isLazy = (g: object) => typeof Object.getOwnPropertyDescriptor(g, 'BackgroundSyncPolyfill')?.get === 'function';

  it.each(files)('%s: with the native API, nothing is evaluated until BackgroundSyncPolyfill is read; then it says native', (file) => {
    const g = run(file, ENVS[0]);
    expect(isLazy(g)).toBe(true);
    expect(Object.getOwnPropertyNames((g.ServiceWorkerRegistration as { prototype: object }).prototype)).toEqual(['constructor', 'sync']);
    const api = g.BackgroundSyncPolyfill as BackgroundSyncPolyfillGlobal;
    expect(api.native).toBe(true);
    expect(api.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(Object.isFrozen(api)).toBe(true);
    expect(isLazy(g)).toBe(false);
    expect(g.BackgroundSyncPolyfill).toBe(api);
    // checkInterval: every script checks it (the page-only one checks only the page's options).
    expect(() => api.configure({ checkInterval: 0 })).toThrow(/checkInterval/);
  });

  it.each(files)('%s: the lazy check agrees with hasNativeSync() in every environment', (file) => {
    for (const env of ENVS) {
      const g = run(file, env);
      const lazy = isLazy(g);
      expect({ env, native: (g.BackgroundSyncPolyfill as BackgroundSyncPolyfillGlobal).native }).toEqual({ env, native: lazy });
    }
  });

  it.each(files)('%s: a preset is read at once, so { force: true } installs the polyfill even with the native API', (file) => {
    const g = run(file, { ...ENVS[0], preset: { force: true } });
    expect(isLazy(g)).toBe(false);
    expect((g.BackgroundSyncPolyfill as BackgroundSyncPolyfillGlobal).native).toBe(false);
  });

  it.each(files)('%s: assigning BackgroundSyncPolyfill before reading it replaces it, as with a plain global', (file) => {
    const g = run(file, ENVS[0]);
    g.BackgroundSyncPolyfill = 'app value';
    expect(Object.getOwnPropertyDescriptor(g, 'BackgroundSyncPolyfill')).toEqual({ value: 'app value', writable: true, enumerable: false, configurable: true });
  });

  it.each(files)('%s: loaded twice, it installs once', (file) => {
    const g = run(file, ENVS[0]);
    vm.runInNewContext(read(file), g);
    const api = g.BackgroundSyncPolyfill as BackgroundSyncPolyfillGlobal;
    expect(api.native).toBe(true);
    expect(g.BackgroundSyncPolyfill).toBe(api);
  });
});

/**
 * The product itself, not its own view of itself: the classic script run in a window-like global (what a page
 * gives it: window, document, navigator.serviceWorker, ServiceWorkerRegistration), with and without the native
 * API, and what it then installs, listens to and schedules, as the global sees it.
 */
describe('the classic script in a window', () => {
  type Native = 'none' | 'full' | 'SyncManager only';
  function runInWindow(file: string, native: Native) {
    const calls: string[] = [];
    const warnings: unknown[] = [];
    const record = (what: string) => (type: unknown) => {
      calls.push(`${what} ${typeof type === 'string' ? type : typeof type}`);
      return 1;
    };
    const g: Record<string, unknown> = { console: { ...console, warn: (...args: unknown[]) => warnings.push(args) }, Promise };
    g.self = g;
    g.window = g;
    const Registration = function ServiceWorkerRegistration() {};
    Registration.prototype.unregister = function unregister() { return Promise.resolve(true); };
    const nativeGetter = function sync() { return 'native'; };
    if (native === 'full') Object.defineProperty(Registration.prototype, 'sync', { get: nativeGetter, configurable: true, enumerable: true });
    g.ServiceWorkerRegistration = Registration;
    const NativeSyncManager = function SyncManager() {};
    if (native !== 'none') g.SyncManager = NativeSyncManager;
    g.addEventListener = record('addEventListener');
    g.setTimeout = record('setTimeout');
    g.setInterval = record('setInterval');
    g.clearTimeout = () => {};
    g.clearInterval = () => {};
    // Hidden and still loading: the script's first check waits (no IndexedDB here), its listeners do not.
    g.document = { readyState: 'loading', visibilityState: 'hidden', addEventListener: record('document.addEventListener') };
    g.navigator = { onLine: true, serviceWorker: { addEventListener: record('serviceWorker.addEventListener'), getRegistration: () => new Promise(() => {}), getRegistrations: () => new Promise(() => {}) } };
    const before = { ...Object.getOwnPropertyDescriptors(Registration.prototype) };
    vm.runInNewContext(read(file), g);
    return { g, calls, warnings, before, Registration, nativeGetter, NativeSyncManager };
  }
  const syncGetter = (Registration: { prototype: object }) => Object.getOwnPropertyDescriptor(Registration.prototype, 'sync')?.get;

  it.each(forWindows)('%s: where the API is missing, it installs SyncManager and registration.sync and starts its wake-ups', (file) => {
    const { g, calls, warnings, Registration } = runInWindow(file, 'none');
    expect(typeof g.SyncManager).toBe('function');
    expect(typeof syncGetter(Registration)).toBe('function');
    expect((g.BackgroundSyncPolyfill as BackgroundSyncPolyfillGlobal).native).toBe(false);
    expect(calls).toEqual(expect.arrayContaining(['addEventListener online', 'document.addEventListener visibilitychange']));
    expect(warnings).toEqual([]);
  });

  it.each(forWindows)('%s: the interface objects keep their WebIDL names, minified too', (file) => {
    const { g } = runInWindow(file, 'none');
    expect((g.SyncManager as { name: string }).name).toBe('SyncManager');
    expect((g.PeriodicSyncManager as { name: string }).name).toBe('PeriodicSyncManager');
  });

  it.each(forWindows)('%s: with SyncManager but no registration.sync (not the API), it installs registration.sync', (file) => {
    const { g, calls, Registration, NativeSyncManager } = runInWindow(file, 'SyncManager only');
    expect((g.BackgroundSyncPolyfill as BackgroundSyncPolyfillGlobal).native).toBe(false);
    expect(typeof syncGetter(Registration)).toBe('function');
    expect(g.SyncManager).not.toBe(NativeSyncManager);
    expect(calls).toContain('addEventListener online');
  });

  it.each(files)('%s: with the native API, until it is used it only watches the getters and looks for the mark on load', (file) => {
    const { g, calls, warnings, before, Registration, nativeGetter, NativeSyncManager } = runInWindow(file, 'full');
    const globals = () => Object.getOwnPropertyNames(g).filter((name) => !['console', 'Promise', 'self', 'window', 'ServiceWorkerRegistration', 'SyncManager',
      'addEventListener', 'setTimeout', 'setInterval', 'clearTimeout', 'clearInterval', 'document', 'navigator'].includes(name));
    // docs/semantics.md §8: a look at the origin's mark on `load` (a script with a page half), nothing else scheduled or
    // listened to.
    expect(calls).toEqual(workerOnly.includes(file) ? [] : ['addEventListener load']);
    expect(g.SyncManager).toBe(NativeSyncManager);
    expect(globals()).toEqual(['BackgroundSyncPolyfill']);
    const shim = syncGetter(Registration)!;
    expect(shim).not.toBe(nativeGetter);
    expect({ name: shim.name, length: shim.length }).toEqual({ name: 'get sync', length: 0 });
    expect(Object.getOwnPropertyDescriptor(Registration.prototype, 'sync')).toMatchObject({ enumerable: true, configurable: true, set: undefined });
    // The first read of registration.sync puts the engine's getter back and evaluates the rest.
    expect(shim.call(Object.create(Registration.prototype))).toBe('native');
    expect(syncGetter(Registration)).toBe(nativeGetter);
    expect((g.BackgroundSyncPolyfill as BackgroundSyncPolyfillGlobal).native).toBe(true);
    expect(g.SyncManager).toBe(NativeSyncManager);
    expect(globals()).toEqual(['BackgroundSyncPolyfill']);
    // Only unregister() is wrapped (it also drops the tags the polyfill took over); no listener, no wake-up.
    const { unregister, ...rest } = Object.getOwnPropertyDescriptors(Registration.prototype);
    const { unregister: unregisterBefore, ...restBefore } = before;
    expect(rest).toEqual(restBefore);
    if (!workerOnly.includes(file)) expect(unregister.value).not.toBe(unregisterBefore.value);
    expect(calls.filter((call) => !call.startsWith('setTimeout') && call !== 'addEventListener load')).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it.each(files)('%s: with the native API, reading BackgroundSyncPolyfill first evaluates it as well, and puts the getters back', (file) => {
    const { g, before, Registration, nativeGetter } = runInWindow(file, 'full');
    expect((g.BackgroundSyncPolyfill as BackgroundSyncPolyfillGlobal).native).toBe(true);
    expect(syncGetter(Registration)).toBe(nativeGetter);
    expect(Object.getOwnPropertyDescriptor(Registration.prototype, 'sync')).toEqual(before.sync);
  });

  it.each(workerOnly)('%s: in a window it installs nothing but BackgroundSyncPolyfill, and warns naming the page script', (file) => {
    const { g, calls, warnings, before, Registration } = runInWindow(file, 'none');
    const api = g.BackgroundSyncPolyfill as BackgroundSyncPolyfillGlobal;
    expect(api.native).toBe(false);
    expect(g.SyncManager).toBeUndefined();
    expect(syncGetter(Registration)).toBeUndefined();
    expect(Object.getOwnPropertyDescriptors(Registration.prototype)).toEqual(before);
    expect(calls).toEqual([]);
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0])).toContain('background-sync-polyfill.window.min.js');
    expect(() => api.configure({ maxAttempts: 2 })).not.toThrow();
  });
});

/** A service worker's global, as far as the scripts' checks see it: `self instanceof ServiceWorkerGlobalScope`. */
describe('the classic script in a service worker', () => {
  function runInWorker(file: string, native = false) {
    const calls: string[] = [];
    const warnings: unknown[] = [];
    const ServiceWorkerGlobalScope = function ServiceWorkerGlobalScope() {};
    const g = Object.create(ServiceWorkerGlobalScope.prototype) as Record<string, unknown>;
    Object.assign(g, {
      console: { ...console, warn: (...args: unknown[]) => warnings.push(args) },
      Promise,
      ServiceWorkerGlobalScope,
      ServiceWorkerRegistration: function ServiceWorkerRegistration() {},
      ExtendableEvent: class ExtendableEvent {},
      addEventListener: (type: unknown) => calls.push(`addEventListener ${String(type)}`),
      setTimeout: (fn: unknown) => (calls.push(`setTimeout ${typeof fn}`), 1),
      setInterval: (fn: unknown) => (calls.push(`setInterval ${typeof fn}`), 1),
    });
    g.self = g;
    if (native) {
      g.SyncManager = function SyncManager() {};
      Object.defineProperty((g.ServiceWorkerRegistration as Function).prototype, 'sync', { get: () => 'native', enumerable: true, configurable: true });
    }
    vm.runInNewContext(read(file), g);
    return { g, calls, warnings };
  }

  it.each([...universal, ...workerOnly])('%s: with the native API, it adds one message listener and nothing else (docs/semantics.md §8)', (file) => {
    const { g, calls, warnings } = runInWorker(file, true);
    expect(calls).toEqual(['addEventListener message']);
    expect(Object.getOwnPropertyNames(g)).not.toContain('SyncEvent');
    expect(warnings).toEqual([]);
  });

  it.each([...universal, ...workerOnly])('%s: the worker\'s event classes keep their WebIDL names, minified too', (file) => {
    const code = read(file);
    // Over ExtendableEvent, or the engine's own classes where it has them (docs/semantics.md §8).
    expect(code).toMatch(/class SyncEvent extends \w+/);
    expect(code).toMatch(/class PeriodicSyncEvent extends \w+/);
  });

  it.each(pageOnly)('%s: in a worker it installs nothing but BackgroundSyncPolyfill, and warns naming the worker script', (file) => {
    const { g, calls, warnings } = runInWorker(file);
    expect((g.BackgroundSyncPolyfill as BackgroundSyncPolyfillGlobal).native).toBe(false);
    expect(g.SyncManager).toBeUndefined();
    expect(g.SyncEvent).toBeUndefined();
    expect(calls).toEqual([]);
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0])).toContain('background-sync-polyfill.sw.min.js');
  });
});
