/** The worker-only entries' install: the worker half in a service worker; elsewhere a warning that names the right script. */
import { createGlobal, inWorker, wrongScript } from '../global';
import { installWorker } from './install';
import { validateOptions } from '../options';

/** The same arguments as src/install.ts's install(): the classic script's wrapper calls both alike. */
export function installHere(_kind?: undefined, lazy?: boolean) {
  return createGlobal(validateOptions, inWorker() ? installWorker : wrongScript('window'), lazy);
}
