// What a fault scenario records beside the server log: the register() calls it made (when, from where), periodic
// sync's register() and unregister() calls, the faults it caused (which worker instance or browser died when), the
// windows in which nothing could fire (browser down, offline) and when it stopped watching. The invariants are
// checked over all of it.
import assert from 'node:assert/strict';
import { buildFirings, checkInvariants } from './invariants.mjs';
import { short, waitFor } from '../kit/util.mjs';

/** A beat every 500 ms (test/kit/fixtures/sw.js): a holding worker whose beats stopped this long ago is dead. */
const BEAT_SILENCE = 2500;

/** One event start, in the server log or the worker's journal. */
const startKey = (e) => `${e.tag}|${e.instance}|${e.t}`;

export function createRecorder(ctx) {
  const registrations = [];
  const kills = [];
  const periodicRegistrations = [];
  const periodicUnregistrations = [];
  const pauses = [];
  /** Periodic starts from the worker's journal that the server log lacks (a browser killed before the report). */
  const journaled = [];
  let until = null;
  const scope = ctx.scopeUrl();
  const prefix = ctx.tag('');
  const mine = (entry) => typeof entry.scope === 'string' && entry.scope.startsWith(scope) && typeof entry.tag === 'string' && entry.tag.startsWith(prefix);

  const rec = {
    registrations,
    kills,
    periodicRegistrations,
    periodicUnregistrations,
    pauses,
    /** This scenario's server log entries, with the periodic starts only the journal saw (`fromJournal`). */
    log() {
      const logged = ctx.server.log.filter(mine);
      if (!journaled.length) return logged;
      // A start the server heard of since the journal was read is the server's.
      const heard = new Set(logged.filter((e) => e.type === 'periodicsync').map(startKey));
      return [...logged, ...journaled.filter((e) => !heard.has(startKey(e)))];
    },

    /** register() from a page, for each tag at once; every call must resolve. */
    async register(page, tags, from = 'page') {
      const list = Array.isArray(tags) ? tags : [tags];
      const t = Date.now();
      const results = await page.registerMany(list);
      const tDone = Date.now();
      results.forEach((result, i) => assert.equal(result.ok, true, `register(${list[i].split(':').pop()}) should resolve, got ${short(result)}`));
      for (const tag of list) registrations.push({ tag, t, tDone, from });
    },

    /** register() in the service worker (its `registerLater` command), asked by a page. */
    async registerFromWorker(page, tag) {
      const t = Date.now();
      const result = await page.call('registerLater', { tag, delay: 0 });
      const tDone = Date.now();
      assert.equal(result.ok, true, `register(${tag.split(':').pop()}) in the worker should resolve, got ${short(result)}`);
      registrations.push({ tag, t, tDone, from: 'worker' });
    },

    kill: (t, instance, how) => kills.push({ t, instance, how }),

    /**
     * periodicSync.register(tag, {minInterval}) from a page, for each tag at once; every call must resolve. `page` is a
     * test page (or anything with its evaluate()).
     */
    async periodicRegister(page, tags, minInterval, from = 'page') {
      const list = Array.isArray(tags) ? tags : [tags];
      const t = Date.now();
      const results = await page.evaluate(({ list: l, minInterval: m }) => Promise.all(l.map((tag) => T.periodicRegister(tag, { minInterval: m }))), { list, minInterval });
      const tDone = Date.now();
      results.forEach((result, i) => assert.equal(result.ok, true, `periodicSync.register(${list[i].split(':').pop()}) should resolve, got ${short(result)}`));
      for (const tag of list) periodicRegistrations.push({ tag, t, tDone, from, minInterval });
    },

    /** periodicSync.register() in the service worker (its `periodicRegister` command), asked by a page. */
    async periodicRegisterFromWorker(page, tag, minInterval) {
      const t = Date.now();
      const result = await page.call('periodicRegister', { tag, options: { minInterval } });
      const tDone = Date.now();
      assert.equal(result.ok, true, `periodicSync.register(${tag.split(':').pop()}) in the worker should resolve, got ${short(result)}`);
      periodicRegistrations.push({ tag, t, tDone, from: 'worker', minInterval });
    },

    /** periodicSync.unregister() from a page, for each tag; every call must resolve. */
    async periodicUnregister(page, tags) {
      const list = Array.isArray(tags) ? tags : [tags];
      const t = Date.now();
      const results = await page.evaluate((l) => Promise.all(l.map((tag) => T.periodicUnregister(tag))), list);
      const tDone = Date.now();
      results.forEach((result, i) => assert.equal(result.ok, true, `periodicSync.unregister(${list[i].split(':').pop()}) should resolve, got ${short(result)}`));
      for (const tag of list) periodicUnregistrations.push({ tag, t, tDone });
    },

    /** periodicSync.getTags() in a page: the tags, or it throws. */
    async periodicTags(page) {
      const result = await page.evaluate(() => T.periodicGetTags());
      assert.equal(result.ok, true, `periodicSync.getTags() should resolve, got ${short(result)}`);
      return result.value;
    },

    /** A window in which nothing could fire (the browser down until a page visited again, offline). */
    pause: (from, to) => pauses.push({ from, to }),

    /** The end of the observation: periodic schedules are judged up to now (the runner calls it before cleanup). */
    endObservation() {
      until ??= Date.now();
      return until;
    },

    /**
     * The worker's journal (its `journal` command): periodic starts before `before` (a kill) that the server log lacks
     * (same tag, instance and time) join the log, so the invariants see a firing whose report the kill cut off. Later
     * starts are left out: their reports may still be on their way.
     */
    addJournal(entries, before = Infinity) {
      const logged = new Set(ctx.server.log.filter(mine).filter((e) => e.type === 'periodicsync').map(startKey));
      const added = entries
        .filter((e) => e.periodic && typeof e.tag === 'string' && e.tag.startsWith(prefix) && e.t < before && !logged.has(startKey(e)))
        .map((e) => ({ type: 'periodicsync', tag: e.tag, t: e.t, instance: e.instance, scope: e.scope, fromJournal: true }));
      journaled.push(...added);
      return added;
    },

    /** Periodic events (the listener's) and their handler ends, of a tag (or of every tag), in arrival order. */
    periodicSyncs: (tag) => rec.log().filter((e) => e.type === 'periodicsync' && e.via === undefined && (!tag || e.tag === tag)),
    periodicEnds: (tag) => rec.log().filter((e) => e.type === 'periodicEnd' && (!tag || e.tag === tag)),
    periodicBeats: (tag, instance) => rec.log().filter((e) => e.type === 'beat' && e.periodic && e.tag === tag && (!instance || e.instance === instance)),

    /** Sync events and handler ends of a tag (or of every tag), in arrival order. */
    syncs: (tag) => rec.log().filter((e) => e.type === 'sync' && e.via === 'listener' && (!tag || e.tag === tag)),
    ends: (tag) => rec.log().filter((e) => e.type === 'syncEnd' && (!tag || e.tag === tag)),
    beats: (tag, instance) => rec.log().filter((e) => e.type === 'beat' && !e.periodic && e.tag === tag && (!instance || e.instance === instance)),

    /**
     * Waits until the worker instance holding `tag` stops beating with no syncEnd: it died. Records the kill at the
     * last beat + 500 ms (it died in between) and returns that time.
     */
    async waitForDeathByBeats(tag, instance, timeout, { periodic = false } = {}) {
      const ends = periodic ? rec.periodicEnds : rec.ends;
      const beatsOf = periodic ? rec.periodicBeats : rec.beats;
      const died = await waitFor(() => {
        if (ends(tag).some((e) => e.instance === instance)) throw new Error(`the handler of ${tag} in worker ${instance} ended: the worker was not killed`);
        const beats = beatsOf(tag, instance);
        const last = beats[beats.length - 1];
        return last && Date.now() - last.receivedAt > BEAT_SILENCE ? last.t + 500 : null;
      }, { timeout, interval: 250, label: `the worker holding ${tag.split(':').pop()} to stop beating` });
      kills.push({ t: died, instance, how: 'beats stopped' });
      return died;
    },

    /** Firings of this scenario not yet ended (no syncEnd, no kill, no timeout by now). */
    openFirings(maxEventDuration) {
      const now = Date.now();
      return buildFirings(rec.log(), kills, maxEventDuration).filter((f) => f.end > now);
    },

    /** Waits until getTags() in the page is empty and no firing is open, then a little more for stray firings. */
    async waitSettled(page, { timeout, maxEventDuration, quiet = 1500 }) {
      await waitFor(async () => {
        const tags = await page.getTags();
        return tags.ok && tags.value.length === 0 && rec.openFirings(maxEventDuration).length === 0;
      }, { timeout, interval: 300, label: 'every tag settled (getTags() empty, no firing open)' }).catch(async (error) => {
        const tags = await page.getTags().catch((e) => ({ error: e.message }));
        const open = rec.openFirings(maxEventDuration).map((f) => f.tag.split(':').pop());
        throw new Error(`${error.message}; getTags(): ${short(tags.value?.map((t) => t.split(':').pop()) ?? tags, 200)}; open firings: ${short(open, 200)}`);
      });
      await new Promise((resolve) => setTimeout(resolve, quiet));
    },

    /** The invariants over everything this scenario recorded; `judge` overrides periodic sync's limits (maxLate…). */
    check(policy, judge = {}) {
      return checkInvariants({
        log: rec.log(),
        registrations,
        kills,
        maxAttempts: policy.maxAttempts,
        maxEventDuration: policy.maxEventDuration,
        periodic: {
          registrations: periodicRegistrations,
          unregistrations: periodicUnregistrations,
          policy,
          until: until ?? Date.now(),
          pauses,
          ...judge,
        },
      });
    },
  };
  return rec;
}
