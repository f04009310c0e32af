// The classic script's entry (dist/background-sync-polyfill.js, for <script src> and importScripts()). The build
// (rollup.config.mjs, `lazyWhereNative`) wraps this module's code in a function and runs it at once, unless the
// browser has Background Sync: then it runs on first use of `BackgroundSyncPolyfill` (docs/semantics.md §6: zero cost beyond
// the check).
import '../src/types.js';
export { install } from '../src/install';
