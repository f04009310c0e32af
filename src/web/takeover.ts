/**
 * Where the engine has the API but refuses a call (docs/semantics.md §8): the native managers' methods are wrapped so
 * that a refused register() goes to the polyfill's own manager of the same registration, and getTags() and the
 * periodic unregister() cover both. Everything else the engine answers stays its answer. The wrappers keep the native
 * methods' names, lengths and attributes.
 */
import { PeriodicSyncManager, SyncManager, periodicSyncGetter, syncGetter } from './sync-manager';

/** A refusal the polyfill takes over: a denied permission, or Background Sync disabled (Electron, WebViews). */
export function refused(e: unknown): boolean {
  return !!e && ((e as Error).name == 'NotAllowedError' || /sync is disabled/i.test((e as Error).message));
}

type Method = (this: object, ...args: unknown[]) => Promise<unknown>;

/**
 * Wraps the methods of `SyncManager` and `PeriodicSyncManager` where the engine has them. `registrationOf`: the
 * registration a native manager belongs to (undefined: unknown, the refusal stands). `inUse`: may the polyfill hold tags
 * of this context's origin? getTags() and unregister() ask it only then, so where nothing was ever refused they cost
 * what native costs.
 */
export function takeOver(
  registrationOf: (manager: object) => Promise<ServiceWorkerRegistration | undefined>, inUse: () => boolean,
): void {
  const scope = self as unknown as Record<string, { prototype: Record<string, Method> } | undefined>;
  for (const [name, Ours, getter] of [
    ['SyncManager', SyncManager, syncGetter],
    ['PeriodicSyncManager', PeriodicSyncManager, periodicSyncGetter],
  ] as const) {
    const Native = scope[name];
    if (!Native) continue;
    for (const method of ['register', 'getTags', 'unregister']) {
      const native = Native.prototype[method];
      if (typeof native != 'function') continue;
      const ours = (Ours.prototype as unknown as Record<string, Method>)[method];
      /**
       * The same call on the polyfill's manager of the registration. Where that is unknown, `refusal` stands; without
       * one (getTags() and unregister()), the polyfill has nothing there.
       */
      const fallback = (manager: object, args: unknown[], refusal?: unknown) => registrationOf(manager).then((registration) => {
        if (registration) return ours.apply(getter.call(registration), args);
        if (refusal) throw refusal;
        return undefined;
      });
      const wrapper = {
        [method](this: object, ...args: unknown[]): Promise<unknown> {
          const call = native.apply(this, args);
          if (method == 'register') return call.catch((e) => (refused(e) ? fallback(this, args, e) : Promise.reject(e)));
          // getTags() and unregister(): the engine's part (nothing, where it refuses) and the polyfill's.
          return Promise.all([
            call.catch((e) => (refused(e) ? undefined : Promise.reject(e))),
            inUse() ? fallback(this, args) : undefined,
          ]).then(([mine, theirs]) => method == 'getTags'
            ? Array.from(new Set([...(mine as string[] || []), ...(theirs as string[] || [])]))
            : undefined);
        },
      }[method];
      Object.defineProperty(wrapper, 'length', { value: native.length });
      Object.defineProperty(Native.prototype, method, { ...Object.getOwnPropertyDescriptor(Native.prototype, method), value: wrapper });
    }
  }
}
