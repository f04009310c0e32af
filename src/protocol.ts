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

/**
 * What a worker tells the pages of the origin after a pass (docs/semantics.md §4), on the BroadcastChannel named
 * PROTOCOL_KEY: when its scope next has something due, and the leases of firings under a lock. A hint only: a
 * forged one can at most cause an early poke, and a page that missed one recovers on its next check.
 */
export interface Notice {
  [PROTOCOL_KEY]: typeof PROTOCOL_VERSION;
  scope: string;
  /** ms since the epoch; Infinity: nothing scheduled. */
  next: number;
  leases: string[];
}

export function notice(scope: string, next: number, leases: string[]): Notice {
  return { [PROTOCOL_KEY]: PROTOCOL_VERSION, scope, next, leases };
}

/** A notice's shape; its leases are only ever used as parts of lock names, so they need no check of their own. */
export function isNotice(data: unknown): data is Notice {
  const n = data as Notice;
  return isOurs(data) && n[PROTOCOL_KEY] === PROTOCOL_VERSION && typeof n.scope === 'string' &&
    typeof n.next === 'number' && Array.isArray(n.leases);
}

/**
 * What a page asks the active worker of its registration, which owns the store (docs/semantics.md §4 and §7): register
 * these tags, list the tags, or drop every tag of the unregistered registration; for periodic sync, register one tag
 * with its `minInterval`, list the periodic tags, or unregister one. The answer goes back on the port sent with it.
 * Any page of the origin may ask what its own register() could do anyway; a malformed one is answered with an error,
 * never acted on.
 */
export interface Request {
  [PROTOCOL_KEY]: typeof PROTOCOL_VERSION;
  op: typeof OPS[number];
  tags?: string[];
  /** 'periodic': the tag's minInterval, converted by the page (`[EnforceRange] unsigned long long`). */
  minInterval?: number;
}

const OPS = ['register', 'tags', 'drop', 'periodic', 'periodicTags', 'unregister'] as const;

/** `tags`: the registration's tags (for 'tags'); `error`: the DOMException's name and message, nothing done. */
export interface Answer {
  tags?: string[];
  error?: [string, string];
}

export function request(op: Request['op'], tags?: string[], minInterval?: number): Request {
  return { [PROTOCOL_KEY]: PROTOCOL_VERSION, op, tags, minInterval };
}

export function isRequest(data: unknown): data is Request {
  const r = data as Request;
  return isOurs(data) && r[PROTOCOL_KEY] === PROTOCOL_VERSION && OPS.indexOf(r.op) >= 0;
}
