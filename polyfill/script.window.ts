// The page-only classic script (dist/background-sync-polyfill.window.js, for <script src>), wrapped by the build as
// polyfill/script.ts is.
import '../src/types.js';
export { installHere as install } from '../src/page/entry';
