// The results of a run, shared by every suite: counts, a scenario's printed line, a failed scenario's record with
// what its workers reported, and the results file.
import { writeFileSync } from 'node:fs';
import { describeError, short } from './util.mjs';

const LABELS = { pass: 'PASS', fail: 'FAIL', skip: 'SKIP' };
const COUNT_KEYS = { pass: 'passed', fail: 'failed', skip: 'skipped' };

/** `{ passed, failed, skipped }`, as results.json's totals. */
export const newCounts = () => ({ passed: 0, failed: 0, skipped: 0 });

/**
 * True (after saying so) when no scenario passed: a run where everything was skipped, or nothing ran, checked
 * nothing, and no runner may exit 0 on it.
 */
export function nothingPassed(counts) {
  if (counts.passed > 0) return false;
  console.log(`no scenario passed (${counts.failed} failed, ${counts.skipped} skipped): a run that checked nothing fails`);
  return true;
}

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
  const workerErrors = reportedErrors(server, scopePart).map(describeReported);
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

/**
 * Every error the pages and workers of a scope reported (`swError` from the workers, `pageError` from the test
 * pages: uncaught errors and unhandled rejections, see test/kit/fixtures), once each: test/security's worker reports
 * its own next to the kit's, so the same message of the same instance counts once.
 */
export function reportedErrors(server, scopePart) {
  const seen = new Set();
  return server.log.filter((entry) => {
    if ((entry.type !== 'swError' && entry.type !== 'pageError') || !entry.scope?.includes(scopePart)) return false;
    const key = `${entry.instance}\n${entry.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

const describeReported = (entry) => `${entry.type === 'pageError' ? 'page' : 'worker'} ${entry.kind ?? 'error'}: ${entry.message}`;

/**
 * The reported errors of a scope that the scenario does not expect: `expected` lists what it expects by name (a
 * string the message contains, or a RegExp). Any other error fails the scenario, even if everything else passed:
 * an uncaught throw or an unhandled rejection in the polyfill is a bug whether or not an outcome shows it.
 */
export function unexpectedErrors(server, scopePart, expected = []) {
  const expects = (message) => expected.some((e) => (e instanceof RegExp ? e.test(message) : message.includes(e)));
  return reportedErrors(server, scopePart).filter((entry) => !expects(entry.message)).map(describeReported);
}

/** The error of a scenario that passed but whose pages or workers reported errors it did not expect. */
export function errorsFailure(errors) {
  return `the pages or workers reported ${errors.length} error(s) the scenario does not expect: ${errors.slice(0, 5).join(' | ')}`;
}

/** Writes `data` as results.json-style JSON to `file` and says where. */
export function writeResults(file, data, what = 'results') {
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
  console.log(`\n${what} written to ${file}`);
}
