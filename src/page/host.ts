/**
 * A page's register(), getTags() and unregister() (docs/semantics.md §4): the page holds no store; it asks the active
 * worker of the registration, which owns it, and waits for the answer. The register() calls a page makes in one go
 * travel as one message.
 */
import { Answer, Request, request } from '../protocol';
import { domError } from '../web/errors';
import { PeriodicHost, SyncHost } from '../web/sync-manager';

/**
 * How long a page waits for the active worker to answer before register() or getTags() rejects: that worker does
 * not run the polyfill (an older version of the app's worker, say). A worker that becomes active meanwhile (the
 * new version, after skipWaiting) is asked again, so the update window costs a wait, not a registration.
 */
export const ANSWER_TIMEOUT = 10000;
/** How long unregister() waits for the worker to drop the tags. */
export const DROP_TIMEOUT = 3000;
/** How often the page looks whether the registration got a new active worker while it waits. */
const ASK_AGAIN = 100;

/** Sends `message` to the active worker of `registration` and resolves with its answer. */
export function ask(registration: ServiceWorkerRegistration, message: Request, timeout = ANSWER_TIMEOUT): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    let asked: unknown;
    const look = () => {
      const worker = registration.active;
      if (worker && worker !== asked) {
        asked = worker;
        const channel = new MessageChannel();
        channel.port1.onmessage = (event) => {
          clearInterval(timer);
          channel.port1.close();
          resolve(event.data);
        };
        worker.postMessage(message, [channel.port2]);
      }
      if (Date.now() - start >= timeout) {
        clearInterval(timer);
        reject(domError('InvalidStateError', `No answer from the active Service Worker in ${timeout} ms: does it load background-sync-polyfill?`));
      }
    };
    const timer = setInterval(look, ASK_AGAIN);
    look();
  });
}

/** The answer's tags, or its error as the DOMException the worker raised. */
function unwrap(answer: Answer): string[] | undefined {
  if (answer.error) throw domError(answer.error[0] as 'UnknownError', answer.error[1]);
  return answer.tags;
}

/** The page's host for SyncManager; `registered` hears of each registration that resolved. */
export function pageHost(registered: (registration: ServiceWorkerRegistration) => void): SyncHost {
  let queued: Map<ServiceWorkerRegistration, { tags: string[]; answer: Promise<Answer> }> | null = null;
  return {
    register(registration, tag) {
      if (!queued) {
        queued = new Map();
        Promise.resolve().then(() => (queued = null));
      }
      let entry = queued.get(registration);
      if (!entry) {
        const tags: string[] = [];
        // Sent after the calls of this turn have joined.
        const answer = Promise.resolve().then(() => ask(registration, request('register', tags)));
        queued.set(registration, entry = { tags, answer });
      }
      entry.tags.push(tag);
      return entry.answer.then((answer) => {
        unwrap(answer);
        registered(registration);
      });
    },
    // No active worker: nothing could have registered a tag of this registration.
    getTags: (registration) => registration.active
      ? ask(registration, request('tags')).then((answer) => unwrap(answer) || [])
      : [],
  };
}

/**
 * The page's host for PeriodicSyncManager (docs/semantics.md §7): each call is one request. No active worker: nothing
 * could have registered a periodic tag of this registration either.
 */
export function periodicPageHost(registered: (registration: ServiceWorkerRegistration) => void): PeriodicHost {
  return {
    register: (registration, tag, minInterval) => ask(registration, request('periodic', [tag], minInterval)).then((answer) => {
      unwrap(answer);
      registered(registration);
    }),
    getTags: (registration) => registration.active
      ? ask(registration, request('periodicTags')).then((answer) => unwrap(answer) || [])
      : [],
    unregister: (registration, tag) => registration.active
      ? ask(registration, request('unregister', [tag])).then((answer) => void unwrap(answer))
      : Promise.resolve(),
  };
}

/**
 * After unregister(): the worker that was active drops the registration's tags. Never rejects, and waits at most
 * DROP_TIMEOUT: a worker that does not answer leaves them to the sweep of the scope's next first worker.
 */
export function dropTags(_registration: ServiceWorkerRegistration, worker: ServiceWorker | null): Promise<unknown> {
  return worker ? ask({ active: worker } as ServiceWorkerRegistration, request('drop'), DROP_TIMEOUT).catch(() => undefined) : Promise.resolve();
}
