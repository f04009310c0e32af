/**
 * Page-side wake-ups (docs/semantics.md §4): on load, `online`, `visibilitychange` to visible, `pageshow`, `focus`,
 * at the earliest retry, and periodically while visible, a page pokes the workers it knows of: its own registration's,
 * those it registered tags with, and those whose notices (src/protocol.ts) said something is scheduled. The page
 * reads no store: the worker decides what fires, a poke only wakes it. The notices also name the leases of running
 * firings: the page waits on their locks and pokes the moment an instance dies (src/liveness.ts).
 */
import { MAX_DELAY } from '../core/policy';
import { Notice, PROTOCOL_KEY, isNotice, poke } from '../protocol';
import { watch } from '../liveness';

const DEFAULT_CHECK_INTERVAL = 60000;

export class PageWakeups {
  private checkInterval = DEFAULT_CHECK_INTERVAL;
  private interval: ReturnType<typeof setInterval> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Scope → when it next needs a poke (Infinity: not by time), for every scope known to have registrations. */
  private readonly due = new Map<string, number>();
  /** Scope → the leases last known to be firing there under a lock. */
  private readonly leases = new Map<string, string[]>();
  /** The workers' notices come in on it, and pokes go out on it to the workers that run (src/protocol.ts). */
  private channel: BroadcastChannel | undefined;

  constructor(private readonly report: (error: unknown) => void) {}

  start(): void {
    const check = () => void this.check();
    for (const type of ['focus', 'pageshow', 'load']) addEventListener(type, check);
    addEventListener('online', () => this.online());
    document.addEventListener('visibilitychange', () => this.visibilityChanged());
    if (typeof BroadcastChannel !== 'undefined') {
      (this.channel = new BroadcastChannel(PROTOCOL_KEY)).onmessage = (event) => {
        if (isNotice(event.data)) this.heard(event.data);
      };
    }
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

  /** After register() resolved: the worker has woken itself; its scope is one this page pokes from now on. */
  registered(registration: ServiceWorkerRegistration): void {
    if (!this.due.has(registration.scope)) this.due.set(registration.scope, Infinity);
  }

  /** A worker's notice: a hint, acted on only by poking (src/protocol.ts). */
  heard({ scope, next, leases }: Notice): void {
    this.due.set(scope, next);
    this.watchLeases(scope, leases);
    this.arm();
  }

  /**
   * Waits on the locks of `scope`'s firings: when one is granted, its instance is dead, and unless a later notice
   * said the firing settled, the worker is poked to reap it.
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
   * Back online: poke the running workers on the channel and the page's controller at once, then the workers of
   * the page's own registration and of the scopes it knows, which may not run.
   */
  private online(): void {
    if (this.channel) this.channel.postMessage(poke(true));
    const controller = navigator.serviceWorker.controller;
    if (controller) controller.postMessage(poke(true));
    void this.check(controller);
  }

  /** Pokes the workers of the page's own registration and of every scope it knows of, while online. Never rejects. */
  check(skip?: ServiceWorker | null): Promise<void> {
    return navigator.serviceWorker.getRegistration().then((own) => {
      if (own) this.registered(own);
      return this.pokeScopes((scope) => this.due.has(scope), skip);
    }).catch(this.report);
  }

  /** Pokes the worker of every registration whose scope passes `which`, while online (but `skip`, poked already). */
  private pokeScopes(which: (scope: string) => boolean, skip?: ServiceWorker | null): Promise<void> {
    return navigator.serviceWorker.getRegistrations().then((registrations) => {
      for (const { active, scope } of registrations) {
        if (which(scope) && active && active !== skip && navigator.onLine) active.postMessage(poke(true));
      }
    }, this.report);
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
