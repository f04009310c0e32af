// Subtests that fail in native Chromium (the chromium-native control of test/wpt/run.mjs) because of a bug of
// Chromium's own, each by its exact name, with the reason and where it is known upstream. An allow-listed subtest
// that passes fails the run (the entry is stale: remove it), and so does any other subtest that fails natively.
// The polyfill modes have no allow-list: every subtest must pass there.
export const NATIVE_ALLOWED = [];
