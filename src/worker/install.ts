/**
 * The worker half: the shared globals plus SyncEvent, PeriodicSyncEvent, `onsync` and `onperiodicsync`, the store (which
 * only the worker opens), a Dispatcher for this registration, and what wakes it (docs/semantics.md §3, §4 and §7).
 */
import { updatePolicy } from '../options';
import type { Installed } from '../global';
import { DEFAULT_POLICY } from '../core/policy';
import { takeOver } from '../web/takeover';
import { recordKey } from '../core/registration';
import { periodicKey } from '../core/periodic';
import { defineGlobal } from '../web/define';
import { defineSharedGlobals } from '../web/globals';
import { defineSyncEvents, defineHandler } from '../web/sync-event';
import { MAX_TAG_LENGTH, setSyncHost } from '../web/sync-manager';
import { domError } from '../web/errors';
import * as store from '../store/db';
import { Dispatcher } from './dispatcher';
import { listenForWakeups } from './wakeups';
import { Answer, PROTOCOL_KEY, Request, isOurs, isPoke, isRequest, notice } from '../protocol';

/**
 * Installs in the service worker; returns what applies checked options here, wake() and our message handler. Where the
 * engine has the API (`native`), only the takeover of its refusals (docs/semantics.md §8): the engine's globals stay,
 * and the store and dispatcher are built on first need, so a worker where nothing is refused never opens the store.
 */
