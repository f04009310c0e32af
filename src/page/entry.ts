/** The page-only entries' install: the page half in a window; elsewhere a warning that names the right script. */
import { createGlobal, inWindow, wrongScript } from '../global';
import { installPage } from './install';

export function installHere(): void {
  createGlobal(inWindow() ? installPage : wrongScript('window', 'sw'));
}
