// The fixture server for the Workbox and bundler tests: 127.0.0.1 only, one per test (an origin of its own).
//   GET  /page.html, /page.js, /sw-*.js   the bundled fixtures (build-fixtures.mjs)
//   POST /api/log    what the workers report (an entry or an array; deduplicated by id)
//   POST /api/echo   the app's request that Workbox queues and replays; recorded with its JSON body
// setReachable(false) drops every connection, as if the network were gone.
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { waitFor } from '../browser/util.mjs';

export async function startFixtureServer(www) {
  const log = [];
  const echoes = [];
  const seen = new Set();
  const sockets = new Set();
  let reachable = true;

  const server = http.createServer((req, res) => {
    if (!reachable) return req.socket.destroy();
    handle(req, res).catch((error) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(error.message));
    });
  });
  server.on('connection', (socket) => {
    if (!reachable) return socket.destroy();
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function handle(req, res) {
    const { pathname } = new URL(req.url, 'http://127.0.0.1');
    if (req.method === 'POST' && pathname === '/api/log') {
      const body = JSON.parse((await readBody(req)) || 'null');
      for (const entry of Array.isArray(body) ? body : [body]) {
        if (!entry || typeof entry !== 'object' || seen.has(entry.id)) continue;
        seen.add(entry.id);
        log.push({ ...entry, receivedAt: Date.now() });
      }
      return send(res, 204);
    }
    if (req.method === 'POST' && pathname === '/api/echo') {
      echoes.push({ body: JSON.parse((await readBody(req)) || 'null'), receivedAt: Date.now() });
      return send(res, 201, { ok: true });
    }
    if (req.method !== 'GET') return send(res, 405);
    const name = pathname === '/' ? 'page.html' : pathname.slice(1);
    if (!/^(page\.html|page\.js|sw-[\w-]+\.js)$/.test(name)) return send(res, 404);
    const body = await readFile(join(www, name));
    res.writeHead(200, { 'content-type': name.endsWith('.html') ? 'text/html' : 'text/javascript', 'cache-control': 'no-store' });
    res.end(body);
  }

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });

  const entries = (type) => log.filter((entry) => !type || entry.type === type);
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    log,
    echoes,
    entries,
    setReachable(value) {
      reachable = value;
      if (!value) for (const socket of sockets) socket.destroy();
    },
    /** Waits until probe(server) is truthy; on timeout says what the log held. */
    async waitFor(probe, { timeout = 20000, label = 'condition' } = {}) {
      try {
        return await waitFor(() => probe(), { timeout, interval: 100, label });
      } catch (error) {
        const brief = log.map(({ type, tag, message, pageOnline, workerOnline, onLine, t }) => ({ type, tag, message, pageOnline, workerOnline, onLine, t }));
        throw new Error(`${error.message}; worker log: ${JSON.stringify(brief)}; echoes: ${JSON.stringify(echoes.map((e) => e.body))}`);
      }
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function send(res, status, json) {
  res.writeHead(status, json ? { 'content-type': 'application/json', 'cache-control': 'no-store' } : { 'cache-control': 'no-store' });
  res.end(json ? JSON.stringify(json) : undefined);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > 1 << 20) {
        reject(new Error('body too large'));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString()));
    req.on('error', reject);
  });
}
