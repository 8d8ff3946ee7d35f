/** One structured audit line per admin write. Never key material: only ids, algorithm and time. */
import type { SigningKeyRecord } from '../keys/record';

export function audit(action: string, key: Pick<SigningKeyRecord, 'id' | 'algorithm'>, extra: Record<string, string | undefined> = {}) {
  console.log(JSON.stringify({ event: 'audit', action, keyId: key.id, algorithm: key.algorithm, at: new Date().toISOString(), ...extra }));
}
