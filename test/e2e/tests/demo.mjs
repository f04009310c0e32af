// The outbox demo (examples/outbox/, what `npm start` serves), end to end: offline, the page still opens
// (the worker's cached shell), three messages are sent and wait in the outbox with their tags in getTags();
// back online, the sync events deliver them and the demo server holds exactly those three. The screenshot
// taken then must show them sent.
import assert from 'node:assert/strict';
import { writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDemoServer } from '../../../examples/serve.mjs';
import { sleep, waitFor } from '../../kit/util.mjs';
import { checkScreenshot, colourShare, countColour, hexToRgb } from '../png.mjs';
import { assertNoUnexpectedErrors } from '../routes.mjs';

export const COMMITTED_SCREENSHOT = fileURLToPath(new URL('../../../examples/outbox/screenshot.png', import.meta.url));
/** The badge colours of examples/outbox/style.css. */
export const COLOURS = { sent: '#1a7f37', queued: '#9a6700', sending: '#0969da', failed: '#cf222e' };
const VIEWPORT = { width: 960, height: 640 };

export const demo = {
  name: 'demo',
  cases: [
    { browser: 'chromium-native', label: 'chromium-native', query: '', expect: 'native' },
    { browser: 'chromium-native', label: 'chromium-forced', query: '?force', expect: 'polyfill' },
    { browser: 'firefox', label: 'firefox', query: '', expect: 'polyfill', committedScreenshot: true },
  ],

  async run(ctx, variant) {
    const server = await startDemoServer({ port: 0 });
    try {
      await runDemo(ctx, variant, server);
    } finally {
      await server.close();
    }
  },
};

