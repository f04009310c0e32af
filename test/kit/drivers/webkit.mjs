// WebKitGTK (Safari's engine) on the polyfill path: MiniBrowser driven by WebKitWebDriver through
// selenium-webdriver, on an Xvfb display of its own started inside the run's network namespace.
// Offline is real: the namespace link goes down (docs/testing.md: online/offline arrive 3-5 s later).
//
// MiniBrowser in automation mode (--automation, which WebDriver needs) always uses an ephemeral website data
// manager (Tools/MiniBrowser/gtk/main.c: `if (privateMode || automationMode) ..._new_ephemeral()`), so nothing
// survives a restart there. For the browser-restart scenario, launchPersistent() starts MiniBrowser without
// automation on a profile of its own (XDG_DATA_HOME, where MiniBrowser keeps service workers and IndexedDB), opens
// the test page from the command line, and drives it through the test server (page.js ?rc=<id>); the page quits the
// browser cleanly with window.close() (allowed for a window with one history entry; MiniBrowser exits with its
// last window).
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { Builder } from 'selenium-webdriver';
import { setOnlineByLink } from '../netns.mjs';
import { killTree } from '../processes.mjs';
import { sleep, waitFor, withTimeout } from '../util.mjs';
import { EVALUATE_TIMEOUT, NAVIGATION_TIMEOUT } from './page.mjs';

export const MINIBROWSER = '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
const DRIVER = 'WebKitWebDriver';

