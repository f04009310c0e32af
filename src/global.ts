/**
 * Creates the `BackgroundSyncPolyfill` global and runs one half's installer, unless the engine has Background Sync
 * (src/detect.ts) and no preset forces the polyfill. Each entry (polyfill/) passes the half it ships, so a page
 * script holds no worker code and a worker script no page code.
 */
import { hasNativeSync } from './detect';
import type { Options } from './options';
import { defineGlobal } from './web/define';
import { setDebug } from './debug';

const VERSION = __VERSION__;

/** What an installer leaves behind: each part optional. */
export interface Installed {
  /** Applies checked options. */
  configure?: (options: Options) => void;
  /** BackgroundSyncPolyfill.wake() (docs/semantics.md §9): never rejects. */
  wake?: () => unknown;
  /**
   * The worker's handler of our messages where native is present (docs/semantics.md §8), for the classic script's
   * wrapper to call: its own `message` listener heard the message that loaded the rest of the script.
   */
  hook?: (event: Event) => void;
}

/**
 * Installs one half here. `native`: the engine has the API (docs/semantics.md §6), so install only the takeover of its
 * refusals (§8); `lazy`: loaded by the classic script's wrapper on first use, which listens to `message` itself.
 */
export type Installer = (report: (error: unknown) => void, native: boolean, lazy?: boolean) => Installed | null;

function report(error: unknown): void {
  console.warn('background-sync-polyfill:', error);
}

/**
 * Installs with `installer` (none: this context gets nothing but the global); `validate` checks configure()'s
 * options. Loading twice (a script tag and a bundle, say) installs once. A `self.BackgroundSyncPolyfill` object set
 * before loading gives `force` and options.
 */
export function createGlobal(
  validate: (options: unknown) => Options, installer?: Installer, lazy?: boolean,
): Installed['hook'] {
  const globalScope = self as unknown as Record<string, unknown>;
  const preset = globalScope.BackgroundSyncPolyfill as (Options & { force?: unknown; version?: unknown }) | undefined;
  if (preset && typeof preset.version === 'string') return;
  const native = hasNativeSync() && !(preset && preset.force);
  const installed = (installer && installer(report, native, lazy)) || {};
  const api: BackgroundSyncPolyfillGlobal = {
    native,
    version: VERSION,
    configure(options: BackgroundSyncPolyfillOptions): void {
      const valid = validate(options);
      if (valid.debug !== undefined) setDebug(valid.debug as boolean);
      if (installed.configure) installed.configure(valid);
    },
    wake: () => Promise.resolve(installed.wake && installed.wake()).then(() => undefined, report),
  };
  defineGlobal('BackgroundSyncPolyfill', Object.freeze(api));
  // The preset's options (`force` is none: configure() ignores what it does not know).
  if (preset && typeof preset === 'object') {
    try {
      api.configure(preset as BackgroundSyncPolyfillOptions);
    } catch (e) {
      report(e);
    }
  }
  return installed.hook;
}

/** Is this the global scope of a service worker? */
export function inWorker(): boolean {
  return typeof ServiceWorkerGlobalScope !== 'undefined' && self instanceof (ServiceWorkerGlobalScope as never);
}

/** Is this a window? */
export function inWindow(): boolean {
  return typeof window !== 'undefined' && self === (window as unknown);
}

/** The installer of a script loaded where it has no half: it installs nothing and says which script belongs there. */
export function wrongScript(instead: string): Installer {
  return (report, native) => {
    if (!native) report(`load background-sync-polyfill.${instead}.min.js here`);
    return null;
  };
}
