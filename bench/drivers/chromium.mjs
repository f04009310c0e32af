// One Chromium (playwright-core, the flags of docs/testing.md) for both Chromium modes of the benchmark:
// pages of `nativeOrigin` keep the native API, pages of `deletedOrigin` lose it before any script runs (the worker
// deletes its own copy: test/browser/fixtures/delete-native.js, first in bench/fixtures/sw.js?mode=deleted).
// Alternating the two in one browser is what makes the polyfill/native ratios comparable on a noisy machine.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { withTimeout, sleep } from '../../test/browser/util.mjs';
import { wrapPage } from '../../test/browser/drivers/page.mjs';
import { CHROMIUM_ARGS, DELETE_NATIVE_API } from '../../test/browser/drivers/chromium.mjs';

const deleteNativeApi = (origin) => `
  if (location.origin === ${JSON.stringify(origin)}) {${DELETE_NATIVE_API}}
`;

/** @param {{deletedOrigin: string, debuggingPort?: boolean}} options */
export async function launchChromium({ deletedOrigin, debuggingPort = false }) {
  const profile = await mkdtemp(join(tmpdir(), 'bsp-bench-chromium-'));
  let context;
  try {
    context = await withTimeout(
      chromium.launchPersistentContext(profile, {
        executablePath: '/usr/bin/chromium',
        headless: true,
        args: [...CHROMIUM_ARGS, ...(debuggingPort ? ['--remote-debugging-port=0'] : [])],
        timeout: 30000,
      }),
      40000,
      'launch chromium',
    );
    await context.addInitScript({ content: deleteNativeApi(deletedOrigin) });
  } catch (error) {
    await rm(profile, { recursive: true, force: true });
    throw error;
  }

  const driver = {
    engine: 'chromium',
    context,
    version: null,
    async newPage() {
      return wrapPage(await withTimeout(context.newPage(), 15000, 'new chromium page'), 'chromium');
    },
    /** Emulated offline, for pages and workers alike. */
    async setOnline(online) {
      await withTimeout(context.setOffline(!online), 10000, `setOffline(${!online})`);
    },
    cdp: (page) => withTimeout(context.newCDPSession(page.raw), 10000, 'CDP session'),
    /** The browser-wide DevTools WebSocket (with debuggingPort), for tools that attach to worker targets. */
    async browserWSEndpoint() {
      for (let i = 0; i < 50; i++) {
        const text = await readFile(join(profile, 'DevToolsActivePort'), 'utf8').catch(() => '');
        const [port, path] = text.trim().split('\n');
        if (port && path) return `ws://127.0.0.1:${port}${path}`;
        await sleep(100);
      }
      throw new Error('Chromium did not write DevToolsActivePort (launch with debuggingPort: true)');
    },
    async close() {
      try {
        await withTimeout(context.close(), 15000, 'close chromium');
      } catch {
        const pid = context.browser()?.process?.()?.pid;
        if (pid) process.kill(pid, 'SIGKILL');
      } finally {
        await rm(profile, { recursive: true, force: true }).catch(() => {});
      }
    },
  };
  try {
    const page = await driver.newPage();
    try {
      const session = await driver.cdp(page);
      const { product } = await withTimeout(session.send('Browser.getVersion'), 10000, 'Browser.getVersion');
      driver.version = product.replace(/^(Headless)?Chrome\//, 'Chromium ');
      await session.detach().catch(() => {});
    } finally {
      await page.close();
    }
  } catch (error) {
    await driver.close();
    throw error;
  }
  return driver;
}
