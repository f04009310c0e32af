// The security suite's routes on test/browser's server (server.addRoute): its pages and worker, served with the
// Content-Security-Policy of a `policy` query, and the CSP report endpoint.
//
//   GET  /scope/<ctx>/[<sub>/]security.html?policy=…   fixtures/page.html with that policy's header
//   GET  /scope/<ctx>/[<sub>/]globals.html             fixtures/globals.html (no policy)
//   GET  /security/sw.js?policy=…&ctx=…               fixtures/sw.js with that policy's header, Service-Worker-Allowed: /
//   GET  /security/fixtures/*                          the other fixtures
//   POST /csp-report/<ctx>                             a report (report-uri: application/csp-report, or reports+json)
import { readFile } from 'node:fs/promises';
import { join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SECURITY_FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

/** The header of each policy; `ctx` (mode-scenario) goes into the report URL so reports can be told apart. */
export const POLICIES = {
  none: () => null,
  csp: (ctx) => `script-src 'self'; worker-src 'self'; object-src 'none'; report-uri /csp-report/${ctx}`,
  tt: (ctx) => `require-trusted-types-for 'script'; trusted-types bsp-fixture; report-uri /csp-report/${ctx}`,
};

const MAX_REPORT = 256 * 1024;

export function addSecurityRoutes(server) {
  const reports = [];
  const served = []; // {path, policy, header}: proof of which header went out

  const sendFile = async (res, file, headers) => {
    const body = await readFile(file);
    res.writeHead(200, { 'Content-Type': file.endsWith('.html') ? 'text/html' : 'text/javascript', 'Cache-Control': 'no-store', ...headers });
    res.end(body);
  };
  const policyHeaders = (url, ctx, path) => {
    const name = url.searchParams.get('policy') || 'none';
    if (!POLICIES[name]) throw Object.assign(new Error(`unknown policy ${name}`), { status: 400 });
    const header = POLICIES[name](ctx);
    served.push({ path, policy: name, header });
    return header ? { 'Content-Security-Policy': header } : {};
  };

  server.addRoute(async (req, res, url) => {
    const path = url.pathname;
    if (req.method === 'POST' && path.startsWith('/csp-report/')) {
      const body = await readBody(req);
      let parsed = null;
      try {
        parsed = JSON.parse(body);
      } catch {
        parsed = { unparsed: body.slice(0, 500) };
      }
      // report-uri sends {"csp-report": {...}}; the Reporting API sends an array of {type, body}.
      const list = Array.isArray(parsed) ? parsed.map((r) => r.body ?? r) : [parsed['csp-report'] ?? parsed];
      for (const report of list) {
        reports.push({ ctx: path.slice('/csp-report/'.length), contentType: req.headers['content-type'], receivedAt: Date.now(), report });
      }
      res.writeHead(204);
      res.end();
      return true;
    }
    if (req.method !== 'GET') return false;
    const page = /^\/scope\/([\w-]+)\/(?:[\w-]+\/)?(security|globals)\.html$/.exec(path);
    if (page) {
      const headers = page[2] === 'security' ? policyHeaders(url, page[1], path) : {};
      await sendFile(res, join(SECURITY_FIXTURES, page[2] === 'security' ? 'page.html' : 'globals.html'), headers);
      return true;
    }
    if (path === '/security/sw.js') {
      const ctx = url.searchParams.get('ctx') || 'unknown';
      await sendFile(res, join(SECURITY_FIXTURES, 'sw.js'), { 'Service-Worker-Allowed': '/', ...policyHeaders(url, ctx, path) });
      return true;
    }
    if (path.startsWith('/security/fixtures/')) {
      const file = normalize(join(SECURITY_FIXTURES, decodeURIComponent(path.slice('/security/fixtures/'.length))));
      if (!file.startsWith(SECURITY_FIXTURES) || file.includes(`${sep}..`)) return false;
      try {
        await sendFile(res, file, {});
      } catch {
        res.writeHead(404);
        res.end();
      }
      return true;
    }
    return false;
  });

  return {
    /** CSP reports posted for a mode-scenario. */
    reportsFor: (ctx) => reports.filter((r) => r.ctx === ctx),
    /** The policy headers sent for paths containing `part`. */
    servedFor: (part) => served.filter((s) => s.path.includes(part) || (s.header ?? '').includes(part)),
  };
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks = [];
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_REPORT) {
        reject(Object.assign(new Error('report too large'), { status: 413 }));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString()));
    req.on('error', reject);
  });
}
