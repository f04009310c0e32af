import { afterEach, describe, expect, it, vi } from 'vitest';
import { domError, illegalInvocation, toDOMString, webIDLInterface } from '../../../src/web/errors';

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('domError', () => {
  it.each(['InvalidStateError', 'InvalidAccessError', 'UnknownError'] as const)('makes a DOMException named %s', (name) => {
    const error = domError(name, 'why it failed');
    expect(error).toBeInstanceOf(DOMException);
    expect(error.name).toBe(name);
    expect(error.message).toBe('why it failed');
  });

});

describe('illegalInvocation', () => {
  it('is a TypeError', () => {
    expect(illegalInvocation()).toBeInstanceOf(TypeError);
    expect(illegalInvocation().message).toBe('Illegal invocation');
  });
});

describe('toDOMString', () => {
  it.each([
    ['a string', 'tag', 'tag'],
    ['the empty string', '', ''],
    ['a number', 1.5, '1.5'],
    ['-0', -0, '0'],
    ['null', null, 'null'],
    ['undefined', undefined, 'undefined'],
    ['a boolean', false, 'false'],
    ['an array', [1, 2], '1,2'],
    ['a bigint', BigInt(10), '10'],
    ['an object with toString', { toString: () => 'x' }, 'x'],
  ])('converts %s with String()', (_name, value, expected) => {
    expect(toDOMString(value, 'ctx')).toBe(expected);
  });

  it('a Symbol is a TypeError whose message names the context', () => {
    expect(() => toDOMString(Symbol('s'), "Failed to execute 'register'")).toThrow(TypeError);
    expect(() => toDOMString(Symbol('s'), "Failed to execute 'register'")).toThrow(/Failed to execute 'register'/);
  });

  it('an exception from toString propagates as is', () => {
    const error = new RangeError('mine');
    expect(() => toDOMString({ toString() { throw error; } }, 'ctx')).toThrow(error);
  });
});

describe('webIDLInterface', () => {
  it('makes methods and accessors enumerable, leaves the constructor alone, and sets toStringTag', () => {
    class Thing {
      method() {
        return 1;
      }
      get value() {
        return 2;
      }
    }
    webIDLInterface(Thing, 'Thing');
    const proto = Thing.prototype;
    expect(Object.getOwnPropertyDescriptor(proto, 'method')!.enumerable).toBe(true);
    expect(Object.getOwnPropertyDescriptor(proto, 'value')!.enumerable).toBe(true);
    expect(Object.getOwnPropertyDescriptor(proto, 'constructor')!.enumerable).toBe(false);
    expect(Object.prototype.toString.call(new Thing())).toBe('[object Thing]');
    expect(new Thing().method()).toBe(1);
    expect(new Thing().value).toBe(2);
  });
});
