// The launchers of the four modes the browser suites run in: launch(mode) resolves with a driver (see README.md).
import { launchChromium } from './chromium.mjs';
import { launchFirefox } from './firefox.mjs';
import { launchWebKit } from './webkit.mjs';

export { launchChromium, launchFirefox, launchWebKit };

export const launchers = { 'chromium-native': launchChromium, 'chromium-deleted': launchChromium, firefox: launchFirefox, webkit: launchWebKit };
