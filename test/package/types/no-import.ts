// The negative control: without importing the package, lib.dom knows nothing of registration.sync, so this file
// MUST fail to compile (TS2339). If it compiled, the other files would prove nothing about the package's types.
export const tags = (reg: ServiceWorkerRegistration): Promise<string[]> => reg.sync.getTags();
