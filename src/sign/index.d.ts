/** Signing playback tokens for signet (see index.js). */
export type Algorithm = 'RS256' | 'ES256' | 'EdDSA';
export type ResourceClass = 'v' | 't' | 'g' | 's';

export interface SignOptions {
  /** base64 of a PKCS#8 PEM (as the admin API returns it), a PEM, or a CryptoKey. */
  privateKey: string | CryptoKey;
  /** The signing key id (`kid`). */
  keyId: string;
  playbackId: string;
  /** Detected from the key when omitted. */
  algorithm?: Algorithm;
  /** 'fastpix' (aud "media:P", every class) or 'mux' (sub P, aud = resourceClass). Default 'fastpix'. */
  dialect?: 'fastpix' | 'mux';
  /** Mux dialect: v (video), t (thumbnail), g (gif), s (storyboard). Default 'v'. */
  resourceClass?: ResourceClass;
  /** Seconds. Default 3600. */
  expiresIn?: number;
  /** Extra claims (jti, groups, accessRules, signed image params…); exp/kid/aud/sub/iat are refused. */
  claims?: Record<string, unknown>;
  /** Where `kid` goes. Default 'payload' (what FastPix and Mux do). */
  kidLocation?: 'payload' | 'header' | 'both';
  /** Epoch ms, for tests. */
  now?: number;
}

export interface PlaybackUrlOptions {
  baseUrl: string;
  playbackId: string;
  token: string;
  /** 'hls' (/{P}.m3u8, default), 'dash' (/{P}.mpd), or a child resource like 'thumbnail.jpg'. */
  resource?: string;
  tokenParam?: string;
}

export declare const ALGORITHMS: readonly Algorithm[];
export declare const RESOURCE_CLASSES: readonly ResourceClass[];
export declare class SigningError extends Error {
  readonly code: string;
  constructor(code: string, message: string);
}
export declare function importSigningKey(privateKey: string | CryptoKey, algorithm?: string): Promise<{ key: CryptoKey; algorithm: Algorithm }>;
export declare function signPlaybackToken(options: SignOptions): Promise<string>;
export declare function playbackUrl(options: PlaybackUrlOptions): string;
