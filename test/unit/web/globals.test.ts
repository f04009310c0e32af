/**
 * defineSharedGlobals(drop) (src/web/globals.ts): SyncManager, ServiceWorkerRegistration.prototype.sync, and the
 * unregister() that drops the registration's tags once the engine's resolved true (docs/semantics.md §3), handing
 * `drop` the worker that was active before the call (the engine may clear `active` as it unregisters).
 */
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { defineSharedGlobals } from '../../../src/web/globals';
import { SyncManager } from '../../../src/web/sync-manager';

const g = globalThis as Record<string, unknown>;

/** The engine's registration: its unregister() clears `active` (the worker goes redundant) and resolves `result`. */
class EngineRegistration {
  static result: boolean | Error = true;
  static calls = 0;
  constructor(public scope: string, public active: object | null) {}
  unregister(): Promise<boolean> {
    EngineRegistration.calls++;
    const { result } = EngineRegistration;
    if (result instanceof Error) return Promise.reject(result);
    if (result) this.active = null;
    return Promise.resolve(result);
  }
}
type Registration = ServiceWorkerRegistration & EngineRegistration;

const drop = vi.fn<(registration: ServiceWorkerRegistration, worker: ServiceWorker | null) => Promise<unknown>>();
const original = EngineRegistration.prototype.unregister;

beforeAll(() => {
  g.ServiceWorkerRegistration = EngineRegistration;
  defineSharedGlobals(drop);
});
beforeEach(() => {
  drop.mockReset();
  drop.mockResolvedValue(undefined);
  EngineRegistration.result = true;
  EngineRegistration.calls = 0;
});

const registration = (active: object | null = { name: 'active worker' }) =>
  new EngineRegistration('https://example.com/globals/', active) as unknown as Registration;

describe('defineSharedGlobals(drop)', () => {
  it('defines SyncManager as a WebIDL global and sync as an enumerable getter on the prototype', () => {
    expect(Object.getOwnPropertyDescriptor(globalThis, 'SyncManager'))
      .toEqual({ value: SyncManager, writable: true, enumerable: false, configurable: true });
    const sync = Object.getOwnPropertyDescriptor(EngineRegistration.prototype, 'sync')!;
    expect(typeof sync.get).toBe('function');
    expect(sync.enumerable).toBe(true);
    expect(registration().sync).toBeInstanceOf(SyncManager);
  });

  it('wraps unregister() as a method like the engine\'s: its name, length 0, writable, enumerable, configurable', () => {
    const descriptor = Object.getOwnPropertyDescriptor(EngineRegistration.prototype, 'unregister')!;
    expect(descriptor.value).not.toBe(original);
    expect(descriptor.value.name).toBe('unregister');
    expect(descriptor.value.length).toBe(0);
    expect([descriptor.writable, descriptor.enumerable, descriptor.configurable]).toEqual([true, true, true]);
  });
});

describe('unregister()', () => {
  it('resolves true and hands drop the registration and the worker that was active before the engine cleared it', async () => {
    const worker = { name: 'the one before' };
    const reg = registration(worker);
    expect(await reg.unregister()).toBe(true);
    expect(reg.active).toBeNull();
    expect(EngineRegistration.calls).toBe(1);
    expect(drop).toHaveBeenCalledTimes(1);
    expect(drop.mock.calls[0][0]).toBe(reg);
    expect(drop.mock.calls[0][1]).toBe(worker);
  });

  it('resolves only once drop has settled', async () => {
    let dropped!: () => void;
    drop.mockImplementation(() => new Promise<void>((resolve) => (dropped = resolve)));
    let done = false;
    const result = registration().unregister().then((value) => (done = true, value));
    await new Promise((r) => setTimeout(r, 10));
    expect(done).toBe(false);
    dropped();
    expect(await result).toBe(true);
  });

  it('hands drop null when the registration had no active worker', async () => {
    const reg = registration(null);
    expect(await reg.unregister()).toBe(true);
    expect(drop).toHaveBeenCalledWith(reg, null);
  });

  it('resolves false and drops nothing when the engine\'s unregister() resolves false', async () => {
    EngineRegistration.result = false;
    expect(await registration().unregister()).toBe(false);
    expect(drop).not.toHaveBeenCalled();
  });

  it('rejects with the engine\'s error and drops nothing', async () => {
    const error = new DOMException('x', 'InvalidStateError');
    EngineRegistration.result = error;
    await expect(registration().unregister()).rejects.toBe(error);
    expect(drop).not.toHaveBeenCalled();
  });
});
