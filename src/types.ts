/**
 * The Background Sync API's types, shipped so that page and worker code compiles without casts
 * (TypeScript's own lib.dom/lib.webworker leave the API out). They merge with lib.webworker where it is used
 * and stand alone in page-only projects.
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
    /** True when the engine's own Background Sync is in use and the polyfill installed nothing. */
    readonly native: boolean;
    readonly version: string;
    configure(options: BackgroundSyncPolyfillOptions): void;
  }

  /**
   * Set `self.BackgroundSyncPolyfill = { force: true }` (plus any options) before the script loads to use the
   * polyfill even where the API is native; the script then replaces it with the global.
   */
  var BackgroundSyncPolyfill: BackgroundSyncPolyfillGlobal;
}
