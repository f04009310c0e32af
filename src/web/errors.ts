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

/**
 * WebIDL `[EnforceRange] unsigned long long`: a TypeError for what ToNumber refuses (a Symbol, a BigInt), for NaN and
 * ±Infinity, and for what lies outside 0 to 2^53 − 1 once the fraction is dropped. The conversion of `minInterval`
 * (docs/semantics.md §7).
 */
export function toEnforcedUnsignedLongLong(value: unknown, what: string): number {
  // ToNumber refuses both (Number() would convert a BigInt); said here with the context.
  if (typeof value === 'symbol' || typeof value === 'bigint') throw new TypeError(`${what}: cannot convert a ${typeof value} to a number`);
  // Unary plus is ToNumber: what an object's valueOf or toString throws propagates.
  const x = +(value as number);
  if (!Number.isFinite(x)) throw new TypeError(`${what}: ${String(x)} is not a finite number`);
  const whole = Math.trunc(x) || 0;
  if (whole < 0 || whole > Number.MAX_SAFE_INTEGER) {
    throw new TypeError(`${what}: ${whole} is outside the range of unsigned long long (0 to ${Number.MAX_SAFE_INTEGER})`);
  }
  return whole;
}

/**
 * The `BackgroundSyncOptions` dictionary (docs/semantics.md §7): undefined and null are `{}`; anything else but an object
 * is a TypeError; `minInterval` defaults to 0. Returns the converted `minInterval`.
 */
export function toMinInterval(options: unknown, what: string): number {
  if (options == null) return 0;
  if (typeof options !== 'object' && typeof options !== 'function') {
    throw new TypeError(`${what}: the options must be an object`);
  }
  const value = (options as { minInterval?: unknown }).minInterval;
  return value === undefined ? 0 : toEnforcedUnsignedLongLong(value, `${what}: minInterval`);
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
