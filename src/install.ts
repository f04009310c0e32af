/**
 * The universal entry's choice: the page half in a window, the worker half in a service worker, nothing elsewhere.
 * The page-only and worker-only entries (polyfill/window.ts, polyfill/sw.ts) pass their half to createGlobal directly.
 */
import { createGlobal, inWindow, inWorker } from './global';
import { validateOptions } from './options';
import { installPage } from './page/install';
import { installWorker } from './worker/install';

/** Installs for `kind`, or for the global scope it runs in. */
export function install(kind?: 'window' | 'worker'): void {
  if (!kind) kind = inWorker() ? 'worker' : inWindow() ? 'window' : undefined;
  createGlobal(validateOptions, kind === 'worker' ? installWorker : kind === 'window' ? installPage : undefined);
}
