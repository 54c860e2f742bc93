import { describe, expect, it } from 'vitest';
import { ApiError } from '../../http/errors.js';
import { addressFromPath } from './access-lists.js';

describe('addressFromPath', () => {
  it('reads addresses and CIDR blocks, with a plain or URL-encoded slash', () => {
    expect(addressFromPath('192.0.2.1')).toBe('192.0.2.1');
    expect(addressFromPath('10.0.0.0/8')).toBe('10.0.0.0/8');
    expect(addressFromPath('10.0.0.0%2F8')).toBe('10.0.0.0/8');
    expect(addressFromPath('2001:DB8::1')).toBe('2001:db8::1');
    expect(addressFromPath('2001:db8::%2f32')).toBe('2001:db8::/32');
  });

  it('refuses what is not an address or a block', () => {
    for (const bad of ['999.0.0.1', '10.0.0.0/33', '10.0.0.0/8/9', 'host', '::1/129', '10.0.0.0/']) {
      expect(() => addressFromPath(bad)).toThrow(ApiError);
    }
  });
});
