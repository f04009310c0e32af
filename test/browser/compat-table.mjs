// `npm run compat`: renders compat-table.md from test/browser/results.json, which the browser suite writes.
//   node test/browser/compat-table.mjs           writes compat-table.md
//   node test/browser/compat-table.mjs --check   renders it afresh and exits 1, with a diff, if the committed file differs
//
// Every measured cell is the status of the suite's scenarios in one engine. Rows for browsers no engine here runs
// come from the fixed data below, labelled with their source: MDN browser-compat-data for native support, and
// "not tested here" (inferred from the named engine, or not at all) for behaviour. The output depends only on the
// scenarios' statuses, their fixed skip reasons and the engine versions: no dates, timings or ports, so the same
// results always render the same file.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RESULTS_FILE = fileURLToPath(new URL('./results.json', import.meta.url));
const TABLE_FILE = fileURLToPath(new URL('../../compat-table.md', import.meta.url));

/** The suite's modes, in column order, and what each is. */
const MODES = [
  { mode: 'chromium-native', label: 'Chromium (native API)', what: 'Chromium with its own Background Sync: the polyfill detects it and stays out of the way' },
  { mode: 'chromium-deleted', label: 'Chromium (API deleted)', what: 'Chromium with the API deleted before any script runs: the polyfill path in a fast engine' },
  { mode: 'firefox', label: 'Firefox ESR', what: 'Firefox ESR (Gecko): the polyfill path' },
  { mode: 'webkit', label: 'WebKitGTK', what: "WebKitGTK's MiniBrowser (WebKit, Safari's engine) through WebKitWebDriver under Xvfb: the polyfill path" },
];

/** The browser table's behaviour columns: each is the scenarios that measure it. */
const COLUMNS = [
  { key: 'api', title: 'register / getTags', scenarios: ['api-surface', 'register-errors', 'worker-register-without-window', 'get-tags', 'coalescing', 'storage-failure', 'two-scopes', 'unregistration'] },
  { key: 'open', title: '`sync` while a page is open', scenarios: ['fires-online', 'offline-then-online', 'reregister-while-firing', 'onsync-attribute', 'worker-update', 'worker-without-polyfill'] },
  { key: 'restart', title: 'after a browser restart or a schema upgrade', scenarios: ['persistence', 'schema-upgrade'] },
  { key: 'retry', title: 'retries and `lastChance`', scenarios: ['retry-policy', 'max-event-duration', 'cdp-last-chance'] },
  { key: 'tabs', title: 'several tabs', scenarios: ['two-tabs-one-event', 'several-tabs'] },
  { key: 'liveness', title: 'a killed worker retried at once; a busy one never', scenarios: ['worker-killed-recovers', 'live-worker-not-reaped', 'no-web-locks'] },
  { key: 'nopage', title: '`sync` with no page open', scenarios: ['no-page-open'] },
  {
    key: 'periodic',
    title: '`periodicSync` and `periodicsync` on schedule (offline, unregister, failures)',
    scenarios: ['periodic-api', 'periodic-cdp-dispatch', 'periodic-fires-on-schedule', 'periodic-offline-then-online', 'periodic-unregister', 'periodic-failure-next-period'],
  },
  { key: 'periodicLasting', title: '`periodicsync` across tabs, a browser restart and the schema upgrade', scenarios: ['periodic-several-tabs', 'periodic-persistence', 'periodic-schema-upgrade'] },
  { key: 'wake', title: 'wake-ups from `push` and `wake()`', scenarios: ['push-wakes-no-page', 'push-wakes-running-worker', 'wake-from-message'] },
];

/**
 * Where the native API is present but refuses (docs/semantics.md §8): each row is one scenario of the `chromium-native`
 * run, and what the engine answers alone is what that scenario asserts.
 */
