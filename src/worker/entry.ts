/** The worker-only entries' install: the worker half in a service worker; elsewhere a warning that names the right script. */
import { createGlobal, inWorker, wrongScript } from '../global';
import { installWorker } from './install';

export function installHere(): void {
  createGlobal(inWorker() ? installWorker : wrongScript('sw', 'window'));
}
