// The parts of lib.webworker the implementation uses. The project compiles against lib.dom (pages), and
// lib.dom and lib.webworker cannot be loaded together.
interface ExtendableMessageEvent extends ExtendableEvent {
  readonly data: any;
  readonly ports: ReadonlyArray<MessagePort>;
}
interface FetchEvent extends ExtendableEvent {}
interface Clients {
  matchAll(options?: { type?: string; includeUncontrolled?: boolean }): Promise<ReadonlyArray<{ frameType?: string }>>;
}
interface ServiceWorkerGlobalScope extends EventTarget {
  readonly registration: ServiceWorkerRegistration;
  readonly clients: Clients;
  readonly navigator: Navigator;
  /** This worker itself; not in every engine. */
  readonly serviceWorker?: ServiceWorker;
}
declare var ServiceWorkerGlobalScope: { prototype: ServiceWorkerGlobalScope } | undefined;
declare var ExtendableEvent: { prototype: ExtendableEvent; new (type: string, init?: ExtendableEventInit): ExtendableEvent };
/** Replaced by the build with package.json's version. */
declare const __VERSION__: string;
