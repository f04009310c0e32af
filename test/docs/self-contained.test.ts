// @vitest-environment node
/**
 * The repository explains itself: no file may point outside it, and every citation of the behaviour contract
 * (docs/semantics.md, by section and by step) must land on a section and step that exist.
 *
 * Scanned: every tracked file (`git ls-files`; a walk of the tree where git is missing), except package-lock.json,
 * binary files and node_modules; and the unminified build (dist/*.js, dist/esm/**\/*.js) when it exists, since
 * comments travel into it. The matchers below are tested on their own first, with examples that must match and
 * examples that must not, so that a rule that can no longer fail shows up as a failing test.
 *
 * This file is scanned too, so its examples are assembled from pieces (`j(...)`) rather than written whole.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SEMANTICS = 'docs/semantics.md';

export interface Finding {
  file: string;
  line: number;
  rule: string;
  text: string;
}

/**
 * What no file may contain. Each rule is one regular expression, applied to each line.
 *
 * machine-path: an absolute path into a home or workspace directory, the kind that exists on one machine only.
 * The path must start the token (not follow a word character, a dot, a dash, a slash or a colon), so URL paths
 * (`https://host/home/…`) and relative paths (`src/home/…`) are not absolute paths and pass. System install
 * paths the drivers need (/usr/bin/chromium, /usr/lib/…) and /tmp are not listed, so they pass too.
 */
export const RULES: ReadonlyArray<{ rule: string; re: RegExp; why: string }> = [
  {
    rule: 'outside-repo',
    re: /\.\.\/shared(?:\/|\b)|\bshared\/SPEC|\bSPEC\.md\b|\bBROWSERS\.md\b|\bSTYLE\.md\b/,
    why: 'points at a file outside this repository; the contract is docs/semantics.md, browser recipes docs/testing.md',
  },
  {
    rule: 'bare-spec-section',
    re: /\bSPEC\s*§/,
    why: 'a section of a contract that is not in this repository; cite docs/semantics.md §N',
  },
  {
    rule: 'machine-path',
    re: /(?<![\w.\-/:~])\/(?:work|home|root|Users|mnt|media|workspaces?)(?=\/|\b)|file:\/\/\/(?:work|home|root|Users)\b|\b[A-Za-z]:\\(?:Users|home)\\/,
    why: 'an absolute path of one machine',
  },
  {
    rule: 'issue-number',
    re: /\bissues?\s+(?:no\.?\s*)?#?\d+/i,
    why: 'a tracker issue number nobody outside can look up; link the upstream issue (URL or owner/repo#123)',
  },
];

/** Every line of `text` that breaks a rule. */
export function forbidden(file: string, text: string): Finding[] {
  const findings: Finding[] = [];
  text.split('\n').forEach((content, i) => {
    for (const { rule, re } of RULES) {
      const m = re.exec(content);
      if (m) findings.push({ file, line: i + 1, rule, text: m[0] });
    }
  });
  return findings;
}

