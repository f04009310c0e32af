/**
 * The private messages between pages and the worker (docs/semantics.md §4). A poke carries no state, only "look at the
 * store now", so a forged one can at most cause an early check; everything that fires is decided by the store.
 */
export const PROTOCOL_KEY = '__backgroundSyncPolyfill';
export const PROTOCOL_VERSION = 1;

interface Poke {
  [PROTOCOL_KEY]: typeof PROTOCOL_VERSION;
  /** The page's view of connectivity (docs/semantics.md §3: fire only while online). */
  online: boolean;
}

export function poke(online: boolean): Poke {
  return { [PROTOCOL_KEY]: PROTOCOL_VERSION, online };
}

/** Ours at all? Then the app must never see it, even when it is malformed. */
export function isOurs(data: unknown): boolean {
  return typeof data === 'object' && data !== null && Object.prototype.hasOwnProperty.call(data, PROTOCOL_KEY);
}

/** A well-formed poke of this version; anything else is ignored. */
export function isPoke(data: unknown): data is Poke {
  return isOurs(data) && (data as Poke)[PROTOCOL_KEY] === PROTOCOL_VERSION && typeof (data as Poke).online === 'boolean';
}
