/**
 * Liveness tied to a worker instance's life (docs/semantics.md §3): each dispatcher holds a Web Lock named after its
 * lease from before its first claim until the engine tears the instance down, which frees the lock at once. A firing
 * whose lock is free was abandoned; a page or worker can also wait on that lock to hear of the death without
 * polling. Where `navigator.locks` is missing (Safari before 15.4), leases lapse on a timer instead.
 *
 * Why a lock: the engine releases it with the context that holds it, on every way a worker dies (idle timeout,
 * DevTools, a crashed process), and never while it lives, however busy: a long handler, a synchronous loop or a
 * paused debugger keep it. https://w3c.github.io/web-locks/#lock-lifetime
 */

const PREFIX = 'background-sync-polyfill:';

function lockManager(): LockManager | undefined {
  const locks = navigator.locks;
  return locks && typeof locks.request == 'function' ? locks : undefined;
}

/** Holds the lock of `lease` until this context dies; resolves true once held, false where locks are missing. */
export function holdForLife(lease: string): Promise<boolean> {
  const locks = lockManager();
  if (!locks) return Promise.resolve(false);
  return new Promise<boolean>((held) => {
    // A request never granted (it cannot be contended: leases are unique) must not hold up the dispatcher.
    setTimeout(() => held(false), 1000);
    locks.request(PREFIX + lease, () => {
      held(true);
      return new Promise(() => undefined);
    }).catch(() => held(false));
  });
}

/**
 * The leases among `leases` whose lock nobody holds: their instances are dead. Only leases read from the store
 * before this call may be judged so: an instance takes its lock before it writes its lease.
 */
export async function deadAmong(leases: readonly string[]): Promise<Set<string>> {
  const dead = new Set<string>();
  const locks = lockManager();
  if (!locks || !leases.length) return dead;
  const held = new Set(((await locks.query()).held || []).map((lock) => lock.name));
  for (const lease of leases) if (!held.has(PREFIX + lease)) dead.add(lease);
  return dead;
}

const watched = new Set<string>();

/** Calls `died` once the instance of `lease` is gone, without polling: its lock is granted to us then. */
export function watch(lease: string, died: () => void): void {
  const locks = lockManager();
  if (!locks || watched.has(lease)) return;
  watched.add(lease);
  locks.request(PREFIX + lease, () => {
    watched.delete(lease);
    died();
  }).catch(() => watched.delete(lease));
}
