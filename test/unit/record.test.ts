/** Key status and views (SPEC §3): pure functions of a record and the clock. */
import { describe, expect, it } from 'vitest';
import { listView, statusAt, summaryOf, type SigningKeyRecord } from '../../src/keys/record';

const NOW = Date.parse('2026-06-01T12:00:00.000Z'); // calendar-safe: statusAt is pure and takes `now`
const at = (offsetMs: number) => new Date(NOW + offsetMs).toISOString();

describe('statusAt', () => {
  it.each([
    ['a key without expiry', {}, 'active'],
    ['a key expiring later', { expiresAt: at(1) }, 'active'],
    ['a key expiring exactly now', { expiresAt: at(0) }, 'expired'],
    ['a key that expired', { expiresAt: at(-1) }, 'expired'],
    ['a rotated key within its grace', { rotatedTo: 'new', expiresAt: at(60_000) }, 'retiring'],
    ['a rotated key after its grace', { rotatedTo: 'new', expiresAt: at(-60_000) }, 'expired'],
    ['a rotated key with no expiry', { rotatedTo: 'new' }, 'retiring'],
  ] as const)('calls %s %s', (_case, key, status) => {
    expect(statusAt(key, NOW)).toBe(status);
  });
});

const record: SigningKeyRecord = {
  id: 'k1',
  algorithm: 'ES256',
  publicJwk: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' },
  createdAt: at(-1000),
  name: 'web',
  expiresAt: at(5000),
  rotatedTo: 'k2',
  rotatedFrom: 'k0',
  source: 'generated',
};

describe('summaryOf', () => {
  it('keeps only the listable members (no key material) and fits KV metadata', () => {
    const summary = summaryOf(record);
    expect(summary).toEqual({ algorithm: 'ES256', createdAt: record.createdAt, name: 'web', expiresAt: record.expiresAt, rotatedTo: 'k2' });
    const worst = summaryOf({ ...record, name: '\u{1F511}'.repeat(100) });
    expect(new TextEncoder().encode(JSON.stringify(worst)).length).toBeLessThanOrEqual(1024);
  });

  it('leaves out absent optional members', () => {
    expect(Object.keys(summaryOf({ ...record, name: undefined, expiresAt: undefined, rotatedTo: undefined })).sort()).toEqual(['algorithm', 'createdAt']);
  });
});

describe('listView', () => {
  it('shows id, algorithm, createdAt, status and the optional name and expiresAt only', () => {
    expect(listView('k1', summaryOf(record), NOW)).toEqual({ id: 'k1', algorithm: 'ES256', createdAt: record.createdAt, status: 'retiring', name: 'web', expiresAt: record.expiresAt });
  });

  it('keeps an empty-looking but present name', () => {
    expect(listView('k1', { algorithm: 'RS256', createdAt: at(0), name: '0' }, NOW)).toHaveProperty('name', '0');
  });
});
