// The test server: node builtins only, 127.0.0.1 only. It serves the built polyfill and the fixtures,
// records what the service workers report (the ground truth of what fired), and tells their sync
// handlers how to behave per tag.
//
//   GET  /dist/*                the built polyfill (BSP_DIST_DIR overrides /work/main/dist)
//   GET  /sw.js                 the test service worker (fixtures/sw.js), no-store, Service-Worker-Allowed: /
//   GET  /fixtures/*            fixtures
//   GET  /scope/<name>/page.html  the test page, at a scope of its own per scenario
//   POST /log                   the worker reports: one JSON entry or an array; deduplicated by `id`
//   GET  /log                   every entry so far
//   POST /control               {tag, behaviour}: 'ok' (default) | 'fail' | 'hold' | 'never'
//   POST /control/get           {tag} -> {behaviour}; the worker asks this when its sync handler starts
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './util.mjs';

const HERE = fileURLToPath(new URL('.', import.meta.url));
export const FIXTURES_DIR = join(HERE, 'fixtures');
export const DIST_DIR = resolve(process.env.BSP_DIST_DIR || join(HERE, '..', '..', 'dist'));

const TYPES = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.html': 'text/html', '.json': 'application/json', '.map': 'application/json' };
const BEHAVIOURS = new Set(['ok', 'fail', 'hold', 'never']);
const MAX_BODY = 1 << 20;

export async function startServer() {
  const log = [];
  const seenIds = new Set();
  const behaviours = new Map();
  const requests = [];

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error) => send(res, error.status ?? 500, { error: error.message }));
  });

  async function handle(req, res) {
    const url = new URL(req.url, 'http://127.0.0.1');
    const path = url.pathname;
    requests.push(`${req.method} ${path}`);
    if (req.method === 'POST' && path === '/log') {
      const body = await readJson(req);
      for (const entry of Array.isArray(body) ? body : [body]) record(entry);
      return send(res, 204);
    }
    if (req.method === 'GET' && path === '/log') return send(res, 200, log);
    if (req.method === 'POST' && path === '/control') {
      const { tag, behaviour } = await readJson(req);
      setBehaviour(tag, behaviour);
      return send(res, 204);
    }
    if (req.method === 'POST' && path === '/control/get') {
      const { tag } = await readJson(req);
      return send(res, 200, { behaviour: behaviours.get(String(tag)) ?? 'ok' });
    }
    if (req.method !== 'GET') return send(res, 405, { error: 'method not allowed' });
    if (path === '/sw.js') return sendFile(res, join(FIXTURES_DIR, 'sw.js'), { 'Service-Worker-Allowed': '/' });
    if (path.startsWith('/dist/')) return sendFile(res, inside(DIST_DIR, path.slice('/dist/'.length)));
    if (path.startsWith('/fixtures/')) return sendFile(res, inside(FIXTURES_DIR, path.slice('/fixtures/'.length)));
    if (/^\/scope\/[\w-]+\/(?:[\w-]+\/)?page\.html$/.test(path)) return sendFile(res, join(FIXTURES_DIR, 'page.html'));
    return send(res, 404, { error: `no route for ${path}` });
  }

  function record(entry) {
    if (!entry || typeof entry !== 'object') return;
    if (entry.id !== undefined) {
      if (seenIds.has(entry.id)) return;
      seenIds.add(entry.id);
    }
    log.push({ ...entry, receivedAt: Date.now() });
  }

  function setBehaviour(tag, behaviour) {
    if (!BEHAVIOURS.has(behaviour)) throw new Error(`unknown behaviour ${behaviour}`);
    behaviours.set(String(tag), behaviour);
  }

  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', ok);
  });
  const origin = `http://127.0.0.1:${server.address().port}`;

  /** Log entries matching every given field (undefined fields are ignored), in arrival order. */
  const entries = (match = {}) =>
    log.filter((entry) => Object.entries(match).every(([key, value]) => value === undefined || entry[key] === value));

  return {
    origin,
    log,
    requests,
    entries,
    setBehaviour,
    /** Waits until at least `count` entries match, and returns them. On timeout, says what was seen. */
    async waitForEntries(match, { count = 1, timeout = 10000, label } = {}) {
      try {
        return await waitFor(() => (entries(match).length >= count ? entries(match) : null), { timeout, interval: 50, label: 'log entries' });
      } catch (error) {
        const seen = entries(match).map(({ type, tag, lastChance, t, result }) => ({ type, lastChance, result, t }));
        const what = label ?? `${count} log entr${count === 1 ? 'y' : 'ies'} matching ${JSON.stringify({ ...match, tag: match.tag?.slice?.(0, 60) })}`;
        throw new Error(`timed out after ${timeout} ms waiting for ${what}; saw ${seen.length}: ${JSON.stringify(seen)}`);
      }
    },
    close: () =>
      new Promise((ok) => {
        server.closeAllConnections?.();
        server.close(() => ok());
      }),
  };
}

function inside(root, relative) {
  const file = normalize(join(root, decodeURIComponent(relative)));
  if (file !== root && !file.startsWith(root + sep)) throw Object.assign(new Error('outside the served folder'), { status: 403 });
  return file;
}

async function sendFile(res, file, headers = {}) {
  let body;
  try {
    body = await readFile(file);
  } catch {
    return send(res, 404, { error: `not found: ${file}` });
  }
  res.writeHead(200, {
    'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(body);
}

function send(res, status, json) {
  if (res.headersSent) return res.end();
  if (json === undefined) {
    res.writeHead(status, { 'Cache-Control': 'no-store' });
    return res.end();
  }
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(json));
}

function readJson(req) {
  return new Promise((ok, fail) => {
    let size = 0;
    const chunks = [];
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        fail(new Error('body too large'));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => {
      try {
        ok(JSON.parse(Buffer.concat(chunks).toString() || 'null'));
      } catch (error) {
        fail(error);
      }
    });
    req.on('error', fail);
  });
}
