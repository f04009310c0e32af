/**
 * The globals both halves define (docs/semantics.md §1 and §7): `SyncManager` and `PeriodicSyncManager`, their getters on
 * `ServiceWorkerRegistration.prototype`, a `ServiceWorkerRegistration.prototype.unregister` that also drops the
 * registration's tags (docs/semantics.md §3), and the answer `navigator.permissions.query()` gives for the two
 * permissions the polyfill grants.
 */
import { defineGlobal } from './define';
import { PeriodicSyncManager, SyncManager, periodicSyncGetter, shapeManagers, syncGetter } from './sync-manager';

/** The permission names the polyfill answers `granted` where the engine does not know them (docs/semantics.md §7). */
const GRANTED = ['background-sync', 'periodic-background-sync'];

/**
 * `drop`: removes the tags of a registration that was just unregistered, given the worker that was active before;
 * it never rejects.
 */
export function defineSharedGlobals(
  drop: (registration: ServiceWorkerRegistration, worker: ServiceWorker | null) => Promise<unknown>,
): void {
  shapeManagers();
  defineGlobal('SyncManager', SyncManager);
  defineGlobal('PeriodicSyncManager', PeriodicSyncManager);
  const proto = ServiceWorkerRegistration.prototype;
  Object.defineProperty(proto, 'sync', { get: syncGetter, enumerable: true, configurable: true });
  Object.defineProperty(proto, 'periodicSync', { get: periodicSyncGetter, enumerable: true, configurable: true });
  grantPermissions();
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

/**
 * Where the engine's `navigator.permissions.query()` rejects `background-sync` or `periodic-background-sync` (it does
 * not know them), answers with a status whose `state` is "granted", so that "query, then register" code runs
 * unchanged. An engine's own answer is kept, and every other name goes to the engine untouched.
 */
function grantPermissions(): void {
  const Permissions = (self as unknown as { Permissions?: { new (): Permissions; prototype: Permissions } }).Permissions;
  const query = Permissions && Permissions.prototype.query;
  if (typeof query !== 'function') return;
  // A method of an object literal: named "query", with no prototype, as the engine's own.
  const methods = {
    query(this: Permissions, descriptor: PermissionDescriptor): Promise<PermissionStatus> {
      return query.apply(this, arguments as never).catch((error: unknown) => {
        const name = String(descriptor && descriptor.name);
        // Only the engine's TypeError for a name it does not know, on a real Permissions object.
        if (!(error instanceof TypeError && this instanceof Permissions!) || GRANTED.indexOf(name) < 0) throw error;
        // A PermissionStatus cannot be constructed by script: an EventTarget with its attributes (it never changes).
        return Object.assign(new EventTarget(), { name, state: 'granted', onchange: null }) as unknown as PermissionStatus;
      });
    },
  };
  Object.defineProperty(Permissions!.prototype, 'query', { value: methods.query, writable: true, enumerable: true, configurable: true });
}
