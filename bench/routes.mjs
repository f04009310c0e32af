// The benchmark's routes on the kit's server (test/kit/server.mjs), which listens on 127.0.0.1 and 127.0.0.2 at one
// port, so Chromium runs its native API and the polyfill (API deleted) side by side as two sites in one browser.
//
//   GET /dist/*              the built polyfill (.js and .min.js, read once at start)
//   GET /bench/s/<name>/page.html  the benchmark page at a scope of its own; ?script=full loads the unminified
//                            build (readable profiles), ?instrument=1 times IndexedDB transactions (fixtures/instrument.js)
//   GET /bench/*             bench/fixtures/* (page.js, sw.js, instrument.js), no-store
//   POST /bench/kill         the kill benchmark's reports from the worker (entries and beats of `kill` tags, kept in
//                            `killLog`); answers { hold } to an entry: true for the first firing of its tag in its scope only
//   GET /fixtures/delete-native.js, /fixtures/common.js   the kit's fixtures: the worker's first script, and the
//                            page helpers bench/fixtures/page.js builds on
//   GET /load/<variant>.html a page that loads /load/<variant>.js and nothing else (load-cost benchmark), no-store;
//   GET /load/cached/*       the same with the script cacheable (max-age), as a CDN serves it
//   GET /load/<variant>.js   empty | polyfill (the .min.js) | unrun (the .min.js wrapped in a function never called) |
//                            detect (docs/semantics.md §6's detection alone) | floor (the detection and the global's
//                            accessor, nothing to load) | floorTakeover (the floor and the takeover's triggers) |
//                            before (an earlier build's page script, BSP_LOAD_BEFORE) | full (the unminified build)
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer as startKitServer, createLog, htmlPage, inside, readJson, send, sendBody, sendFile } from '../test/kit/server.mjs';

const HERE = fileURLToPath(new URL('.', import.meta.url));
export const FIXTURES_DIR = join(HERE, 'fixtures');
const KIT_FIXTURES = fileURLToPath(new URL('../test/kit/fixtures/', import.meta.url));
export const DIST_DIR = join(HERE, '..', 'dist');
/** The page script: what a page loads (the worker loads background-sync-polyfill.sw.min.js). */
export const MIN_SCRIPT = join(DIST_DIR, 'background-sync-polyfill.window.min.js');

/** The scripts of the load-cost benchmark. */
export function loadVariants() {
  const min = readFileSync(MIN_SCRIPT, 'utf8');
  return {
    empty: '',
    polyfill: min,
    // Parsed and compiled like the real script (the inner function is pre-parsed only), but never run: the part of
    // the cost that size alone explains.
    unrun: `(function(){${min}\n});`,
    // Only docs/semantics.md §6's detection, as the polyfill runs it first: what detecting alone costs (Blink creates interface
    // objects such as ServiceWorkerRegistration lazily, on first access).
    detect: "self.__bspDetected='SyncManager'in self&&typeof ServiceWorkerRegistration!=='undefined'&&'sync'in ServiceWorkerRegistration.prototype;",
    // The least a script can do where the API is native and still offer its global: the detection, then
    // `BackgroundSyncPolyfill` defined as an accessor that would load the rest (rollup.config.mjs, lazyWhereNative),
    // with no body to load. What the polyfill costs beyond this is its own bytes.
    floor: "(function(){var g=self,n='BackgroundSyncPolyfill';if(g[n]===undefined&&'SyncManager'in self&&typeof ServiceWorkerRegistration!=='undefined'&&'sync'in ServiceWorkerRegistration.prototype){Object.defineProperty(g,n,{get:function(){delete g[n];return g[n]},set:function(v){Object.defineProperty(g,n,{value:v,writable:true,configurable:true})},configurable:true})}})();",
    // The floor plus what the takeover of refused calls (docs/semantics.md §8) runs at load in a page, as
    // rollup.config.mjs's lazyWhereNative writes it: the getters of registration.sync and .periodicSync wrapped to load
    // the rest on first read, and a look for the origin's mark after the load.
    floorTakeover: "(function(){var g=self,n='BackgroundSyncPolyfill';if(g[n]===undefined&&'SyncManager'in self&&typeof ServiceWorkerRegistration!=='undefined'&&'sync'in ServiceWorkerRegistration.prototype){var P=ServiceWorkerRegistration.prototype,s=Object.getOwnPropertyDescriptor(P,'sync'),p=Object.getOwnPropertyDescriptor(P,'periodicSync'),w=function(k,d,f){if(d&&d.get)Object.defineProperty(P,k,{get:f,enumerable:d.enumerable,configurable:true})};w('sync',s,Object.getOwnPropertyDescriptor({get sync(){g[n];return s.get.call(this)}},'sync').get);w('periodicSync',p,Object.getOwnPropertyDescriptor({get periodicSync(){g[n];return p.get.call(this)}},'periodicSync').get);Object.defineProperty(g,n,{get:function(){if(s)Object.defineProperty(P,'sync',s);if(p)Object.defineProperty(P,'periodicSync',p);delete g[n];return g[n]},set:function(v){Object.defineProperty(g,n,{value:v,writable:true,configurable:true})},configurable:true});var l=function(){try{if(localStorage.getItem('__backgroundSyncPolyfill'))g[n]}catch(e){}};if(document.readyState=='complete')l();else addEventListener('load',l)}})();",
    // The page script of an earlier build, for a comparison in the same run: the file BSP_LOAD_BEFORE names (e.g. the
    // .window.min.js of the commit before the takeover of refused calls), or none.
    ...(process.env.BSP_LOAD_BEFORE ? { before: readFileSync(process.env.BSP_LOAD_BEFORE, 'utf8') } : {}),
    // The same with the global a plain object (no accessor): the cheapest way to offer one.
    floorPlain: "(function(){if(self.BackgroundSyncPolyfill===undefined&&'SyncManager'in self&&typeof ServiceWorkerRegistration!=='undefined'&&'sync'in ServiceWorkerRegistration.prototype)self.BackgroundSyncPolyfill={native:true}})();",
    // The unminified build, for readable names in a profile of the load.
    full: readFileSync(join(DIST_DIR, 'background-sync-polyfill.window.js'), 'utf8'),
  };
}

