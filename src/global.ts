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

/** Installs one half here; returns what applies checked options, or null where nothing was installed. */
export type Installer = (report: (error: unknown) => void) => ((options: Options) => void) | null;

function report(error: unknown): void {
  console.warn('background-sync-polyfill:', error);
}

/**
 * Installs with `installer` (none: this context gets nothing but the global); `validate` checks configure()'s
 * options. Loading twice (a script tag and a bundle, say) installs once. A `self.BackgroundSyncPolyfill` object set
 * before loading gives `force` and options.
 */
export function createGlobal(validate: (options: unknown) => Options, installer?: Installer): void {
  const globalScope = self as unknown as Record<string, unknown>;
  const preset = globalScope.BackgroundSyncPolyfill as (Options & { force?: unknown; version?: unknown }) | undefined;
  if (preset && typeof preset.version === 'string') return;
  const native = hasNativeSync() && !(preset && preset.force);
  const apply = native || !installer ? null : installer(report);
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
  // The preset's options (`force` is none: configure() ignores what it does not know).
  if (preset && typeof preset === 'object') {
    try {
      api.configure(preset as BackgroundSyncPolyfillOptions);
    } catch (e) {
      report(e);
    }
  }
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
  return (report) => {
    report(`load background-sync-polyfill.${instead}.min.js here`);
    return null;
  };
}
