/**
 * The globals both halves define (docs/semantics.md §1 and §7): `SyncManager` and `PeriodicSyncManager`, their getters on
 * `ServiceWorkerRegistration.prototype`, a `ServiceWorkerRegistration.prototype.unregister` that also drops the
 * registration's tags (docs/semantics.md §3).
 */
import { defineGlobal } from './define';
import { PeriodicSyncManager, SyncManager, periodicSyncGetter, shapeManagers, syncGetter } from './sync-manager';

/**
 * `drop`: removes the tags of a registration that was just unregistered, given the worker that was active before;
 * it never rejects.
 */
export function defineSharedGlobals(
  drop: (registration: ServiceWorkerRegistration, worker: ServiceWorker | null) => Promise<unknown>, native?: boolean,
): void {
  const proto = ServiceWorkerRegistration.prototype;
  // Where the engine has the API, its globals stay (docs/semantics.md §8): only unregister() also drops what the
  // polyfill took over.
  if (!native) {
    shapeManagers();
    defineGlobal('SyncManager', SyncManager);
    defineGlobal('PeriodicSyncManager', PeriodicSyncManager);
    Object.defineProperty(proto, 'sync', { get: syncGetter, enumerable: true, configurable: true });
    Object.defineProperty(proto, 'periodicSync', { get: periodicSyncGetter, enumerable: true, configurable: true });
  }
  // Unregistering drops the registration's tags at once, as Chromium does (docs/semantics.md §3); a new registration's
  // first worker also sweeps what a registration gone by other means left behind (src/worker/install.ts).
  const original = proto.unregister;
  if (typeof original !== 'function') return;
  Object.defineProperty(proto, 'unregister', {
    value: function unregister(this: ServiceWorkerRegistration): Promise<boolean> {
      const worker = this.active;
      return original.call(this).then((done) => (done ? drop(this, worker).then(() => done) : done));
    },
    writable: true, enumerable: true, configurable: true,
  });
}
