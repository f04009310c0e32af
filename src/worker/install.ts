/**
 * The worker half: the shared globals plus SyncEvent and `onsync`, the store (which only the worker opens), a
 * Dispatcher for this registration, and what wakes it (docs/semantics.md §3 and §4).
 */
import { Options, updatePolicy } from '../options';
import { defineGlobal } from '../web/define';
import { defineSharedGlobals } from '../web/globals';
import { defineSyncEvent, onsyncAccessor } from '../web/sync-event';
import { MAX_TAG_LENGTH, setSyncHost } from '../web/sync-manager';
import { domError } from '../web/errors';
import * as store from '../store/db';
import { Dispatcher } from './dispatcher';
import { listenForWakeups } from './wakeups';
import { Answer, PROTOCOL_KEY, Request, notice } from '../protocol';

/** Installs in the service worker; returns what applies checked options here. */
export function installWorker(report: (error: unknown) => void): (options: Options) => void {
  const scope = self as unknown as ServiceWorkerGlobalScope;
  const SyncEvent = defineSyncEvent();
  const scopeUrl = scope.registration.scope;
  const drop = () => store.removeScope(scopeUrl).catch(report);
  defineSharedGlobals(drop);
  defineGlobal('SyncEvent', SyncEvent);
  // ServiceWorkerGlobalScope is [Global]: WebIDL puts its attributes on the instance, as Chromium has onsync.
  Object.defineProperty(scope, 'onsync', onsyncAccessor());
  // Pages and this worker speak on it both ways: its notices out, and pokes in from pages while it runs (the fast
  // path; a page's postMessage follows to wake a stopped worker).
  const channel = typeof BroadcastChannel !== 'undefined' ? new BroadcastChannel(PROTOCOL_KEY) : undefined;
  let told = '';
  const dispatcher = new Dispatcher({
    scope: scopeUrl,
    target: scope,
    SyncEvent,
    isOnline: () => scope.navigator.onLine !== false,
    report,
    isActive: () => isActiveWorker(scope),
    // The pages of the origin arm their timers and watch the leases from this (docs/semantics.md §4); the same again is
    // not sent.
    notify: (next, leases) => {
      const said = next + ' ' + leases;
      if (said === told || !channel) return;
      told = said;
      try {
        channel.postMessage(notice(scopeUrl, next, leases));
      } catch (e) {
        report(e);
      }
    },
  });

  /**
   * Stores tags, or rejects with the spec's UnknownError; resolves with what fires them, for the caller to call once it
   * has answered (Dispatcher.register).
   */
  const register = (tags: string[]) => dispatcher.register(tags).catch(storageFailed);

  /** The scope's tags in registration order, or the spec's UnknownError. */
  const tags = () => store.list(scopeUrl).then((records) => records.map((record) => record.tag), storageFailed);

  setSyncHost({
    async register(_registration, tag) {
      // docs/semantics.md §2 step 3: only a top-level window counts.
      const clients = await scope.clients.matchAll({ type: 'window', includeUncontrolled: true });
      if (!clients.some((client) => client.frameType !== 'nested')) {
        throw domError('InvalidAccessError', 'Attempted to register a sync event without a window or registration tag too long.');
      }
      const fire = await register([tag]);
      // Fire only after this promise has resolved (docs/semantics.md §2 step 7).
      setTimeout(fire, 0);
    },
    getTags: tags,
  });

  /**
   * A page's request (src/protocol.ts): answered with what its own register(), getTags() or unregister() needs, and
   * what to run once the answer is sent (what a register() fires, or a pass).
   */
  const answer = (message: Request): Promise<[Answer, () => Promise<void>]> => {
    const { op, tags: asked } = message;
    const work: Promise<string[] | void | (() => Promise<void>)> = op === 'tags'
      ? tags()
      : op === 'drop'
        ? drop()
        : Array.isArray(asked) && asked.every((tag) => typeof tag == 'string' && tag.length <= MAX_TAG_LENGTH)
          ? register(asked)
          : Promise.reject(new TypeError('malformed register request'));
    const run = () => dispatcher.run();
    return work.then(
      (done) => (typeof done == 'function' ? [{}, done] : [done ? { tags: done } : {}, run]),
      (e: Error) => [{ error: [e.name, e.message] }, run],
    );
  };

  // The first worker of a new registration sweeps the tags of an earlier registration of the scope that went
  // away without our unregister() (register() needs an active worker, so none can be this registration's).
  scope.addEventListener('install', (event) => {
    if (!scope.registration.active) (event as ExtendableEvent).waitUntil(drop());
  });
  listenForWakeups(scope, dispatcher, answer, channel);
  return (options) => {
    dispatcher.policy = updatePolicy(dispatcher.policy, options);
  };
}

function storageFailed(e: Error): never {
  throw domError('UnknownError', `Background Sync storage failed: ${e.message}`);
}

/**
 * Is this worker instance the active one? An installing or waiting version (during an update) must not fire,
 * nor a redundant one. Where the engine lacks `self.serviceWorker`, judge by the registration.
 */
function isActiveWorker(scope: ServiceWorkerGlobalScope): boolean {
  const self = scope.serviceWorker;
  if (self) return self.state === 'activating' || self.state === 'activated';
  const { active, installing, waiting } = scope.registration;
  return !!active && !installing && !waiting;
}
