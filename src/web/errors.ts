/** The spec's exceptions, with messages a developer can act on. */
export function domError(name: 'InvalidStateError' | 'InvalidAccessError' | 'UnknownError', message: string): Error {
  return new DOMException(message, name);
}

/** A method or getter called on an object that is not what it belongs to (WebIDL brand check). */
export function illegalInvocation(): TypeError {
  return new TypeError('Illegal invocation');
}

/** WebIDL DOMString conversion: Symbols are a TypeError; anything else goes through String(). */
export function toDOMString(value: unknown, what: string): string {
  if (typeof value === 'symbol') throw new TypeError(`${what}: cannot convert a Symbol to a string`);
  return String(value);
}

/** Makes a class's prototype look like a WebIDL interface: enumerable members and the right toStringTag. */
export function webIDLInterface(ctor: { prototype: object }, name: string): void {
  const proto = ctor.prototype;
  for (const key of Object.getOwnPropertyNames(proto)) {
    if (key !== 'constructor') {
      Object.defineProperty(proto, key, { enumerable: true });
    }
  }
  Object.defineProperty(proto, Symbol.toStringTag, { value: name, configurable: true });
}
