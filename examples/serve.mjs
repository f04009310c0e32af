// `npm start`: serves the outbox demo (examples/outbox/) and the freshly built polyfill (dist/) on 127.0.0.1,
// with a tiny endpoint that stores the messages the service worker delivers:
//   POST /api/messages  {id, text}  -> 201, stored in memory (and printed)
//   GET  /api/messages              -> every message received so far
//   GET  /api/time                  -> {time, served}: the server's clock and how many times it was asked, fetched by
//                                      the worker's periodic `refresh` (Periodic Background Sync)
// Also a module: the end-to-end test (test/e2e/) starts this very server with startDemoServer().
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const APP_DIR = join(ROOT, 'examples', 'outbox');
const DIST_DIR = join(ROOT, 'dist');
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.png': 'image/png', '.map': 'application/json' };
const MAX_BODY = 16 * 1024;

/**
 * Starts the demo server. Returns { origin, received, timeRequests, setReachable(bool), close() }, where
 * `timeRequests` holds the time of each GET /api/time it answered.
 * `setReachable(false)` makes it drop every connection, as if the network were gone (used by the test).
 */
export async function startDemoServer({ port = 8080, host = '127.0.0.1', log = () => {} } = {}) {
  const received = [];
  const timeRequests = [];
  let reachable = true;
  const sockets = new Set();

  const server = createServer((req, res) => {
    if (!reachable) return req.socket.destroy();
    handle(req, res).catch((error) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(error && error.message));
    });
  });
  server.on('connection', (socket) => {
    if (!reachable) return socket.destroy();
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function handle(req, res) {
    const url = new URL(req.url, 'http://127.0.0.1');
    if (url.pathname === '/api/time') {
      if (req.method !== 'GET') return json(res, 405, { error: 'GET only' });
      const time = Date.now();
      timeRequests.push(time);
      log(`refresh #${timeRequests.length}`);
      return json(res, 200, { time, served: timeRequests.length });
    }
    if (url.pathname === '/api/messages') {
      if (req.method === 'GET') return json(res, 200, received);
      if (req.method !== 'POST') return json(res, 405, { error: 'GET or POST' });
      const body = await readBody(req);
      let message;
      try {
        message = JSON.parse(body);
      } catch {
        return json(res, 400, { error: 'the body must be JSON' });
      }
      if (!message || typeof message.id !== 'string' || typeof message.text !== 'string') {
        return json(res, 400, { error: 'expected {id: string, text: string}' });
      }
      const stored = { id: message.id, text: message.text, receivedAt: Date.now() };
      received.push(stored);
      log(`received ${JSON.stringify(stored.text)} (${stored.id})`);
      return json(res, 201, stored);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'method not allowed' });
    let file;
    if (url.pathname.startsWith('/dist/')) file = inside(DIST_DIR, url.pathname.slice('/dist/'.length));
    else file = inside(APP_DIR, url.pathname === '/' ? 'index.html' : url.pathname.slice(1));
    if (!file) return json(res, 404, { error: 'not found' });
    let content;
    try {
      content = await readFile(file);
    } catch {
      return json(res, 404, { error: `not found: ${url.pathname}` });
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] || 'application/octet-stream', 'cache-control': 'no-cache' });
    res.end(req.method === 'HEAD' ? undefined : content);
  }

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const origin = `http://${host}:${server.address().port}`;
  return {
    origin,
    received,
    timeRequests,
    setReachable(value) {
      reachable = value;
      if (!reachable) for (const socket of sockets) socket.destroy();
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function inside(root, relative) {
  let decoded;
  try {
    decoded = decodeURIComponent(relative);
  } catch {
    return null;
  }
  const file = normalize(join(root, decoded));
  return file.startsWith(root + sep) ? file : null;
}

function json(res, status, value) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(value));
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => {
      body += chunk;
      if (body.length > MAX_BODY) {
        reject(Object.assign(new Error('body too large'), { status: 413 }));
        req.destroy();
      }
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

// `node examples/serve.mjs` (what `npm start` runs after the build).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.env.PORT || 8080);
  try {
    const { origin } = await startDemoServer({ port, log: (line) => console.log(`server: ${line}`) });
    console.log(`background-sync-polyfill demo: ${origin}/`);
    console.log(`  with the polyfill forced (Chromium): ${origin}/?force`);
    console.log(`  with debug logging in the console:   ${origin}/?force&debug`);
    console.log('Ctrl-C to stop.');
  } catch (error) {
    console.error(error.code === 'EADDRINUSE' ? `port ${port} is taken: PORT=8081 npm start` : error);
    process.exit(1);
  }
}
