/** The page-only entries' install: the page half in a window; elsewhere a warning that names the right script. */
import { createGlobal, inWindow, wrongScript } from '../global';
import { installPage } from './install';
import { validatePageOptions } from '../options';

export function installHere(): void {
  createGlobal(validatePageOptions, inWindow() ? installPage : wrongScript('sw'));
}