const REFUSALS = [
  {
    situation: "Chrome, the site's `background-sync` permission denied",
    engine: '`register()` rejects with `NotAllowedError: Permission denied.`',
    scenario: 'takeover-permission-denied',
    polyfill: "taken over: a page's and the worker's `register()` resolve, are listed, fire once online; granted again, the engine's own API is used",
  },
  {
    situation: 'The same, a later page that never calls the API',
    engine: 'nothing to refuse: a tag taken over earlier waits for a wake-up',
    scenario: 'takeover-later-page',
    polyfill: "the origin's mark has the page's load evaluate the script and run its wake-ups: the tag fires once, by the end of the visit",
  },
  {
    situation: 'Chrome tab of a site that is not an installed app: periodic sync',
    engine: '`periodicSync.register()` rejects with `NotAllowedError: Permission denied.`',
    scenario: 'takeover-periodic-in-tab',
    polyfill: 'taken over: `periodicsync` fires on its interval, listed, unregistered',
  },
  {
    situation: 'Electron and embedded WebViews',
    engine: 'every call rejects with "Background Sync is disabled." (emulated: `test/kit/fixtures/refuse-native.js`)',
    scenario: 'takeover-disabled',
    polyfill: "taken over: one-shot (a page's and the worker's) and periodic sync fire",
  },
];

// Native support: MDN browser-compat-data, api/SyncManager.json (chrome 49; edge, opera, samsunginternet_android,
// chrome_android and webview_android mirror chrome: 79, 36, 5.0; firefox, safari and safari_ios false).
const BCD = 'MDN browser-compat-data';
const ROWS = [
  { browser: 'Chrome (desktop and Android)', api: `native since 49 (${BCD})`, measured: 'chromium-native' },
  { browser: 'Edge', api: `native since 79 (${BCD})`, inferred: 'chromium-native', why: 'Chromium-based' },
  { browser: 'Opera', api: `native since 36 (${BCD})`, inferred: 'chromium-native', why: 'Chromium-based' },
  { browser: 'Samsung Internet', api: `native since 5.0 (${BCD})`, inferred: 'chromium-native', why: 'Chromium-based' },
  {
    browser: 'Chromium with the native API deleted',
    api: 'deleted before any script by the suite (as where it is absent or disabled): the polyfill',
    measured: 'chromium-deleted',
  },
  { browser: 'Firefox (desktop)', api: `none (${BCD}): the polyfill`, measured: 'firefox' },
  { browser: 'Firefox for Android', api: `none (${BCD}): the polyfill`, inferred: 'firefox', why: 'same engine, Gecko' },
  { browser: 'Safari (macOS)', api: `none (${BCD}): the polyfill`, inferred: 'webkit', why: "WebKitGTK is WebKit, Safari's engine, in its Linux port" },
  { browser: 'Safari on iOS (every iOS browser)', api: `none (${BCD}): the polyfill`, inferred: 'webkit', why: "WebKitGTK is WebKit, Safari's engine, in its Linux port" },
  {
    browser: 'Android WebView',
    api: `exposed (${BCD}: mirrors Chrome 49) but disabled: register() rejects "Background Sync is disabled", and the polyfill takes each call over`,
    untested: 'not tested here: no WebView runs on this machine. Its refusal is emulated in Chromium by `takeover-disabled` (below)',
  },
  {
    browser: 'Electron',
    api: 'exposed but disabled (not in MDN browser-compat-data): the polyfill takes each refused call over',
    untested: 'not tested here: no Electron runs on this machine. Its refusal is emulated in Chromium by `takeover-disabled` (below)',
  },
  {
    browser: 'Brave',
    api: 'exposed; blocked silently (`register()` resolves, no event fires): undetectable, so force the polyfill',
    untested: 'not tested here: no Brave runs on this machine. The forced polyfill in a Chromium engine is closest to the `chromium-deleted` run',
  },
];

const NOTE_NO_PAGE = 'no-page';
const NOTE_INFERRED = 'inferred';


