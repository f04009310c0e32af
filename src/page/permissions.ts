/**
 * The answer a page's `navigator.permissions.query()` gives for the two permissions the polyfill grants
 * (docs/semantics.md §7). Pages only: "query, then register" is page code, and the worker script's bytes are spent on
 * what only a worker can do (bench/size-budget.json).
 */

/**
 * Where the engine's `navigator.permissions.query()` rejects `background-sync` or `periodic-background-sync` (it does
 * not know them), answers with a status whose `state` is "granted", so that "query, then register" code runs
 * unchanged. An engine's own answer is kept, and every other name goes to the engine untouched.
 */
export function grantPermissions(): void {
  const Permissions = (self as unknown as { Permissions?: { new (): Permissions; prototype: Permissions } }).Permissions;
  const query = Permissions && Permissions.prototype.query;
  if (typeof query !== 'function') return;
  // A method of an object literal: named "query", with no prototype, as the engine's own; assigned, so the property
  // keeps the engine's attributes (a WebIDL operation's: writable, enumerable, configurable).
  Permissions!.prototype.query = {
    query(this: Permissions, descriptor: PermissionDescriptor): Promise<PermissionStatus> {
      return query.apply(this, arguments as never).catch((error: unknown) => {
        const name = String(descriptor && descriptor.name);
        // Only the engine's TypeError for a name it does not know, on a real Permissions object. A PermissionStatus
        // cannot be constructed by script: an EventTarget with its attributes (it never changes).
        if (error instanceof TypeError && this instanceof Permissions! && /^(periodic-)?background-sync$/.test(name)) {
          return Object.assign(new EventTarget(), { name, state: 'granted', onchange: null }) as unknown as PermissionStatus;
        }
        throw error;
      });
    },
  }.query;
}
