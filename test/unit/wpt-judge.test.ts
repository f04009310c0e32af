// @vitest-environment node
/**
 * How the WPT suite (test/wpt/run.mjs) counts a test's subtests (test/wpt/judge.mjs): a failure in a polyfill mode
 * always fails; in native Chromium only an allow-listed subtest may fail, and an allow-listed subtest that passes
 * or does not run fails the run; in every mode a subtest that WPT's own test gets wrong (wpt-bugs.mjs) is an
 * expected failure, neither passed nor failed, only when it fails with that bug's message; a test that did not run,
 * a harness error, no subtest at all and a page that no longer answers each count as a failure.
 */
import { describe, expect, it } from 'vitest';

interface Subtest { name: string; status: string; message?: string | null }
interface Entry { test?: string; name?: string; reason?: string; url?: string; failure?: RegExp }
interface Verdict {
  passed: number;
  failed: number;
  failures: Subtest[];
  allowedFailures: (Subtest & { reason: string })[];
  wptBugFailures: (Subtest & { reason: string; url: string })[];
  problems: string[];
  raw: { passed: number; failed: number };
}
interface JudgeModule {
  judge(result: object, allowList?: Entry[], wptBugs?: Entry[]): Verdict;
  allowListProblems(allowList: unknown[], testNames: string[]): string[];
  wptBugProblems(bugs: unknown[], testNames: string[]): string[];
}

const { judge, allowListProblems, wptBugProblems } = (await import('../wpt/judge.mjs' as string)) as JudgeModule;
const { WPT_BUGS } = (await import('../wpt/wpt-bugs.mjs' as string)) as { WPT_BUGS: (Entry & { failure: RegExp; name: string })[] };

const ok = (tests: Subtest[]) => ({ tests, harness: { status: 'OK', message: null }, alive: true });
const pass = (name: string): Subtest => ({ name, status: 'PASS', message: null });
const fail = (name: string): Subtest => ({ name, status: 'FAIL', message: 'assert_throws_js: did not throw' });
const entry = (name: string): Entry => ({ test: 'worker', name, reason: 'a Chromium bug', url: 'https://example.com/a-chromium-bug' });
const WPT_URL = 'https://github.com/web-platform-tests/wpt/blob/master/periodic-background-sync/idlharness.https.any.js';
const NO_INIT_MESSAGE = 'assert_equals: Unexpected exception when evaluating object expected null but got object "TypeError: 2 arguments required"';
const bug = (name: string): Entry => ({
  test: 'periodic-worker',
  name,
  reason: "WPT's test leaves out the required init",
  url: WPT_URL,
  failure: /^assert_equals: Unexpected exception when evaluating object expected null but got object "TypeError\b/,
});
const failWith = (name: string, message: string): Subtest => ({ name, status: 'FAIL', message });

describe('judge', () => {
  it('counts every subtest that passed', () => {
    expect(judge(ok([pass('a'), pass('b')]))).toMatchObject({ passed: 2, failed: 0, raw: { passed: 2, failed: 0 } });
  });

  it('counts each failed subtest, with its name and message', () => {
    const verdict = judge(ok([pass('a'), fail('b'), { name: 'c', status: 'TIMEOUT' }]));
    expect(verdict).toMatchObject({ passed: 1, failed: 2 });
    expect(verdict.failures.map((t) => t.name)).toEqual(['b', 'c']);
    expect(verdict.failures[0].message).toContain('did not throw');
  });

  it('an allow-listed subtest that fails counts as passed, and is listed with its reason', () => {
    const verdict = judge(ok([pass('a'), fail('b')]), [entry('b')]);
    expect(verdict).toMatchObject({ passed: 2, failed: 0, raw: { passed: 1, failed: 1 } });
    expect(verdict.allowedFailures).toEqual([expect.objectContaining({ name: 'b', reason: 'a Chromium bug' })]);
  });

  it('an allow-listed subtest that passes fails: the entry is stale', () => {
    const verdict = judge(ok([pass('a'), pass('b')]), [entry('b')]);
    expect(verdict).toMatchObject({ passed: 1, failed: 1 });
    expect(verdict.failures[0].message).toMatch(/allow-listed .* but passed/);
  });

  it('an allow-listed subtest that did not run fails', () => {
    expect(judge(ok([pass('a')]), [entry('gone')]).problems).toEqual(['allow-listed subtest did not run: gone']);
  });

  it('the allow-list excuses only the subtests it names', () => {
    expect(judge(ok([fail('a'), fail('b')]), [entry('b')])).toMatchObject({ passed: 1, failed: 1 });
  });

  it.each([
    ['a test that could not run', { error: 'launch failed' }, /did not run: launch failed/],
    ['a harness error', { ...ok([pass('a')]), harness: { status: 'ERROR', message: 'Uncaught TypeError' } }, /harness ERROR: Uncaught TypeError/],
    ['a harness timeout', { ...ok([pass('a')]), harness: { status: 'TIMEOUT', message: null } }, /harness TIMEOUT/],
    ['no subtest', ok([]), /no subtest ran/],
    ['a page that no longer answers', { ...ok([pass('a')]), alive: 'timed out' }, /no longer answers/],
  ])('%s is a failure', (_name, result, problem) => {
    const verdict = judge(result);
    expect(verdict.failed).toBeGreaterThanOrEqual(1);
    expect(verdict.problems.join('\n')).toMatch(problem);
  });
});

