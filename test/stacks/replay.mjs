// The stacks test of the e2e suite (test/e2e/run.mjs --only=stacks): each fixture app of test/stacks/fixtures/,
// built from the packed tarball by its own tool before the run entered its network namespace (build.mjs, called by
// run.mjs through prepare()), is served from 127.0.0.1 and driven in Chromium with the API deleted, in Firefox ESR, and
// in native Chromium as the control.
//
//   build              what needs no browser: every stack built, README's snippets are the fixtures' files, the
//                      esbuild fixture compiles as a strict typed project; notes the bytes the polyfill adds
//   <stack> [browser]  an online POST reaches the server; offline, two POSTs are queued by the app's queue, which
//                      registers its sync through registration.sync (the polyfill's; in chromium-native, the control,
//                      Chromium's own, which the polyfill leaves in place); nothing reaches the server or
//                      fires while offline; once online, each queued POST reaches the server exactly once (the
//                      server's log is the truth), replayed by the worker inside the queue's one sync event, never
//                      outside one (a replay at worker start); Serwist's within 1 s in Chromium with the API deleted
//   <stack> [chromium-deleted · worker restart]   the same queue, but the network comes back with no page open
//                      and a worker that reads itself offline, which is then stopped: the fresh worker that the next
//                      page starts replays, inside the sync event the polyfill fires at its start, and not on its own
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { assertNoUnexpectedErrors, startFixtureServer, waitAfterOnline } from '../e2e/routes.mjs';
import { TYPES, inside } from '../kit/server.mjs';
import * as build from './build.mjs';
import { sleep } from '../kit/util.mjs';

const ENV = 'BSP_STACKS_DIR';
const BROWSERS = [
  { browser: 'chromium-deleted', mode: 'deleted' },
  { browser: 'firefox', mode: 'firefox' },
  // The control: the same apps on Chromium's own API, which the polyfill leaves in place.
  { browser: 'chromium-native', mode: 'native' },
];
/** Serwist's queue must replay within this long after the network is back, in Chromium with the API deleted. */
const SERWIST_LATENCY_MS = 1000;

/**
 * Outside the namespace (the registry is reachable): installs and builds everything into a scratch folder and
 * says where in the environment, for the run inside. A failure is recorded there too, for the `build` case.
 */
export async function prepare() {
  if (process.env[ENV]) return;
  const dir = mkdtempSync(join(tmpdir(), 'bsp-stacks-'));
  process.env[ENV] = dir;
  const started = Date.now();
  const report = { stacks: {} };
  try {
    console.log('stacks: installing the packed package and the tools of test/stacks/tools.json with npm');
    report.install = build.installScratch(dir);
    for (const stack of build.STACKS) {
      const built = await build.buildStack(dir, stack);
      report.stacks[stack.name] = { tag: stack.tag, ...built };
      console.log(`stacks: built ${stack.name} in ${built.ms} ms`);
    }
    report.observer = await build.bundleObserver();
    // Checks that do not stop the apps from running: the build case fails on them, the browser cases go on.
    report.checks = {};
    for (const [name, check] of [['types', () => build.checkTypes(join(dir, 'esbuild'))], ['readme', () => build.checkReadme(sizesAdded(report.stacks))]]) {
      try {
        report.checks[name] = { ok: true, text: check() };
      } catch (error) {
        report.checks[name] = { ok: false, text: error.message };
      }
    }
  } catch (error) {
    report.error = error.stack || error.message;
  }
  report.ms = Date.now() - started;
  writeFileSync(join(dir, 'build.json'), JSON.stringify(report));
}

/** {stack: {page, worker}}: the gzip bytes the polyfill's import adds. */
const sizesAdded = (stacks) => Object.fromEntries(Object.entries(stacks).map(([name, s]) => [name, { page: s.added.page.gzip, worker: s.added.worker.gzip }]));

function built() {
  const dir = process.env[ENV];
  if (!dir) throw new Error(`${ENV} is not set: prepare() did not run`);
  return JSON.parse(readFileSync(join(dir, 'build.json'), 'utf8'));
}

/** Removes the scratch folder (at the end of the run inside the namespace). */
export function removeScratch() {
  if (process.env[ENV]) rmSync(process.env[ENV], { recursive: true, force: true });
}

const STACK_NAMES = build.STACKS.map((stack) => stack.name);

export const stacks = {
  name: 'stacks',
  cases: [
    { browser: 'none', label: 'build' },
    ...STACK_NAMES.flatMap((stack) => BROWSERS.map(({ browser, mode }) => ({ browser, label: `${stack} · ${browser}`, stack, mode }))),
    // CDP stops the worker (ServiceWorker.stopWorker): Chromium only.
    ...STACK_NAMES.map((stack) => ({ browser: 'chromium-deleted', label: `${stack} · chromium-deleted · worker restart`, stack, mode: 'deleted', restart: true })),
  ],
  run: (ctx, variant) => (variant.browser === 'none' ? checkBuild(ctx) : replay(ctx, variant)),
};

