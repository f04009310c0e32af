// The `/window` entry in page code.
import 'background-sync-polyfill/window';

export const register = (reg: ServiceWorkerRegistration): Promise<void> => reg.sync.register('outbox');
export const native: boolean = BackgroundSyncPolyfill.native;
export const registerPeriodic = (reg: ServiceWorkerRegistration): Promise<void> =>
  reg.periodicSync.register('news', { minInterval: 86400000 });
