import { describe, expect, it } from 'vitest';
import { PROTOCOL_KEY, PROTOCOL_VERSION, isNotice, isOurs, isPoke, notice, poke } from '../../src/protocol';

describe('poke', () => {
  it.each([true, false])('carries the key, the version and online = %s', (online) => {
    expect(poke(online)).toEqual({ [PROTOCOL_KEY]: PROTOCOL_VERSION, online });
    expect(isOurs(poke(online))).toBe(true);
    expect(isPoke(poke(online))).toBe(true);
  });

  it('survives structured cloning (postMessage)', () => {
    expect(isPoke(structuredClone(poke(true)))).toBe(true);
  });

  it('uses a key an app will not use by accident', () => {
    expect(PROTOCOL_KEY).toMatch(/^__backgroundSyncPolyfill/);
    expect(PROTOCOL_VERSION).toBe(1);
  });
});

describe('isOurs / isPoke', () => {
  // value, isOurs, isPoke
  const cases: Array<[string, unknown, boolean, boolean]> = [
    ['undefined', undefined, false, false],
    ['null', null, false, false],
    ['a string', PROTOCOL_KEY, false, false],
    ['a number', 1, false, false],
    ['a boolean', true, false, false],
    ['an empty object', {}, false, false],
    ['an empty array', [], false, false],
    ['an array holding a poke', [poke(true)], false, false],
    ['an app message', { type: 'sync', online: true }, false, false],
    ['an app message with a similar key', { backgroundSyncPolyfill: 1, online: true }, false, false],
    ['the key inherited, not own', Object.create({ [PROTOCOL_KEY]: PROTOCOL_VERSION, online: true }), false, false],
    ['a poke of another version', { [PROTOCOL_KEY]: 2, online: true }, true, false],
    ['a poke with the version as a string', { [PROTOCOL_KEY]: '1', online: true }, true, false],
    ['a poke without online', { [PROTOCOL_KEY]: PROTOCOL_VERSION }, true, false],
    ['a poke with online as a string', { [PROTOCOL_KEY]: PROTOCOL_VERSION, online: 'true' }, true, false],
    ['a poke with online null', { [PROTOCOL_KEY]: PROTOCOL_VERSION, online: null }, true, false],
    ['our key with an undefined value', { [PROTOCOL_KEY]: undefined }, true, false],
    ['our key on an array', Object.assign([], { [PROTOCOL_KEY]: PROTOCOL_VERSION, online: true }), true, true],
    ['a well-formed poke with extra fields', { [PROTOCOL_KEY]: PROTOCOL_VERSION, online: false, extra: 1 }, true, true],
    ['a well-formed poke without a prototype', Object.assign(Object.create(null), poke(true)), true, true],
  ];
  it.each(cases)('%s', (_name, value, ours, isAPoke) => {
    expect(isOurs(value)).toBe(ours);
    expect(isPoke(value)).toBe(isAPoke);
  });

  it('never throws, even on hostile objects', () => {
    const hostile = new Proxy({}, {
      get() {
        throw new Error('get');
      },
      getOwnPropertyDescriptor() {
        return undefined;
      },
    });
    expect(isOurs(hostile)).toBe(false);
    expect(isPoke(hostile)).toBe(false);
  });

  it('a poke is always ours', () => {
    for (const [, value] of cases) if (isPoke(value)) expect(isOurs(value)).toBe(true);
  });
});

describe('notice / isNotice', () => {
  it('carries the scope, the next due time and the leases, and survives structured cloning with Infinity', () => {
    const n = notice('https://example.com/app/', Infinity, ['w1']);
    expect(n).toEqual({ [PROTOCOL_KEY]: PROTOCOL_VERSION, scope: 'https://example.com/app/', next: Infinity, leases: ['w1'] });
    expect(isNotice(structuredClone(n))).toBe(true);
    expect(isOurs(n)).toBe(true);
    expect(isPoke(n)).toBe(false);
  });

  it.each<[string, unknown]>([
    ['a poke', poke(true)],
    ['another version', { ...notice('s', 1, []), [PROTOCOL_KEY]: 2 }],
    ['a scope that is not a string', { ...notice('s', 1, []), scope: 1 }],
    ['a time that is not a number', { ...notice('s', 1, []), next: '1' }],
    ['leases that are not an array', { ...notice('s', 1, []), leases: 'w1' }],
    ['no key', { scope: 's', next: 1, leases: [] }],
  ])('rejects %s', (_name, value) => {
    expect(isNotice(value)).toBe(false);
  });

  it('takes leases that are not strings as they come: a lease is only ever part of a lock name', () => {
    expect(isNotice({ ...notice('s', 1, []), leases: ['w1', 2] })).toBe(true);
  });
});
