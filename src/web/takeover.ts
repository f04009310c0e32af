/**
 * Where the engine has the API but refuses a call (docs/semantics.md §8): the native managers' methods are wrapped so
 * that a refused register() goes to the polyfill's own manager of the same registration, and getTags() and the
 * periodic unregister() cover both. A tag has one registration, on one side: the polyfill's once it holds the tag,
 * the engine's while it does. Everything else the engine answers stays its answer. The wrappers keep the native
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
 * of this context's origin? register(), getTags() and unregister() ask it only then, so where nothing was ever refused
 * they cost what native costs.
 */
export function takeOver(
  registrationOf: (manager: object) => Promise<ServiceWorkerRegistration | undefined>, inUse: () => boolean,
): Record<string, Record<string, Method>> {
  const scope = self as unknown as Record<string, { prototype: Record<string, Method> } | undefined>;
  /** The engine's own methods, by interface, before any was wrapped: what the worker asks which tags the engine holds. */
  const engine: Record<string, Record<string, Method>> = {};
  for (const [name, Ours, getter] of [
    ['SyncManager', SyncManager, syncGetter],
    ['PeriodicSyncManager', PeriodicSyncManager, periodicSyncGetter],
  ] as const) {
    const Native = scope[name];
    if (!Native) continue;
    // The engine's own methods, before any is wrapped.
    const natives: Record<string, Method> = engine[name] = {};
    for (const method of ['register', 'getTags', 'unregister']) natives[method] = Native.prototype[method];
    const ours = Ours.prototype as unknown as Record<string, Method>;
    /**
     * `method` on the polyfill's manager of the registration. Where that is unknown, `refusal` stands; without one
     * (getTags() and unregister()), the polyfill has nothing there.
     */
    const on = (method: string, manager: object, args: unknown[], refusal?: unknown) => registrationOf(manager).then((registration) => {
      if (registration) return ours[method].apply(getter.call(registration), args);
      if (refusal) throw refusal;
      return undefined;
    });
    for (const method of ['register', 'getTags', 'unregister']) {
      const native = natives[method];
      if (typeof native != 'function') continue;
      const wrapper = {
        [method](this: object, ...args: unknown[]): Promise<unknown> {
          if (method == 'register') {
            // A tag the polyfill holds stays the polyfill's (docs/semantics.md §8), so it is not registered with the
            // engine too; the worker's dispatcher never fires a tag while the engine holds it.
            const holds = (tags: unknown) => Array.isArray(tags) && tags.indexOf(String(args[0])) >= 0;
            return Promise.resolve(inUse() ? on('getTags', this, []).catch(() => undefined) : undefined).then((mine) => holds(mine)
              ? on(method, this, args)
              : native.apply(this, args).catch((e) => (refused(e) ? on(method, this, args, e) : Promise.reject(e))));
          }
          // getTags() and unregister(): the engine's part (nothing, where it refuses) and the polyfill's.
          return Promise.all([
            native.apply(this, args).catch((e) => (refused(e) ? undefined : Promise.reject(e))),
            inUse() ? on(method, this, args) : undefined,
          ]).then(([mine, theirs]) => method == 'getTags'
            ? Array.from(new Set([...(mine as string[] || []), ...(theirs as string[] || [])]))
            : undefined);
        },
      }[method];
      Object.defineProperty(wrapper, 'length', { value: native.length });
      Object.defineProperty(Native.prototype, method, { ...Object.getOwnPropertyDescriptor(Native.prototype, method), value: wrapper });
    }
  }
  return engine;
}
