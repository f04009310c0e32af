/**
 * Chooses what to install and creates the `BackgroundSyncPolyfill` global. Where the engine has Background Sync
 * (src/detect.ts), nothing is installed but that global; otherwise the page or worker half, by the global scope.
 */
import { hasNativeSync } from './detect';
import { Options, validateOptions } from './options';
import { defineGlobal } from './web/globals';
import { installPage } from './page/install';
import { installWorker } from './worker/install';
import { setDebug } from './debug';

const VERSION = __VERSION__;

function report(error: unknown): void {
  console.warn('background-sync-polyfill:', error);
}

/**
 * Installs for `kind`, or for the global scope it runs in. Loading twice (a script tag and a bundle, say)
 * installs once. A `self.BackgroundSyncPolyfill` object set before loading gives `force` and initial options.
 */
export function install(kind?: 'window' | 'worker'): void {
  const globalScope = self as unknown as Record<string, unknown>;
  const preset = globalScope.BackgroundSyncPolyfill as (Options & { force?: unknown; version?: unknown }) | undefined;
  if (preset && typeof preset.version === 'string') return;
  if (!kind) {
    const isWorker = typeof ServiceWorkerGlobalScope !== 'undefined' && self instanceof (ServiceWorkerGlobalScope as never);
    kind = isWorker ? 'worker' : typeof window !== 'undefined' ? 'window' : undefined;
  }
  const native = hasNativeSync() && !(preset && preset.force);
  const apply = native || !kind ? null : kind === 'worker' ? installWorker(report) : installPage(report);
  const api: BackgroundSyncPolyfillGlobal = {
    native,
    version: VERSION,
    configure(options: BackgroundSyncPolyfillOptions): void {
      const valid = validateOptions(options);
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