/** Starts Xvfb on a free display (it picks one and writes it to fd 3). */
async function startXvfb() {
  const xvfb = spawn('Xvfb', ['-displayfd', '3', '-nolisten', 'tcp', '-screen', '0', '1280x1024x24'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  xvfb.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-2000);
  });
  try {
    const display = await withTimeout(
      new Promise((resolve, reject) => {
        let out = '';
        xvfb.stdio[3].on('data', (chunk) => {
          out += chunk;
          if (out.includes('\n')) resolve(`:${out.trim()}`);
        });
        xvfb.once('exit', (code) => reject(new Error(`Xvfb exited (${code}): ${stderr.trim()}`)));
        xvfb.once('error', reject);
      }),
      15000,
      'Xvfb display',
    );
    return { display, pid: xvfb.pid, process: xvfb };
  } catch (error) {
    killTree(xvfb.pid);
    throw error;
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** The in-page half of evaluate(): runs the function's source with its argument and reports how it settled. */
const EVALUATE_SCRIPT = `
  const done = arguments[arguments.length - 1];
  const [source, hasArg, arg] = arguments;
  Promise.resolve()
    .then(() => (0, eval)('(' + source + ')')(...(hasArg ? [arg] : [])))
    .then(
      (value) => done({ ok: true, value: value === undefined ? null : value }),
      (error) => done({ ok: false, error: String((error && error.stack) || error) }),
    );
`;

/**
 * The same without eval: the function's source is part of the WebDriver script itself, which the page's CSP does
 * not govern, where the eval of EVALUATE_SCRIPT is refused under a CSP without 'unsafe-eval' (test/security sets
 * `driver.evaluateWithoutEval = true`).
 */
const inlineEvaluateScript = (source) => `
  const done = arguments[arguments.length - 1];
  const [hasArg, arg] = arguments;
  Promise.resolve()
    .then(() => (${source})(...(hasArg ? [arg] : [])))
    .then(
      (value) => done({ ok: true, value: value === undefined ? null : value }),
      (error) => done({ ok: false, error: String((error && error.stack) || error) }),
    );
`;

/**
 * `scriptTimeout`: the session's limit for one evaluation (the bench's long ones), EVALUATE_TIMEOUT by default.
 * `oneWindow` (the bench): every page in the session's first window, one at a time, closed by going to about:blank,
 * as the bench has always measured: with a window per page its reconnect never fired on WebKitGTK 2.50.6 (0 of 3,
 * the page's poke never reached the worker) where one window fires 3 of 3.
 */
export async function launchWebKit(mode, { scriptTimeout = EVALUATE_TIMEOUT, oneWindow = false } = {}) {
  const cleanup = [];
  const stopAll = async () => {
    for (const step of cleanup.reverse()) await step().catch(() => {});
    cleanup.length = 0;
  };
  try {
    const xvfb = await startXvfb();
    // SIGTERM first: Xvfb then removes its lock file and socket.
    cleanup.push(async () => {
      killTree(xvfb.pid, 'SIGTERM');
      const gone = await Promise.race([new Promise((resolve) => xvfb.process.once('exit', () => resolve(true))), sleep(3000).then(() => false)]);
      if (!gone && xvfb.process.exitCode === null) killTree(xvfb.pid);
    });
    const port = await freePort();
    const driverProcess = spawn(DRIVER, [`--port=${port}`], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, DISPLAY: xvfb.display } });
    let driverLog = '';
    driverProcess.stderr.on('data', (chunk) => {
      driverLog = (driverLog + chunk).slice(-4000);
    });
    // Killing the driver's process tree also kills a MiniBrowser the session left behind.
    cleanup.push(async () => killTree(driverProcess.pid));
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/status`, { signal: AbortSignal.timeout(2000) })).ok, {
      timeout: 15000,
      interval: 100,
      label: `WebKitWebDriver on port ${port}`,
    });
    const session = await withTimeout(
      new Builder()
        .usingServer(`http://127.0.0.1:${port}`)
        .withCapabilities({ browserName: 'MiniBrowser', 'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] } })
        .build(),
      40000,
      'WebKitWebDriver new session',
    );
    cleanup.push(async () => withTimeout(session.quit(), 10000, 'quit WebKit session'));
    await withTimeout(session.manage().setTimeouts({ script: scriptTimeout, pageLoad: NAVIGATION_TIMEOUT, implicit: 0 }), 10000, 'setTimeouts');
    const capabilities = await withTimeout(session.getCapabilities(), 10000, 'capabilities');
    const home = await withTimeout(session.getWindowHandle(), 10000, 'window handle');

    // One WebDriver session, many windows: every command switches to its window first, so commands run one at a time.
    let chain = Promise.resolve();
    let current = home;
    let pageOpen = false;
    const exclusive = (label, timeout, work) => {
      const run = chain.then(() => withTimeout(work, timeout, `webkit: ${label}`));
      chain = run.catch(() => {});
      return run;
    };
    const switchTo = async (handle) => {
      if (current !== handle) {
        await session.switchTo().window(handle);
        current = handle;
      }
    };

    const driver = {
      mode,
      engine: 'webkit',
      nativeSync: false,
      swMode: 'webkit',
      version: `WebKitGTK ${capabilities.get('browserVersion')}`,
      display: xvfb.display,

      /** A page in a window of its own: every test window stays visible, as headless pages are elsewhere. */
      async newPage() {
        if (oneWindow && pageOpen) throw new Error('this WebKit driver has one page at a time (oneWindow)');
        pageOpen = true;
        const handle = oneWindow
          ? home
          : await exclusive('new window', 15000, async () => {
            await session.switchTo().newWindow('window');
            current = await session.getWindowHandle();
            return current;
          });
        let closed = false;
        return {
          raw: handle,
          goto: (url) =>
            exclusive(`goto ${url}`, NAVIGATION_TIMEOUT + 2000, async () => {
              await switchTo(handle);
              await session.get(url);
            }),
          evaluate: (fn, arg, timeout = EVALUATE_TIMEOUT) =>
            exclusive(`evaluate ${fn.name || 'function'}`, timeout + 2000, async () => {
              await switchTo(handle);
              const result = driver.evaluateWithoutEval
                ? await session.executeAsyncScript(inlineEvaluateScript(fn.toString()), arg !== undefined, arg === undefined ? null : arg)
                : await session.executeAsyncScript(EVALUATE_SCRIPT, fn.toString(), arg !== undefined, arg === undefined ? null : arg);
              if (!result || result.ok !== true) throw new Error(`evaluate failed in the page: ${result ? result.error : 'no result'}`);
              return result.value;
            }),
          close: () =>
            closed
              ? Promise.resolve()
              : exclusive('close window', 10000, async () => {
                closed = true;
                pageOpen = false;
                await switchTo(handle);
                if (oneWindow) return session.get('about:blank');
                await session.close();
                current = null;
                await switchTo(home);
              }).catch(() => {}),
        };
      },

      setOnline: setOnlineByLink,

      /** MiniBrowser on a persistent profile, without WebDriver (see the top of this file). */
      launchPersistent: (dir, { server }) => openPersistentMiniBrowser(mode, dir, { server, display: xvfb.display, version: driver.version }),

      async close() {
        await chain.catch(() => {});
        await stopAll();
        return { clean: true };
      },
      driverLog: () => driverLog,
    };
    return driver;
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/**
 * Quits a browser process the way a user does (`askToQuit`, e.g. window.close() in its page) and says whether it
 * went cleanly: `{ clean: true }` only for an exit with status 0 after it was asked. A process that had already
 * gone before it was asked is judged by how it went (a crash, a kill, a non-zero status are not clean, whatever
 * happens next); one that does not exit within `waitMs` is killed and is not clean. `exited` resolves with the
 * process's `{ code, signal }`.
 */
export async function quitChild(child, exited, askToQuit, { waitMs = 15000 } = {}) {
  if (child.exitCode !== null || child.signalCode !== null) {
    const { exitCode: code, signalCode: signal } = child;
    return code === 0 ? { clean: true, detail: 'had already exited with status 0' } : { clean: false, detail: `had already exited before it was asked to quit (${signal ?? `exit ${code}`})` };
  }
  await Promise.resolve().then(askToQuit).catch(() => {});
  const result = await Promise.race([exited, sleep(waitMs).then(() => null)]);
  if (result && result.code === 0 && !result.signal) return { clean: true };
  if (!result) {
    killTree(child.pid, 'SIGTERM');
    const after = await Promise.race([exited, sleep(3000).then(() => null)]);
    if (!after) killTree(child.pid, 'SIGKILL');
  }
  return { clean: false, detail: result ? `exit ${result.signal ?? result.code}` : 'did not exit after it was asked to quit' };
}

/**
 * MiniBrowser, not automated, on the profile `dir`; one page, opened from the command line and remote-controlled
 * through the test server. close() quits it the way a user closing the last window does.
 */
async function openPersistentMiniBrowser(mode, dir, { server, display, version }) {
  const env = {
    ...process.env,
    DISPLAY: display,
    XDG_DATA_HOME: join(dir, 'data'),
    XDG_CACHE_HOME: join(dir, 'cache'),
    XDG_CONFIG_HOME: join(dir, 'config'),
  };
  await Promise.all(['data', 'cache', 'config'].map((sub) => mkdir(join(dir, sub), { recursive: true })));
  let child = null;
  let exited = null;
  let stderr = '';
  let pageOpened = false;
  const remote = server.remote(`${mode}-${Math.random().toString(36).slice(2, 10)}`);
  const withRc = (url) => {
    const u = new URL(url);
    u.searchParams.set('rc', remote.id);
    return u.href;
  };

  const browser = {
    mode,
    engine: 'webkit',
    nativeSync: false,
    swMode: 'webkit',
    version,
    profile: dir,

    async newPage() {
      if (pageOpened) throw new Error('the persistent MiniBrowser is driven through one page only');
      pageOpened = true;
      return {
        raw: null,
        async goto(url) {
          if (!child) {
            child = spawn(MINIBROWSER, [withRc(url)], { stdio: ['ignore', 'ignore', 'pipe'], env });
            child.stderr.on('data', (chunk) => {
              stderr = (stderr + chunk).slice(-4000);
            });
            exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
            await Promise.race([
              remote.waitForHello(1, 30000),
              exited.then(({ code, signal }) => {
                throw new Error(`MiniBrowser exited (${code ?? signal}) before the page loaded: ${stderr.trim().slice(-500)}`);
              }),
            ]);
          } else {
            const seen = remote.hellos;
            remote.evaluate((target) => setTimeout(() => location.assign(target), 0), withRc(url), 5000).catch(() => {});
            await remote.waitForHello(seen + 1, NAVIGATION_TIMEOUT);
          }
        },
        evaluate: (fn, arg, timeout = EVALUATE_TIMEOUT) => remote.evaluate(fn, arg, timeout),
        close: async () => {},
      };
    },

    setOnline: setOnlineByLink,

    /** The MiniBrowser process (test/faults). */
    browserPid: () => child?.pid ?? null,

    /** SIGKILLs MiniBrowser and its web and network processes (test/faults: a crash); returns the pids it killed. */
    kill() {
      return { root: child.pid, pids: killTree(child.pid, 'SIGKILL') };
    },

    /** Quits through window.close() in the page; `clean` is false if it had to be killed, or had crashed (quitChild). */
    close() {
      if (!child) return Promise.resolve({ clean: true, detail: 'never started' });
      return quitChild(child, exited, () => remote.evaluate(() => {
        setTimeout(() => window.close(), 100);
        return true;
      }, undefined, 5000));
    },
  };
  return browser;
}