function checkBuild(ctx) {
  const report = built();
  if (report.error) throw new Error(`the stacks could not be built: ${report.error}`);
  const kb = (bytes) => `${bytes >= 0 ? '+' : ''}${bytes.toLocaleString('en')} B`;
  ctx.note(`npm install of the tarball and the tools: ${(report.install.ms / 1000).toFixed(1)} s; install, builds and checks: ${(report.ms / 1000).toFixed(1)} s`);
  for (const [name, stack] of Object.entries(report.stacks)) {
    ctx.note(`${name}: built in ${stack.ms} ms; the import adds page ${kb(stack.added.page.gzip)} gzip (${kb(stack.added.page.raw)} raw), worker ${kb(stack.added.worker.gzip)} gzip (${kb(stack.added.worker.raw)} raw)`);
    for (const side of ['page', 'worker']) assert.ok(stack.added[side].gzip > 0, `${name}: the polyfill adds nothing to the ${side} bundle: is it in it?`);
  }
  const failed = Object.entries(report.checks).filter(([, check]) => !check.ok);
  assert.deepEqual(failed.map(([name, check]) => `${name}: ${check.text}`), [], 'the typed project and README');
  ctx.note(report.checks.types.text);
  ctx.note(`README: ${report.checks.readme.text}`);
}

/** The stack's built app; /sw.js with the test's lines first; /api/news for the esbuild app's periodic refresh. */
function serveApp(stack, observer, mode) {
  const prefix = `self.BSP_TEST_MODE = ${JSON.stringify(mode)};\n${observer}\n`;
  return async (pathname) => {
    if (pathname === '/api/news') return { body: '{"news":[]}', type: 'application/json' };
    const name = pathname === '/' ? 'index.html' : pathname.slice(1);
    for (const folder of stack.serve) {
      let body;
      try {
        body = await readFile(inside(folder, name));
      } catch {
        continue;
      }
      if (name === 'sw.js') body = Buffer.concat([Buffer.from(prefix), body]);
      return { body, type: TYPES[extname(name)] ?? 'application/octet-stream' };
    }
    return null;
  };
}

/** Workbox's NetworkOnly rejects a POST's response offline (its plugin has queued it), without the polyfill too. */
const WORKBOX_OFFLINE = [
  { name: "Workbox's NetworkOnly rejecting a POST offline", pattern: /^no-response: |FetchEvent\.respondWith\(\) Promise rejected/ },
  { name: "Firefox's report of the same in the page", pattern: /^Error: Failed to load ‘[^’]*\/api\/echo’\. A ServiceWorker passed a promise to FetchEvent\.respondWith\(\) that rejected with ‘Error: no-response / },
];