/** The sections of docs/semantics.md (`## N. Title`), each with the top-level numbered steps it holds. */
export function sectionsOf(markdown: string): Map<number, Set<number>> {
  const sections = new Map<number, Set<number>>();
  let current: Set<number> | null = null;
  let inFence = false;
  for (const line of markdown.split('\n')) {
    if (/^```/.test(line)) inFence = !inFence;
    if (inFence) continue;
    const heading = /^## (\d+)\.\s/.exec(line);
    if (heading) {
      current = new Set();
      sections.set(Number(heading[1]), current);
      continue;
    }
    if (/^#{1,2} /.test(line)) {
      current = null;
      continue;
    }
    const step = /^(\d+)\.\s/.exec(line);
    if (step && current) current.add(Number(step[1]));
  }
  return sections;
}

/** The GitHub anchor of a heading. */
export function slug(heading: string): string {
  return heading.toLowerCase().trim().replace(/`/g, '').replace(/[^\p{L}\p{N}\s-]/gu, '').replace(/\s/g, '-');
}

export function anchorsOf(markdown: string): Set<string> {
  const withoutCode = markdown.replace(/```[\s\S]*?```/g, '');
  return new Set([...withoutCode.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => slug(m[1])));
}

export interface Citation {
  section: number;
  steps: number[];
  text: string;
}

const NUMBER_LIST = String.raw`\d+(?:\s*(?:,|and|or|-|–)\s*\d+)*`;
const ONE = String.raw`§\s*\d+(?:\s+steps?\s+${NUMBER_LIST})?`;
/** `semantics.md` followed by one or more `§N` / `§N step M` / `§N steps M and K`, joined by `,`, `/`, `and`, `or`. */
const CITATION = new RegExp(String.raw`semantics\.md\]?\)?\s*((?:${ONE})(?:\s*(?:,|/|and|or)\s*(?:${ONE}))*)`, 'g');
const EACH = new RegExp(String.raw`§\s*(\d+)(?:\s+steps?\s+(${NUMBER_LIST}))?`, 'g');

function parse(group: string): Citation[] {
  return [...group.matchAll(EACH)].map((m) => ({
    section: Number(m[1]),
    steps: m[2] ? [...m[2].matchAll(/\d+/g)].map((n) => Number(n[0])) : [],
    text: m[0],
  }));
}

/** Every citation of docs/semantics.md in `text`; inside semantics.md itself, every bare `§N` too. */
export function citationsIn(text: string, isSemantics = false): Citation[] {
  const found: Citation[] = [];
  for (const m of text.matchAll(CITATION)) found.push(...parse(m[1]));
  if (isSemantics) found.push(...parse(text.replace(CITATION, '')));
  return found;
}

/** Citations that name a section or a step docs/semantics.md does not have. */
export function unresolved(file: string, text: string, sections: Map<number, Set<number>>, isSemantics = false): Finding[] {
  const findings: Finding[] = [];
  const lines = text.split('\n');
  lines.forEach((content, i) => {
    for (const c of citationsIn(content, isSemantics)) {
      const steps = sections.get(c.section);
      const missing = !steps ? `no section ${c.section}` : c.steps.filter((s) => !steps.has(s)).map((s) => `no step ${s} in §${c.section}`)[0];
      if (missing) findings.push({ file, line: i + 1, rule: 'semantics-citation', text: `${c.text}: ${missing}` });
    }
  });
  // Links to an anchor of semantics.md: the heading must exist.
  const anchors = semanticsAnchors();
  lines.forEach((content, i) => {
    for (const m of content.matchAll(/semantics\.md#([\w-]+)/g)) {
      if (!anchors.has(m[1])) findings.push({ file, line: i + 1, rule: 'semantics-anchor', text: `#${m[1]}: no such heading` });
    }
  });
  return findings;
}

// ---------------------------------------------------------------------------------------------------------

const SKIP = new Set(['package-lock.json']);

let anchorCache: Set<string> | null = null;
function semanticsAnchors(): Set<string> {
  if (!anchorCache) anchorCache = anchorsOf(readText(SEMANTICS) ?? '');
  return anchorCache;
}

function readText(file: string): string | null {
  const path = join(ROOT, file);
  if (!existsSync(path) || !lstatSync(path).isFile()) return null;
  const bytes = readFileSync(path);
  if (bytes.subarray(0, 8000).includes(0)) return null; // binary
  return bytes.toString('utf8');
}

function walk(dir: string, out: string[]): string[] {
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    if (entry.name === '.git' || entry.name === 'node_modules' || (dir === '' && entry.name === 'dist')) continue;
    const path = dir ? `${dir}/${entry.name}` : entry.name;
    if (entry.isDirectory()) walk(path, out);
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/** The repository's files: tracked ones by git, or the tree without .git, node_modules and dist. */
function repositoryFiles(): string[] {
  let files: string[];
  try {
    files = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\0').filter(Boolean);
  } catch {
    files = walk('', []);
  }
  return files.filter((f) => !SKIP.has(f.split('/').pop()!) && !f.split('/').includes('node_modules'));
}

/** The unminified build: dist/*.js and dist/esm/**\/*.js (not *.min.js, whose comments are gone). */
function distFiles(): string[] {
  const dist = join(ROOT, 'dist');
  if (!existsSync(dist)) return [];
  const top = readdirSync(dist).filter((f) => f.endsWith('.js') && !f.endsWith('.min.js')).map((f) => `dist/${f}`);
  const esm = existsSync(join(dist, 'esm')) ? walkDist('dist/esm') : [];
  return [...top, ...esm];
}

function walkDist(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...walkDist(path));
    else if (entry.name.endsWith('.js')) out.push(path);
  }
  return out;
}

function scan(files: string[]): Finding[] {
  const sections = sectionsOf(readText(SEMANTICS) ?? '');
  const findings: Finding[] = [];
  for (const file of files) {
    const text = readText(file);
    if (text === null) continue;
    findings.push(...forbidden(file, text), ...unresolved(file, text, sections, file === SEMANTICS));
  }
  return findings;
}

const report = (findings: Finding[]) => findings.map((f) => `${f.file}:${f.line} [${f.rule}] ${f.text}`);

// ---------------------------------------------------------------------------------------------------------

/** Joins pieces, so that this file does not itself contain the strings it forbids. */
const j = (...parts: string[]) => parts.join('');
const rulesHit = (line: string) => forbidden('x', line).map((f) => f.rule);

describe('the matchers (each can fail)', () => {
  it.each([
    [j('see ../', 'shared/x'), 'outside-repo'],
    [j('the contract, ', 'SPEC', '.md'), 'outside-repo'],
    [j('recipes in ', 'BROWSERS', '.md'), 'outside-repo'],
    [j('', 'STYLE', '.md says'), 'outside-repo'],
    [j('shared', '/SPEC section 2'), 'outside-repo'],
    [j('(', 'SPEC', ' §4)'), 'bare-spec-section'],
    [j('SPEC', '§6: zero cost'), 'bare-spec-section'],
    [j('cd /', 'work/main && npm test'), 'machine-path'],
    [j('at /', 'home/dev/project/src'), 'machine-path'],
    [j('"/', 'root/.cache"'), 'machine-path'],
    [j('/', 'Users/me/code'), 'machine-path'],
    [j('file:///', 'home/x/index.html'), 'machine-path'],
    [j('C:\\', 'Users\\me'), 'machine-path'],
    [j('fixed in issue', ' #12'), 'issue-number'],
    [j('see issue', ' 4'), 'issue-number'],
    [j('Issues', ' 2 and 3'), 'issue-number'],
  ])('flags %j as %s', (line, rule) => {
    expect(rulesHit(line)).toContain(rule);
  });

  it.each([
    "executablePath: '/usr/bin/chromium'",
    '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser',
    'Screenshots go to $BSP_E2E_OUT (default /tmp/bsp-e2e)',
    'https://github.com/brave/brave-browser/issues/25692',
    'jakearchibald/idb#320, #326',
    'https://example.com/home/page',
    'src/home/x.ts',
    'docs/semantics.md §6: the check',
    'a SPECIAL case; the spec says §2',
    'Shared workers (../sharedworker.js)',
    'the issue is that 3 tabs',
    'SPEC.mdx',
    ':root { color: red }',
  ])('passes %j', (line) => {
    expect(rulesHit(line)).toEqual([]);
  });

  const contract = [
    '# Title',
    '## 1. One',
    'text',
    '## 2. Two',
    '1. first',
    '2. second',
    '   1. not a top-level step',
    '```',
    '3. in a code block, not a step',
    '```',
    '## 3. Three',
    '## Appendix',
    '4. after a heading that is not a section',
  ].join('\n');
  const sections = sectionsOf(contract);

  it('reads sections and their steps', () => {
    expect([...sections.keys()]).toEqual([1, 2, 3]);
    expect([...sections.get(2)!]).toEqual([1, 2]);
    expect([...sections.get(3)!]).toEqual([]);
  });

  it.each([
    [j('docs/semantics.md', ' §1'), []],
    [j('docs/semantics.md', ' §2 step 2'), []],
    [j('docs/semantics.md', ' §2 steps 1 and 2'), []],
    [j('docs/semantics.md', ' §1 and §3'), []],
    [j('docs/semantics.md', ' §3/§1'), []],
    [j('docs/semantics.md', ' §4'), ['§4: no section 4']],
    [j('docs/semantics.md', ' §2 step 3'), ['§2 step 3: no step 3 in §2']],
    [j('docs/semantics.md', ' §2 steps 1 and 5'), ['§2 steps 1 and 5: no step 5 in §2']],
    [j('docs/semantics.md', ' §1, §9'), ['§9: no section 9']],
    [j('docs/semantics.md', ' §1 and §7'), ['§7: no section 7']],
    [j('[semantics.md', ' §4](semantics', '.md#x)'), ['§4: no section 4']],
    [j('docs/semantics.md', ' §1 step 1'), ['§1 step 1: no step 1 in §1']],
  ])('checks the citation %j', (line, problems) => {
    const found = unresolved('x', line, sections).filter((f) => f.rule === 'semantics-citation').map((f) => f.text);
    expect(found).toEqual(problems);
  });

  it('checks bare § references inside the contract itself, and only there', () => {
    expect(unresolved('x', j('as in ', '§9'), sections, true).map((f) => f.text)).toEqual(['§9: no section 9']);
    expect(unresolved('x', j('as in ', '§9'), sections, false)).toEqual([]);
  });

  it('checks links to a heading of docs/semantics.md', () => {
    expect(unresolved('x', j('(semantics.md', '#no-such-heading)'), sections).map((f) => f.rule)).toEqual(['semantics-anchor']);
    expect(unresolved('x', j('(semantics.md', '#2-registertag)'), sections)).toEqual([]);
  });
});

describe('the repository is self-contained', () => {
  const semantics = readText(SEMANTICS);

  it('docs/semantics.md has sections 1 to 9, and §2 has steps 1 to 7', () => {
    expect(semantics).not.toBeNull();
    const sections = sectionsOf(semantics!);
    expect([...sections.keys()]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect([...sections.get(2)!]).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('no tracked file points outside the repository, names a machine path or a tracker issue number, or cites a missing section', () => {
    const files = repositoryFiles();
    expect(files.length).toBeGreaterThan(10);
    expect(files).toContain(SEMANTICS);
    expect(report(scan(files))).toEqual([]);
  });

  it('the walk used where git is missing finds every tracked file', () => {
    const walked = new Set(walk('', []));
    const tracked = repositoryFiles().filter((f) => existsSync(join(ROOT, f)) && lstatSync(join(ROOT, f)).isFile());
    expect(tracked.filter((f) => !walked.has(f))).toEqual([]);
  });

  const dist = distFiles();
  it('neither does the unminified build in dist/ (npm test builds first; run `npm run build` before this file)', () => {
    expect(dist.length, 'no unminified build in dist/').toBeGreaterThan(0);
    expect(report(scan(dist))).toEqual([]);
  });
});
