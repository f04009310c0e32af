// Page code, against the shipped .d.ts: compiles without casts (tsc -p test/types/tsconfig.page.json).
import 'background-sync-polyfill';

export async function pageCode(reg: ServiceWorkerRegistration): Promise<string[]> {
  await reg.sync.register('outbox');
  const tags: string[] = await reg.sync.getTags();
  const manager: SyncManager = reg.sync;
  const native: boolean = BackgroundSyncPolyfill.native;
  const version: string = BackgroundSyncPolyfill.version;
  BackgroundSyncPolyfill.configure({ checkInterval: 30000 });
  void manager;
  void native;
  void version;
  // @ts-expect-error a tag is a string
  await reg.sync.register(123n);
  // @ts-expect-error register needs a tag
  await reg.sync.register();
  // @ts-expect-error unknown options are a type error
  BackgroundSyncPolyfill.configure({ maxAtempts: 3 });
  return tags;
}
