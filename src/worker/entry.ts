/** The worker-only entries' install: the worker half in a service worker; elsewhere a warning that names the right script. */
import { createGlobal, inWorker, wrongScript } from '../global';
import { installWorker } from './install';
import { validateOptions } from '../options';

export function installHere(): void {
  createGlobal(validateOptions, inWorker() ? installWorker : wrongScript('window'));
}