export function render(results) {
  const footnotes = new Footnotes();
  const modeOf = (mode) => results.modes?.[mode];
  const scenarioNames = allScenarios(results);

  // One note per scenario and skip reason, naming every mode that skipped it for that reason.
  const skips = new Map();
  for (const { mode } of MODES) {
    for (const [name, r] of Object.entries(modeOf(mode)?.scenarios ?? {})) {
      if (r.status !== 'skip') continue;
      const key = `skip:${name}:${r.reason}`;
      if (!skips.has(key)) skips.set(key, { name, reason: r.reason, modes: [] });
      skips.get(key).modes.push(labelOf(mode));
    }
  }
  const skipRef = (mode, name) => {
    const key = `skip:${name}:${modeOf(mode).scenarios[name].reason}`;
    const { reason, modes } = skips.get(key);
    return footnotes.ref(key, `\`${name}\` skipped in ${list(modes)}: ${reason}`);
  };

  const cell = (mode, column, inferred) => {
    const modeResult = modeOf(mode);
    if (!modeResult) return 'not run';
    const statuses = column.scenarios.map((name) => [name, modeResult.scenarios?.[name]]);
    const missing = statuses.filter(([, r]) => !r).map(([name]) => name);
    const failed = statuses.filter(([, r]) => r?.status === 'fail').map(([name]) => name);
    const passed = statuses.filter(([, r]) => r?.status === 'pass');
    const skipped = statuses.filter(([, r]) => r?.status === 'skip');
    const mark = inferred ? ' (inferred)' : '';
    if (failed.length) return `❌ fails: ${failed.join(', ')}${mark}`;
    if (missing.length) return `not run: ${missing.join(', ')}`;
    if (!passed.length) {
      return `➖ not measurable here${skipped.map(([name]) => skipRef(mode, name)).join('')}`;
    }
    let text = '✅';
    if (column.key === 'nopage') {
      text = modeResult.nativeSync
        ? '✅ fires: the browser wakes the worker (native only)'
        : `⚠️ waits for the next visit${footnotes.ref(NOTE_NO_PAGE, NO_PAGE_TEXT)}`;
    } else if (skipped.length) {
      text = `✅ ${passed.length} of ${statuses.length}, ${skipped.length} skipped${skipped.map(([name]) => skipRef(mode, name)).join('')}`;
    }
    return text + mark;
  };

  const lines = [
    '# What works where',
    '',
    '<!-- Generated by `npm run compat` (test/browser/compat-table.mjs) from test/browser/results.json. Do not edit:',
    '     CI regenerates it after the browser suite and fails if this file differs. -->',
    '',
    'Every measured cell below is a run of this project\'s own browser suite (`test/browser/`, `npm run test:browser`) in a',
    'real engine on this project\'s CI machine kind, with a real service worker and real connectivity changes (a private',
    'network namespace whose link goes down; Chromium\'s own offline emulation in Chromium), the test server\'s log being',
    'the record of what fired. A row that no engine here ran says so: it is either inferred from the named engine, or not',
    'tested here at all.',
    '',
    '✅ every scenario of the column passed · ❌ a scenario failed (named) · ➖ nothing in the column can be measured in',
    'that engine (why, below) · ⚠️ works within the polyfill\'s limit (below) · *(inferred)*: not tested here, taken',
    'from the engine in the last column.',
    '',
    `| browser | Background Sync | ${COLUMNS.map((c) => c.title).join(' | ')} | engine tested |`,
    `|---|---|${COLUMNS.map(() => '---').join('|')}|---|`,
  ];
  for (const row of ROWS) {
    const mode = row.measured ?? row.inferred;
    let cells;
    let engine;
    if (row.untested) {
      cells = COLUMNS.map(() => 'not tested here');
      engine = row.untested;
    } else if (!modeOf(mode)) {
      cells = COLUMNS.map(() => 'not run');
      engine = `not run: the suite's \`${mode}\` mode is missing from the results`;
    } else {
      cells = COLUMNS.map((column) => cell(mode, column, Boolean(row.inferred)));
      const version = modeOf(mode).browserVersion ?? 'unknown version';
      engine = row.inferred
        ? `not tested here: inferred from ${version}${footnotes.ref(`${NOTE_INFERRED}:${mode}`, inferredText(mode, version))}`
        : `${version} (\`${mode}\`)`;
    }
    lines.push(`| ${row.browser} | ${row.api} | ${cells.join(' | ')} | ${engine} |`);
  }

  const native = modeOf('chromium-native');
  const refusal = (name) => {
    const r = native?.scenarios?.[name];
    if (!r) return 'not run';
    if (r.status === 'pass') return '✅';
    if (r.status === 'fail') return `❌ fails: ${name}`;
    return `➖ skipped${skipRef('chromium-native', name)}`;
  };
  lines.push(
    '',
    '## Where the native API is present but refuses',
    '',
    'The polyfill leaves the engine\'s own API in place and takes over only the calls it refuses (docs/semantics.md §8).',
    `Measured in ${native?.browserVersion ?? 'Chromium (not run)'} (\`chromium-native\`), one scenario per row.`,
    '',
    '| situation | the engine alone | with the polyfill | result | scenario |',
    '|---|---|---|---|---|',
    ...REFUSALS.map((r) => `| ${r.situation} | ${r.engine} | ${r.polyfill} | ${refusal(r.scenario)} | \`${r.scenario}\` |`),
    '| Brave | `register()` resolves and no event ever fires | cannot be told apart from a working engine: set `force` | not tested here | – |',
  );

  lines.push(
    '',
    '## What the polyfill cannot do, and why',
    '',
    `- **No page open, no sync.** ${NO_PAGE_TEXT}`,
    '- **Periodic sync keeps to the site\'s visits.** Native Chromium fires `periodicsync` only for an installed app, on its',
    '  own schedule (12 hours at least, stretched by site engagement), with the browser running but no page needed; the',
    '  `chromium-native` run can only check its API and fire it through DevTools. The polyfill fires it for any site at',
    '  `max(minInterval, periodicMinInterval)`, while a page of the site is open or its worker runs, never while the',
    '  browser is closed (docs/semantics.md §7).',
    '- **Retries follow the pages.** A retry in backoff fires at its time only while a page of the origin or the service',
    '  worker is alive to notice; otherwise it fires on the next visit. Native Chromium keeps its own schedule (5 and',
    '  15 minutes); the `chromium-native` run measures its real retries and `lastChance` with that schedule forced to',
    '  1 s and 2 s through Chromium\'s `BackgroundSync` field trial (docs/testing.md).',
    '- **Unregistration** through the polyfilled `unregister()` drops a scope\'s registrations at once, as native',
    '  Chromium does; a registration removed by other means (DevTools, clearing site data in part) is swept when a page',
    '  of the origin next checks (on load, focus, `online`, visibility).',
    '- **Engines it was not run in** (the rows marked *not tested here*): the polyfill needs service workers, IndexedDB',
    '  and ES2017. Android WebView and Electron expose a disabled native API whose refusals the polyfill takes over;',
    '  Brave\'s silent block cannot be detected, so the polyfill must be forced there (README, "Electron, WebViews, denied',
    '  permissions and Brave").',
    '',
    '## Engines tested',
    '',
    '| mode | engine | what it runs |',
    '|---|---|---|',
    ...MODES.map(({ mode, what }) => `| \`${mode}\` | ${modeOf(mode)?.browserVersion ?? 'not run'} | ${what} |`),
    '',
    '## Every scenario in every engine',
    '',
    `| scenario | ${MODES.map(({ mode }) => `\`${mode}\``).join(' | ')} |`,
    `|---|${MODES.map(() => '---').join('|')}|`,
  );
  for (const name of scenarioNames) {
    const cells = MODES.map(({ mode }) => {
      const r = modeOf(mode)?.scenarios?.[name];
      if (!r) return 'not run';
      if (r.status === 'pass') return '✅ pass';
      if (r.status === 'fail') return '❌ fail';
      return `➖ skip${skipRef(mode, name)}`;
    });
    lines.push(`| \`${name}\` | ${cells.join(' | ')} |`);
  }
  lines.push(
    '',
    'Which scenarios make each column of the first table:',
    '',
    ...COLUMNS.map((c) => `- ${c.title}: ${c.scenarios.map((s) => `\`${s}\``).join(', ')}`),
    '',
    '## Notes',
    '',
    ...footnotes.render(),
    '',
  );
  return lines.join('\n');
}

const NO_PAGE_TEXT =
  'Native Chromium wakes the service worker by itself when the network comes back. A polyfill can fire only while some ' +
  'script of the origin runs, so with no page open and nothing waking the worker, a registration waits until the next ' +
  'visit (docs/semantics.md §4). Measured: the registration fires, once, by the next visit; it may fire earlier if the worker ' +
  'happens to be alive when the network returns. An app that receives Web Push gets it fired by its next push (§9, ' +
  '`push-wakes-no-page`).';

function inferredText(mode, version) {
  const rows = ROWS.filter((row) => row.inferred === mode);
  const names = list(rows.map((row) => row.browser));
  return `${names} ${rows.length > 1 ? 'are' : 'is'} not tested here: ${rows.length > 1 ? 'their' : 'its'} cells are the results of ` +
    `${version} (${rows[0].why}), marked *(inferred)*. What differs in the product (its network stack, its service worker ` +
    'lifetime, its settings, its platform) is not covered.';
}

const list = (items) => (items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`);

