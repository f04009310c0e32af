/**
 * Page-side wake-ups (docs/semantics.md §4): on load, `online`, `visibilitychange` to visible, `pageshow`, `focus`,
 * after register(), at the earliest retry, and periodically while visible, a page pokes the worker of every scope that
 * has something due. The worker decides what fires; a poke only wakes it. What is due the page learns from its checks
 * of the store and, between them, from the workers' notices (src/protocol.ts), which also name the leases of running
 * firings: the page waits on their locks and pokes the moment an instance dies (src/liveness.ts).
 */
import * as store from '../store/db';
import { MAX_DELAY } from '../core/policy';
import { SyncRecord, isLockedFiring, needsWork, nextWake } from '../core/registration';
import { Notice, PROTOCOL_KEY, isNotice, poke } from '../protocol';
import { deadAmong, watch } from '../liveness';

const DEFAULT_CHECK_INTERVAL = 60000;

export class PageWakeups {
  private checkInterval = DEFAULT_CHECK_INTERVAL;
  private interval: ReturnType<typeof setInterval> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private checking: Promise<void> | null = null;
  private again = false;
  /** Scope → when it next needs a poke (Infinity: not by time), for every scope known to have registrations. */
  private readonly due = new Map<string, number>();
  /** Scope → the leases last known to be firing there under a lock. */
  private readonly leases = new Map<string, string[]>();
  /** The workers' notices come in on it, and pokes go out on it to the workers that run (src/protocol.ts). */
  private channel: BroadcastChannel | undefined;

  constructor(private readonly report: (error: unknown) => void) {}

  start(): void {
    const check = () => void this.check();
    for (const type of ['focus', 'pageshow']) addEventListener(type, check);
    addEventListener('online', () => this.online());
    document.addEventListener('visibilitychange', () => this.visibilityChanged());
    if (typeof BroadcastChannel !== 'undefined') {
      (this.channel = new BroadcastChannel(PROTOCOL_KEY)).onmessage = (event) => {
        if (isNotice(event.data)) this.heard(event.data);
      };
    }
    if (document.readyState === 'complete') check();
    else addEventListener('load', check);
    this.visibilityChanged();
  }

  setCheckInterval(ms: number): void {
    this.checkInterval = ms;
    this.visibilityChanged();
  }

  /** The periodic check runs only while the page is visible. */
  private visibilityChanged(): void {
    clearInterval(this.interval);
    if (document.visibilityState !== 'hidden') {
      this.interval = setInterval(() => void this.check(), this.checkInterval);
      void this.check();
    }
  }

  /**
   * After register() resolved: the page knows the registration, so it pokes without reading the store. What the
   * worker then decides (a retry, a firing to watch) comes back as its notice.
   */
  registered(registration: ServiceWorkerRegistration): void {
    if (!this.due.has(registration.scope)) this.due.set(registration.scope, Infinity);
    if (navigator.onLine) sendPoke(registration);
  }

  /** A worker's notice: a hint, acted on only by poking (src/protocol.ts). */
  heard({ scope, next, leases }: Notice): void {
    if (next === Infinity && !leases.length) this.due.delete(scope);
    else this.due.set(scope, next);
    this.watchLeases(scope, leases);
    this.arm();
  }

  /**
   * Waits on the locks of `scope`'s firings: when one is granted, its instance is dead, and unless a later notice
   * or check said the firing settled, the worker is poked to reap it.
   */
  private watchLeases(scope: string, leases: string[]): void {
    this.leases.set(scope, leases);
    for (const lease of leases) {
      watch(lease, () => {
        if ((this.leases.get(scope) || []).indexOf(lease) >= 0) void this.pokeScopes((s) => s === scope);
      });
    }
  }

  /**
   * Back online: poke the worker of the page's own registration at once (its controller, if any, without waiting for
   * the registration), and those of the other scopes the page knows to have registrations, without reading the
   * store: each worker decides what is due anyway.
   */
  private online(): void {
    // The running workers hear the channel first; the postMessages wake the ones that do not run.
    if (this.channel) this.channel.postMessage(poke(true));
    const controller = navigator.serviceWorker.controller;
    if (controller) controller.postMessage(poke(true));
    navigator.serviceWorker.getRegistration().then((registration) => {
      if (registration && registration.active && navigator.onLine) {
        if (!controller || registration.active !== controller) sendPoke(registration);
        void this.pokeScopes((scope) => scope !== registration.scope && this.due.has(scope));
      } else {
        void this.check();
      }
    }, (e) => {
      this.report(e);
      void this.check();
    });
  }

  /** Pokes the worker of every registration whose scope passes `which`, while online. */
  private pokeScopes(which: (scope: string) => boolean): Promise<void> {
    return navigator.serviceWorker.getRegistrations().then((registrations) => {
      for (const registration of registrations) {
        if (which(registration.scope) && navigator.onLine) sendPoke(registration);
      }
    }, this.report);
  }

  /** Checks are serialized; a check asked for during one runs once more after it. Never rejects. */
  check(): Promise<void> {
    if (this.checking) {
      this.again = true;
      return this.checking;
    }
    this.checking = this.checkOnce().catch(this.report).then(() => {
      this.checking = null;
      const again = this.again;
      this.again = false;
      return again ? this.check() : undefined;
    });
    return this.checking;
  }

  private async checkOnce(): Promise<void> {
    // Records first, then registrations: a record's registration existed before the record was written, so
    // a registration missing afterwards really is gone (docs/semantics.md §3: unregistering drops its tags).
    const records = await store.listAll();
    this.due.clear();
    this.leases.clear();
    if (!records.length) return;
    const [registrations, dead] = await Promise.all([
      navigator.serviceWorker.getRegistrations(),
      // Leases read from the store before the look-up: a free lock means a dead instance (src/liveness.ts).
      deadAmong(records.filter(isLockedFiring).map((r) => r.lease)),
    ]);
    const now = Date.now();
    const byScope = new Map<string, SyncRecord[]>();
    for (const r of records) {
      const list = byScope.get(r.scope);
      if (list) list.push(r);
      else byScope.set(r.scope, [r]);
    }
    const removals: Promise<void>[] = [];
    for (const registration of registrations) {
      const mine = byScope.get(registration.scope);
      byScope.delete(registration.scope);
      if (!mine) continue;
      this.due.set(registration.scope, nextWake(mine));
      this.watchLeases(registration.scope, mine.filter((r) => isLockedFiring(r) && !dead.has(r.lease)).map((r) => r.lease));
      if (mine.some((r) => needsWork(r, now, dead)) && navigator.onLine) sendPoke(registration);
    }
    // What is left has no registration.
    for (const scope of byScope.keys()) removals.push(store.removeScope(scope));
    this.arm();
    await Promise.all(removals);
  }

  /**
   * Arms the timer for the earliest future time a scope is due, and pokes those due by then. A past time was poked
   * already: the next notice, trigger or periodic check covers it, not a spin.
   */
  private arm(): void {
    clearTimeout(this.timer);
    let time = Infinity;
    const now = Date.now();
    for (const t of this.due.values()) if (t > now) time = Math.min(time, t);
    if (time === Infinity) return;
    this.timer = setTimeout(() => {
      void this.pokeScopes((scope) => (this.due.get(scope) as number) <= time);
      this.arm();
    }, Math.min(time - now + 10, MAX_DELAY));
  }
}

function sendPoke(registration: ServiceWorkerRegistration): void {
  if (registration.active) registration.active.postMessage(poke(navigator.onLine));
}
