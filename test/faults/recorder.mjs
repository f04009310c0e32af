// What a fault scenario records beside the server log: the register() calls it made (when, from where) and the
// faults it caused (which worker instance or browser died when). The invariants are checked over all three.
import assert from 'node:assert/strict';
import { buildFirings, checkInvariants } from './invariants.mjs';
import { short, waitFor } from '../kit/util.mjs';

/** A beat every 500 ms (test/kit/fixtures/sw.js): a holding worker whose beats stopped this long ago is dead. */
const BEAT_SILENCE = 2500;

export function createRecorder(ctx) {
  const registrations = [];
  const kills = [];
  const scope = ctx.scopeUrl();
  const prefix = ctx.tag('');
  const mine = (entry) => typeof entry.scope === 'string' && entry.scope.startsWith(scope) && typeof entry.tag === 'string' && entry.tag.startsWith(prefix);

  const rec = {
    registrations,
    kills,
    /** This scenario's server log entries. */
    log: () => ctx.server.log.filter(mine),

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

    /** Sync events and handler ends of a tag (or of every tag), in arrival order. */
    syncs: (tag) => rec.log().filter((e) => e.type === 'sync' && e.via === 'listener' && (!tag || e.tag === tag)),
    ends: (tag) => rec.log().filter((e) => e.type === 'syncEnd' && (!tag || e.tag === tag)),
    beats: (tag, instance) => rec.log().filter((e) => e.type === 'beat' && e.tag === tag && (!instance || e.instance === instance)),

    /**
     * Waits until the worker instance holding `tag` stops beating with no syncEnd: it died. Records the kill at the
     * last beat + 500 ms (it died in between) and returns that time.
     */
    async waitForDeathByBeats(tag, instance, timeout) {
      const died = await waitFor(() => {
        if (rec.ends(tag).some((e) => e.instance === instance)) throw new Error(`the handler of ${tag} in worker ${instance} ended: the worker was not killed`);
        const beats = rec.beats(tag, instance);
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

    /** The invariants over everything this scenario recorded. */
    check(policy) {
      return checkInvariants({
        log: rec.log(),
        registrations,
        kills,
        maxAttempts: policy.maxAttempts,
        maxEventDuration: policy.maxEventDuration,
      });
    },
  };
  return rec;
}
