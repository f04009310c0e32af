// The one HTTP server of every suite and the bench: node builtins only, loopback only. It answers nothing by itself:
// each suite registers its routes with addRoute (test-routes.mjs: the sync test page, worker and log of test/browser,
// test/faults and test/security; test/security/routes.mjs; test/e2e/routes.mjs; bench/routes.mjs).
//
//   startServer({ secondHost })   listens on 127.0.0.1 (and, with secondHost, on that address at the same port, or
//                                 on another port of 127.0.0.1 where it cannot: a second origin of the same site)
//   server.addRoute(handler)      handler(req, res, url) answers and returns true, or returns false to pass it on;
//                                 routes are tried in the order added; a request no route takes gets a 404
//   server.setReachable(false)    drops every connection, new and open, as if the network were gone
//
// The helpers below (send, sendBody, sendFile, readBody, readJson, inside, htmlPage, createLog) are what routes use.
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { waitFor } from './util.mjs';

/** Content types by file extension. */
export const TYPES = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.html': 'text/html', '.json': 'application/json', '.map': 'application/json' };
export const MAX_BODY = 1 << 20;

export async function startServer({ secondHost } = {}) {
  const routes = [];
  const requests = [];
  const sockets = new Set();
  let reachable = true;

  const handler = (req, res) => {
    if (!reachable) return req.socket.destroy();
    handle(req, res).catch((error) => send(res, error.status ?? 500, { error: error.message }));
  };
  async function handle(req, res) {
    const url = new URL(req.url, 'http://127.0.0.1');
    requests.push(`${req.method} ${url.pathname}`);
    for (const route of routes) if (await route(req, res, url)) return;
    return send(res, req.method === 'GET' ? 404 : 405, { error: `no route for ${req.method} ${url.pathname}` });
  }
  const create = () => {
    const server = http.createServer(handler);
    server.on('connection', (socket) => {
      if (!reachable) return socket.destroy();
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    return server;
  };
  const listen = (server, port, host) =>
    new Promise((ok, fail) => {
      server.once('error', fail);
      server.listen(port, host, ok);
    });

  const servers = [create()];
  await listen(servers[0], 0, '127.0.0.1');
  const port = servers[0].address().port;
  let otherOrigin;
  if (secondHost) {
    servers.push(create());
    try {
      await listen(servers[1], port, secondHost);
      otherOrigin = `http://${secondHost}:${port}`;
    } catch {
      // No such address here: another port, so another origin (but the same site).
      servers[1] = create();
      await listen(servers[1], 0, '127.0.0.1');
      otherOrigin = `http://127.0.0.1:${servers[1].address().port}`;
    }
  }

  return {
    origin: `http://127.0.0.1:${port}`,
    /** The second origin (with `secondHost`). */
    otherOrigin,
    /** `METHOD /path` of every request, in arrival order. */
    requests,
    /** Adds a route: `handler(req, res, url)` answers a request and returns true, or returns false to pass it on. */
    addRoute: (route) => routes.push(route),
    setReachable(value) {
      reachable = value;
      if (!value) for (const socket of sockets) socket.destroy();
    },
    close: () =>
      Promise.all(
        servers.map(
          (server) =>
            new Promise((ok) => {
              for (const socket of sockets) socket.destroy();
              server.closeAllConnections?.();
              server.close(() => ok());
            }),
        ),
      ),
  };
}

/** A JSON answer (none with `json` undefined), never cached. */
export function send(res, status, json) {
  if (json === undefined) return sendBody(res, status);
  return sendBody(res, status, JSON.stringify(json), 'application/json');
}

/** An answer with a body of `type` (none with `body` undefined). */
export function sendBody(res, status, body, type, cacheControl = 'no-store') {
  if (res.headersSent) return res.end();
  res.writeHead(status, { ...(body === undefined ? {} : { 'Content-Type': type }), 'Cache-Control': cacheControl });
  res.end(body);
}

/** A file, no-store, its type from its extension, with extra `headers`; a 404 if it cannot be read. */
export async function sendFile(res, file, headers = {}) {
  let body;
  try {
    body = await readFile(file);
  } catch {
    return send(res, 404, { error: `not found: ${file}` });
  }
  res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-store', ...headers });
  res.end(body);
}

/** The request's body as text; rejects (status 413) past `max` bytes. */
export function readBody(req, max = MAX_BODY) {
  return new Promise((ok, fail) => {
    let size = 0;
    const chunks = [];
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > max) {
        fail(Object.assign(new Error('body too large'), { status: 413 }));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => ok(Buffer.concat(chunks).toString()));
    req.on('error', fail);
  });
}

/** The request's body as JSON (null if empty). */
export const readJson = async (req, max) => JSON.parse((await readBody(req, max)) || 'null');

/** `relative` (URL-encoded) resolved inside `root`; throws (status 403) if it would leave it. */
export function inside(root, relative) {
  const base = normalize(root).replace(/[\\/]+$/, '');
  const file = normalize(join(base, decodeURIComponent(relative)));
  if (file !== base && !file.startsWith(base + sep)) throw Object.assign(new Error('outside the served folder'), { status: 403 });
  return file;
}

/** A fixture page: a title, its scripts in order, and a line saying what drives it. */
export const htmlPage = (title, scripts, drivenBy) =>
  `<!doctype html>\n<meta charset="utf-8">\n<title>${title}</title>\n${scripts.map((src) => `<script src="${src}"></script>\n`).join('')}<p>Driven by ${drivenBy}.</p>\n`;

/**
 * What workers report (POST an entry or an array): entries deduplicated by `id`, each with `receivedAt`.
 * `entries(match)` filters by every given field (undefined fields are ignored), in arrival order.
 */
export function createLog() {
  const log = [];
  const seenIds = new Set();
  const entries = (match = {}) =>
    log.filter((entry) => Object.entries(match).every(([key, value]) => value === undefined || entry[key] === value));
  return {
    log,
    entries,
    /** Records a POSTed body: one entry or an array of them. */
    record(body) {
      for (const entry of Array.isArray(body) ? body : [body]) {
        if (!entry || typeof entry !== 'object') continue;
        if (entry.id !== undefined) {
          if (seenIds.has(entry.id)) continue;
          seenIds.add(entry.id);
        }
        log.push({ ...entry, receivedAt: Date.now() });
      }
    },
    /** Waits until at least `count` entries match, and returns them. On timeout, says what was seen. */
    async waitForEntries(match, { count = 1, timeout = 10000, label } = {}) {
      try {
        return await waitFor(() => (entries(match).length >= count ? entries(match) : null), { timeout, interval: 50, label: 'log entries' });
      } catch (error) {
        const seen = entries(match).map(({ type, lastChance, t, result }) => ({ type, lastChance, result, t }));
        const what = label ?? `${count} log entr${count === 1 ? 'y' : 'ies'} matching ${JSON.stringify({ ...match, tag: match.tag?.slice?.(0, 60) })}`;
        throw new Error(`timed out after ${timeout} ms waiting for ${what}; saw ${seen.length}: ${JSON.stringify(seen)}`);
      }
    },
  };
}
