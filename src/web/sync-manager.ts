/**
 * SyncManager, PeriodicSyncManager and their getters on `ServiceWorkerRegistration.prototype` (docs/semantics.md §1, §2
 * and §7): the argument checks, the same in pages and worker; what stores and lists is the host's (the worker's store,
 * or a page's messages to it).
 */
import { domError, illegalInvocation, toDOMString, toMinInterval, webIDLInterface } from './errors';

/** Chromium's limit on a tag's length. */
export const MAX_TAG_LENGTH = 10240;

/** What differs between a page and the worker: both reject with the spec's DOMExceptions. */
export interface SyncHost {
  /** docs/semantics.md §2 steps 3 to 7, once the arguments are checked. */
  register(registration: ServiceWorkerRegistration, tag: string): Promise<void>;
  /** The registration's tags, in registration order. */
  getTags(registration: ServiceWorkerRegistration): Promise<string[]> | string[];
}

/** Periodic sync's host (docs/semantics.md §7): the same, with an interval, and unregister(). */
export interface PeriodicHost {
  register(registration: ServiceWorkerRegistration, tag: string, minInterval: number): Promise<void>;
  getTags(registration: ServiceWorkerRegistration): Promise<string[]> | string[];
  unregister(registration: ServiceWorkerRegistration, tag: string): Promise<void>;
}

let host: SyncHost;
let periodicHost: PeriodicHost;

/**
 * A getter for `ServiceWorkerRegistration.prototype[name]` that gives each registration one object of `Class`, and the
 * brand check of Class's methods: the registration an object of Class belongs to, or a TypeError. Each class has maps
 * of its own, so one manager's methods refuse the other's objects. The getter is an accessor of an object literal
 * with a computed name, so that it is named "get sync" (or "get periodicSync") and has no prototype, as WebIDL has it.
 */
function managed<T extends object>(Class: { prototype: T }, name: string) {
  const registrations = new WeakMap<object, ServiceWorkerRegistration>();
  const managers = new WeakMap<ServiceWorkerRegistration, T>();
  const getter = Object.getOwnPropertyDescriptor({
    get [name](): T {
      const registration = this as unknown as ServiceWorkerRegistration;
      if (!(registration instanceof ServiceWorkerRegistration)) throw illegalInvocation();
      let manager = managers.get(registration);
      if (!manager) {
        manager = Object.create(Class.prototype) as T;
        registrations.set(manager, registration);
        managers.set(registration, manager);
      }
      return manager;
    },
  }, name)!.get as (this: ServiceWorkerRegistration) => T;
  const registrationOf = (manager: unknown): ServiceWorkerRegistration => {
    const registration = registrations.get(manager as object);
    if (!registration) throw illegalInvocation();
    return registration;
  };
  return [getter, registrationOf] as const;
}

/**
 * In a page whose document has lost its browsing context (a removed iframe's), rejects at once: that realm may never
 * run what comes after an await (Firefox drops its promise jobs), so a promise left pending there would never settle.
 */
function checkFullyActive(): void {
  if (typeof document == 'object' && !document.defaultView) throw domError('InvalidStateError', 'The document is not fully active');
}

/** What register() of both managers checks, in the spec's order once the arguments are converted. */
function checkRegister(registration: ServiceWorkerRegistration, tag: string): void {
  checkFullyActive();
  if (!registration.active) throw domError('InvalidStateError', 'Registration failed - no active Service Worker');
  if (tag.length > MAX_TAG_LENGTH) {
    throw domError('InvalidAccessError', `Registration failed - the tag is longer than ${MAX_TAG_LENGTH} characters`);
  }
}

/** WebIDL's "N argument(s) required" TypeError for `method` of `iface`, and the conversion of the tag. */
function tagArgument(args: IArguments, method: string, iface: string): string {
  const what = `Failed to execute '${method}' on '${iface}'`;
  if (args.length < 1) throw new TypeError(`${what}: 1 argument required`);
  return toDOMString(args[0], what);
}

export class SyncManager {
  constructor() {
    throw new TypeError('Illegal constructor');
  }

  // Async methods: argument and brand errors reject, never throw (WebIDL).
  async register(_tag: string): Promise<void> {
    const registration = syncOf(this);
    const tag = tagArgument(arguments, 'register', 'SyncManager');
    checkRegister(registration, tag);
    return host.register(registration, tag);
  }

  async getTags(): Promise<string[]> {
    const registration = syncOf(this);
    checkFullyActive();
    return host.getTags(registration);
  }
}

export class PeriodicSyncManager {
  constructor() {
    throw new TypeError('Illegal constructor');
  }

  // `register(tag, options = {})`: the options are read from `arguments`, so that `register.length` is 1, as WebIDL
  // counts an optional argument out.
  async register(_tag: string): Promise<void> {
    const registration = periodicOf(this);
    const tag = tagArgument(arguments, 'register', 'PeriodicSyncManager');
    // WebIDL converts the arguments in order: the tag, then the dictionary.
    const minInterval = toMinInterval(arguments[1], "Failed to execute 'register' on 'PeriodicSyncManager'");
    checkRegister(registration, tag);
    return periodicHost.register(registration, tag, minInterval);
  }

  async getTags(): Promise<string[]> {
    const registration = periodicOf(this);
    checkFullyActive();
    return periodicHost.getTags(registration);
  }

  async unregister(_tag: string): Promise<void> {
    const registration = periodicOf(this);
    const tag = tagArgument(arguments, 'unregister', 'PeriodicSyncManager');
    checkFullyActive();
    return periodicHost.unregister(registration, tag);
  }
}

/** The getters installed as `ServiceWorkerRegistration.prototype.sync` and `.periodicSync`. */
export const [syncGetter, syncOf] = managed(SyncManager, 'sync');
export const [periodicSyncGetter, periodicOf] = managed(PeriodicSyncManager, 'periodicSync');

let shaped = false;
/**
 * Gives both managers their WebIDL shape (enumerable operations, `Symbol.toStringTag`). Done when the polyfill
 * installs, not when the module loads, so a browser with the native API pays nothing for it (docs/semantics.md §6).
 */
export function shapeManagers(): void {
  if (!shaped) {
    webIDLInterface(SyncManager, 'SyncManager');
    webIDLInterface(PeriodicSyncManager, 'PeriodicSyncManager');
  }
  shaped = true;
}

export function setSyncHost(next: SyncHost, periodic: PeriodicHost): void {
  host = next;
  periodicHost = periodic;
}
