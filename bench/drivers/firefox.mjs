// Firefox ESR through puppeteer-core (WebDriver BiDi). Offline is real: the network namespace's link goes down.
// Timer precision is not reduced, so sub-millisecond latencies are measurable.
import puppeteer from 'puppeteer-core';
import { setLinkOnline } from '../../test/browser/netns.mjs';
import { withTimeout } from '../../test/browser/util.mjs';
import { wrapPage } from '../../test/browser/drivers/page.mjs';

export async function launchFirefox() {
  const browser = await withTimeout(
    puppeteer.launch({
      browser: 'firefox',
      executablePath: '/usr/bin/firefox-esr',
      headless: true,
      timeout: 30000,
      protocolTimeout: 120000,
      extraPrefsFirefox: { 'network.manage-offline-status': true, 'privacy.reduceTimerPrecision': false },
    }),
    40000,
    'launch firefox',
  );
  let version;
  try {
    version = `Firefox ${(await withTimeout(browser.version(), 10000, 'firefox version')).replace(/^firefox\//i, '')}`;
  } catch (error) {
    browser.process()?.kill('SIGKILL');
    throw error;
  }
  return {
    engine: 'firefox',
    version,
    async newPage() {
      return wrapPage(await withTimeout(browser.newPage(), 15000, 'new firefox page'), 'firefox');
    },
    async setOnline(online) {
      setLinkOnline(online);
    },
    async close() {
      try {
        await withTimeout(browser.close(), 15000, 'close firefox');
      } catch {
        browser.process()?.kill('SIGKILL');
      }
    },
  };
}
