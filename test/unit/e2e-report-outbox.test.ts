/**
 * The e2e fixture workers' report outbox (test/e2e/fixtures/report.js): an entry leaves the outbox only once a
 * request that carried it succeeded. Removing the first N entries after a batch of N came back loses an entry
 * queued meanwhile when requests come back out of order, and a lost second `sync` entry hides a double firing.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';

interface Entry { id: string; type: string }
interface ReportModule {
  report(entry: { type: string }): Promise<void>;
  pending(): Entry[];
}

type Reply = { resolve: (ok: boolean) => void; reject: (error: Error) => void; body: Entry[] };

afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
  vi.resetModules();
});

describe('the e2e report outbox', () => {
  it('keeps an entry queued while an earlier, shorter batch was out, when its own request failed', async () => {
    vi.useFakeTimers();
    const replies: Reply[] = [];
    vi.stubGlobal('fetch', (_url: string, init: { body: string }) => new Promise((resolve, reject) => {
      replies.push({ resolve: (ok) => resolve({ ok }), reject, body: JSON.parse(init.body) });
    }));
    const specifier: string = '../e2e/fixtures/report.js';
    const { report, pending } = (await import(specifier)) as ReportModule;

    const first = report({ type: 'sync' }); // request A carries [sync#1]
    const second = report({ type: 'sync' }); // request B carries [sync#1, sync#2]
    expect(replies.map((r) => r.body.length)).toEqual([1, 2]);
    replies[1].resolve(true); // B comes back first: both sent
    await second;
    expect(pending()).toEqual([]);
    const third = report({ type: 'sync' }); // request C carries [sync#3] ...
    replies[2].reject(new Error('offline')); // ... and fails: sync#3 waits for the next report
    await third;
    replies[0].resolve(true); // A comes back last: it carried sync#1 only
    await first;
    expect(pending().map((e) => e.type)).toEqual(['sync']);
    expect(pending()[0].id).toBe(replies[2].body[0].id);

    await vi.advanceTimersByTimeAsync(600); // the retry timer flushes it with the next request
    expect(replies[3].body.map((e) => e.id)).toContain(replies[2].body[0].id);
  });
});
