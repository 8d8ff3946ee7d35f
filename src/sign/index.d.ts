/**
 * Signing playback tokens for signet (implementation: index.js, plain ESM so Node runs it unbuilt).
 * Works in Node ≥ 20 and Workers; only dependency: jose.
 */
export type Algorithm = 'RS256' | 'ES256' | 'EdDSA';
/** Mux resource classes: v video (playlists, segments, subtitles), t thumbnail, g animated gif, s storyboard/spritesheet. */
export type ResourceClass = 'v' | 't' | 'g' | 's';
export type Dialect = 'fastpix' | 'mux';
export type KidLocation = 'payload' | 'header' | 'both';

export interface SignOptions {
  /** base64 of a PKCS#8 PEM (what the admin API returns), a PKCS#8 PEM, a private CryptoKey, or what importSigningKey returned. */
  privateKey: string | CryptoKey | SigningKey;
  /** The signing key id (`kid`) the admin API returned. */
  keyId: string;
  /** The asset: `[A-Za-z0-9_-]{1,128}`. */
  playbackId: string;
  /** Detected from the key when omitted; when given it must match the key. */
  algorithm?: Algorithm;
  /** 'fastpix' (default): `aud: "media:P"`, opens every resource of P. 'mux': `sub: P`, `aud: resourceClass`. */
  dialect?: Dialect;
  /** Mux dialect only: the class the token opens. Default 'v'. */
  resourceClass?: ResourceClass;
  /** Lifetime in seconds, > 0. Default 3600. */
  expiresIn?: number;
  /** Extra claims (jti, nbf, iss, groups, accessRules, signed image params…); exp/kid/aud/sub/iat are refused. */
  claims?: Record<string, unknown>;
  /** Where `kid` goes. Default 'payload' (what FastPix and Mux do); the gate reads either. */
  kidLocation?: KidLocation;
  /** The signing time, epoch ms. Default Date.now(); for tests. */
  now?: number;
}

export interface PlaybackUrlOptions {
  /** The gate's public base URL, e.g. 'https://play.example.com'; a path in it is kept. */
  baseUrl: string;
  playbackId: string;
  token: string;
  /** 'hls' (/{P}.m3u8, default), 'dash' (/{P}.mpd), or a path under the asset: 'thumbnail.jpg', 'animated.gif', 'storyboard.vtt'… */
  resource?: 'hls' | 'dash' | (string & {});
  /** The gate's TOKEN_QUERY_PARAM. Default 'token'. */
  tokenParam?: string;
}

/** Stable codes of SigningError. */
export type SigningErrorCode =
  | 'ERR_SIGN_OPTIONS'
  | 'ERR_SIGN_PRIVATE_KEY'
  | 'ERR_SIGN_ALGORITHM'
  | 'ERR_SIGN_KEY_ID'
  | 'ERR_SIGN_PLAYBACK_ID'
  | 'ERR_SIGN_DIALECT'
  | 'ERR_SIGN_RESOURCE_CLASS'
  | 'ERR_SIGN_EXPIRES_IN'
  | 'ERR_SIGN_KID_LOCATION'
  | 'ERR_SIGN_CLAIMS'
  | 'ERR_SIGN_RESERVED_CLAIM'
  | 'ERR_SIGN_TOKEN_TOO_LARGE'
  | 'ERR_SIGN_BASE_URL'
  | 'ERR_SIGN_TOKEN'
  | 'ERR_SIGN_TOKEN_PARAM'
  | 'ERR_SIGN_RESOURCE';

export declare const ALGORITHMS: readonly Algorithm[];
export declare const RESOURCE_CLASSES: readonly ResourceClass[];
export declare const DIALECTS: readonly Dialect[];
export declare const KID_LOCATIONS: readonly KidLocation[];

/** Every failure of this module. Switch on `code`, never on the message. */
export declare class SigningError extends Error {
  readonly name: 'SigningError';
  readonly code: SigningErrorCode;
  /** The option at fault, when one is. */
  readonly option: string | undefined;
  constructor(code: SigningErrorCode, message: string, option?: string);
}

/** A private key imported once by importSigningKey, with its algorithm. */
export interface SigningKey {
  key: CryptoKey;
  algorithm: Algorithm;
}

/**
 * Imports a private key once and detects its algorithm; pass the result (or its `key`) to
 * signPlaybackToken as `privateKey` to skip the import per call.
 * @example
 * const signingKey = await importSigningKey(process.env.SIGNET_PRIVATE_KEY!);
 * const token = await signPlaybackToken({ privateKey: signingKey, keyId, playbackId: 'demo' });
 */
export declare function importSigningKey(privateKey: string | CryptoKey | SigningKey, algorithm?: Algorithm): Promise<SigningKey>;

/**
 * Signs a playback token the gate accepts (SPEC §4).
 * @example
 * const token = await signPlaybackToken({ privateKey: process.env.SIGNET_PRIVATE_KEY!, keyId: process.env.SIGNET_KEY_ID!, playbackId: 'demo' });
 * @example
 * const thumbnail = await signPlaybackToken({ privateKey, keyId, playbackId: 'demo', dialect: 'mux', resourceClass: 't', expiresIn: 300 });
 */
export declare function signPlaybackToken(options: SignOptions): Promise<string>;

/**
 * The URL a player fetches: `${baseUrl}/${playbackId}.m3u8?token=…` by default.
 * @example
 * playbackUrl({ baseUrl: 'https://play.example.com', playbackId: 'demo', token, resource: 'thumbnail.jpg' });
 */
export declare function playbackUrl(options: PlaybackUrlOptions): string;

/** The resource class the gate assigns to a resource ('thumbnail.jpg' → 't', 'hls' → 'v'). */
export declare function resourceClassFor(resource: string): ResourceClass;
