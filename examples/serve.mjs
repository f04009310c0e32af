// `npm start`: serves the example on 127.0.0.1 with the freshly built polyfill, and records what the
// example's service worker sends when its sync event fires.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const port = Number(process.env.PORT || 8080);
const types = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.json': 'application/json' };
const received = [];

const server = createServer(async (req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  if (url.pathname === '/api/sent' && req.method === 'POST') {
    let body = '';
    for await (const chunk of req) body += chunk;
    received.push({ ...JSON.parse(body || '{}'), at: new Date().toISOString() });
    console.log('sync fired:', body);
    res.writeHead(204).end();
    return;
  }
  if (url.pathname === '/api/sent') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(received));
    return;
  }
  if (url.pathname === '/') {
    res.writeHead(302, { location: `/examples/basic/${url.search}` }).end();
    return;
  }
  const path = url.pathname.endsWith('/') ? `${url.pathname}index.html` : url.pathname;
  const file = normalize(join(root, path));
  if (!file.startsWith(join(root, 'examples')) && !file.startsWith(join(root, 'dist'))) {
    res.writeHead(404).end();
    return;
  }
  try {
    const body = await readFile(file);
    res.writeHead(200, { 'content-type': types[extname(file)] || 'application/octet-stream', 'cache-control': 'no-store' });
    res.end(body);
  } catch {
    res.writeHead(404).end('not found');
  }
});

server.listen(port, '127.0.0.1', () => {
  console.log(`background-sync-polyfill example: http://127.0.0.1:${port}/`);
  console.log(`force the polyfill in Chromium:   http://127.0.0.1:${port}/?force=1`);
});