const labelOf = (mode) => MODES.find((m) => m.mode === mode)?.label ?? mode;

/** Scenario names in the order the suite ran them, across modes. */
function allScenarios(results) {
  const names = [];
  for (const { mode } of MODES) {
    for (const name of Object.keys(results.modes?.[mode]?.scenarios ?? {})) if (!names.includes(name)) names.push(name);
  }
  return names;
}

/** Numbered notes, each text once, numbered in order of first use. */
class Footnotes {
  constructor() {
    this.notes = new Map();
  }

  ref(key, text) {
    if (!this.notes.has(key)) this.notes.set(key, { n: this.notes.size + 1, text });
    return ` [${this.notes.get(key).n}]`;
  }

  render() {
    return [...this.notes.values()].map(({ n, text }) => `${n}. ${text}`);
  }
}

function main() {
  const check = process.argv.includes('--check');
  if (!existsSync(RESULTS_FILE)) {
    console.error(`${RESULTS_FILE} is missing: run the browser suite first (node test/browser/run.mjs)`);
    process.exit(1);
  }
  const results = JSON.parse(readFileSync(RESULTS_FILE, 'utf8'));
  const fresh = render(results);
  if (!check) {
    writeFileSync(TABLE_FILE, fresh);
    console.log(`wrote ${TABLE_FILE}`);
    if (results.complete === false) console.log('note: results.json comes from a partial run (--mode/--only); the table shows it');
    return;
  }
  const committed = existsSync(TABLE_FILE) ? readFileSync(TABLE_FILE, 'utf8') : null;
  if (committed === fresh) {
    console.log('compat-table.md matches the results of this run');
    return;
  }
  // Debian ships browser updates between runs. The same results from newer engines are no drift in behaviour: the
  // check passes, says so, and `npm run compat` records the versions. Only a different outcome fails it.
  const movedOn = committed === null ? [] : versionChanges(committed, results);
  // With the committed versions, so that a diff shows only what behaves differently.
  const measured = movedOn.length ? render(withVersions(results, committedVersions(committed))) : fresh;
  if (movedOn.length && committed === measured) {
    console.log(`compat-table.md matches the results of this run, measured on newer engines: ${movedOn.join(', ')}`);
    console.log('`npm run compat` records these versions in the table.');
    return;
  }
  console.error(committed === null
    ? 'compat-table.md is missing'
    : 'compat-table.md differs from what this run measured (- committed, + measured now):');
  if (committed !== null) console.error(diff(committed, measured));
  if (movedOn.length) console.error(`The engines also changed since the table was committed: ${movedOn.join(', ')}`);
  if (results.complete === false) console.error('note: results.json comes from a partial run (--mode/--only)');
  console.error('Regenerate it with `npm run compat` and commit it, or fix what failed.');
  process.exit(1);
}

