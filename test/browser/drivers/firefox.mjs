// Firefox ESR through puppeteer-core over WebDriver BiDi. Offline is real: the namespace link goes down
// (page.setOfflineMode would affect the page only, not the worker).
import puppeteer from 'puppeteer-core';
import { setLinkOnline } from '../netns.mjs';
import { withTimeout } from '../util.mjs';
import { wrapPage } from './page.mjs';

export async function launchFirefox(mode) {
  // puppeteer makes a fresh temporary profile and removes it on close.
  const browser = await withTimeout(
    puppeteer.launch({
      browser: 'firefox',
      executablePath: '/usr/bin/firefox-esr',
      headless: true,
      timeout: 30000,
      protocolTimeout: 30000,
      extraPrefsFirefox: { 'network.manage-offline-status': true },
    }),
    40000,
    'launch firefox',
  );
  const driver = {
    mode,
    engine: 'firefox',
    nativeSync: false,
    swMode: 'firefox',
    version: `Firefox ${(await browser.version()).replace(/^firefox\//i, '')}`,

    async newPage() {
      return wrapPage(await withTimeout(browser.newPage(), 15000, 'new firefox page'), mode);
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
  return driver;
}
