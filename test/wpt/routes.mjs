// The routes of the WPT suite (test/wpt/run.mjs), added to the kit's sync test server (test-routes.mjs, which serves
// the built polyfill at /dist/ and the kit's fixtures at /fixtures/). The harness and the IDL come from npm packages
// in node_modules, at the URLs web-platform-tests' own files expect:
//
//   GET /resources/testharness.js       wpt-runner's copy of WPT's testharness.js
//   GET /resources/idlharness.js        wpt-runner's copy of WPT's idlharness.js
//   GET /resources/WebIDLParser.js      wpt-runner's copy of webidl2.js, the parser idlharness.js uses
//   GET /resources/testharnessreport.js ours (testharnessreport.js): keeps every subtest result for the runner
//   GET /interfaces/<name>.idl          @webref/idl's <name>.idl (the spec's IDL as webref extracts it)
//   GET /wpt/<test>.html                a test page (PAGES), ?sw=<the kit's swMode> (native | deleted | firefox | webkit)
//   GET /wpt/<file>.js                  this folder's scripts; the workers with Service-Worker-Allowed: /
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inside, sendBody, sendFile } from '../kit/server.mjs';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const require = createRequire(import.meta.url);
export const HARNESS_DIR = join(dirname(require.resolve('wpt-runner/package.json')), 'testharness');
export const IDL_DIR = dirname(require.resolve('@webref/idl/package.json'));

const RESOURCES = {
  'testharness.js': join(HARNESS_DIR, 'testharness.js'),
  'idlharness.js': join(HARNESS_DIR, 'idlharness.js'),
  'WebIDLParser.js': join(HARNESS_DIR, 'webidl2', 'lib', 'webidl2.js'),
  'testharnessreport.js': join(HERE, 'testharnessreport.js'),
};

const HARNESS = ['/resources/testharness.js', '/resources/testharnessreport.js'];
const IDLHARNESS = [...HARNESS, '/resources/WebIDLParser.js', '/resources/idlharness.js'];
const POLYFILL = '/dist/background-sync-polyfill.js';

/** The test pages: their title and scripts, in order. */
export const PAGES = {
  // idlharness in a page that loaded the polyfill's classic script.
  window: { title: 'Background Sync IDL in a window', scripts: [POLYFILL, ...IDLHARNESS, '/wpt/common.js', '/wpt/idlharness.window.js'] },
  // idlharness in a service worker that loaded the polyfill with importScripts(); the page only collects its results.
  worker: { title: 'Background Sync IDL in a service worker', scripts: [...HARNESS, '/wpt/common.js', '/wpt/idlharness.serviceworker.page.js'] },
  // idlharness over the Periodic Background Sync IDL, in a page and in a service worker, as the two tests above.
  'periodic-window': { title: 'Periodic Background Sync IDL in a window', scripts: [POLYFILL, ...IDLHARNESS, '/wpt/common.js', '/wpt/periodic.window.js'] },
  'periodic-worker': { title: 'Periodic Background Sync IDL in a service worker', scripts: [...HARNESS, '/wpt/common.js', '/wpt/periodic.serviceworker.page.js'] },
  // registration.sync of an iframe used after the iframe is gone.
  iframe: { title: 'Background Sync from a detached iframe', scripts: [POLYFILL, ...HARNESS, '/wpt/common.js', '/wpt/detached-iframe.js'] },
  // The iframe of the test above: the polyfill in a realm of its own.
  frame: { title: 'the iframe of the detached-iframe test', scripts: [POLYFILL] },
};

/** The workers, served with Service-Worker-Allowed: / so that each test registers at a scope of its own. */
const WORKERS = new Set(['idlharness.serviceworker.js', 'periodic.serviceworker.js', 'sw-plain.js']);

/** A test page: long timeout for testharness (60 s instead of 10 s: WebKit under Xvfb parses html.idl slowly). */
const testPage = ({ title, scripts }) =>
  `<!doctype html>\n<meta charset="utf-8">\n<meta name="timeout" content="long">\n<title>${title}</title>\n${scripts.map((src) => `<script src="${src}"></script>\n`).join('')}<p>Driven by test/wpt/run.mjs.</p>\n`;

/** Adds the suite's routes to the kit's sync test server. */
export function addWptRoutes(server) {
  server.addRoute(async (req, res, url) => {
    if (req.method !== 'GET') return false;
    const path = url.pathname;
    let match;
    if ((match = /^\/resources\/([\w.]+)$/.exec(path)) && RESOURCES[match[1]]) {
      await sendFile(res, RESOURCES[match[1]]);
      return true;
    }
    if ((match = /^\/interfaces\/([\w-]+)\.idl$/.exec(path))) {
      await sendFile(res, inside(IDL_DIR, `${match[1]}.idl`), { 'Content-Type': 'text/plain; charset=utf-8' });
      return true;
    }
    if ((match = /^\/wpt\/([\w-]+)\.html$/.exec(path)) && PAGES[match[1]]) {
      sendBody(res, 200, testPage(PAGES[match[1]]), 'text/html');
      return true;
    }
    if ((match = /^\/wpt\/([\w.-]+\.js)$/.exec(path))) {
      await sendFile(res, inside(HERE, match[1]), WORKERS.has(match[1]) ? { 'Service-Worker-Allowed': '/' } : {});
      return true;
    }
    return false;
  });
}