/** The engine version of each mode, from a rendered table's "Engines tested" section. */
function committedVersions(table) {
  const versions = {};
  for (const { mode } of MODES) {
    const row = table.split('\n').find((line) => line.startsWith(`| \`${mode}\` | `));
    if (row) versions[mode] = row.split(' | ')[1].trim();
  }
  return versions;
}

/** The results, with each mode's engine version replaced by `versions[mode]`. */
function withVersions(results, versions) {
  const modes = {};
  for (const [mode, result] of Object.entries(results.modes ?? {})) {
    modes[mode] = mode in versions ? { ...result, browserVersion: versions[mode] } : result;
  }
  return { ...results, modes };
}

/** "mode: committed → measured" for every engine whose version differs from the committed table's. */
function versionChanges(table, results) {
  const committed = committedVersions(table);
  return Object.entries(results.modes ?? {})
    .filter(([mode, result]) => mode in committed && committed[mode] !== result.browserVersion)
    .map(([mode, result]) => `${mode} ${committed[mode]} → ${result.browserVersion}`);
}

function diff(before, after) {
  const dir = mkdtempSync(join(tmpdir(), 'bsp-compat-'));
  try {
    writeFileSync(join(dir, 'committed.md'), before);
    writeFileSync(join(dir, 'measured.md'), after);
    const result = spawnSync('diff', ['-u', '--label', 'compat-table.md (committed)', '--label', 'compat-table.md (measured now)', 'committed.md', 'measured.md'], { cwd: dir, encoding: 'utf8', timeout: 10000 });
    if (result.stdout) return result.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const a = before.split('\n');
  const b = after.split('\n');
  const out = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) out.push(`line ${i + 1}:`, `- ${a[i] ?? ''}`, `+ ${b[i] ?? ''}`);
  }
  return out.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
