// The security suite's routes on the kit's test server (server.addRoute): its pages and worker, served with the
// Content-Security-Policy of a `policy` query, and the CSP report endpoint.
//
//   GET  /scope/<ctx>/[<sub>/]security.html?policy=…   the security test page with that policy's header
//   GET  /scope/<ctx>/[<sub>/]globals.html             the globals page (no policy)
//   GET  /security/sw.js?policy=…&ctx=…               fixtures/sw.js with that policy's header, Service-Worker-Allowed: /
//   GET  /security/fixtures/*                          the other fixtures
//   POST /csp-report/<ctx>                             a report (report-uri: application/csp-report, or reports+json)
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { htmlPage, inside, readBody, sendBody, sendFile } from '../kit/server.mjs';

export const SECURITY_FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

/** The header of each policy; `ctx` (mode-scenario) goes into the report URL so reports can be told apart. */
export const POLICIES = {
  none: () => null,
  csp: (ctx) => `script-src 'self'; worker-src 'self'; object-src 'none'; report-uri /csp-report/${ctx}`,
  tt: (ctx) => `require-trusted-types-for 'script'; trusted-types bsp-fixture; report-uri /csp-report/${ctx}`,
};

const MAX_REPORT = 256 * 1024;
const CORE = ['/dist/background-sync-polyfill.js', '/fixtures/common.js', '/security/fixtures/page.js'];
const PAGES = {
  // violations.js first: it records every violation from the start.
  security: htmlPage('background-sync-polyfill security test page', ['/security/fixtures/violations.js', ...CORE], 'test/security/run.mjs'),
  // The globals before and after the polyfill, around it.
  globals: htmlPage(
    'background-sync-polyfill globals test page',
    ['/security/fixtures/snapshot.js', '/security/fixtures/globals-before.js', CORE[0], '/security/fixtures/globals-after.js', ...CORE.slice(1)],
    'test/security/run.mjs',
  ),
};

export function addSecurityRoutes(server) {
  const reports = [];
  const served = []; // {path, policy, header}: proof of which header went out

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
      const body = await readBody(req, MAX_REPORT);
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
      sendBody(res, 204);
      return true;
    }
    if (req.method !== 'GET') return false;
    const page = /^\/scope\/([\w-]+)\/(?:[\w-]+\/)?(security|globals)\.html$/.exec(path);
    if (page) {
      const headers = page[2] === 'security' ? policyHeaders(url, page[1], path) : {};
      res.writeHead(200, { 'Content-Type': 'text/html', 'Cache-Control': 'no-store', ...headers });
      res.end(PAGES[page[2]]);
      return true;
    }
    if (path === '/security/sw.js') {
      const ctx = url.searchParams.get('ctx') || 'unknown';
      await sendFile(res, join(SECURITY_FIXTURES, 'sw.js'), { 'Service-Worker-Allowed': '/', ...policyHeaders(url, ctx, path) });
      return true;
    }
    if (path.startsWith('/security/fixtures/')) {
      await sendFile(res, inside(SECURITY_FIXTURES, path.slice('/security/fixtures/'.length)));
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
