/**
 * Is Background Sync native in this engine (docs/semantics.md §6)? The one definition of the check: the classic
 * script's wrapper (rollup.config.mjs, `lazyWhereNative`) copies the returned expression and evaluates it before
 * anything else, so it must stay one `return` of globals only (no imports, nothing from module scope).
 */
export function hasNativeSync(): boolean {
  return 'SyncManager' in self && typeof ServiceWorkerRegistration !== 'undefined' &&
    'sync' in ServiceWorkerRegistration.prototype;
}
