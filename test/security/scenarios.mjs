// The security scenarios. Each is { name, policy, timeout?, run(ctx) } and fails by throwing; a thrown
// error with `skip` set records a skip with that reason (decided in the browser, e.g. an engine without Trusted
// Types). ctx is test/kit/harness.mjs's context on this suite's page and worker, plus `ctx.security` (the CSP
// reports and served headers, routes.mjs) and `ctx.ctxName` (<mode>-<scenario>, in every URL of the scenario).
import assert from 'node:assert/strict';
import { sleep, short, waitFor } from '../kit/util.mjs';

/** The dispatcher waits this long for the worker's onLine after a page's online poke (src/worker/dispatcher.ts ONLINE_LAG). */
const ONLINE_LAG = 5000;
const KEY = '__backgroundSyncPolyfill';

export class Skip extends Error {
  constructor(reason) {
    super(reason);
    this.skip = reason;
  }
}

function resolved(result, what) {
  assert.equal(result?.ok, true, `${what} should resolve, got ${short(result)}`);
  return result.value;
}

/** The polyfill is loaded in page and worker, and active exactly when the engine lacks the API. */
async function assertLoaded(ctx, page) {
  const inPage = await page.probe();
  const inWorker = await page.call('probe');
  assert.equal(inPage.polyfillLoaded, true, 'BackgroundSyncPolyfill is missing in the page');
  assert.equal(inWorker.polyfillLoaded, true, 'BackgroundSyncPolyfill is missing in the worker');
  assert.equal(inPage.native, ctx.native, `page: BackgroundSyncPolyfill.native should be ${ctx.native}`);
  assert.equal(inWorker.native, ctx.native, `worker: BackgroundSyncPolyfill.native should be ${ctx.native}`);
  assert.equal(inPage.syncType, 'object', 'page: registration.sync should be an object');
  assert.equal(inWorker.syncEventType, 'function', 'worker: SyncEvent should exist');
  return { inPage, inWorker };
}

/** Offline: register (getTags lists it, nothing fires); online: it fires once and is gone. */
async function offlineThenOnline(ctx, page, suffix) {
  const tag = ctx.tag(suffix);
  await ctx.setOnline(false, page);
  resolved(await page.register(tag), 'register() while offline');
  assert.ok(resolved(await page.getTags(), 'getTags()').includes(tag), 'getTags() should list the tag registered offline');
  await sleep(1000);
  assert.equal((await page.call('events')).filter((e) => e.tag === tag).length, 0, 'nothing may fire while offline');
  await ctx.setOnline(true, page);
  await ctx.waitForSyncs(page, tag, 1, 20000);
  await ctx.waitForTagGone(page, tag, 15000);
  await sleep(1000);
  assert.equal(ctx.syncs(page, tag).length, 1, 'exactly one sync event');
  return tag;
}

/** Every violation seen so far: the page's listener, the worker's listener, and the reports the server got. */
async function violations(ctx, page) {
  return {
    page: await page.evaluate(() => T.violations()),
    worker: await page.call('violations'),
    reports: ctx.security.reportsFor(ctx.ctxName).map(({ report, contentType }) => ({ contentType, ...pickReport(report) })),
  };
}

function pickReport(report) {
  const r = report ?? {};
  return {
    documentURI: String(r['document-uri'] ?? r.documentURL ?? '').replace(/^http:\/\/127\.0\.0\.1:\d+/, ''),
    directive: r['effective-directive'] ?? r.effectiveDirective ?? r['violated-directive'],
    blockedURI: r['blocked-uri'] ?? r.blockedURL,
    sample: String(r['script-sample'] ?? r.sample ?? '').slice(0, 60),
    sourceFile: String(r['source-file'] ?? r.sourceFile ?? '').replace(/^http:\/\/127\.0\.0\.1:\d+/, ''),
  };
}

/**
 * Whether the worker's deliberate violations were seen (its listener, or report-uri). Enforcement itself is asserted
 * by the probes throwing; an engine that neither dispatches nor reports worker violations (WebKitGTK) leaves the
 * zero-violation check blind in the worker, which the results say, while the polyfill still has to work there.
 */
