/** The page-only entries' install: the page half in a window; elsewhere a warning that names the right script. */
import { createGlobal, inWindow, wrongScript } from '../global';
import { installPage } from './install';
import { validatePageOptions } from '../options';

/** The same arguments as src/install.ts's install(): the classic script's wrapper calls both alike. */
export function installHere(_kind?: undefined, lazy?: boolean) {
  return createGlobal(validatePageOptions, inWindow() ? installPage : wrongScript('sw'), lazy);
}
