/**
 * The page half: the shared globals, register() and getTags() as requests to the worker (src/page/host.ts), and the
 * wake-ups that poke it (docs/semantics.md §4). No store and no state machine: those are the worker's. Where the engine
 * has the API, only the takeover of its refusals (§8), and the wake-ups once the origin has a tag the polyfill took.
 */
import type { Installed } from '../global';
import { PROTOCOL_KEY } from '../protocol';
import { defineSharedGlobals } from '../web/globals';
import { setSyncHost } from '../web/sync-manager';
import { takeOver } from '../web/takeover';
import { dropTags, pageHost, periodicPageHost } from './host';
import { pageWakeups } from './wakeups';
import { grantPermissions } from './permissions';

/**
 * Does the origin have tags the polyfill took over from a refusing engine? A mark in localStorage, set by the page whose
 * call was taken over, read by every page of the origin: only then does a page where the API is native ask the worker
 * for its tags and poke it.
 */
export function marked(set?: boolean): boolean {
  try {
    if (set) localStorage.setItem(PROTOCOL_KEY, '1');
    return !!localStorage.getItem(PROTOCOL_KEY);
  } catch (e) {
    // No storage (an opaque origin, a sandboxed frame): this page's own calls still work.
    return !!set;
  }
}

/**
 * Installs in a window; returns what applies checked options here and wake(), or null where the page has no service
 * workers (nothing is installed then).
 */
export function installPage(report: (error: unknown) => void, native: boolean): Installed | null {
  if (typeof ServiceWorkerRegistration === 'undefined' || !navigator.serviceWorker) return null;
  const wakeups = pageWakeups(report);
  let started = false;
  const start = () => {
    if (!started) wakeups.start();
    started = true;
  };
  defineSharedGlobals(dropTags, native);
  const registered = (registration: ServiceWorkerRegistration) => {
    wakeups.registered(registration);
    if (native) marked(true);
    start();
  };
  setSyncHost(pageHost(registered), periodicPageHost(registered));
  if (native) {
    takeOver((manager) => navigator.serviceWorker.getRegistrations().then((registrations) => registrations.filter(
      (registration) => registration.sync === manager || registration.periodicSync === manager,
    )[0]), marked);
    // After the load, not during it: the first read of localStorage can cost the page a round trip to its storage.
    setTimeout(() => marked() && start());
  } else {
    grantPermissions();
    start();
  }
  return {
    configure(options) {
      if (options.checkInterval !== undefined) wakeups.setCheckInterval(options.checkInterval as number);
    },
    wake: () => started && wakeups.check(),
  };
}
