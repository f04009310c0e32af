// Mutants: deliberately broken builds that a check must catch. Each `*.patch` here is a git patch preceded by
// header lines:
//   # mutant: what the patch breaks (a throw in a worker path, a firing while offline, a lost registration, ...)
//   # check: the command that must fail with the patch applied, run from the repository root
//   # expect: a regular expression the check's output must match, so it fails for this reason and no other
//   # missed-by: the check that passed with this mutant before the check above was tightened (for the record)
// `node test/mutants/run.mjs [name ...]` applies each patch in turn to a scratch copy of the repository (the
// tracked files and node_modules, never the working tree), builds, runs its check, and passes when the check fails.
// It prints `N passed, N failed`: a mutant that survives is a check that cannot see that failure.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const HERE = fileURLToPath(new URL('.', import.meta.url));

/** The header lines of a mutant's patch. */
export function parseMutant(text) {
  const field = (name) => text.match(new RegExp(`^# ${name}: (.+)$`, 'm'))?.[1].trim();
  const mutant = { what: field('mutant'), check: field('check'), expect: field('expect'), missedBy: field('missed-by') };
  if (!mutant.what || !mutant.check || !mutant.expect) {
    throw new Error('a mutant needs "# mutant:", "# check:" and "# expect:" header lines');
  }
  if (!/^diff --git /m.test(text)) throw new Error('a mutant needs a git patch after its header');
  return mutant;
}

function run(cmd, args, cwd, timeout) {
  return spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout, maxBuffer: 64 * 1024 * 1024 });
}

/**
 * A scratch copy of the tracked tree. node_modules is hard-linked (a copy where links cannot cross file systems),
 * not symlinked: vite refuses to serve files from outside the project's root.
 */
function scratchCopy() {
  const dir = mkdtempSync(join(tmpdir(), 'bsp-mutant-'));
  const files = run('git', ['ls-files', '-z'], ROOT).stdout.split('\0').filter(Boolean);
  for (const file of files) cpSync(join(ROOT, file), join(dir, file), { recursive: false, force: true });
  const linked = run('cp', ['-al', join(ROOT, 'node_modules'), join(dir, 'node_modules')], ROOT, 120000);
  if (linked.status !== 0) cpSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), { recursive: true });
  run('git', ['init', '-q'], dir);
  return dir;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const wanted = process.argv.slice(2);
  const names = readdirSync(HERE).filter((f) => f.endsWith('.patch')).map((f) => f.slice(0, -'.patch'.length))
    .filter((n) => !wanted.length || wanted.includes(n));
  for (const n of wanted) if (!names.includes(n)) throw new Error(`no mutant ${n}.patch in test/mutants/`);
  let passed = 0;
  let failed = 0;
  for (const name of names) {
    const text = readFileSync(join(HERE, `${name}.patch`), 'utf8');
    const mutant = parseMutant(text);
    const dir = scratchCopy();
    try {
      const patch = join(dir, '.mutant.patch');
      writeFileSync(patch, text);
      const applied = run('git', ['apply', '--whitespace=nowarn', patch], dir);
      if (applied.status !== 0) throw new Error(`does not apply: ${applied.stderr.trim()}`);
      const build = run('npm', ['run', 'build'], dir, 300000);
      if (build.status !== 0) throw new Error(`the mutant does not build:\n${build.stdout}${build.stderr}`);
      const started = Date.now();
      const check = run('bash', ['-c', mutant.check], dir, 30 * 60 * 1000);
      const seconds = Math.round((Date.now() - started) / 1000);
      const output = `${check.stdout}${check.stderr}`;
      if (check.status === 0) {
        failed++;
        console.log(`FAIL ${name}: survived \`${mutant.check}\` (${seconds} s): ${mutant.what}`);
      } else if (!new RegExp(mutant.expect).test(output)) {
        failed++;
        console.log(`FAIL ${name}: \`${mutant.check}\` failed, but not with /${mutant.expect}/ (${seconds} s):\n${output.slice(-3000)}`);
      } else {
        passed++;
        console.log(`PASS ${name}: caught by \`${mutant.check}\` (${seconds} s, exit ${check.status ?? check.signal})`);
      }
    } catch (e) {
      failed++;
      console.log(`FAIL ${name}: ${e.message}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed || !names.length ? 1 : 0);
}
