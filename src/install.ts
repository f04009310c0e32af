/**
 * Detection (docs/semantics.md §6) and installing the globals. Where the engine has Background Sync, nothing is installed
 * but the `BackgroundSyncPolyfill` global; otherwise the page or worker half, by the global scope.
 */
import { checkOption, updatePolicy } from './core/policy';
import { setSyncHost, shapeSyncManager, syncGetter } from './web/sync-manager';
import { defineSyncEvent, onsyncAccessor } from './web/sync-event';
import { Dispatcher } from './worker/dispatcher';
import { listenForWakeups } from './worker/wakeups';
import { PageWakeups } from './page/wakeups';
import { setDebug } from './debug';
import { removeScope } from './store/db';

type Options = Partial<Record<keyof BackgroundSyncPolyfillOptions, unknown>>;
type Apply = (options: Options) => void;

const VERSION = __VERSION__;

const globalScope = self as unknown as Record<string, unknown>;

/** docs/semantics.md §6. */
export function hasNativeSync(): boolean {
  return 'SyncManager' in globalScope && typeof ServiceWorkerRegistration !== 'undefined' &&
    'sync' in ServiceWorkerRegistration.prototype;
}

function report(error: unknown): void {
  console.warn('background-sync-polyfill:', error);
}

function defineGlobal(name: string, value: unknown): void {
  Object.defineProperty(globalScope, name, { value, writable: true, configurable: true });
}

function defineShared(): void {
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

function installWindow(): Apply | null {
  if (typeof ServiceWorkerRegistration === 'undefined' || !navigator.serviceWorker) return null;
  defineShared();
  const wakeups = new PageWakeups(report);
  setSyncHost(wakeups);
  wakeups.start();
  return (options) => {
    if (options.checkInterval !== undefined) wakeups.setCheckInterval(options.checkInterval as number);
  };
}

function installWorker(): Apply {
  const scope = self as unknown as ServiceWorkerGlobalScope;
  const SyncEvent = defineSyncEvent();
  defineShared();
  defineGlobal('SyncEvent', SyncEvent);
  // ServiceWorkerGlobalScope is [Global]: WebIDL puts its attributes on the instance, as Chromium has onsync.
  Object.defineProperty(scope, 'onsync', onsyncAccessor());
  const dispatcher = new Dispatcher({
    scope: scope.registration.scope,
    target: scope,
    SyncEvent,
    isOnline: () => scope.navigator.onLine !== false,
    report,
    isActive: () => isActiveWorker(scope),
  });
  setSyncHost({
    // docs/semantics.md §2 step 3: only a top-level window counts.
    hasWindow: () => scope.clients.matchAll({ type: 'window', includeUncontrolled: true })
      .then((clients) => clients.some((client) => client.frameType !== 'nested')),
    registered: () => void dispatcher.run(),
  });
  listenForWakeups(scope, dispatcher);
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

/** Validates every option in any context, so a typo fails the same way in page and worker. */
function validate(options: unknown): Options {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('BackgroundSyncPolyfill.configure: options must be an object');
  }
  const o = options as Options;
  updatePolicy({ maxAttempts: 1, initialRetryDelay: 0, retryDelayFactor: 1, maxEventDuration: 1 }, o);
  if (o.checkInterval !== undefined) checkOption('checkInterval', o.checkInterval, 1);
  if (o.debug !== undefined && typeof o.debug !== 'boolean') {
    throw new TypeError(`BackgroundSyncPolyfill.configure: debug must be a boolean, got ${typeof o.debug}`);
  }
  return o;
}

/**
 * Installs for `kind`, or for the global scope it runs in. Loading twice (a script tag and a bundle, say)
 * installs once. A `self.BackgroundSyncPolyfill` object set before loading gives `force` and initial options.
 */
export function install(kind?: 'window' | 'worker'): void {
  const preset = globalScope.BackgroundSyncPolyfill as (Options & { force?: unknown; version?: unknown }) | undefined;
  if (preset && typeof preset.version === 'string') return;
  if (!kind) {
    const isWorker = typeof ServiceWorkerGlobalScope !== 'undefined' && self instanceof (ServiceWorkerGlobalScope as never);
    kind = isWorker ? 'worker' : typeof window !== 'undefined' ? 'window' : undefined;
  }
  const native = hasNativeSync() && !(preset && preset.force);
  const apply = native || !kind ? null : kind === 'worker' ? installWorker() : installWindow();
  const api: BackgroundSyncPolyfillGlobal = {
    native,
    version: VERSION,
    configure(options: BackgroundSyncPolyfillOptions): void {
      const valid = validate(options);
      if (valid.debug !== undefined) setDebug(valid.debug as boolean);
      if (apply) apply(valid);
    },
  };
  defineGlobal('BackgroundSyncPolyfill', Object.freeze(api));
  if (preset && typeof preset === 'object') {
    const options: Options = {};
    for (const key of Object.keys(preset)) if (key !== 'force') (options as Record<string, unknown>)[key] = preset[key as keyof Options];
    try {
      api.configure(options as BackgroundSyncPolyfillOptions);
    } catch (e) {
      report(e);
    }
  }
}
