/**
 * The universal entry's choice: the page half in a window, the worker half in a service worker, nothing elsewhere.
 * The page-only and worker-only entries (polyfill/window.ts, polyfill/sw.ts) pass their half to createGlobal directly.
 */
import { createGlobal, inWindow, inWorker } from './global';
import { validateOptions } from './options';
import { installPage } from './page/install';
import { installWorker } from './worker/install';

/**
 * Installs for `kind`, or for the global scope it runs in; `lazy`: called by the classic script's wrapper
 * (createGlobal). Returns what that wrapper hands our messages to, where there is one.
 */
export function install(kind?: 'window' | 'worker', lazy?: boolean) {
  if (!kind) kind = inWorker() ? 'worker' : inWindow() ? 'window' : undefined;
  return createGlobal(validateOptions, kind === 'worker' ? installWorker : kind === 'window' ? installPage : undefined, lazy);
}
