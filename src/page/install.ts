/** The page half: the shared globals, and the wake-ups that poke the worker (docs/semantics.md §4). */
import type { Options } from '../options';
import { defineSharedGlobals } from '../web/globals';
import { setSyncHost } from '../web/sync-manager';
import { PageWakeups } from './wakeups';

/**
 * Installs in a window; returns what applies checked options here, or null where the page has no service workers
 * (nothing is installed then).
 */
export function installPage(report: (error: unknown) => void): ((options: Options) => void) | null {
  if (typeof ServiceWorkerRegistration === 'undefined' || !navigator.serviceWorker) return null;
  defineSharedGlobals();
  const wakeups = new PageWakeups(report);
  setSyncHost(wakeups);
  wakeups.start();
  return (options) => {
    if (options.checkInterval !== undefined) wakeups.setCheckInterval(options.checkInterval as number);
  };
}
