// The worker-only classic script (dist/background-sync-polyfill.sw.js, for importScripts()), wrapped by the build as
// polyfill/script.ts is.
import '../src/types.js';
export { installHere as install } from '../src/worker/entry';
