/**
 * Page-side wake-ups (docs/semantics.md §4): on load, `online`, `visibilitychange` to visible, `pageshow`, `focus`,
 * after register(), at the earliest retry, and periodically while visible, a page reads the store and pokes
 * the worker of every scope that has something due. The worker decides what fires; a poke only wakes it.
 */
import * as store from '../store/db';
import { MAX_DELAY } from '../core/policy';
import { needsWork, nextWake } from '../core/registration';
import { poke } from '../protocol';

const DEFAULT_CHECK_INTERVAL = 60000;
/** A check after register() or `online` waits for a burst to end, but never longer than the maximum. */
const SOON_DELAY = 1000;
const SOON_MAX_DELAY = 5000;

export class PageWakeups {
  private checkInterval = DEFAULT_CHECK_INTERVAL;
  private interval: ReturnType<typeof setInterval> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private checking: Promise<void> | null = null;
  private again = false;
  private soonTimer: ReturnType<typeof setTimeout> | undefined;
  private soonSince = 0;

  constructor(private readonly report: (error: unknown) => void) {}

  start(): void {
    const check = () => void this.check();
    for (const type of ['focus', 'pageshow']) addEventListener(type, check);
    addEventListener('online', () => this.online());
    document.addEventListener('visibilitychange', () => this.visibilityChanged());
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
   * After register() resolved: the page knows the registration, so it pokes without reading the store. A check
   * a moment later sees the firing and arms the page's timer for its outcome (a retry, or a lapsed lease).
   */
  registered(registration: ServiceWorkerRegistration): void {
    if (navigator.onLine) sendPoke(registration);
    this.checkSoon();
  }

  /**
   * Back online: poke the worker of the page's own registration at once, since the worker decides what is due
   * anyway. The check for other scopes comes a moment later, so that its read of the store does not hold up
   * the worker's claim (a readwrite transaction waits for the reads before it).
   */
  private online(): void {
    navigator.serviceWorker.getRegistration().then((registration) => {
      if (registration && registration.active && navigator.onLine) {
        sendPoke(registration);
        this.checkSoon();
      } else {
        void this.check();
      }
    }, (e) => {
      this.report(e);
      void this.check();
    });
  }

  /**
   * A check soon, once per burst: after a run of register() calls, 1 s after the last but never more than 5 s
   * after the first. A check reads every record, so one per register() would grow with N² in a burst.
   */
  private checkSoon(): void {
    const now = Date.now();
    if (this.soonTimer === undefined) this.soonSince = now;
    clearTimeout(this.soonTimer);
    const delay = Math.min(SOON_DELAY, this.soonSince + SOON_MAX_DELAY - now);
    this.soonTimer = setTimeout(() => {
      this.soonTimer = undefined;
      void this.check();
    }, Math.max(delay, 0));
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
    if (!records.length) return;
    const registrations = await navigator.serviceWorker.getRegistrations();
    const byScope = new Map(registrations.map((r): [string, ServiceWorkerRegistration] => [r.scope, r]));
    const now = Date.now();
    const due = new Set(records.filter((r) => needsWork(r, now)).map((r) => r.scope));
    const removals: Promise<void>[] = [];
    for (const scope of new Set(records.map((r) => r.scope))) {
      const registration = byScope.get(scope);
      if (!registration) removals.push(store.removeScope(scope));
      else if (due.has(scope) && navigator.onLine) sendPoke(registration);
    }
    this.wakeAt(nextWake(records.filter((r) => byScope.has(r.scope))));
    await Promise.all(removals);
  }

  /** A past time is due already and was poked: the next trigger or periodic check covers it, not a spin. */
  private wakeAt(time: number): void {
    clearTimeout(this.timer);
    if (time !== Infinity && time > Date.now()) {
      this.timer = setTimeout(() => void this.check(), Math.min(time - Date.now() + 10, MAX_DELAY));
    }
  }
}

function sendPoke(registration: ServiceWorkerRegistration): void {
  if (registration.active) registration.active.postMessage(poke(navigator.onLine));
}
