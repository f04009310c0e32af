/**
 * Page-side wake-ups (docs/semantics.md §4): on load, `online`, `visibilitychange` to visible, `pageshow`, `focus`,
 * at the earliest retry, and periodically while visible, a page pokes the workers it knows of: its own registration's,
 * those it registered tags with, and those whose notices (src/protocol.ts) said something is scheduled. The page
 * reads no store: the worker decides what fires, a poke only wakes it. The notices also name the leases of running
 * firings: the page waits on their locks and pokes the moment an instance dies (src/liveness.ts).
 *
 * Closures rather than a class: their names minify, where a class's members would not (the page script's bytes).
 */
import { MAX_DELAY } from '../core/policy';
import { Notice, PROTOCOL_KEY, isNotice, poke } from '../protocol';
import { watch } from '../liveness';

const DEFAULT_CHECK_INTERVAL = 60000;
/** Every poke a page sends says it is online: it sends none while offline. */
const POKE = poke(true);

export interface PageWakeups {
  /** Adds the listeners and runs the first check. */
  start(): void;
  setCheckInterval(ms: number): void;
  /** After register() resolved: the worker has woken itself; its scope is one this page pokes from now on. */
  registered(registration: ServiceWorkerRegistration): void;
  /** A worker's notice: a hint, acted on only by poking (src/protocol.ts). */
  heard(notice: Notice): void;
  /** Pokes the workers of the page's own registration and of every scope it knows of, while online. Never rejects. */
  check(skip?: unknown): Promise<void>;
}

export function pageWakeups(report: (error: unknown) => void): PageWakeups {
  let checkInterval = DEFAULT_CHECK_INTERVAL;
  let interval: ReturnType<typeof setInterval> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** Scope → when it next needs a poke (Infinity: not by time), for every scope known to have a polyfill worker. */
  const due = new Map<string, number>();
  /** Scope → the leases last known to be firing there under a lock. */
  const leases = new Map<string, string[]>();
  /** The workers' notices come in on it, and pokes go out on it to the workers that run (src/protocol.ts). */
  let channel: BroadcastChannel | undefined;

  /** The periodic check runs only while the page is visible. */
  const visibilityChanged = () => {
    clearInterval(interval);
    if (document.visibilityState !== 'hidden') {
      interval = setInterval(() => void check(), checkInterval);
      void check();
    }
  };

  const registered = ({ scope }: ServiceWorkerRegistration) => {
    if (!due.has(scope)) due.set(scope, Infinity);
  };

  /**
   * Pokes, while online, the worker of every registration whose scope passes `which` (by default: the page's own
   * registration, the one whose scope its URL is under, and every scope it knows of), but `skip`, poked already.
   * Never rejects.
   */
  const check = (skip?: unknown, which = (scope: string) => due.has(scope) || location.href.indexOf(scope) == 0): Promise<void> =>
    navigator.serviceWorker.getRegistrations().then((registrations) => {
      for (const { active, scope } of registrations) {
        if (which(scope) && active && active !== skip && navigator.onLine) active.postMessage(POKE);
      }
    }, report);

  /**
   * Arms the timer for the earliest future time a scope is due, and pokes those due by then. A past time was poked
   * already: the next notice, trigger or periodic check covers it, not a spin.
   */
  const arm = () => {
    clearTimeout(timer);
    let time = Infinity;
    const now = Date.now();
    for (const t of due.values()) if (t > now) time = Math.min(time, t);
    if (time < Infinity) {
      timer = setTimeout(() => {
        // Poked once: the time is forgotten (the scope stays known), so a later timer does not poke it again.
        void check(0, (scope) => (due.get(scope) as number) <= time && !!due.set(scope, Infinity));
        arm();
      }, Math.min(time - now + 10, MAX_DELAY));
    }
  };

  /**
   * A notice: arm for its time, and wait on the locks of the scope's firings: when one is granted, its instance is
   * dead, and unless a later notice said the firing settled, the worker is poked to reap it.
   */
  const heard = ({ scope, next, leases: firing }: Notice) => {
    due.set(scope, next);
    leases.set(scope, firing);
    for (const lease of firing) {
      watch(lease, () => {
        if ((leases.get(scope) as string[]).indexOf(lease) >= 0) void check(0, (s) => s === scope);
      });
    }
    arm();
  };

  return {
    start() {
      for (const type of ['focus', 'pageshow', 'load']) addEventListener(type, () => void check());
      // Back online: the running workers hear the channel and the page's controller at once; then the workers of the
      // page's own registration and of the scopes it knows, which may not run.
      addEventListener('online', () => {
        if (channel) channel.postMessage(POKE);
        const controller = navigator.serviceWorker.controller;
        if (controller) controller.postMessage(POKE);
        void check(controller);
      });
      document.addEventListener('visibilitychange', visibilityChanged);
      if (typeof BroadcastChannel !== 'undefined') {
        (channel = new BroadcastChannel(PROTOCOL_KEY)).onmessage = (event) => {
          if (isNotice(event.data)) heard(event.data);
        };
      }
      visibilityChanged();
    },
    setCheckInterval(ms) {
      checkInterval = ms;
      visibilityChanged();
    },
    registered,
    heard,
    check,
  };
}
