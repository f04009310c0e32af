// The routes of the sync test server (test/browser, test/faults, test/security), on the kit's server (server.mjs).
// They serve the built polyfill and the fixtures, record what the service workers report (the ground truth of what
// fired), and tell their sync handlers how to behave per tag.
//
//   GET  /dist/*                the built polyfill (BSP_DIST_DIR overrides the repository's dist/)
//   GET  /sw.js                 the test service worker (fixtures/sw.js), no-store, Service-Worker-Allowed: /
//   GET  /fixtures/*            fixtures
//   GET  /scope/<name>/page.html  the test page (testPage()), at a scope of its own per scenario
//   POST /log                   the worker reports: one JSON entry or an array; deduplicated by `id`
//   GET  /log                   every entry so far
//   POST /control               {tag, behaviour}: 'ok' (default) | 'fail' | 'hold' | 'never'
//   POST /control/get           {tag} -> {behaviour}; the worker asks this when its sync handler starts
//   GET  /sw.js?build=<key>     the worker script with `self.__swBuild = <n>;` first (setSwBare(key, true): without
//                               the polyfill, an app's worker that never imported it): setSwBuild(key, n) changes its
//                               bytes, so registration.update() installs a new version (a deploy)
//   GET  /rc/poll?id=…          remote control for a page no WebDriver drives (page.js, ?rc=<id>): the next
//   POST /rc/result, /rc/hello    function to evaluate (long poll), its result, and the page announcing itself
//   server.addRoute(handler)    extra routes of another suite (test/security: pages and workers with CSP headers),
//                               tried before these
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer as startHttpServer, createLog, htmlPage, inside, readJson, send, sendBody, sendFile } from './server.mjs';

const HERE = fileURLToPath(new URL('.', import.meta.url));
export const FIXTURES_DIR = join(HERE, 'fixtures');
export const DIST_DIR = resolve(process.env.BSP_DIST_DIR || join(HERE, '..', '..', 'dist'));

/** The test page of test/browser and test/faults (test/security's pages add their own scripts around the same core). */
export const testPage = () =>
  htmlPage('background-sync-polyfill browser test page', ['/fixtures/refuse-native.js', '/dist/background-sync-polyfill.window.js', '/fixtures/idl-probe.js', '/fixtures/common.js', '/fixtures/page.js'], 'test/browser/run.mjs');
const BEHAVIOURS = new Set(['ok', 'fail', 'hold', 'never', 'holdBeat', 'random']);
// Also 'sleep:<ms>' (ok after that long). 'holdBeat' and 'sleep:<ms>' report a `beat` every 500 ms while they wait
// (test/faults: beats that stop tell when the worker died). 'random' is decided here per firing: 'fail' with the
// probability of setRandomFail(seed, rate), else 'ok', from a seeded hash of (seed, tag, n-th ask for that tag),
// so a run is reproducible whatever order the firings come in.