async function runDemo(ctx, variant, server) {
  const url = `${server.origin}/${variant.query}`;
  const page = await ctx.newPage();
  await setViewport(page, VIEWPORT);
  await page.goto(url);
  await waitReady(page);
  const engines = await page.evaluate(() => ({ ...document.body.dataset, page: document.getElementById('engine-page').textContent }));
  assert.equal(engines.engine, variant.expect, `the page should use the ${variant.expect} API (${engines.page})`);
  assert.equal(engines.worker, variant.expect, `the worker should use the ${variant.expect} API`);
  if (variant.query.includes('force')) assert.match(engines.page, /forced/, 'the page should say that the polyfill is forced');
  ctx.note(engines.page);
  // The periodic refresh at the demo's own interval (the refresh test runs it at 2 s): every 15 s with the polyfill,
  // and in native Chromium too, which refuses it to a site that is not an installed app: the polyfill takes it over
  // (docs/semantics.md §8), and the demo says so.
  const refresh = await refreshStatus(page);
  assert.match(refresh.text, /every 15 s/, `the demo refreshes every 15 s with the polyfill (${refresh.state})`);
  if (variant.expect === 'native') assert.match(refresh.engine, /taken over/, `native Chromium's refusal is taken over: ${refresh.engine}`);

  // Offline: the browser and the server both. The page must still open, from the worker's cache.
  server.setReachable(false);
  await ctx.setOnline(false, page);
  await page.goto(url);
  await waitReady(page);
  assert.equal(await page.evaluate(() => document.getElementById('network').textContent), 'offline', 'the page should show that it is offline');
  assert.equal(await page.evaluate(() => document.body.dataset.engine), variant.expect, 'after the offline reload');

  const texts = ['Hello from the train', 'Tunnel ahead, sending anyway', 'Back online soon'];
  for (const [i, text] of texts.entries()) {
    await withPage(page, (raw) => raw.type('#text', text), 'type a message');
    await withPage(page, (raw) => raw.click('#send'), 'click Send');
    await waitFor(async () => {
      const rows = await readRows(page);
      return rows.length === i + 1 && rows.every((row) => row.label !== 'registering…');
    }, { timeout: 15000, label: `message ${i + 1} in the outbox` });
  }
  const queued = await readRows(page);
  assert.deepEqual(queued.map((row) => row.text), texts, 'the outbox should list the three messages in order');
  for (const row of queued) assert.equal(row.state, 'queued', `"${row.text}" should wait for the network, got ${row.state} (${row.label})`);
  const tags = await getTags(page);
  assert.deepEqual([...tags].sort(), queued.map((row) => row.tag).sort(), 'getTags() should hold one tag per message');
  assert.deepEqual(await renderedTags(page), tags, 'the page should show what getTags() returns');
  await sleep(2000);
  assert.equal(server.received.length, 0, 'nothing may reach the server while offline');
  assert.ok((await readRows(page)).every((row) => row.state === 'queued'), 'nothing may be sent while offline');
  // The server drops every connection while unreachable and a failed send puts its row back to `queued`, so the
  // two lines above hold even if the worker tried to send offline. The worker counts its own attempts per
  // message (`attempts`, written before each fetch) and keeps the last failure (`error`): both must be unset.
  assert.deepEqual(await sendAttempts(page), texts.map((text) => ({ text, attempts: 0, error: null })), 'the worker may not try to send while offline');

  // Back online: the syncs fire and the worker delivers.
  server.setReachable(true);
  const online = Date.now();
  await ctx.setOnline(true, page);
  await waitFor(async () => {
    const rows = await readRows(page);
    return server.received.length >= texts.length && rows.length === texts.length && rows.every((row) => row.state === 'sent');
  }, { timeout: 40000, interval: 250, label: 'all three messages sent and received' });
  ctx.note(`delivered ${Math.max(...server.received.map((m) => m.receivedAt)) - online} ms after coming online`);
  await sleep(1500);
  assert.deepEqual(server.received.map((m) => m.text).sort(), [...texts].sort(), 'the server should hold exactly the three messages, each once');
  assert.deepEqual(server.received.map((m) => m.id).sort(), queued.map((row) => row.id).sort(), 'the messages the server got are the outbox\'s');
  assert.deepEqual(await sendAttempts(page), texts.map((text) => ({ text, attempts: 1, error: null })), 'each message sent by one attempt of the worker, none failed');
  assert.deepEqual(await getTags(page), [], 'getTags() should be empty once all are sent');
  assert.deepEqual(await renderedTags(page), [], 'the page should show no pending tag');

  await screenshot(ctx, variant, page, texts);

  // No error anywhere: none shown by the demo, none uncaught in the page or its worker.
  assert.equal(await page.evaluate(() => document.getElementById('error').textContent), '', 'the demo should show no error');
  assertNoUnexpectedErrors({ page: ctx.pageErrors, worker: await workerErrors(page) });
}

/** The demo worker's uncaught errors and unhandled rejections, as it kept them. */
export const workerErrors = (page) =>
  page.evaluate(async () => {
    const registration = await navigator.serviceWorker.ready;
    return new Promise((resolve, reject) => {
      const channel = new MessageChannel();
      const timer = setTimeout(() => reject(new Error('the demo worker did not answer in 5 s')), 5000);
      channel.port1.onmessage = ({ data }) => {
        clearTimeout(timer);
        resolve(data.errors);
      };
      registration.active.postMessage({ outbox: 'hello' }, [channel.port2]);
    });
  });

