/**
 * SyncManager and `ServiceWorkerRegistration.prototype.sync` (docs/semantics.md §1 and §2): the argument checks, the
 * same in pages and worker; what stores and lists is the host's (the worker's store, or a page's messages to it).
 */
import { domError, illegalInvocation, toDOMString, webIDLInterface } from './errors';

/** Chromium's limit on a tag's length. */
export const MAX_TAG_LENGTH = 10240;

/** What differs between a page and the worker: both reject with the spec's DOMExceptions. */
export interface SyncHost {
  /** docs/semantics.md §2 steps 3 to 7, once the arguments are checked. */
  register(registration: ServiceWorkerRegistration, tag: string): Promise<void>;
  /** The registration's tags, in registration order. */
  getTags(registration: ServiceWorkerRegistration): Promise<string[]> | string[];
}

const registrations = new WeakMap<object, ServiceWorkerRegistration>();
const managers = new WeakMap<ServiceWorkerRegistration, SyncManager>();
let host: SyncHost;

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
    return host.register(registration, tag);
  }

  async getTags(): Promise<string[]> {
    const registration = registrationOf(this);
    checkFullyActive();
    return host.getTags(registration);
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
