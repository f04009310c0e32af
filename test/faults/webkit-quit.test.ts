// @vitest-environment node
// The persistent WebKit driver's verdict on a browser quit (test/kit/drivers/webkit.mjs, quitChild): the browser
// suite's `persistence` and the fault suite's restarts assert `clean`, so a crash must never read as a clean quit.
// Real processes stand in for MiniBrowser: one that exits 0 when asked, one that crashes or is killed before it is
// asked, one that crashes when asked, one that ignores the request.
import { spawn, type ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs module without types
import { quitChild } from '../kit/drivers/webkit.mjs';

type Exit = { code: number | null; signal: string | null };
type Verdict = { clean: boolean; detail?: string };

/** A shell process running `script`, with a promise of its exit as the driver keeps one. */
function start(script: string): { child: ChildProcess; exited: Promise<Exit> } {
  const child = spawn('sh', ['-c', script], { stdio: ['pipe', 'ignore', 'ignore'] });
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, exited };
}

/** Asks the process to quit by a line on its stdin (as window.close() asks MiniBrowser). */
const askBy = (child: ChildProcess) => () => child.stdin?.write('quit\n');

const quit = (child: ChildProcess, exited: Promise<Exit>, ask: () => unknown, waitMs = 5000): Promise<Verdict> =>
  quitChild(child, exited, ask, { waitMs });

describe('quitChild: a clean quit is an exit with status 0 after being asked', () => {
  it('a process that exits 0 when asked quit cleanly', async () => {
    const { child, exited } = start('read line; exit 0');
    expect((await quit(child, exited, askBy(child))).clean).toBe(true);
  });

  it('a process killed before it was asked did not quit cleanly (the old driver said clean)', async () => {
    const { child, exited } = start('kill -9 $$');
    await exited;
    const verdict = await quit(child, exited, askBy(child));
    expect(verdict.clean).toBe(false);
    expect(verdict.detail).toMatch(/SIGKILL/);
  });

  it('a process that crashed with a non-zero status before it was asked did not quit cleanly', async () => {
    const { child, exited } = start('exit 3');
    await exited;
    const verdict = await quit(child, exited, askBy(child));
    expect(verdict.clean).toBe(false);
    expect(verdict.detail).toMatch(/exit 3/);
  });

  it('a process that crashes when asked did not quit cleanly', async () => {
    const { child, exited } = start('read line; kill -SEGV $$');
    const verdict = await quit(child, exited, askBy(child));
    expect(verdict).toEqual({ clean: false, detail: 'exit SIGSEGV' });
  });

  it('a process that ignores the request is killed and did not quit cleanly', async () => {
    const { child, exited } = start('trap "" TERM; sleep 30');
    const verdict = await quit(child, exited, () => {}, 300);
    expect(verdict.clean).toBe(false);
    expect(verdict.detail).toMatch(/did not exit/);
    await exited;
  });
});
