import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  domError, illegalInvocation, toDOMString, toEnforcedUnsignedLongLong, toMinInterval, webIDLInterface,
} from '../../../src/web/errors';

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

describe('toEnforcedUnsignedLongLong ([EnforceRange] unsigned long long)', () => {
  it.each([
    ['0', 0, 0],
    ['a whole number', 43_200_000, 43_200_000],
    ['a fraction, truncated', 1.9, 1],
    ['a negative fraction above -1, truncated to 0', -0.5, 0],
    ['-0', -0, 0],
    ['2^53 - 1', Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
    ['a numeric string', '1000', 1000],
    ['an empty string', '', 0],
    ['null', null, 0],
    ['true', true, 1],
    ['an object with valueOf', { valueOf: () => 5 }, 5],
  ])('converts %s', (_name, value, expected) => {
    expect(Object.is(toEnforcedUnsignedLongLong(value, 'ctx'), expected)).toBe(true);
  });

  it.each([
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
    ['undefined (NaN)', undefined],
    ['a non-numeric string', 'soon'],
    ['-1', -1],
    ['2^53', 2 ** 53],
    ['a Symbol', Symbol('s')],
    ['a BigInt', BigInt(5)],
  ])('%s is a TypeError that names the context', (_name, value) => {
    expect(() => toEnforcedUnsignedLongLong(value, "Failed to execute 'register'")).toThrow(TypeError);
    expect(() => toEnforcedUnsignedLongLong(value, "Failed to execute 'register'")).toThrow(/Failed to execute 'register'/);
  });

  it('an exception from valueOf propagates as is', () => {
    const error = new RangeError('mine');
    expect(() => toEnforcedUnsignedLongLong({ valueOf: () => { throw error; } }, 'ctx')).toThrow(error);
  });
});

describe('toMinInterval (the BackgroundSyncOptions dictionary)', () => {
  it('undefined, null and an object without minInterval are minInterval 0', () => {
    expect(toMinInterval(undefined, 'ctx')).toBe(0);
    expect(toMinInterval(null, 'ctx')).toBe(0);
    expect(toMinInterval({}, 'ctx')).toBe(0);
    expect(toMinInterval({ minInterval: undefined }, 'ctx')).toBe(0);
    expect(toMinInterval(() => undefined, 'ctx')).toBe(0);
  });

  it('reads minInterval once, through getters and the prototype chain', () => {
    let reads = 0;
    expect(toMinInterval({ get minInterval() { reads++; return 60000.7; } }, 'ctx')).toBe(60000);
    expect(reads).toBe(1);
    expect(toMinInterval(Object.create({ minInterval: 5 }), 'ctx')).toBe(5);
  });

  it.each([['a number', 5], ['a string', 'x'], ['true', true], ['a Symbol', Symbol('s')]])('%s as the options is a TypeError', (_name, value) => {
    expect(() => toMinInterval(value, 'ctx')).toThrow(TypeError);
  });

  it('a minInterval out of range is a TypeError naming minInterval', () => {
    expect(() => toMinInterval({ minInterval: -1 }, 'ctx')).toThrow(/ctx: minInterval/);
  });
});
