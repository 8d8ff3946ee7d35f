import { describe, expect, it } from 'vitest';
import { InvalidViewerAddress, viewerNetwork } from '../../src/policy/network';

describe('viewerNetwork (session binding prefix)', () => {
  it.each([
    ['203.0.113.77', '203.0.113.0/24'],
    ['203.0.113.0', '203.0.113.0/24'],
    ['10.0.0.255', '10.0.0.0/24'],
    ['::ffff:203.0.113.77', '203.0.113.0/24'],
    ['2001:db8:1:2::5', '2001:db8:1::/48'],
    ['2001:DB8:0001:ffff:ffff:ffff:ffff:ffff', '2001:db8:1::/48'],
    ['2001:db8::1', '2001:db8::/48'],
    ['::1', '::/48'],
    ['fe80:1:2:3::', 'fe80:1:2::/48'],
    ['1:0:0:1::', '1::/48'],
  ])('%s → %s', (ip, network) => {
    expect(viewerNetwork(ip)).toBe(network);
  });

  it('gives the same network to neighbours and another to the next prefix', () => {
    expect(viewerNetwork('198.51.100.1')).toBe(viewerNetwork('198.51.100.254'));
    expect(viewerNetwork('198.51.100.1')).not.toBe(viewerNetwork('198.51.101.1'));
    expect(viewerNetwork('2001:db8:1:aaaa::1')).toBe(viewerNetwork('2001:db8:1:bbbb::1'));
    expect(viewerNetwork('2001:db8:1::1')).not.toBe(viewerNetwork('2001:db8:2::1'));
  });

  it.each(['', 'unknown', '203.0.113', '2001:db8::1::2'])('throws on %j', (ip) => {
    expect(() => viewerNetwork(ip)).toThrow(InvalidViewerAddress);
  });
});
