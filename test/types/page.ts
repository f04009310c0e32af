// Page code, against the shipped .d.ts: compiles without casts (tsc -p test/types/tsconfig.page.json).
import 'background-sync-polyfill';

export async function pageCode(reg: ServiceWorkerRegistration): Promise<string[]> {
  await reg.sync.register('outbox');
  const tags: string[] = await reg.sync.getTags();
  const manager: SyncManager = reg.sync;
  const native: boolean = BackgroundSyncPolyfill.native;
  const version: string = BackgroundSyncPolyfill.version;
  BackgroundSyncPolyfill.configure({ checkInterval: 30000 });
  await BackgroundSyncPolyfill.wake();
  void manager;
  void native;
  void version;
  // @ts-expect-error a tag is a string
  await reg.sync.register(123n);
  // @ts-expect-error register needs a tag
  await reg.sync.register();
  // @ts-expect-error unknown options are a type error
  BackgroundSyncPolyfill.configure({ maxAtempts: 3 });

  // Periodic Background Sync.
  BackgroundSyncPolyfill.configure({ periodicMinInterval: 3600000 });
  await reg.periodicSync.register('news');
  await reg.periodicSync.register('news', { minInterval: 86400000 });
  const periodicTags: string[] = await reg.periodicSync.getTags();
  const removed: void = await reg.periodicSync.unregister('news');
  const periodic: PeriodicSyncManager = reg.periodicSync;
  const options: BackgroundSyncOptions = {};
  void [periodicTags, removed, periodic, options];
  // @ts-expect-error minInterval is a number of ms, not a string
  await reg.periodicSync.register('news', { minInterval: '1 day' });
  // @ts-expect-error register needs a tag
  await reg.periodicSync.register();
  // @ts-expect-error periodicMinInterval is a number of ms, not a string
  BackgroundSyncPolyfill.configure({ periodicMinInterval: '12h' });
  // PeriodicSyncManager is not constructible: `new` gives `never` (it throws TypeError at run time)...
  const made: never = new PeriodicSyncManager();
  void made;
  // @ts-expect-error ...so what it gives cannot be used as a manager
  await new PeriodicSyncManager().getTags();
  return tags;
}