describe('judge, with the bugs of WPT\'s own tests', () => {
  const noInit = 'Stringification of new PeriodicSyncEvent("tag")';

  it('a listed subtest that fails with the bug\'s message is an expected failure: neither passed nor failed, listed with its reason and url', () => {
    const verdict = judge(ok([pass('a'), failWith(noInit, NO_INIT_MESSAGE)]), [], [bug(noInit)]);
    expect(verdict).toMatchObject({ passed: 1, failed: 0, failures: [], raw: { passed: 1, failed: 1 } });
    expect(verdict.wptBugFailures).toEqual([expect.objectContaining({ name: noInit, reason: "WPT's test leaves out the required init", url: WPT_URL })]);
  });

  it('a listed subtest that passes fails: the entry is stale, or the engine accepts what WebIDL rejects', () => {
    const verdict = judge(ok([pass('a'), pass(noInit)]), [], [bug(noInit)]);
    expect(verdict).toMatchObject({ passed: 1, failed: 1, wptBugFailures: [] });
    expect(verdict.failures[0].message).toMatch(/bug of WPT's test .* but passed/);
  });

  it('a listed subtest that fails with another message fails, with that message', () => {
    const message = 'assert_equals: Unexpected exception when evaluating object expected null but got object "ReferenceError: PeriodicSyncEvent is not defined"';
    const verdict = judge(ok([failWith(noInit, message)]), [], [bug(noInit)]);
    expect(verdict).toMatchObject({ passed: 0, failed: 1, wptBugFailures: [] });
    expect(verdict.failures[0].message).toContain('ReferenceError: PeriodicSyncEvent is not defined');
    expect(verdict.failures[0].message).toMatch(/not the failure of WPT's bug/);
  });

  it('a listed subtest that times out is not the bug\'s failure', () => {
    expect(judge(ok([{ name: noInit, status: 'TIMEOUT', message: null }]), [], [bug(noInit)])).toMatchObject({ failed: 1, wptBugFailures: [] });
  });

  it('a listed subtest that did not run fails', () => {
    expect(judge(ok([pass('a')]), [], [bug(noInit)]).problems).toEqual([`subtest listed as a bug of WPT's test did not run: ${noInit}`]);
  });

  it('excuses only the subtests it names, beside the native allow-list', () => {
    const verdict = judge(ok([failWith(noInit, NO_INIT_MESSAGE), fail('b'), fail('c')]), [entry('b')], [bug(noInit)]);
    expect(verdict).toMatchObject({ passed: 1, failed: 1 });
    expect(verdict.failures.map((t) => t.name)).toEqual(['c']);
    expect(verdict.allowedFailures.map((t) => t.name)).toEqual(['b']);
    expect(verdict.wptBugFailures.map((t) => t.name)).toEqual([noInit]);
  });
});

describe('allowListProblems', () => {
  const tests = ['window', 'worker', 'iframe'];

  it('accepts entries that name a test, a subtest and a reason', () => {
    expect(allowListProblems([entry('a'), { test: 'window', name: 'a', reason: 'why' }], tests)).toEqual([]);
  });

  it.each([
    ['an unknown test', { test: 'nope', name: 'a', reason: 'why' }],
    ['no name', { test: 'worker', reason: 'why' }],
    ['no reason', { test: 'worker', name: 'a' }],
    ['an empty reason', { test: 'worker', name: 'a', reason: '' }],
  ])('rejects %s', (_name, bad) => {
    expect(allowListProblems([bad], tests)).toHaveLength(1);
  });

  it('rejects an entry listed twice', () => {
    expect(allowListProblems([entry('a'), entry('a')], tests)).toHaveLength(1);
  });
});

describe('wptBugProblems', () => {
  const tests = ['window', 'worker', 'periodic-worker'];

  it('accepts entries that name a test and a subtest, with a reason, the WPT file\'s url and the failure', () => {
    expect(wptBugProblems([bug('a'), bug('b')], tests)).toEqual([]);
  });

  it.each([
    ['an unknown test', { ...bug('a'), test: 'nope' }],
    ['no reason', { ...bug('a'), reason: undefined }],
    ['no url', { ...bug('a'), url: undefined }],
    ['a url that is not https', { ...bug('a'), url: 'wpt/periodic-background-sync' }],
    ['no failure', { ...bug('a'), failure: undefined }],
    ['a failure that is a string', { ...bug('a'), failure: 'TypeError' }],
  ])('rejects %s', (_name, bad) => {
    expect(wptBugProblems([bad], tests)).toHaveLength(1);
  });

  it('rejects an entry listed twice', () => {
    expect(wptBugProblems([bug('a'), bug('a')], tests)).toHaveLength(1);
  });
});

describe("the suite's list of WPT's bugs (wpt-bugs.mjs)", () => {
  it('is valid: each entry names a periodic-worker subtest, with a reason, the WPT file and the failure', () => {
    expect(WPT_BUGS.length).toBeGreaterThan(0);
    expect(wptBugProblems(WPT_BUGS, ['periodic-worker'])).toEqual([]);
  });

  // The messages the browsers gave (test/wpt/run.mjs: native Chromium, then the polyfill's constructor and
  // Chromium's, Firefox's and WebKit's own TypeError for null), and the ones a real bug would give instead.
  const bugOf = (name: string) => WPT_BUGS.find((entry) => entry.name === name)!;
  const noInit = bugOf('Stringification of new PeriodicSyncEvent("tag")');
  const handler = bugOf('ServiceWorkerGlobalScope interface: onperiodicsync must inherit property "onperiodicsync" with the proper type');

  it.each([
    'assert_equals: Unexpected exception when evaluating object expected null but got object "TypeError: Failed to construct \'PeriodicSyncEvent\': 2 arguments required, but only 1 present."',
    'assert_equals: Unexpected exception when evaluating object expected null but got object "TypeError: Failed to construct \'PeriodicSyncEvent\': 2 arguments required"',
  ])('new PeriodicSyncEvent("tag"): matches %s', (message) => {
    expect(noInit.failure.test(message)).toBe(true);
  });

  it.each([
    'assert_equals: Unexpected exception when evaluating object expected null but got object "ReferenceError: PeriodicSyncEvent is not defined"',
    'assert_equals: wrong typeof object expected "object" but got "undefined"',
    'assert_class_string: class string of new PeriodicSyncEvent("tag") expected "[object PeriodicSyncEvent]" but got "[object Object]"',
  ])('new PeriodicSyncEvent("tag"): does not match %s', (message) => {
    expect(noInit.failure.test(message)).toBe(false);
  });

  it.each([
    "Cannot read properties of null (reading 'hasOwnProperty')",
    'can\'t access property "hasOwnProperty", object is null',
    "null is not an object (evaluating 'object.hasOwnProperty')",
  ])('onperiodicsync as a global: matches %s', (message) => {
    expect(handler.failure.test(message)).toBe(true);
  });

  it.each([
    'assert_equals: wrong typeof object expected "object" but got "undefined"',
    "Cannot read properties of undefined (reading 'hasOwnProperty')",
  ])('onperiodicsync as a global: does not match %s', (message) => {
    expect(handler.failure.test(message)).toBe(false);
  });
});
