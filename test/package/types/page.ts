// Page code against the PACKED package's .d.ts (lib.dom only). Every @ts-expect-error line must stay an error:
// if a type regresses and accepts it, tsc reports the directive as unused and the check fails.
import 'background-sync-polyfill';

export async function page(reg: ServiceWorkerRegistration): Promise<void> {
  const manager: SyncManager = reg.sync;
  const done: void = await manager.register('outbox');
  const tags: string[] = await reg.sync.getTags();
  const native: boolean = BackgroundSyncPolyfill.native;
  const version: string = BackgroundSyncPolyfill.version;
  BackgroundSyncPolyfill.configure({
    maxAttempts: 3,
    initialRetryDelay: 300000,
    retryDelayFactor: 3,
    maxEventDuration: 180000,
    checkInterval: 60000,
    debug: true,
  });
  const options: BackgroundSyncPolyfillOptions = {};
  BackgroundSyncPolyfill.configure(options);
  // A page can name the worker's event type (for shared helpers).
  const describe = (event: SyncEvent): string => `${event.tag}${event.lastChance ? ' (last chance)' : ''}`;
  void [done, tags, native, version, describe];

  // @ts-expect-error a tag is a string, not a bigint
  await reg.sync.register(123n);
  // @ts-expect-error a tag is a string, not a number
  await reg.sync.register(123);
  // @ts-expect-error register needs a tag
  await reg.sync.register();
  // @ts-expect-error register resolves with undefined, not a value
  const value: string = await reg.sync.register('x');
  // @ts-expect-error getTags gives strings
  const numbers: number[] = await reg.sync.getTags();
  // @ts-expect-error registration.sync is read-only
  reg.sync = manager;
  // SyncManager is not constructible: `new` gives `never` (it throws TypeError at run time).
  const made: never = new SyncManager();
  // @ts-expect-error unknown options are a type error (a typo here is caught)
  BackgroundSyncPolyfill.configure({ maxAtempts: 3 });
  // @ts-expect-error debug is a boolean
  BackgroundSyncPolyfill.configure({ debug: 'yes' });
  // @ts-expect-error numbers are numbers
  BackgroundSyncPolyfill.configure({ maxAttempts: '3' });
  // @ts-expect-error native is read-only
  BackgroundSyncPolyfill.native = true;
  void [value, numbers, made];

  // Periodic Background Sync.
  const periodic: PeriodicSyncManager = reg.periodicSync;
  const registered: void = await periodic.register('news');
  const withInterval: void = await reg.periodicSync.register('news', { minInterval: 86400000 });
  const noOptions: BackgroundSyncOptions = {};
  await reg.periodicSync.register('news', noOptions);
  const periodicTags: string[] = await reg.periodicSync.getTags();
  const unregistered: void = await reg.periodicSync.unregister('news');
  BackgroundSyncPolyfill.configure({ periodicMinInterval: 43200000 });
  // A page can name the worker's event type too.
  const describePeriodic = (event: PeriodicSyncEvent): string => event.tag;
  void [registered, withInterval, periodicTags, unregistered, describePeriodic];

  // @ts-expect-error minInterval is a number of ms, not a string
  await reg.periodicSync.register('news', { minInterval: '86400000' });
  // @ts-expect-error register needs a tag
  await reg.periodicSync.register();
  // @ts-expect-error a tag is a string, not a number
  await reg.periodicSync.register(1);
  // @ts-expect-error unregister needs a tag
  await reg.periodicSync.unregister();
  // @ts-expect-error unknown BackgroundSyncOptions are a type error
  await reg.periodicSync.register('news', { interval: 1000 });
  // @ts-expect-error getTags gives strings
  const periodicNumbers: number[] = await reg.periodicSync.getTags();
  // @ts-expect-error unregister resolves with undefined, not a value
  const gone: boolean = await reg.periodicSync.unregister('news');
  // @ts-expect-error registration.periodicSync is read-only
  reg.periodicSync = periodic;
  // PeriodicSyncManager is not constructible: `new` gives `never` (it throws TypeError at run time)...
  const madePeriodic: never = new PeriodicSyncManager();
  // @ts-expect-error ...so what it gives cannot be used as a manager
  await new PeriodicSyncManager().register('news');
  // @ts-expect-error periodicMinInterval is a number of ms, not a string
  BackgroundSyncPolyfill.configure({ periodicMinInterval: '12h' });
  void [periodicNumbers, gone, madePeriodic];
}
