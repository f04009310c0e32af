/**
 * The types of the Background Sync API and of Periodic Background Sync, shipped so that page and worker code
 * compiles without casts (TypeScript's own lib.dom/lib.webworker leave both out). They merge with lib.webworker where
 * it is used and stand alone in page-only projects.
 */
export {};

declare global {
  interface SyncManager {
    register(tag: string): Promise<void>;
    getTags(): Promise<string[]>;
  }
  var SyncManager: { prototype: SyncManager; new (): never };

  interface ServiceWorkerRegistration {
    readonly sync: SyncManager;
  }

  // Declared again so that page-only projects (lib.dom without lib.webworker) can name SyncEvent.
  interface ExtendableEventInit extends EventInit {}
  interface ExtendableEvent extends Event {
    waitUntil(f: Promise<any>): void;
  }

  interface SyncEventInit extends ExtendableEventInit {
    tag: string;
    lastChance?: boolean;
  }
  interface SyncEvent extends ExtendableEvent {
    readonly tag: string;
    readonly lastChance: boolean;
  }
  var SyncEvent: { prototype: SyncEvent; new (type: string, init: SyncEventInit): SyncEvent };

  interface ServiceWorkerGlobalScopeEventMap {
    sync: SyncEvent;
  }
  interface ServiceWorkerGlobalScope {
    onsync: ((this: ServiceWorkerGlobalScope, ev: SyncEvent) => any) | null;
  }

  // Periodic Background Sync (https://wicg.github.io/periodic-background-sync/).
  interface BackgroundSyncOptions {
    /** The least ms between two periodic sync events of the tag (default 0). */
    minInterval?: number;
  }
  interface PeriodicSyncManager {
    register(tag: string, options?: BackgroundSyncOptions): Promise<void>;
    getTags(): Promise<string[]>;
    unregister(tag: string): Promise<void>;
  }
  var PeriodicSyncManager: { prototype: PeriodicSyncManager; new (): never };

  interface ServiceWorkerRegistration {
    readonly periodicSync: PeriodicSyncManager;
  }

  interface PeriodicSyncEventInit extends ExtendableEventInit {
    tag: string;
  }
  interface PeriodicSyncEvent extends ExtendableEvent {
    readonly tag: string;
  }
  var PeriodicSyncEvent: {
    prototype: PeriodicSyncEvent;
    new (type: string, init: PeriodicSyncEventInit): PeriodicSyncEvent;
  };

  interface ServiceWorkerGlobalScopeEventMap {
    periodicsync: PeriodicSyncEvent;
  }
  interface ServiceWorkerGlobalScope {
    onperiodicsync: ((this: ServiceWorkerGlobalScope, ev: PeriodicSyncEvent) => any) | null;
  }

  /** Options for `BackgroundSyncPolyfill.configure()`, and for a `self.BackgroundSyncPolyfill` set before load. */
  interface BackgroundSyncPolyfillOptions {
    /** Worker: attempts before a registration is dropped (Chromium: 3). */
    maxAttempts?: number;
    /** Worker: ms before the first retry (Chromium: 300000). */
    initialRetryDelay?: number;
    /** Worker: each later retry waits this many times longer (Chromium: 3). */
    retryDelayFactor?: number;
    /** Worker: ms after which an unsettled event counts as failed (Chromium: 180000). */
    maxEventDuration?: number;
    /**
     * Worker: the shortest interval between periodic sync events of a tag, in ms (default 43200000): 12 h,
     * Chromium's floor. A registration's interval is max(minInterval, periodicMinInterval).
     */
    periodicMinInterval?: number;
    /** Page: ms between checks for due registrations while the page is visible (default 60000). */
    checkInterval?: number;
    /** Page and worker: log each state transition to the console (default false). */
    debug?: boolean;
  }

  /**
   * What may be set as `self.BackgroundSyncPolyfill` before the script loads. In TypeScript:
   * `(self as { BackgroundSyncPolyfill?: BackgroundSyncPolyfillPreset }).BackgroundSyncPolyfill = { force: true };`
   */
  interface BackgroundSyncPolyfillPreset extends BackgroundSyncPolyfillOptions {
    /** Use the polyfill even where the API is native (Electron, Android WebView, Brave). */
    force?: boolean;
  }

  interface BackgroundSyncPolyfillGlobal {
    /**
     * True when the engine's own Background Sync is in use: the polyfill then only takes over the calls that the
     * engine refuses (a denied permission, "Background Sync is disabled", periodic sync outside an installed app).
     */
    readonly native: boolean;
    readonly version: string;
    configure(options: BackgroundSyncPolyfillOptions): void;
    /**
     * Fires what is due now. In the service worker, hand it to the `waitUntil` of any event of your own (a `message`,
     * say); it settles when what was due has fired and settled. In a page it wakes the worker. Where the engine's own
     * API is in use and nothing was taken over, it resolves at once. It never rejects.
     */
    wake(): Promise<void>;
  }

  /**
   * Set `self.BackgroundSyncPolyfill = { force: true }` (plus any options) before the script loads to use the
   * polyfill even where the API is native; the script then replaces it with the global.
   */
  var BackgroundSyncPolyfill: BackgroundSyncPolyfillGlobal;
}
