/** `configure({ debug: true })`: one console line per state transition, for developers chasing a sync. */
let enabled = false;

export function setDebug(on: boolean): void {
  enabled = on;
}

export function trace(message: string): void {
  if (enabled) console.log(`background-sync-polyfill: ${message}`);
}

/** How a record reads in a trace line. */
export function describe(record: { state: string; notBefore: number; reregistered?: boolean } | null): string {
  if (!record) return 'removed';
  if (record.state === 'waiting') return `waiting until ${new Date(record.notBefore).toISOString()}`;
  return record.reregistered ? `${record.state} (re-registered)` : record.state;
}
