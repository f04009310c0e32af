// A WebKitGTK IndexedDB hang the benchmark ran into, reproduced without the polyfill:
//   node bench/webkit-idb-wedge.mjs            (re-executes itself in a private network namespace)
// Page A keeps readwrite transactions going on a store and navigates away mid-stream. Page B (same origin, same
// database, later) then opens it fine, but a readonly count() on that store never completes. With readonly
// transactions in flight instead (--readonly), page B is answered at once. Seen with WebKitGTK 2.50.6 (MiniBrowser
// --automation, ephemeral data store) on 2026-11-24. The polyfill's pages and worker write with readwrite
// transactions, so a tab closed mid-write can leave every later register()/getTags() of the origin pending.
import { ensureNetns } from '../test/kit/netns.mjs';

ensureNetns(3 * 60 * 1000);
const { setupLinks } = await import('../test/kit/netns.mjs');
const { startServer } = await import('./routes.mjs');
const { launchWebKit } = await import('../test/kit/drivers/webkit.mjs');

const mode = process.argv.includes('--readonly') ? 'readonly' : 'readwrite';
setupLinks();
const server = await startServer();
let driver;
let exitCode = 1;
try {
  driver = await launchWebKit('webkit', { scriptTimeout: 300000, oneWindow: true });
  console.log(driver.version);
  const page = await driver.newPage();
  await page.goto(`${server.origin}/load/empty.html`);
  const started = await page.evaluate((txMode) => new Promise((resolve) => {
    const open = indexedDB.open('wedge-test', 1);
    open.onupgradeneeded = () => open.result.createObjectStore('s');
    open.onsuccess = () => {
      const db = open.result;
      let done = 0;
      const loop = () => {
        const tx = db.transaction('s', txMode);
        if (txMode === 'readwrite') tx.objectStore('s').put({ done }, `k${done % 50}`);
        else tx.objectStore('s').getAll();
        tx.oncomplete = () => {
          done++;
          loop();
        };
      };
      const seed = db.transaction('s', 'readwrite');
      for (let i = 0; i < 500; i++) seed.objectStore('s').put({ i, pad: 'x'.repeat(200) }, `k${i}`);
      seed.oncomplete = () => {
        for (let i = 0; i < 4; i++) loop();
        setTimeout(() => resolve(done), 300);
      };
    };
  }), mode);
  console.log(`page A: ${started} ${mode} transactions completed, 4 in flight; navigating away`);
  await page.goto('about:blank');
  await page.goto(`${server.origin}/load/empty.html`);
  const outcome = await page.evaluate(() => new Promise((resolve) => {
    const open = indexedDB.open('wedge-test', 1);
    open.onblocked = () => resolve('open blocked');
    open.onsuccess = () => {
      const t0 = performance.now();
      const count = open.result.transaction('s', 'readonly').objectStore('s').count();
      count.onsuccess = () => resolve(`ok: count ${count.result} after ${(performance.now() - t0).toFixed(1)} ms`);
      setTimeout(() => resolve('HANG: a readonly count() did not complete in 8 s'), 8000);
    };
    setTimeout(() => resolve('HANG: open did not complete in 10 s'), 10000);
  }), undefined, 15000);
  console.log(`page B: ${outcome}`);
  exitCode = outcome.startsWith('ok') ? 0 : 2;
} catch (error) {
  console.log(`error: ${error.message}`);
} finally {
  await driver?.close();
  await server.close();
}
process.exit(exitCode);
