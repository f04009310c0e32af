/** SyncManager and `ServiceWorkerRegistration.prototype.sync` (docs/semantics.md §1 and §2), the same in pages and worker. */
import * as store from '../store/db';
import { domError, illegalInvocation, toDOMString, webIDLInterface } from './errors';
import { describe, trace } from '../debug';

/** Chromium's limit on a tag's length. */
export const MAX_TAG_LENGTH = 10240;

/** What differs between a page and the worker. */
export interface SyncHost {
  /** docs/semantics.md §2 step 3 (worker only): is a top-level window of the origin open? */
  hasWindow?(): Promise<boolean>;
  /** Called after register() has resolved: wake whatever fires (docs/semantics.md §2 step 7). */
  registered(registration: ServiceWorkerRegistration): void;
}

const registrations = new WeakMap<object, ServiceWorkerRegistration>();
const managers = new WeakMap<ServiceWorkerRegistration, SyncManager>();
let host: SyncHost = { registered() {} };

function registrationOf(manager: unknown): ServiceWorkerRegistration {
  const registration = registrations.get(manager as object);
  if (!registration) throw illegalInvocation();
  return registration;
}

/**
 * In a page whose document has lost its browsing context (a removed iframe's), rejects at once: that realm may never
 * run what comes after an await (Firefox drops its promise jobs), so a promise left pending there would never settle.
 */
function checkFullyActive(): void {
  if (typeof document == 'object' && !document.defaultView) throw domError('InvalidStateError', 'The document is not fully active');
}

function storageFailed(e: unknown): Error {
  return domError('UnknownError', `Background Sync storage failed: ${(e as Error).message}`);
}

export class SyncManager {
  constructor() {
    throw new TypeError('Illegal constructor');
  }

  // Async methods: argument and brand errors reject, never throw (WebIDL).
  async register(tag: string): Promise<void> {
    const registration = registrationOf(this);
    if (arguments.length < 1) throw new TypeError("Failed to execute 'register' on 'SyncManager': 1 argument required");
    tag = toDOMString(tag, "Failed to execute 'register' on 'SyncManager'");
    checkFullyActive();
    if (!registration.active) throw domError('InvalidStateError', 'Registration failed - no active Service Worker');
    if (tag.length > MAX_TAG_LENGTH) {
      throw domError('InvalidAccessError', `Registration failed - the tag is longer than ${MAX_TAG_LENGTH} characters`);
    }
    if (host.hasWindow && !(await host.hasWindow())) {
      throw domError(
        'InvalidAccessError', 'Attempted to register a sync event without a window or registration tag too long.',
      );
    }
    let record;
    try {
      record = await store.storeRegistration(registration.scope, tag);
    } catch (e) {
      throw storageFailed(e);
    }
    trace(`register("${tag}") → ${describe(record)}`);
    // Fire only after this promise has resolved (docs/semantics.md §2 step 7).
    setTimeout(() => host.registered(registration), 0);
  }

  async getTags(): Promise<string[]> {
    const registration = registrationOf(this);
    checkFullyActive();
    try {
      // list() gives registration order already.
      return (await store.list(registration.scope)).map((record) => record.tag);
    } catch (e) {
      throw storageFailed(e);
    }
  }
}

let shaped = false;
/**
 * Gives SyncManager its WebIDL shape (enumerable operations, `Symbol.toStringTag`). Done when the polyfill
 * installs, not when the module loads, so a browser with the native API pays nothing for it (docs/semantics.md §6).
 */
export function shapeSyncManager(): typeof SyncManager {
  if (!shaped) webIDLInterface(SyncManager, 'SyncManager');
  shaped = true;
  return SyncManager;
}

/**
 * The getter installed as `ServiceWorkerRegistration.prototype.sync`: one SyncManager per registration.
 * Taken from an object literal's accessor so that its name is "get sync", as WebIDL has it.
 */
export const syncGetter = Object.getOwnPropertyDescriptor({
  get sync(): SyncManager {
    const registration = this as unknown as ServiceWorkerRegistration;
    if (!(registration instanceof ServiceWorkerRegistration)) throw illegalInvocation();
    let manager = managers.get(registration);
    if (!manager) {
      manager = Object.create(SyncManager.prototype) as SyncManager;
      registrations.set(manager, registration);
      managers.set(registration, manager);
    }
    return manager;
  },
}, 'sync')!.get as (this: ServiceWorkerRegistration) => SyncManager;

export function setSyncHost(next: SyncHost): void {
  host = next;
}
