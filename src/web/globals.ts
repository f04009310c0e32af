/**
 * The globals both halves define (docs/semantics.md §1): `SyncManager`, `ServiceWorkerRegistration.prototype.sync`, and
 * a `ServiceWorkerRegistration.prototype.unregister` that also drops the registration's tags (docs/semantics.md §3).
 */
import { removeScope } from '../store/db';
import { shapeSyncManager, syncGetter } from './sync-manager';

/** A global as WebIDL defines one: writable, configurable, not enumerable. */
export function defineGlobal(name: string, value: unknown): void {
  Object.defineProperty(self, name, { value, writable: true, configurable: true });
}

export function defineSharedGlobals(): void {
  defineGlobal('SyncManager', shapeSyncManager());
  const proto = ServiceWorkerRegistration.prototype;
  Object.defineProperty(proto, 'sync', { get: syncGetter, enumerable: true, configurable: true });
  // Unregistering drops the registration's tags at once, as Chromium does (docs/semantics.md §3); a page check also sweeps
  // the tags of registrations that went away by other means.
  const original = proto.unregister;
  if (typeof original !== 'function') return;
  Object.defineProperty(proto, 'unregister', {
    value: function unregister(this: ServiceWorkerRegistration): Promise<boolean> {
      const { scope } = this;
      return original.call(this).then((done) => (done ? removeScope(scope).then(() => done, () => done) : done));
    },
    writable: true, enumerable: true, configurable: true,
  });
}