function noteWorkerChannel(ctx, probed) {
  const listener = probed.worker.length;
  const reported = probed.reports.filter(isWorkerReport).length;
  Object.assign(ctx.details, { workerViolationsObservable: listener > 0 || reported > 0, workerViolationListener: listener, workerViolationReports: reported });
  if (!ctx.details.workerViolationsObservable) {
    ctx.note('worker: the probes were blocked (enforced), but the engine neither dispatched securitypolicyviolation in the service worker nor sent a report from it; worker violations are not observable here');
  }
}

const count = (v) => v.page.length + v.worker.length + v.reports.length;
const isWorkerReport = (r) => r.documentURI.startsWith('/security/sw.js') || r.sourceFile.startsWith('/security/sw.js');

/** The policy header really went out with the page and with the worker script. */
function assertServed(ctx, policy) {
  const served = ctx.security.servedFor(ctx.ctxName).filter((s) => s.policy === policy);
  assert.ok(served.some((s) => s.path.endsWith('security.html')), `the ${policy} header was never sent with the page`);
  assert.ok(served.some((s) => s.path === '/security/sw.js'), `the ${policy} header was never sent with the worker script`);
  return served[0].header;
}

/** Waits (bounded) until `probe(v)` holds for the violations seen; returns them either way. */
async function violationsUntil(ctx, page, probe, timeout = 8000) {
  let last = await violations(ctx, page);
  const deadline = Date.now() + timeout;
  while (!probe(last) && Date.now() < deadline) {
    await sleep(250);
    last = await violations(ctx, page);
  }
  return last;
}

/** Splits the worker's run-length encoded message log by marker: label -> variant -> [summaries]. */
function messagesByVariant(log, label) {
  const byVariant = new Map();
  let current = null;
  let after = false;
  for (const entry of log.entries) {
    if (entry.app === 'mark' && entry.label === label) {
      current = entry.variant;
      byVariant.set(current, []);
    } else if (entry.app === 'after' && entry.label === label) {
      after = true;
      current = null;
    } else if (entry.app === 'mark' || entry.app === 'after') {
      current = null;
    } else if (entry.app) {
      // An app message of another page (T.appMessage): messages of two clients are not ordered between them.
    } else if (current) {
      for (let i = 0; i < (entry.count ?? 1); i++) byVariant.get(current).push(entry);
    }
  }
  return { byVariant, after };
}

/**
 * Checks what the app's listener saw of one forged batch: with the polyfill active, exactly the messages without
 * the protocol key (docs/semantics.md §4: ours never reach the app); with the polyfill inactive (native) or on a MessagePort
 * (never the polyfill's channel), everything that was posted.
 */
function assertAppSaw(log, label, sent, variants, { everything }) {
  const { byVariant, after } = messagesByVariant(log, label);
  const wrong = [];
  if (log.dropped) wrong.push(`the worker's message log overflowed (${log.dropped} dropped)`);
  if (!after) wrong.push(`the app never got the closing message of ${label}`);
  for (const variant of variants) {
    const posted = sent.posted.includes(variant.name);
    if (!posted) continue;
    const seen = byVariant.get(variant.name);
    if (!seen) {
      wrong.push(`${variant.name}: its marker never arrived`);
      continue;
    }
    const expected = everything || !variant.ours ? 1 : 0;
    if (seen.length !== expected) wrong.push(`${variant.name}: the app saw ${seen.length}, expected ${expected} (${short(seen.map(({ key, ...rest }) => rest), 200)})`);
  }
  const burst = byVariant.get('burst')?.length ?? -1;
  const expectedBurst = everything ? sent.burst : 0;
  if (burst !== expectedBurst) wrong.push(`burst: the app saw ${burst} of ${sent.burst} pokes, expected ${expectedBurst}`);
  assert.ok(wrong.length === 0, `${label}: ${wrong.join('; ')}`);
}

