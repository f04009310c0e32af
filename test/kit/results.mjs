// The results of a run, shared by every suite: counts, a scenario's printed line, a failed scenario's record with
// what its workers reported, and the results file.
import { writeFileSync } from 'node:fs';
import { describeError, short } from './util.mjs';

const LABELS = { pass: 'PASS', fail: 'FAIL', skip: 'SKIP' };
const COUNT_KEYS = { pass: 'passed', fail: 'failed', skip: 'skipped' };

/** `{ passed, failed, skipped }`, as results.json's totals. */
export const newCounts = () => ({ passed: 0, failed: 0, skipped: 0 });

/** Adds a result to `counts` by its status. */
export function count(counts, result) {
  counts[COUNT_KEYS[result.status]] += 1;
}

/**
 * Prints a scenario's result: `PASS name 123 ms`, its notes (inline in brackets, or one per line with
 * `notesPerLine`), its error (cut at `errorMax`) and the worker errors.
 */
export function printResult(name, result, { errorMax = 700, notesPerLine = false } = {}) {
  const detail = result.status === 'skip' ? ` (${result.reason})` : ` ${result.ms} ms`;
  const inlineNotes = !notesPerLine && result.notes?.length ? `  [${result.notes.join('; ')}]` : '';
  console.log(`   ${LABELS[result.status]} ${name}${detail}${inlineNotes}`);
  if (notesPerLine) for (const note of result.notes ?? []) console.log(`        - ${note}`);
  if (result.error) console.log(`        ${short(result.error, errorMax)}`);
  for (const message of result.workerErrors ?? []) console.log(`        worker error: ${short(message, 400)}`);
}

/**
 * The result of a scenario that threw `error`, with what its workers reported (the ground truth of what fired): the
 * last 60 server log entries whose scope contains `scopePart`, one line each (`fields(entry)` gives the middle of the
 * line), printed with BSP_DEBUG; and the messages of the workers' uncaught errors, if any. `details` (if given) goes
 * after the notes, `extra` after the server log.
 */
export function failedResult(server, scopePart, fields, { start, error, notes, details, extra = {} }) {
  const start0 = server.log[0]?.receivedAt ?? 0;
  const serverLog = server.log
    .filter((entry) => entry.scope?.includes(scopePart))
    .slice(-60)
    .map((entry) =>
      [`+${entry.t - start0}ms`, entry.type, entry.tag?.split(':').pop(), ...fields(entry), `worker=${entry.instance}`, entry.scope.replace(server.origin, '')]
        .filter(Boolean)
        .join(' '));
  if (process.env.BSP_DEBUG) for (const line of serverLog) console.log(`        log ${line}`);
  const workerErrors = server
    .entries({ type: 'swError' })
    .filter((e) => e.scope?.includes(scopePart))
    .map((e) => e.message);
  return {
    status: 'fail',
    ms: Date.now() - start,
    error: describeError(error),
    notes,
    ...(details ? { details } : {}),
    serverLog,
    ...extra,
    ...(workerErrors.length ? { workerErrors } : {}),
  };
}

/** Writes `data` as results.json-style JSON to `file` and says where. */
export function writeResults(file, data, what = 'results') {
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
  console.log(`\n${what} written to ${file}`);
}