/** Opens the app and waits until its worker controls the page. */
async function openApp(ctx, origin) {
  const page = await ctx.newPage();
  await page.goto(`${origin}/`);
  await page.evaluate(async () => {
    const deadline = Date.now() + 20000;
    while (!navigator.serviceWorker.controller) {
      if (Date.now() > deadline) throw new Error("the app's worker did not take control of the page in 20 s");
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }, undefined, 30000);
  return page;
}

/** A message to the page's worker, answered on a MessageChannel (observe-worker.js). */
const askWorker = (page, message) => page.evaluate((data) => new Promise((resolve, reject) => {
  const channel = new MessageChannel();
  const timer = setTimeout(() => reject(new Error(`the worker did not answer ${JSON.stringify(data)} in 10 s`)), 10000);
  channel.port1.onmessage = (event) => {
    clearTimeout(timer);
    resolve(event.data);
  };
  navigator.serviceWorker.controller.postMessage(data, [channel.port2]);
}), message);

const post = (page, n) => page.evaluate((body) =>
  fetch('/api/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    .then((response) => ({ status: response.status }), (error) => ({ error: String(error) })), { n });
const getTags = (page) => page.evaluate(() => navigator.serviceWorker.ready.then((registration) => registration.sync.getTags()));

async function replay(ctx, variant) {
  const report = built();
  if (report.error) throw new Error(`the stacks could not be built: ${report.error.split('\n')[0]}`);
  const stack = report.stacks[variant.stack];
  const server = await startFixtureServer(null, { serve: serveApp(stack, report.observer, variant.mode) });
  try {
    const page = await openApp(ctx, server.origin);
    await checkPolyfill(page, variant.mode === 'native');
    const syncs = () => server.entries('sync').filter((entry) => entry.tag === stack.tag);

    assert.deepEqual(await post(page, 0), { status: 201 }, 'an online POST through the app');
    assert.deepEqual(server.echoes.map((e) => e.body), [{ n: 0 }], 'the online POST reached the server');

    server.setReachable(false);
    await ctx.setOnline(false, page);
    for (const n of [1, 2]) {
      const result = await post(page, n);
      assert.notEqual(result.status, 201, `POST ${n} cannot reach the server offline: ${JSON.stringify(result)}`);
    }
    const tags = await getTags(page);
    assert.ok(tags.includes(stack.tag), `the app's queue registers ${stack.tag} through registration.sync; getTags() gave ${JSON.stringify(tags)}`);
    await sleep(2000);
    assert.equal(server.echoes.length, 1, 'nothing reaches the server while offline');

    let online;
    let last = page;
    if (variant.restart) {
      // No page and a worker that reads itself offline when the network comes back: nothing may fire. The worker is
      // stopped only then (a stopped worker's target would hang the next offline switch), and the next page starts
      // a fresh one. Its start must not replay by itself (Workbox's and Serwist's path without the API): the polyfill
      // fires the due tag at the start, and the queue replays inside that event.
      assert.deepEqual(await askWorker(page, { fixture: 'viewOffline' }), { onLine: false }, 'the worker reads itself offline');
      await page.close();
      const blank = await ctx.newPage();
      server.setReachable(true);
      await ctx.setOnline(true);
      assert.equal(await ctx.driver.stopWorker(blank, `${server.origin}/`), true, 'the worker was running, and is stopped');
      await sleep(2000);
      assert.equal(server.echoes.length, 1, 'with no page open and the worker stopped, nothing is replayed');
      online = Date.now();
      last = await openApp(ctx, server.origin);
      await server.waitFor(() => server.echoes.length >= 3, { timeout: 20000, label: 'both queued POSTs replayed by the fresh worker' });
      ctx.note(`replayed ${Math.max(...server.echoes.map((e) => e.receivedAt)) - online} ms after the page that started the fresh worker was opened`);
    } else {
      server.setReachable(true);
      online = Date.now();
      await ctx.setOnline(true, page);
      await waitAfterOnline(server, page, online, () => server.echoes.length >= 3, 'both queued POSTs replayed');
      const latency = Math.max(...server.echoes.map((e) => e.receivedAt)) - online;
      ctx.note(`replayed ${latency} ms after coming online`);
      if (variant.stack === 'serwist' && variant.browser === 'chromium-deleted') {
        assert.ok(latency <= SERWIST_LATENCY_MS, `Serwist's queue replays within ${SERWIST_LATENCY_MS} ms of the network coming back, took ${latency} ms`);
      }
    }
    await sleep(1500);

    assert.deepEqual(server.echoes.map((e) => e.body.n).sort(), [0, 1, 2], 'each POST reaches the server exactly once');
    assert.equal(syncs().length, 1, `the queue's tag fires exactly once: ${JSON.stringify(syncs())}`);
    const [event] = syncs();
    const native = variant.mode === 'native';
    assert.deepEqual({ onLine: event.onLine, isSyncEvent: event.isSyncEvent, isTrusted: event.isTrusted }, { onLine: true, isSyncEvent: true, isTrusted: native },
      `a SyncEvent ${native ? "of Chromium's own" : 'of the polyfill'}, fired online`);
    // The worker's own fetches of /api/echo: the page's three POSTs passed through outside any sync event; the two
    // replays, after the network came back, each inside the sync event (not at a worker start, not on a timer).
    const fetches = server.entries('echoFetch');
    const early = fetches.filter((entry) => entry.t < online);
    const replays = fetches.filter((entry) => entry.t >= online);
    // (A stopped worker's reports still waiting to be sent, those of the offline POSTs, are lost with it.)
    const expectedEarly = variant.restart ? early.map(() => false) : [false, false, false];
    assert.deepEqual(early.map((entry) => entry.duringSync), expectedEarly, `the page's POSTs pass through the worker: ${JSON.stringify(early)}`);
    assert.deepEqual(replays.map((entry) => entry.duringSync), [true, true], `the two replays, each inside the sync event: ${JSON.stringify(replays)}`);
    assert.ok(!(await getTags(last)).includes(stack.tag), 'the registration is gone once it fired');

    assertNoUnexpectedErrors({
      page: ctx.pageErrors,
      worker: server.entries('swError').map((e) => e.message),
    }, stack.tag.startsWith('workbox') ? WORKBOX_OFFLINE : []);
  } finally {
    await server.close();
  }
}

/**
 * The page and the app's worker both load the polyfill from the bundles; it installs its own API, or where `native`,
 * leaves Chromium's in place.
 */
async function checkPolyfill(page, native) {
  const inPage = await page.evaluate(() => ({
    loaded: typeof self.BackgroundSyncPolyfill === 'object',
    native: self.BackgroundSyncPolyfill ? self.BackgroundSyncPolyfill.native : null,
  }));
  assert.deepEqual(inPage, { loaded: true, native }, "the page's bundle loads the polyfill");
  const inWorker = await askWorker(page, { fixture: 'probe' });
  const { polyfillLoaded, syncManagerNative, syncEventNative, syncInRegistration } = inWorker;
  assert.deepEqual({ polyfillLoaded, native: inWorker.native, syncManagerNative, syncEventNative, syncInRegistration },
    { polyfillLoaded: true, native, syncManagerNative: native, syncEventNative: native, syncInRegistration: true },
    `the worker's bundle loads the polyfill${native ? ', which leaves the native API in place' : ' before the app\'s queue looks for registration.sync'}`);
}
