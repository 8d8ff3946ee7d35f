import { describe, expect, it } from 'vitest';
import { base64UrlDecode } from '../../src/token/jws';

describe('base64UrlDecode', () => {
  it.each([
    ['', []],
    ['AQ', [1]],
    ['AQI', [1, 2]],
    ['AQID', [1, 2, 3]],
    ['-_8', [0xfb, 0xff]],
  ])('decodes %j', (text, bytes) => {
    expect([...base64UrlDecode(text)]).toEqual(bytes);
  });

  it.each(['A', 'AR', 'AQJ', 'AQI=', 'AQ==', 'A+B/', 'AQ I'])('refuses the non-canonical or invalid %j', (text) => {
    expect(() => base64UrlDecode(text)).toThrow(/base64url/);
  });
});