export function installWorker(report: (error: unknown) => void, native: boolean, lazy?: boolean): Installed {
  const scope = self as unknown as ServiceWorkerGlobalScope;
  const engine = scope as unknown as Record<string, typeof ExtendableEvent>;
  const [SyncEvent, PeriodicSyncEvent] = native
    ? defineSyncEvents(engine.SyncEvent, engine.PeriodicSyncEvent || ExtendableEvent)
    : defineSyncEvents();
  const scopeUrl = scope.registration.scope;
  const drop = () => store.removeScope(scopeUrl).catch(report);
  defineSharedGlobals(drop, native);
  if (!native) {
    defineGlobal('SyncEvent', SyncEvent);
    defineGlobal('PeriodicSyncEvent', PeriodicSyncEvent);
    defineHandler('sync');
    defineHandler('periodicsync');
  }
  // Where the engine has the API: its own methods, whose tags the dispatcher leaves alone while the engine holds them.
  const engineMethods = native ? takeOver(() => Promise.resolve(scope.registration), () => true) : undefined;
  let policy = DEFAULT_POLICY;
  let built: Dispatcher | undefined;
  /** The dispatcher, built on first need. */
  const dispatcher = (): Dispatcher => built || (built = build());
  const build = () => {
    // Pages and this worker speak on it both ways: its notices out, and pokes in from pages while it runs (the fast
    // path; a page's postMessage follows to wake a stopped worker).
    const channel = typeof BroadcastChannel !== 'undefined' ? new BroadcastChannel(PROTOCOL_KEY) : undefined;
    let told = '';
    const made: Dispatcher = new Dispatcher({
      scope: scopeUrl,
      target: scope,
      SyncEvent,
      PeriodicSyncEvent,
      isOnline: () => scope.navigator.onLine !== false,
      report,
      isActive: () => isActiveWorker(scope),
      engineHolds: engineMethods && (() => Promise.all(([
        ['SyncManager', 'sync', recordKey], ['PeriodicSyncManager', 'periodicSync', periodicKey],
      ] as const).map(([name, attribute, key]) => {
        const getTags = engineMethods[name] && engineMethods[name].getTags;
        const manager = (scope.registration as unknown as Record<string, object>)[attribute];
        // An engine that refuses to say holds nothing.
        return Promise.resolve(getTags && getTags.call(manager)).then(
          (tags) => (Array.isArray(tags) ? tags.map((tag: string) => key(scopeUrl, tag)) : []), (): string[] => [],
        );
      })).then(([once, periodic]) => once.concat(periodic))),
      // The pages of the origin arm their timers and watch the leases from this (docs/semantics.md §4); the same again
      // is not sent.
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
    made.policy = policy;
    if (channel) {
      channel.onmessage = (event) => {
        if (isPoke(event.data)) void made.run(event.data.online);
      };
    }
    return made;
  };

  /**
   * Stores tags, or rejects with the spec's UnknownError; resolves with what fires them, for the caller to call once it
   * has answered (Dispatcher.register).
   */
  const register = (tags: string[]) => dispatcher().register(tags).catch(storageFailed);

  /** The scope's tags, one-shot or periodic, in registration order, or the spec's UnknownError. */
  const tags = (periodic?: boolean) => (periodic ? store.listPeriodic : store.list)(scopeUrl)
    .then((records: Array<{ tag: string }>) => records.map((record) => record.tag), storageFailed);

  /**
   * Stores a periodic tag (docs/semantics.md §7), or rejects with the spec's UnknownError; the dispatcher arms the
   * wake-up for its first event and tells the pages when that is.
   */
  const registerPeriodic = (tag: string, minInterval: number) => dispatcher().registerPeriodic(tag, minInterval)
    // Nothing to run after the answer: the wake-up is armed (Dispatcher.registerPeriodic).
    .then(() => () => Promise.resolve(), storageFailed);

  /** Unregisters a periodic tag: a running event finishes, and nothing fires after it. */
  const unregister = (tag: string) => store.removePeriodic(scopeUrl, tag).catch(storageFailed);

  /** docs/semantics.md §2 step 3 (and §7): a register() of the worker's own needs a top-level window of the origin. */
  const checkWindow = async (what: string) => {
    const clients = await scope.clients.matchAll({ type: 'window', includeUncontrolled: true });
    if (!clients.some((client) => client.frameType !== 'nested')) {
      throw domError('InvalidAccessError', `Attempted to register a ${what} without a window or registration tag too long.`);
    }
  };

  setSyncHost({
    async register(_registration, tag) {
      await checkWindow('sync event');
      const fire = await register([tag]);
      // Fire only after this promise has resolved (docs/semantics.md §2 step 7).
      setTimeout(fire, 0);
    },
    getTags: () => tags(),
  }, {
    async register(_registration, tag, minInterval) {
      await checkWindow('periodic sync');
      await registerPeriodic(tag, minInterval);
    },
    getTags: () => tags(true),
    unregister: (_registration, tag) => unregister(tag),
  });

  /**
   * A page's request (src/protocol.ts): answered with what its own register(), getTags() or unregister() needs, and
   * what to run once the answer is sent (what a register() fires, or a pass).
   */
  const answer = (message: Request): Promise<[Answer, () => Promise<void>]> => {
    const { op, tags: asked, minInterval } = message;
    // Tags a register() could have passed; a periodic register() or an unregister() names one, and a periodic
    // register() has the interval as the page converted it.
    const wellFormed = Array.isArray(asked) && asked.every((tag) => typeof tag == 'string' && tag.length <= MAX_TAG_LENGTH) &&
      (op == 'register' || (asked.length == 1 && (op != 'periodic' || (Number.isSafeInteger(minInterval) && minInterval! >= 0))));
    const work: Promise<string[] | void | (() => Promise<void>)> = op === 'tags' || op === 'periodicTags'
      ? tags(op !== 'tags')
      : op === 'drop'
        ? drop()
        : !wellFormed
          ? Promise.reject(new TypeError(`malformed ${op} request`))
          : op === 'register'
            ? register(asked!)
            : op === 'unregister'
              ? unregister(asked![0])
              : registerPeriodic(asked![0], minInterval!);
    const run = () => dispatcher().run();
    return work.then(
      (done) => (typeof done == 'function' ? [{}, done] : [done ? { tags: done } : {}, run]),
      (e: Error) => [{ error: [e.name, e.message] }, run],
    );
  };

  /** Our messages (src/protocol.ts): the app never sees them, even malformed ones. */
  const hook = (event: Event) => {
    const message = event as ExtendableMessageEvent;
    if (!isOurs(message.data)) return;
    message.stopImmediatePropagation();
    // A real ExtendableEvent: its waitUntil keeps the worker alive while the sync events run.
    const port = message.ports && message.ports[0];
    if (isPoke(message.data)) message.waitUntil(dispatcher().run(message.data.online));
    // A page's register(), getTags() or unregister(): answered on its port; the events a register() wakes keep the
    // worker alive through this event too.
    else if (isRequest(message.data) && port) {
      message.waitUntil(answer(message.data).then(([reply, then]) => {
        // Plain data: it always clones.
        port.postMessage(reply);
        return then();
      }));
    }
  };
  const run = () => dispatcher().run();

  if (native) {
    // Dormant until something is refused: the tags the polyfill may hold are listed and fired on demand only.
    // Registered when the polyfill loads, so before the app's own listeners; the classic script's wrapper listens itself.
    if (!lazy) scope.addEventListener('message', hook);
  } else {
    // The first worker of a new registration sweeps the tags of an earlier registration of the scope that went
    // away without our unregister() (register() needs an active worker, so none can be this registration's).
    scope.addEventListener('install', (event) => {
      if (!scope.registration.active) (event as ExtendableEvent).waitUntil(drop());
    });
    listenForWakeups(scope, hook, run);
  }
  return {
    configure(options) {
      policy = updatePolicy(policy, options);
      if (built) built.policy = policy;
    },
    wake: run,
    hook,
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