/** Takes the screenshot with the DOM known to show the three messages sent, and checks its pixels. */
async function screenshot(ctx, variant, page, texts) {
  await page.evaluate(() => outboxDemo.refresh());
  const before = await layout(page);
  const png = Buffer.from(await withPage(page, (raw) => raw.screenshot({ type: 'png' }), 'screenshot'));
  const after = await layout(page);
  assert.deepEqual(after, before, 'the page changed while the screenshot was taken');
  assert.deepEqual(before.rows.map((row) => row.state), texts.map(() => 'sent'), 'the DOM at the screenshot should show three sent messages');
  const file = join(ctx.outputDir, `demo-${variant.label}.png`);
  writeFileSync(file, png);
  const image = checkScreenshot(png);
  const scale = before.dpr;
  assert.equal(image.width, Math.round(before.viewport.width * scale), `screenshot width vs the viewport (${file})`);
  assert.equal(image.height, Math.round(before.viewport.height * scale), `screenshot height vs the viewport (${file})`);
  for (const row of before.rows) {
    const rect = { x: row.badge.x * scale, y: row.badge.y * scale, width: row.badge.width * scale, height: row.badge.height * scale };
    const share = colourShare(image, rect, hexToRgb(COLOURS.sent));
    assert.ok(share >= 0.4, `the badge of "${row.text}" should be painted in the sent colour, ${(share * 100).toFixed(0)}% is (${file})`);
  }
  for (const state of ['queued', 'sending', 'failed']) {
    const pixels = countColour(image, hexToRgb(COLOURS[state]));
    assert.ok(pixels < 40, `no ${state} badge may show, found ${pixels} pixels of its colour (${file})`);
  }
  ctx.note(`screenshot ${image.width}×${image.height} ${file}`);
  if (variant.committedScreenshot && ctx.updateScreenshot) {
    copyFileSync(file, COMMITTED_SCREENSHOT);
    ctx.note(`updated ${COMMITTED_SCREENSHOT}`);
  }
}

async function setViewport(page, size) {
  if (typeof page.raw.setViewportSize === 'function') await page.raw.setViewportSize(size); // playwright
  else await page.raw.setViewport(size); // puppeteer
}

function withPage(page, fn, label) {
  return Promise.race([
    fn(page.raw),
    sleep(20000).then(() => {
      throw new Error(`timed out after 20000 ms: ${label}`);
    }),
  ]);
}

/** The periodic refresh's registration, once the page registered it or was refused: {state, text, engine}. */
export async function refreshStatus(page) {
  await waitFor(() => page.evaluate(() => document.getElementById('refresh-status').dataset.state !== 'pending'), { timeout: 15000, label: 'the periodic sync registered or refused' });
  return page.evaluate(() => ({
    state: document.getElementById('refresh-status').dataset.state,
    text: document.getElementById('refresh-status').textContent,
    engine: document.getElementById('refresh-engine').textContent,
  }));
}

export async function waitReady(page) {
  const ready = await waitFor(() => page.evaluate(() => document.body && document.body.dataset.ready), { timeout: 30000, label: 'the demo page ready' });
  if (ready !== 'true') throw new Error(`the demo page failed: ${await page.evaluate(() => document.getElementById('error').textContent)}`);
}

function readRows(page) {
  return page.evaluate(async () => {
    await outboxDemo.refresh();
    return [...document.querySelectorAll('#messages li')].map((li) => ({
      id: li.dataset.id,
      state: li.dataset.state,
      label: li.querySelector('.badge').textContent,
      text: li.querySelector('.text').textContent,
      tag: li.querySelector('.tag').textContent,
    }));
  });
}

/** The demo worker's own count of send attempts per message, and the last failure's text, from its IndexedDB. */
const sendAttempts = (page) =>
  page.evaluate(async () => (await OutboxDB.all()).map((m) => ({ text: m.text, attempts: m.attempts || 0, error: m.error || null })));

const getTags = (page) => page.evaluate(async () => (await navigator.serviceWorker.ready).sync.getTags());
const renderedTags = (page) =>
  page.evaluate(async () => {
    await outboxDemo.refresh();
    return [...document.querySelectorAll('#tags li')].map((li) => li.textContent);
  });

function layout(page) {
  return page.evaluate(() => ({
    dpr: devicePixelRatio,
    viewport: { width: innerWidth, height: innerHeight },
    rows: [...document.querySelectorAll('#messages li')].map((li) => {
      const r = li.querySelector('.badge').getBoundingClientRect();
      return { id: li.dataset.id, state: li.dataset.state, text: li.querySelector('.text').textContent, badge: { x: r.x, y: r.y, width: r.width, height: r.height } };
    }),
    tags: [...document.querySelectorAll('#tags li')].map((li) => li.textContent),
    server: document.getElementById('server-count').textContent,
  }));
}