export async function startServer() {
  const server = await startHttpServer();
  const { log, record, entries, waitForEntries } = createLog();
  const behaviours = new Map();
  const swBuilds = new Map();
  const swBare = new Set();
  const remotes = new Map();
  const extraRoutes = [];

  // Another suite's routes (test/security) come first, then these.
  server.addRoute(async (req, res, url) => {
    for (const route of extraRoutes) if (await route(req, res, url)) return true;
    return false;
  });
  server.addRoute(async (req, res, url) => {
    const answer = await handle(req, res, url);
    return answer !== false;
  });

  async function handle(req, res, url) {
    const path = url.pathname;
    if (req.method === 'POST' && path === '/log') {
      record(await readJson(req));
      return send(res, 204);
    }
    if (req.method === 'GET' && path === '/log') return send(res, 200, log);
    if (req.method === 'POST' && path === '/control') {
      const { tag, behaviour } = await readJson(req);
      setBehaviour(tag, behaviour);
      return send(res, 204);
    }
    if (req.method === 'POST' && path === '/control/get') {
      const { tag } = await readJson(req);
      const behaviour = behaviours.get(String(tag)) ?? 'ok';
      return send(res, 200, { behaviour: behaviour === 'random' ? randomBehaviour(String(tag)) : behaviour });
    }
    if (req.method === 'POST' && path === '/rc/hello') {
      const { id, url: pageUrl } = await readJson(req);
      remote(id).hello(pageUrl);
      return send(res, 204);
    }
    if (req.method === 'POST' && path === '/rc/result') {
      const result = await readJson(req);
      remote(result.id).result(result);
      return send(res, 204);
    }
    if (req.method === 'GET' && path === '/rc/poll') return remote(url.searchParams.get('id')).poll(res);
    if (req.method !== 'GET') return false;
    if (path === '/sw.js') {
      const build = url.searchParams.get('build');
      if (build === null) return sendFile(res, join(FIXTURES_DIR, 'sw.js'), { 'Service-Worker-Allowed': '/' });
      return sendBundledWorker(res, swBuilds.get(build) ?? 1, swBare.has(build));
    }
    if (path.startsWith('/dist/')) return sendFile(res, inside(DIST_DIR, path.slice('/dist/'.length)));
    if (path.startsWith('/fixtures/')) return sendFile(res, inside(FIXTURES_DIR, path.slice('/fixtures/'.length)));
    if (/^\/scope\/[\w-]+\/(?:[\w-]+\/)?page\.html$/.test(path)) return sendBody(res, 200, testPage(), 'text/html');
    return false;
  }

  function setBehaviour(tag, behaviour) {
    if (!BEHAVIOURS.has(behaviour) && !/^(sleep|spin):\d+$/.test(behaviour)) throw new Error(`unknown behaviour ${behaviour}`);
    behaviours.set(String(tag), behaviour);
  }

  const random = { seed: 1, rate: 0, asked: new Map() };
  function randomBehaviour(tag) {
    const n = random.asked.get(tag) ?? 0;
    random.asked.set(tag, n + 1);
    return seededFraction(`${random.seed}:${tag}:${n}`) < random.rate ? 'fail' : 'ok';
  }

  function remote(id) {
    if (!id) throw Object.assign(new Error('rc: no id'), { status: 400 });
    if (!remotes.has(id)) remotes.set(id, createRemote(id));
    return remotes.get(id);
  }

  return {
    origin: server.origin,
    log,
    requests: server.requests,
    entries,
    waitForEntries,
    setBehaviour,
    /** The 'random' behaviour: 'fail' with probability `rate`, reproducible from `seed`. */
    setRandomFail: (seed, rate) => Object.assign(random, { seed, rate, asked: new Map() }),
    /** The version the next fetch of /sw.js?build=<key> serves (1 until set). */
    setSwBuild: (key, version) => swBuilds.set(String(key), Number(version)),
    /** Whether the next fetches of /sw.js?build=<key> leave the polyfill out. */
    setSwBare: (key, bare) => (bare ? swBare.add(String(key)) : swBare.delete(String(key))),
    /** The remote control of the page(s) that load with ?rc=<id>. */
    remote,
    /** Adds a route of another suite, tried before these: `handler(req, res, url)` answers and returns true, or returns false. */
    addRoute: (handler) => extraRoutes.push(handler),
    close: () => server.close(),
  };
}

/** A fraction in [0, 1) from a string (FNV-1a, then a xorshift mix): the same input, the same fraction. */
function seededFraction(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  h ^= h >>> 13;
  h = Math.imul(h, 0x5bd1e995);
  h ^= h >>> 15;
  return (h >>> 0) / 2 ** 32;
}

/**
 * The test worker as a bundler would ship it: its importScripts() inlined, and `self.__swBuild = <n>;` first, so
 * a new build changes the bytes. A new version then needs no fetch but its own script's, which the browser makes
 * even under Chromium's offline emulation (that emulation also reaches a new worker's importScripts() and fails them).
 */