function assertThrows(sent, label) {
  const unexpected = sent.threw.filter((t) => !t.expected);
  assert.equal(unexpected.length, 0, `${label}: postMessage threw for ${short(unexpected)}`);
  const refused = sent.threw.filter((t) => t.expected);
  assert.ok(refused.every((t) => t.name === 'DataCloneError'), `${label}: uncloneable messages should throw DataCloneError, got ${short(refused)}`);
  return refused.length;
}

/** Opens the page and worker served under `policy`, and checks that its header went out. */
async function openUnderPolicy(ctx, policy) {
  const page = await ctx.open({ sw: { policy, ctx: ctx.ctxName } });
  return { page, header: assertServed(ctx, policy) };
}

function swErrors(ctx, scope) {
  return ctx.server.entries({ type: 'swError', scope }).map((e) => e.message);
}

export const scenarios = [
  {
    name: 'csp',
    policy: 'csp', // the run's default timeout, 90 s
    async run(ctx) {
      const { page, header } = await openUnderPolicy(ctx, 'csp');
      await assertLoaded(ctx, page);
      await offlineThenOnline(ctx, page, 'under-csp');
      // The polyfill's whole path (load, register, getTags, offline, online, firing) ran under the policy.
      const during = await violationsUntil(ctx, page, () => false, 1500);
      assert.equal(count(during), 0, `violations while the polyfill worked: ${short(during, 1200)}`);

      // The policy is really enforced: deliberate violations are blocked and seen, in the page and in the worker.
      const inPage = await page.evaluate(() => T.cspProbe());
      const inWorker = await page.call('cspProbe');
      assert.equal(inPage.eval, 'EvalError', `page: eval under script-src 'self' should throw EvalError, got ${inPage.eval}`);
      assert.equal(inPage.inlineRan, false, 'page: an inline script ran under script-src \'self\'');
      assert.equal(inWorker.eval, 'EvalError', `worker: eval under script-src 'self' should throw EvalError, got ${inWorker.eval}`);
      assert.equal(inWorker.newFunction, 'EvalError', `worker: new Function should throw EvalError, got ${inWorker.newFunction}`);
      ctx.details.probes = { page: inPage, worker: inWorker };
      const probed = await violationsUntil(ctx, page, (v) => v.page.length >= 2 && v.reports.some((r) => !isWorkerReport(r)) &&
        (v.worker.length >= 2 || v.reports.some(isWorkerReport)));
      const pageDirectives = probed.page.map((v) => v.directive);
      assert.ok(pageDirectives.length >= 2 && pageDirectives.every((d) => /^script-src/.test(d)),
        `page: the eval and inline probes should each raise a script-src securitypolicyviolation, saw ${short(probed.page)}`);
      assert.ok(probed.reports.some((r) => !isWorkerReport(r)), `report-uri got no report for the page's probes: ${short(probed.reports)}`);
      noteWorkerChannel(ctx, probed);
      ctx.note(`header: ${header.replace(/ report-uri.*/, ' report-uri …')}`);
      ctx.note(`probes seen: page listener ${probed.page.length}, worker listener ${probed.worker.length}, reports ${probed.reports.length} (${probed.reports.filter(isWorkerReport).length} from the worker)`);
    },
  },

  {
    name: 'trusted-types',
    policy: 'tt', // the run's default timeout, 90 s
    async run(ctx) {
      const { page, header } = await openUnderPolicy(ctx, 'tt');
      const { inPage, inWorker } = await assertLoaded(ctx, page);
      ctx.details.trustedTypes = { page: inPage.trustedTypes === 'object', worker: inWorker.trustedTypes === 'object' };
      if (inPage.trustedTypes !== 'object') {
        if (ctx.driver.engine === 'chromium') throw new Error(`Chromium should have Trusted Types; self.trustedTypes is ${inPage.trustedTypes}`);
        throw new Skip(`${ctx.driver.version} has no Trusted Types (self.trustedTypes is ${inPage.trustedTypes} in pages, ${inWorker.trustedTypes} in the worker)`);
      }
      ctx.note(`trustedTypes: page ${inPage.trustedTypes}, worker ${inWorker.trustedTypes}${inWorker.ttPolicy ? ' (worker imports through the fixture policy)' : ''}`);
      await offlineThenOnline(ctx, page, 'under-tt');
      const during = await violationsUntil(ctx, page, () => false, 1500);
      assert.equal(count(during), 0, `violations while the polyfill worked: ${short(during, 1200)}`);

      // Enforced in the page: string sinks and a policy the header does not allow throw, and are seen.
      const probe = await page.evaluate(() => T.ttProbe());
      assert.deepEqual(probe, { innerHTML: 'TypeError', createPolicy: 'TypeError', scriptSrc: 'TypeError' },
        `page: Trusted Types should block string sinks and unlisted policies, got ${short(probe)}`);
      const workerProbe = await page.call('ttProbe');
      const workerEnforced = /^TypeError/.test(workerProbe.importScripts ?? '');
      Object.assign(ctx.details.trustedTypes, { pageEnforced: true, workerEnforced, workerImportScripts: workerProbe.importScripts, workerCreatePolicy: workerProbe.createPolicy ?? null });
      ctx.note(`worker: importScripts(string) -> ${workerProbe.importScripts}; createPolicy(unlisted) -> ${workerProbe.createPolicy ?? 'no trustedTypes'}: ${workerEnforced ? 'TT enforced in the service worker' : 'TT not enforced in the service worker'}`);
      // Without this the worker half of "zero violations" could be empty: a worker not under the policy has none.
      assert.ok(workerEnforced, `worker: not under require-trusted-types-for 'script' (importScripts(string) -> ${workerProbe.importScripts}), so its zero violations prove nothing`);
      const probed = await violationsUntil(ctx, page, (v) => v.page.length >= 3 && v.reports.some((r) => !isWorkerReport(r)) &&
        (!workerEnforced || v.worker.length > 0 || v.reports.some(isWorkerReport)));
      assert.ok(probed.page.length >= 3 && probed.page.every((v) => /trusted-types/.test(v.directive)),
        `page: each TT probe should raise a trusted-types securitypolicyviolation, saw ${short(probed.page)}`);
      assert.ok(probed.reports.some((r) => !isWorkerReport(r)), `report-uri got no report for the page's TT probes: ${short(probed.reports)}`);
      if (workerEnforced) noteWorkerChannel(ctx, probed);
      ctx.note(`header: ${header.replace(/ report-uri.*/, ' report-uri …')}`);
      ctx.note(`probes seen: page listener ${probed.page.length}, worker listener ${probed.worker.length}, reports ${probed.reports.length} (${probed.reports.filter(isWorkerReport).length} from the worker)`);
    },
  },

  {
    name: 'globals',
    policy: 'none',
    page: 'globals.html',
    timeout: 60000,
    async run(ctx) {
      const page = await ctx.open({ sw: { ctx: ctx.ctxName } });
      const inPage = await page.evaluate(() => self.__bspGlobals);
      const inWorker = await page.call('globals');
      assert.ok(inPage && !inPage.error, `the globals page did not record its diff: ${short(inPage)}`);
      // The snapshot really covers what it claims, and sees an addition (a diff that cannot fail proves nothing).
      for (const [where, diff, names] of [
        ['page', inPage, ['globalThis', 'Window.prototype', 'EventTarget.prototype', 'ServiceWorkerRegistration.prototype', 'ServiceWorkerContainer.prototype']],
        ['worker', inWorker, ['globalThis', 'ServiceWorkerGlobalScope.prototype', 'WorkerGlobalScope.prototype', 'ServiceWorkerRegistration.prototype', 'ExtendableEvent.prototype']],
      ]) {
        const missing = names.filter((n) => !diff.targets.includes(n));
        assert.equal(missing.length, 0, `${where}: the snapshot does not cover ${missing.join(', ')} (it has ${diff.targets.join(', ')})`);
        assert.ok(diff.propertyCount > 500, `${where}: the snapshot saw only ${diff.propertyCount} properties`);
      }
      const selfTest = await page.evaluate(() => {
        const diff = self.bspGlobalsSnapshot();
        ServiceWorkerRegistration.prototype.__bspSelfTest = 1;
        const sym = Symbol('bspSelfTest');
        self[sym] = 1;
        const result = diff();
        delete ServiceWorkerRegistration.prototype.__bspSelfTest;
        delete self[sym];
        return result;
      });
      assert.deepEqual([selfTest.added, selfTest.removed, selfTest.changed], [['ServiceWorkerRegistration.prototype.__bspSelfTest', 'globalThis.[Symbol(bspSelfTest)]'], [], []],
        `the snapshot's self-test should see exactly its two additions, saw ${short(selfTest)}`);

      const shared = ctx.native
        // docs/semantics.md §8: until the first use, the classic script has only wrapped the two getters, to take over
        // what the engine may refuse; nothing else.
        ? { added: ['globalThis.BackgroundSyncPolyfill'], removed: [], changed: ['ServiceWorkerRegistration.prototype.periodicSync', 'ServiceWorkerRegistration.prototype.sync'] }
        : {
          added: [
            'ServiceWorkerRegistration.prototype.periodicSync', 'ServiceWorkerRegistration.prototype.sync', 'globalThis.BackgroundSyncPolyfill',
            'globalThis.PeriodicSyncManager', 'globalThis.SyncManager',
          ],
          removed: [],
          // src/web/globals.ts defineSharedGlobals(): unregister() is wrapped to drop the registration's tags (docs/semantics.md §3).
          changed: ['ServiceWorkerRegistration.prototype.unregister'],
        };
      const worker = ctx.native
        ? shared
        : { ...shared, added: [...shared.added, 'globalThis.PeriodicSyncEvent', 'globalThis.SyncEvent', 'globalThis.onperiodicsync', 'globalThis.onsync'].sort() };
      const page_ = { ...shared, added: [...shared.added].sort() };
      const diffs = [];
      for (const [where, actual, expected] of [['page', inPage, page_], ['worker', inWorker, worker]]) {
        for (const key of ['added', 'removed', 'changed']) {
          const extra = actual[key].filter((n) => !expected[key].includes(n));
          const missing = expected[key].filter((n) => !actual[key].includes(n));
          if (extra.length) diffs.push(`${where} ${key} unexpectedly: ${extra.join(', ')}`);
          if (missing.length) diffs.push(`${where} should have ${key}: ${missing.join(', ')}`);
        }
      }
      assert.ok(diffs.length === 0, diffs.join('; '));
      ctx.note(`page: +${inPage.added.length} ~${inPage.changed.length} of ${inPage.propertyCount} properties on ${inPage.targets.length} objects; worker: +${inWorker.added.length} ~${inWorker.changed.length} of ${inWorker.propertyCount} on ${inWorker.targets.length}`);
    },
  },

  {
    name: 'forged-messages',
    policy: 'none',
    timeout: 150000,
    async run(ctx) {
      const { server } = ctx;
      // A long first retry delay: a tag in backoff must stay there whatever the messages say.
      const page = await ctx.open({ sw: { ctx: ctx.ctxName, initialRetryDelay: 600000, maxAttempts: 3, retryDelayFactor: 2 } });
      const other = await ctx.open({ sw: { ctx: ctx.ctxName }, sub: 'other' }); // another scope of the origin, nested in this one
      assert.notEqual(other.scope, page.scope);
      const variants = await page.evaluate(() => T.variants());

      // (b) a tag in retry backoff: it fires once, fails, and waits (10 min here, 5 min in native Chromium).
      const backoff = ctx.tag('backoff');
      server.setBehaviour(backoff, 'fail');
      resolved(await page.register(backoff), 'register() of the tag that fails');
      await server.waitForEntries({ type: 'syncEnd', scope: page.scope, tag: backoff }, { timeout: 15000 });
      await sleep(1000);
      assert.equal(ctx.syncs(page, backoff).length, 1, 'the failing tag should have fired once');

      // (b) online, forged pokes (well-formed ones among them) must not fire the tag before its retry time.
      const eventsOnline = await page.call('events');
      const online = await page.evaluate(() => T.forgeDirect({ burst: 2000, label: 'online-direct' }), undefined, 60000);
      const onlineOther = await other.evaluate((scope) => T.forgeOtherScope(scope, { burst: 1000, label: 'online-other' }), page.scope, 60000);
      assert.ok(!onlineOther.error, `from the other scope: ${onlineOther.error}`);
      assertThrows(online, 'online-direct');
      assertThrows(onlineOther, 'online-other');
      await sleep(2500);
      const firedOnline = (await page.call('events')).slice(eventsOnline.length);
      assert.deepEqual(firedOnline, [], 'online: forged pokes fired a tag in retry backoff early');
      assert.equal(ctx.syncs(page, backoff).length, 1, 'online: forged pokes fired a tag in retry backoff early (server log)');

      // (a) offline with a registered tag.
      await ctx.setOnline(false, page);
      await ctx.setOnline(false, other);
      const pending = ctx.tag('pending');
      resolved(await page.register(pending), 'register() while offline');
      const tagsBefore = resolved(await page.getTags(), 'getTags() before the forged messages');
      const workerTagsBefore = resolved(await page.call('getTags'), 'worker getTags() before');
      assert.ok(tagsBefore.includes(pending), 'getTags() should list the tag registered offline');
      if (!ctx.native) assert.ok(tagsBefore.includes(backoff), 'getTags() should list the tag in backoff');
      const eventsBefore = await page.call('events');
      const { instance } = await page.call('probe');

      // The forged messages: the app's own postMessage, a MessageChannel, and a page of another scope.
      const direct = await page.evaluate(() => T.forgeDirect({ burst: 5000, label: 'direct' }), undefined, 60000);
      await page.evaluate(() => T.appMessage('between'));
      const viaPort = await page.evaluate(() => T.forgeOverPort({ burst: 1000, label: 'port' }), undefined, 60000);
      const fromOther = await other.evaluate((scope) => T.forgeOtherScope(scope, { burst: 2000, label: 'other-scope' }), page.scope, 60000);
      assert.ok(!fromOther.error, `from the other scope: ${fromOther.error}`);
      for (const [sent, label] of [[direct, 'direct'], [viaPort, 'port'], [fromOther, 'other-scope']]) assertThrows(sent, label);
      await page.evaluate(() => T.appMessage('after-forgery'));

      // Long enough for a forged online poke's pass to give up waiting for the worker's onLine, and then some.
      await sleep(ONLINE_LAG + 2500);
      const eventsAfter = await page.call('events');
      const after = await page.call('probe');
      assert.equal(after.instance, instance, 'the worker was restarted meanwhile; the check would be incomplete');
      const newEvents = eventsAfter.slice(eventsBefore.length);
      assert.equal(newEvents.length, 0, `forged messages fired sync events: ${short(newEvents)}`);
      assert.deepEqual(resolved(await page.getTags(), 'getTags() after'), tagsBefore, 'getTags() changed');
      assert.deepEqual(resolved(await page.call('getTags'), 'worker getTags() after'), workerTagsBefore, 'worker getTags() changed');

      // What the app's listeners saw: the polyfill keeps only its own key from the app, where the API is native too
      // (its one `message` listener there, docs/semantics.md §8).
      const appLog = await page.call('appMessages');
      const portLog = await page.call('portMessages');
      assertAppSaw(appLog, 'online-direct', online, variants, { everything: false });
      assertAppSaw(appLog, 'online-other', onlineOther, variants, { everything: false });
      assertAppSaw(appLog, 'direct', direct, variants, { everything: false });
      assertAppSaw(appLog, 'other-scope', fromOther, variants, { everything: false });
      assertAppSaw(portLog, 'port', viaPort, variants, { everything: true });
      const texts = appLog.entries.filter((e) => e.app === 'hello').map((e) => e.text);
      assert.deepEqual(texts, ['between', 'after-forgery'], "the app's own messages should reach its listener");
      assert.equal(appLog.ours, 0, `the app saw ${appLog.ours} protocol messages`);

      // Online again: the pending tag fires normally, after (not before) the link came back; the backoff tag waits.
      const onlineAt = Date.now();
      await ctx.setOnline(true, page);
      const [event] = await ctx.waitForSyncs(page, pending, 1, 20000);
      assert.ok(event.t >= onlineAt - 50, `the pending tag fired ${onlineAt - event.t} ms before the browser was online`);
      await ctx.waitForTagGone(page, pending, 15000);
      const fresh = ctx.tag('fresh');
      resolved(await page.register(fresh), 'register() afterwards');
      await ctx.waitForSyncs(page, fresh, 1, 15000);
      await page.evaluate(() => T.appMessage('final'));
      await sleep(1500);
      assert.equal(ctx.syncs(page, backoff).length, 1, 'the tag in backoff fired again before its retry time');
      assert.ok(resolved(await page.getTags(), 'getTags() at the end').includes(backoff), 'the tag in backoff should still be registered');
      assert.equal(ctx.syncs(page, pending).length, 1, 'the pending tag should fire exactly once');
      const finalTexts = (await page.call('appMessages')).entries.filter((e) => e.app === 'hello').map((e) => e.text);
      assert.equal(finalTexts.at(-1), 'final', "the app's listener should still get the app's messages");
      await sleep(500);
      const errors = [...swErrors(ctx, page.scope), ...swErrors(ctx, other.scope)];
      assert.equal(errors.length, 0, `worker errors: ${short(errors)}`);
      const all = [online, onlineOther, direct, viaPort, fromOther];
      ctx.note(`${all.reduce((n, b) => n + b.posted.length, 0)} odd messages and ${all.reduce((n, b) => n + b.burst, 0)} pokes posted, ${all.reduce((n, b) => n + b.threw.length, 0)} refused by structured clone (DataCloneError)`);
      ctx.note(`the app saw ${appLog.total} messages, none keyed${ctx.native ? ' (native: the takeover\'s one message listener kept them, docs/semantics.md §8)' : ''}`);
    },
  },

  {
    name: 'scope-isolation',
    policy: 'none',
    timeout: 150000,
    async run(ctx) {
      const sw = { ctx: ctx.ctxName };
      const left = await ctx.open({ sw, sub: 'left' });
      const right = await ctx.open({ sw, sub: 'right' }); // siblings: neither scope contains the other
      const [s1, s2, leftOnly, rightOnly] = ['same-1', 'same-2', 'left-only', 'right-only'].map((s) => ctx.tag(s));
      const leftTags = [s1, s2, leftOnly];
      const rightTags = [s1, s2, rightOnly];
      const sameSet = (a, b, what) => assert.deepEqual([...a].sort(), [...b].sort(), what);

      await ctx.setOnline(false, left);
      await ctx.setOnline(false, right);
      for (const tag of leftTags) resolved(await left.register(tag), 'register() left');
      for (const tag of rightTags) resolved(await right.register(tag), 'register() right');
      sameSet(resolved(await left.getTags(), 'left getTags()'), leftTags, 'left page getTags()');
      sameSet(resolved(await right.getTags(), 'right getTags()'), rightTags, 'right page getTags()');
      sameSet(resolved(await left.call('getTags'), 'left worker getTags()'), leftTags, 'left worker getTags()');
      sameSet(resolved(await right.call('getTags'), 'right worker getTags()'), rightTags, 'right worker getTags()');
      // Each worker answers for its own registration only, whichever page asks.
      sameSet(resolved(await left.evaluate((s) => T.callOther(s, 'getTags'), right.scope), 'right worker asked by the left page'), rightTags,
        'the right worker, asked from the left page');

      // Forged pokes across scopes, while offline: nothing fires, nothing changes.
      const toRight = await left.evaluate((s) => T.forgeOtherScope(s, { burst: 1000, label: 'to-right' }), right.scope, 60000);
      const toLeft = await right.evaluate((s) => T.forgeOtherScope(s, { burst: 1000, label: 'to-left' }), left.scope, 60000);
      assert.ok(!toRight.error && !toLeft.error, `cross-scope forging: ${toRight.error ?? toLeft.error}`);
      assertThrows(toRight, 'to-right');
      assertThrows(toLeft, 'to-left');
      await sleep(ONLINE_LAG + 2000);
      assert.deepEqual(await left.call('events'), [], 'the left worker fired while offline');
      assert.deepEqual(await right.call('events'), [], 'the right worker fired while offline');
      sameSet(resolved(await left.getTags(), 'left getTags()'), leftTags, 'left getTags() after cross-scope messages');
      sameSet(resolved(await right.getTags(), 'right getTags()'), rightTags, 'right getTags() after cross-scope messages');

      // Online: each scope's tags fire once, in its own worker.
      await ctx.setOnline(true, left);
      const fired = async (page, tags) => waitFor(() => {
        const names = new Set(ctx.syncs(page, undefined).map((e) => e.tag));
        return tags.every((t) => names.has(t));
      }, { timeout: 30000, interval: 200, label: `every tag of ${page.scope}` });
      await fired(left, leftTags);
      await fired(right, rightTags);
      await ctx.waitForTagGone(left, s1, 15000);
      await ctx.waitForTagGone(right, s1, 15000);
      await sleep(1500);
      const tally = (page) => ctx.syncs(page, undefined).map((e) => e.tag.split(':').pop()).sort();
      assert.deepEqual(tally(left), ['left-only', 'same-1', 'same-2'], 'left scope: each of its tags once, no other');
      assert.deepEqual(tally(right), ['right-only', 'same-1', 'same-2'], 'right scope: each of its tags once, no other');
      // The workers' own records (this instance's, so a subset if one was restarted): never the other scope's tag.
      for (const [page, own] of [[left, ['left-only', 'same-1', 'same-2']], [right, ['right-only', 'same-1', 'same-2']]]) {
        const inMemory = (await page.call('events')).map((e) => e.tag.split(':').pop());
        const foreign = inMemory.filter((t) => !own.includes(t));
        assert.ok(foreign.length === 0 && new Set(inMemory).size === inMemory.length,
          `the worker of ${page.scope} fired ${short(inMemory)}; its own tags are ${own.join(', ')}`);
      }

      // Unregistering one scope leaves the other's tags, of the same names.
      await ctx.setOnline(false, left);
      await ctx.setOnline(false, right);
      for (const tag of [s1, s2]) {
        resolved(await left.register(tag), 'register() left again');
        resolved(await right.register(tag), 'register() right again');
      }
      assert.equal(resolved(await right.unregister(), 'right registration.unregister()'), true, 'unregister() should resolve true');
      await waitFor(async () => !(await left.evaluate(() => T.scopes())).includes(right.scope), { timeout: 10000, label: 'the right registration gone' });
      sameSet(resolved(await left.getTags(), 'left getTags()'), [s1, s2], 'left getTags() after the right scope was unregistered');
      sameSet(resolved(await left.call('getTags'), 'left worker getTags()'), [s1, s2], 'left worker getTags() after the right scope was unregistered');
      await right.evaluate((url) => T.setup(url), ctx.swUrl(sw));
      assert.deepEqual(resolved(await right.getTags(), 'new right getTags()'), [], 'a new registration at the unregistered scope has no tags');
      await ctx.setOnline(true, left);
      await waitFor(() => ctx.syncs(left, s1).length >= 2 && ctx.syncs(left, s2).length >= 2, { timeout: 20000, interval: 200, label: 'the left tags fired again' });
      await sleep(3000);
      assert.deepEqual(tally(left), ['left-only', 'same-1', 'same-1', 'same-2', 'same-2'], 'left scope after the right was unregistered');
      assert.deepEqual(tally(right), ['right-only', 'same-1', 'same-2'], "the unregistered scope's tags must never fire");
      const errors = [...swErrors(ctx, left.scope), ...swErrors(ctx, right.scope)];
      assert.equal(errors.length, 0, `worker errors: ${short(errors)}`);
      ctx.note(`cross-scope: ${toRight.posted.length + toLeft.posted.length} odd messages, ${toRight.burst + toLeft.burst} pokes`);
    },
  },
];

export { KEY };
