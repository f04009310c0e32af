/**
 * The page half: the shared globals, register() and getTags() as requests to the worker (src/page/host.ts), and the
 * wake-ups that poke it (docs/semantics.md §4). No store and no state machine: those are the worker's.
 */
import type { Options } from '../options';
import { defineSharedGlobals } from '../web/globals';
import { setSyncHost } from '../web/sync-manager';
import { dropTags, pageHost, periodicPageHost } from './host';
import { pageWakeups } from './wakeups';
import { grantPermissions } from './permissions';

/**
 * Installs in a window; returns what applies checked options here, or null where the page has no service workers
 * (nothing is installed then).
 */
export function installPage(report: (error: unknown) => void): ((options: Options) => void) | null {
  if (typeof ServiceWorkerRegistration === 'undefined' || !navigator.serviceWorker) return null;
  const wakeups = pageWakeups(report);
  defineSharedGlobals(dropTags);
  grantPermissions();
  setSyncHost(pageHost(wakeups.registered), periodicPageHost(wakeups.registered));
  wakeups.start();
  return (options) => {
    if (options.checkInterval !== undefined) wakeups.setCheckInterval(options.checkInterval as number);
  };
}
