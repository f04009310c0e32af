// WebKitGTK's MiniBrowser through WebKitWebDriver and selenium-webdriver (docs/testing.md), on a private
// Xvfb display. Xvfb picks a free display itself (-displayfd). Offline is real: the network namespace's link.
// Every process started here is killed by its pid in close().
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { Builder } from 'selenium-webdriver';
import { setLinkOnline } from '../../test/browser/netns.mjs';
import { withTimeout, sleep } from '../../test/browser/util.mjs';
import { EVALUATE_TIMEOUT, NAVIGATION_TIMEOUT } from '../../test/browser/drivers/page.mjs';

const MINIBROWSER = '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Starts Xvfb on a display of its own choosing; resolves with { process, display }. */
function startXvfb() {
  return new Promise((resolve, reject) => {
    const xvfb = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'], {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      xvfb.kill('SIGKILL');
      reject(new Error(`Xvfb did not start: ${err.slice(-300)}`));
    }, 15000);
    xvfb.stderr.on('data', (chunk) => (err += chunk));
    xvfb.stdio[3].on('data', (chunk) => {
      out += chunk;
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve({ process: xvfb, display: `:${out.trim()}` });
      }
    });
    xvfb.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Xvfb exited with ${code}: ${err.slice(-300)}`));
    });
  });
}

const kill = (child) => {
  if (child && child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
};

export async function launchWebKit() {
  const started = [];
  let session;
  const cleanup = async () => {
    if (session) await withTimeout(session.quit(), 15000, 'quit webkit').catch(() => {});
    for (const child of started.reverse()) kill(child);
  };
  try {
    const xvfb = await startXvfb();
    started.push(xvfb.process);
    const port = await freePort();
    const env = { ...process.env, DISPLAY: xvfb.display };
    const webdriver = spawn('WebKitWebDriver', [`--port=${port}`], { stdio: 'ignore', env });
    started.push(webdriver);
    // Wait for the driver to listen.
    const deadline = Date.now() + 15000;
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${port}/status`).then((r) => r.ok, () => false);
      if (ok) break;
      if (Date.now() > deadline) throw new Error('WebKitWebDriver did not start');
      await sleep(100);
    }
    session = await withTimeout(
      new Builder()
        .usingServer(`http://127.0.0.1:${port}`)
        .withCapabilities({
          browserName: 'MiniBrowser',
          'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] },
        })
        .build(),
      40000,
      'launch webkit',
    );
    await session.manage().setTimeouts({ script: 300000, pageLoad: NAVIGATION_TIMEOUT });
    const capabilities = await session.getCapabilities();
    const version = `WebKitGTK ${capabilities.get('browserVersion')}`;
    let pageOpen = false;
    return {
      engine: 'webkit',
      version,
      /** WebDriver drives one window: one page at a time. */
      async newPage() {
        if (pageOpen) throw new Error('the WebKit driver has one page at a time');
        pageOpen = true;
        return {
          raw: session,
          goto: (url) => withTimeout(session.get(url), NAVIGATION_TIMEOUT + 2000, `webkit: goto ${url}`),
          evaluate: (fn, arg, timeout = EVALUATE_TIMEOUT) =>
            withTimeout(
              session.executeScript(`return (${fn.toString()})(arguments[0]);`, arg === undefined ? null : arg),
              timeout,
              `webkit: evaluate ${fn.name || 'function'}`,
            ),
          close: async () => {
            pageOpen = false;
            await withTimeout(session.get('about:blank'), 10000, 'webkit: blank').catch(() => {});
          },
        };
      },
      async setOnline(online) {
        setLinkOnline(online);
      },
      close: cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
