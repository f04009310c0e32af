// @vitest-environment node
/**
 * How the WPT suite (test/wpt/run.mjs) counts a test's subtests (test/wpt/judge.mjs): a failure in a polyfill mode
 * always fails; in native Chromium only an allow-listed subtest may fail, and an allow-listed subtest that passes
 * or does not run fails the run; a test that did not run, a harness error, no subtest at all and a page that no
 * longer answers each count as a failure.
 */
import { describe, expect, it } from 'vitest';

interface Subtest { name: string; status: string; message?: string | null }
interface Entry { test?: string; name?: string; reason?: string; url?: string }
interface Verdict {
  passed: number;
  failed: number;
  failures: Subtest[];
  allowedFailures: (Subtest & { reason: string })[];
  problems: string[];
  raw: { passed: number; failed: number };
}
interface JudgeModule {
  judge(result: object, allowList?: Entry[]): Verdict;
  allowListProblems(allowList: unknown[], testNames: string[]): string[];
}

const { judge, allowListProblems } = (await import('../wpt/judge.mjs' as string)) as JudgeModule;

const ok = (tests: Subtest[]) => ({ tests, harness: { status: 'OK', message: null }, alive: true });
const pass = (name: string): Subtest => ({ name, status: 'PASS', message: null });
const fail = (name: string): Subtest => ({ name, status: 'FAIL', message: 'assert_throws_js: did not throw' });
const entry = (name: string): Entry => ({ test: 'worker', name, reason: 'a Chromium bug', url: 'https://example.com/a-chromium-bug' });

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