/** The benchmark page: the IndexedDB timing (if asked), the page helpers, then the polyfill (its listeners after ours). */
const benchPage = (params) =>
  htmlPage(
    'background-sync-polyfill benchmark page',
    [
      ...(params.get('instrument') === '1' ? ['/bench/instrument.js'] : []),
      '/fixtures/common.js',
      '/bench/page.js',
      params.get('script') === 'full' ? '/dist/background-sync-polyfill.window.js' : '/dist/background-sync-polyfill.window.min.js',
    ],
    'bench/run.mjs',
  );

export async function startServer() {
  const variants = loadVariants();
  // The built scripts are read once: a rebuild of dist/ during the run (other work in the tree) cannot change or
  // remove what is measured halfway through.
  const snapshot = new Map();
  for (const kind of ['', '.window', '.sw']) {
    for (const name of [`background-sync-polyfill${kind}.js`, `background-sync-polyfill${kind}.min.js`]) snapshot.set(name, readFileSync(join(DIST_DIR, name)));
  }
  const server = await startKitServer({ secondHost: '127.0.0.2' });
  const killLog = createLog();
  const heldTags = new Set();
  server.addRoute(async (req, res, url) => {
    const path = url.pathname;
    if (req.method === 'POST' && path === '/bench/kill') {
      const entry = await readJson(req, 4096);
      killLog.record(entry);
      const key = `${entry?.scope} ${entry?.tag}`;
      const hold = entry?.type === 'enter' && !heldTags.has(key);
      if (hold) heldTags.add(key);
      send(res, 200, { hold });
      return true;
    }
    if (req.method !== 'GET') return false;
    if (path.startsWith('/dist/')) {
      const body = snapshot.get(path.slice(6));
      if (!body) return false;
      sendBody(res, 200, body, 'text/javascript');
    } else if (/^\/bench\/s\/[\w-]+\/page\.html$/.test(path)) {
      sendBody(res, 200, benchPage(url.searchParams), 'text/html');
    } else if (path.startsWith('/bench/')) {
      await sendFile(res, inside(FIXTURES_DIR, path.slice(7)));
    } else if (path === '/fixtures/delete-native.js' || path === '/fixtures/common.js') {
      await sendFile(res, join(KIT_FIXTURES, path.slice('/fixtures/'.length)));
    } else {
      const load = /^\/load\/(cached\/)?(\w+)\.(html|js)$/.exec(path);
      if (!load || !(load[2] in variants)) return false;
      const [, cached = '', variant, ext] = load;
      // /load/cached/* scripts are cacheable as a CDN serves a versioned file, so repeat loads reuse the HTTP cache
      // and V8's code cache; /load/* scripts are no-store, compiled afresh every time.
      if (ext === 'js') sendBody(res, 200, variants[variant], 'text/javascript', cached ? 'public, max-age=86400' : 'no-store');
      else sendBody(res, 200, `<!doctype html><meta charset="utf-8"><title>${variant}</title><script src="/load/${cached}${variant}.js"></script>`, 'text/html');
    }
    return true;
  });
  return {
    origin: server.origin,
    /** sha256 of the .min.js served to the browsers, to match against the size measurement. */
    minSha256: createHash('sha256').update(snapshot.get('background-sync-polyfill.min.js')).digest('hex'),
    /** A second site for Chromium with the API deleted. */
    otherOrigin: server.otherOrigin,
    /** What the workers reported of `kill` tags: { type: 'enter' | 'beat', tag, t, instance, scope, receivedAt }. */
    killLog,
    close: server.close,
  };
}
