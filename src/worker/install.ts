/**
 * The worker half: the shared globals plus SyncEvent and `onsync`, a Dispatcher for this registration, and what wakes
 * it (docs/semantics.md §3 and §4).
 */
import { Options, updatePolicy } from '../options';
import { defineGlobal, defineSharedGlobals } from '../web/globals';
import { defineSyncEvent, onsyncAccessor } from '../web/sync-event';
import { setSyncHost } from '../web/sync-manager';
import { Dispatcher } from './dispatcher';
import { listenForWakeups } from './wakeups';
import { PROTOCOL_KEY, notice } from '../protocol';

/** Installs in the service worker; returns what applies checked options here. */
export function installWorker(report: (error: unknown) => void): (options: Options) => void {
  const scope = self as unknown as ServiceWorkerGlobalScope;
  const SyncEvent = defineSyncEvent();
  defineSharedGlobals();
  defineGlobal('SyncEvent', SyncEvent);
  // ServiceWorkerGlobalScope is [Global]: WebIDL puts its attributes on the instance, as Chromium has onsync.
  Object.defineProperty(scope, 'onsync', onsyncAccessor());
  const scopeUrl = scope.registration.scope;
  // Pages and this worker speak on it both ways: its notices out, and pokes in from pages while it runs (the fast
  // path; a page's postMessage follows to wake a stopped worker).
  const channel = typeof BroadcastChannel !== 'undefined' ? new BroadcastChannel(PROTOCOL_KEY) : undefined;
  let told = '';
  const dispatcher = new Dispatcher({
    scope: scopeUrl,
    target: scope,
    SyncEvent,
    isOnline: () => scope.navigator.onLine !== false,
    report,
    isActive: () => isActiveWorker(scope),
    // The pages of the origin arm their timers and watch the leases from this (docs/semantics.md §4); the same again is
    // not sent.
    notify: (next, leases) => {
      const said = next + ' ' + leases;
      if (said === told || !channel) return;
      told = said;
      try {
        channel.postMessage(notice(scopeUrl, next, leases));
      } catch (e) {
        report(e);
      }
    },
  });
  setSyncHost({
    // docs/semantics.md §2 step 3: only a top-level window counts.
    hasWindow: () => scope.clients.matchAll({ type: 'window', includeUncontrolled: true })
      .then((clients) => clients.some((client) => client.frameType !== 'nested')),
    registered: () => void dispatcher.run(),
  });
  listenForWakeups(scope, dispatcher, channel);
  return (options) => {
    dispatcher.policy = updatePolicy(dispatcher.policy, options);
  };
}

/**
 * Is this worker instance the active one? An installing or waiting version (during an update) must not fire,
 * nor a redundant one. Where the engine lacks `self.serviceWorker`, judge by the registration.
 */
function isActiveWorker(scope: ServiceWorkerGlobalScope): boolean {
  const self = scope.serviceWorker;
  if (self) return self.state === 'activating' || self.state === 'activated';
  const { active, installing, waiting } = scope.registration;
  return !!active && !installing && !waiting;
}
