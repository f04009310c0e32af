// The benchmark server: node builtins only, loopback only. Two listeners on one port, 127.0.0.1 and 127.0.0.2, so
// Chromium runs its native API and the polyfill (API deleted) side by side as two sites in one browser.
//
//   GET /dist/*              the built polyfill (.js and .min.js, read once at start)
//   GET /bench/s/<name>/page.html  the benchmark page at a scope of its own; ?script=full loads the unminified
//                            build (readable profiles), ?instrument=1 times IndexedDB transactions (fixtures/instrument.js)
//   GET /bench/*             bench/fixtures/* (page.js, sw.js, instrument.js), no-store
//   GET /fixtures/delete-native.js  test/browser/fixtures/delete-native.js, the worker's first script
//   GET /load/<variant>.html a page that loads /load/<variant>.js and nothing else (load-cost benchmark), no-store;
//   GET /load/cached/*       the same with the script cacheable (max-age), as a CDN serves it
//   GET /load/<variant>.js   empty | polyfill (the .min.js) | unrun (the .min.js wrapped in a function never called) |
//                            detect (docs/semantics.md §6's detection alone) | full (the unminified build, for profiles)
import http from 'node:http';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('.', import.meta.url));
export const FIXTURES_DIR = join(HERE, 'fixtures');
/** The test workers' first script, which removes Chromium's native API in `?mode=deleted` workers. */
const DELETE_NATIVE = join(HERE, '..', 'test', 'browser', 'fixtures', 'delete-native.js');
export const DIST_DIR = join(HERE, '..', 'dist');
export const MIN_SCRIPT = join(DIST_DIR, 'background-sync-polyfill.min.js');
const TYPES = { '.js': 'text/javascript', '.html': 'text/html', '.json': 'application/json' };

/** The scripts of the load-cost benchmark. */
export function loadVariants() {
  const min = readFileSync(MIN_SCRIPT, 'utf8');
  return {
    empty: '',
    polyfill: min,
    // Parsed and compiled like the real script (the inner function is pre-parsed only), but never run: the part of
    // the cost that size alone explains.
    unrun: `(function(){${min}\n});`,
    // Only docs/semantics.md §6's detection, as the polyfill runs it first: what detecting alone costs (Blink creates interface
    // objects such as ServiceWorkerRegistration lazily, on first access).
    detect: "self.__bspDetected='SyncManager'in self&&typeof ServiceWorkerRegistration!=='undefined'&&'sync'in ServiceWorkerRegistration.prototype;",
    // The unminified build, for readable names in a profile of the load.
    full: readFileSync(join(DIST_DIR, 'background-sync-polyfill.js'), 'utf8'),
  };
}

export async function startServer() {
  const variants = loadVariants();
  // The built scripts are read once: a rebuild of dist/ during the run (other work in the tree) cannot change or
  // remove what is measured halfway through.
  const snapshot = new Map();
  for (const name of ['background-sync-polyfill.js', 'background-sync-polyfill.min.js']) snapshot.set(name, readFileSync(join(DIST_DIR, name)));
  const handler = (req, res) => handle(req, res).catch((error) => send(res, 500, error.message));
  async function handle(req, res) {
    const url = new URL(req.url, 'http://x');
    const path = url.pathname;
    if (req.method !== 'GET') return send(res, 405, 'method not allowed');
    if (path.startsWith('/dist/')) {
      const body = snapshot.get(path.slice(6));
      return body ? send(res, 200, body, 'text/javascript') : send(res, 404, `not served: ${path}`);
    }
    if (/^\/bench\/s\/[\w-]+\/page\.html$/.test(path)) return send(res, 200, await benchPage(url.searchParams), 'text/html');
    if (path.startsWith('/bench/')) return sendFile(res, inside(FIXTURES_DIR, path.slice(7)));
    if (path === '/fixtures/delete-native.js') return sendFile(res, DELETE_NATIVE);
    const load = /^\/load\/(cached\/)?(\w+)\.(html|js)$/.exec(path);
    if (load && load[2] in variants) {
      const [, cached = '', variant, ext] = load;
      // /load/cached/* scripts are cacheable as a CDN serves a versioned file, so repeat loads reuse the HTTP cache
      // and V8's code cache; /load/* scripts are no-store, compiled afresh every time.
      if (ext === 'js') return send(res, 200, variants[variant], 'text/javascript', cached ? 'public, max-age=86400' : 'no-store');
      return send(res, 200, `<!doctype html><meta charset="utf-8"><title>${variant}</title><script src="/load/${cached}${variant}.js"></script>`, 'text/html');
    }
    return send(res, 404, `no route for ${path}`);
  }

  const servers = [http.createServer(handler), http.createServer(handler)];
  const listen = (server, port, host) =>
    new Promise((ok, fail) => {
      server.once('error', fail);
      server.listen(port, host, ok);
    });
  await listen(servers[0], 0, '127.0.0.1');
  const port = servers[0].address().port;
  let second;
  try {
    await listen(servers[1], port, '127.0.0.2');
    second = `http://127.0.0.2:${port}`;
  } catch {
    // No 127.0.0.2 here: another port, so another origin (but the same site).
    servers[1] = http.createServer(handler);
    await listen(servers[1], 0, '127.0.0.1');
    second = `http://127.0.0.1:${servers[1].address().port}`;
  }
  return {
    origin: `http://127.0.0.1:${port}`,
    /** sha256 of the .min.js served to the browsers, to match against the size measurement. */
    minSha256: createHash('sha256').update(snapshot.get('background-sync-polyfill.min.js')).digest('hex'),
    /** A second site for Chromium with the API deleted. */
    otherOrigin: second,
    close: () =>
      Promise.all(
        servers.map(
          (server) =>
            new Promise((ok) => {
              server.closeAllConnections?.();
              server.close(() => ok());
            }),
        ),
      ),
  };
}

async function benchPage(params) {
  const html = await readFile(join(FIXTURES_DIR, 'page.html'), 'utf8');
  return html
    .replace('{{POLYFILL}}', params.get('script') === 'full' ? '/dist/background-sync-polyfill.js' : '/dist/background-sync-polyfill.min.js')
    .replace('<!--INSTRUMENT-->', params.get('instrument') === '1' ? '<script src="/bench/instrument.js"></script>' : '');
}

function inside(root, relative) {
  const file = normalize(join(root, decodeURIComponent(relative)));
  if (!file.startsWith(root + sep)) throw new Error('outside the served folder');
  return file;
}

async function sendFile(res, file) {
  let body;
  try {
    body = await readFile(file);
  } catch {
    return send(res, 404, `not found: ${file}`);
  }
  send(res, 200, body, TYPES[extname(file)] ?? 'application/octet-stream');
}

function send(res, status, body, type = 'text/plain', cacheControl = 'no-store') {
  if (res.headersSent) return res.end();
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': cacheControl });
  res.end(body);
}
