/**
 * The stacks suite's own checks (test/stacks/build.mjs), which run outside any browser: the "no cast" scan of the
 * typed project, and README's snippets and table against the fixtures. Each must fire on what it exists to catch.
 * @vitest-environment node
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error a plain .mjs module of the test suite, without types
import { castsIn, checkReadme, STACKS } from '../stacks/build.mjs';

const dir = mkdtempSync(join(tmpdir(), 'bsp-stacks-checks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const scan = (source: string): string[] => {
  const file = join(dir, 'probe.ts');
  writeFileSync(file, source);
  return castsIn(file);
};

describe('castsIn', () => {
  it('finds nothing in the fixture worker and page', () => {
    for (const file of ['sw.ts', 'main.ts']) expect(castsIn(join(__dirname, '..', 'stacks', 'fixtures', 'esbuild', 'src', file))).toEqual([]);
  });

  it.each([
    ['as', 'const e = event as SyncEvent;'],
    ['angle brackets', 'const e = <SyncEvent>event;'],
    ['non-null', 'const tags = registration!.sync;'],
    ['any', 'function f(event: any) { return event; }'],
    ['@ts-ignore', '// @ts-ignore\nconst x: number = "a";'],
    ['@ts-expect-error', '// @ts-expect-error\nconst x: number = "a";'],
    ['@ts-nocheck', '// @ts-nocheck\nconst x = 1;'],
  ])('finds a cast: %s', (_, source) => {
    expect(scan(source)).toHaveLength(1);
  });

  it('takes `declare const self: ServiceWorkerGlobalScope` and `satisfies` for what they are: no cast', () => {
    expect(scan('declare const self: ServiceWorkerGlobalScope;\nconst o = { tag: "x" } satisfies { tag: string };')).toEqual([]);
  });
});

describe('checkReadme', () => {
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
  const rows = [...readme.slice(readme.indexOf('## With your build tool')).matchAll(/^\| [^|]+ \| \+([\d,]+) B \| \+([\d,]+) B \|/gm)];
  const sizes = Object.fromEntries(STACKS.map((stack: { name: string }, i: number) => [stack.name, {
    page: Number(rows[i][1].replace(/,/g, '')),
    worker: Number(rows[i][2].replace(/,/g, '')),
  }]));

  it("passes on the project's README", () => {
    expect(checkReadme(sizes, readme)).toMatch(/^12 files of 4 stacks, verbatim/);
  });

  it('fails when a snippet differs from its fixture by one character', () => {
    const changed = readme.replace("swDest: 'sw.js' })", "swDest: 'sw.js'  })");
    expect(changed).not.toBe(readme);
    expect(() => checkReadme(sizes, changed)).toThrow(/README's webpack\/webpack\.config\.js differs/);
  });

  it('fails when a snippet is missing, or names a file the suite does not check', () => {
    expect(() => checkReadme(sizes, readme.replace('<!-- stack: serwist/src/sw.js -->', ''))).toThrow(/README shows no serwist\/src\/sw\.js/);
    expect(() => checkReadme(sizes, readme.replace('<!-- stack: esbuild/build.mjs -->', '<!-- stack: esbuild/other.mjs -->'))).toThrow(/README shows esbuild\/other\.mjs, which the suite does not check/);
  });

  it('fails when the table of bytes added is not what was measured', () => {
    expect(() => checkReadme({ ...sizes, serwist: { ...sizes.serwist, worker: sizes.serwist.worker + 1 } }, readme)).toThrow(/table of the bytes added/);
  });
});
