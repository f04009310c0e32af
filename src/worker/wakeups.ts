/** What wakes the dispatcher in the service worker (docs/semantics.md §4): start, activate, messages, fetches, `online`. */
import { Answer, Request, isOurs, isPoke, isRequest } from '../protocol';
import { Dispatcher } from './dispatcher';

/** A burst of fetches (a page load) wakes the dispatcher once. */
export const FETCH_THROTTLE = 10000;

export function listenForWakeups(
  scope: ServiceWorkerGlobalScope, dispatcher: Dispatcher, answer: (request: Request) => Promise<[Answer, () => Promise<void>]>,
  channel?: BroadcastChannel,
): void {
  // A page's poke on the channel reaches a running worker sooner than its postMessage (no extendable event to
  // set up); the postMessage that follows it keeps the worker alive through the pass.
  if (channel) {
    channel.onmessage = (event) => {
      if (isPoke(event.data)) void dispatcher.run(event.data.online);
    };
  }
  // Registered when the polyfill loads, so before the app's own listeners: ours never reach the app.
  scope.addEventListener('message', (event) => {
    const message = event as ExtendableMessageEvent;
    if (!isOurs(message.data)) return;
    message.stopImmediatePropagation();
    // A real ExtendableEvent: its waitUntil keeps the worker alive while the sync events run.
    const port = message.ports && message.ports[0];
    if (isPoke(message.data)) message.waitUntil(dispatcher.run(message.data.online));
    // A page's register(), getTags() or unregister(): answered on its port; the events a register() wakes keep the
    // worker alive through this event too.
    else if (isRequest(message.data) && port) {
      message.waitUntil(answer(message.data).then(([reply, then]) => {
        // Plain data: it always clones.
        port.postMessage(reply);
        return then();
      }));
    }
  });
  // Not waitUntil: activation would wait for the app's sync handlers, and fetches with it.
  scope.addEventListener('activate', () => void dispatcher.run());
  let lastFetch = -Infinity;
  scope.addEventListener('fetch', (event) => {
    const now = Date.now();
    if (now - lastFetch < FETCH_THROTTLE) return;
    lastFetch = now;
    (event as FetchEvent).waitUntil(dispatcher.run());
  });
  // Where the engine fires it in workers.
  scope.addEventListener('online', () => void dispatcher.run());
  // The worker starting is a chance too. The first pass reads IndexedDB, so no event is dispatched before the
  // app's script (after this one) has added its sync listeners.
  void dispatcher.run();
}
