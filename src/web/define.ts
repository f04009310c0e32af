/** A global as WebIDL defines one: writable, configurable, not enumerable. */
export function defineGlobal(name: string, value: unknown): void {
  Object.defineProperty(self, name, { value, writable: true, configurable: true });
}