async function sendBundledWorker(res, build, bare) {
  let source = (await readFile(join(FIXTURES_DIR, 'sw.js'), 'utf8')).toString();
  for (const [statement, file] of [
    ["importScripts('/fixtures/delete-native.js');", join(FIXTURES_DIR, 'delete-native.js')],
    ["importScripts('/fixtures/refuse-native.js');", join(FIXTURES_DIR, 'refuse-native.js')],
    ["importScripts('/dist/background-sync-polyfill.sw.js');", join(DIST_DIR, 'background-sync-polyfill.sw.js')],
    ["importScripts('/fixtures/idl-probe.js');", join(FIXTURES_DIR, 'idl-probe.js')],
    ["importScripts('/fixtures/common.js');", join(FIXTURES_DIR, 'common.js')],
    ["importScripts('/fixtures/sw-common.js');", join(FIXTURES_DIR, 'sw-common.js')],
  ]) {
    if (!source.includes(statement)) throw new Error(`sw.js no longer has ${statement}`);
    // A bare worker gets a stand-in global, so the fixtures' configure() calls still work.
    const inlined = bare && file.endsWith('background-sync-polyfill.sw.js')
      ? "self.BackgroundSyncPolyfill = { native: false, version: 'none (bare worker)', configure() {} };"
      : await readFile(file, 'utf8');
    source = source.replace(statement, () => `${inlined}\n`);
  }
  res.writeHead(200, { 'Content-Type': 'text/javascript', 'Cache-Control': 'no-store', 'Service-Worker-Allowed': '/' });
  res.end(`self.__swBuild = ${build};\n${source}`);
}

/**
 * Remote control of a page that no WebDriver session drives (WebKit's MiniBrowser on a persistent profile,
 * which automation mode cannot have). The page (fixtures/page.js with ?rc=<id>) announces itself, then long-polls
 * for functions to evaluate and posts their results. One evaluation at a time, each with a deadline.
 */
function createRemote(id) {
  const queue = [];
  let waitingPoll = null;
  let pollTimer = null;
  let sequence = 0;
  const pending = new Map();
  let hellos = 0;
  let helloWaiters = [];

  function deliver() {
    if (!waitingPoll || !queue.length) return;
    const res = waitingPoll;
    waitingPoll = null;
    clearTimeout(pollTimer);
    send(res, 200, queue.shift());
  }

  return {
    id,
    get hellos() {
      return hellos;
    },
    hello(url) {
      hellos += 1;
      // A page that (re)loaded cannot answer what its predecessor was asked.
      for (const [seq, { reject }] of pending) {
        reject(new Error(`rc ${id}: the page reloaded (${url}) before answering #${seq}`));
        pending.delete(seq);
      }
      queue.length = 0;
      const waiters = helloWaiters;
      helloWaiters = [];
      for (const wake of waiters) wake(url);
    },
    /** Resolves once the page has announced itself `count` times in all. */
    waitForHello(count, timeout) {
      if (hellos >= count) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`rc ${id}: no page announced itself in ${timeout} ms`)), timeout);
        helloWaiters.push(() => {
          if (hellos >= count) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
    },
    poll(res) {
      if (waitingPoll) send(waitingPoll, 204);
      clearTimeout(pollTimer);
      waitingPoll = res;
      pollTimer = setTimeout(() => {
        if (waitingPoll === res) {
          waitingPoll = null;
          send(res, 204);
        }
      }, 15000);
      res.on('close', () => {
        if (waitingPoll === res) {
          waitingPoll = null;
          clearTimeout(pollTimer);
        }
      });
      deliver();
    },
    result({ seq, ok, value, error }) {
      const waiter = pending.get(seq);
      if (!waiter) return;
      pending.delete(seq);
      if (ok) waiter.resolve(value);
      else waiter.reject(new Error(`rc evaluate failed in the page: ${error}`));
    },
    /** Evaluates fn(arg) in the page; fn must be self-contained (it travels as source text). */
    evaluate(fn, arg, timeout = 20000) {
      const seq = ++sequence;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(seq);
          reject(new Error(`rc ${id}: no answer to ${fn.name || 'function'} in ${timeout} ms`));
        }, timeout);
        pending.set(seq, {
          resolve: (value) => {
            clearTimeout(timer);
            resolve(value);
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        });
        queue.push({ seq, fn: fn.toString(), arg: arg === undefined ? null : arg, hasArg: arg !== undefined });
        deliver();
      });
    },
  };
}
