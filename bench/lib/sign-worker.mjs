// Signs a batch of distinct playback tokens (one `jti` each) off the main thread, with jose.
// Used to pre-sign the "fresh JWT per request" pool: a token is never sent twice to one server.
import { parentPort, workerData } from 'node:worker_threads';
import { importPKCS8, SignJWT } from 'jose';

const { pem, alg, kid, claims, from, count } = workerData;
const key = await importPKCS8(pem, alg);
const tokens = [];
for (let i = 0; i < count; i++) {
  tokens.push(
    await new SignJWT({ ...claims, kid, jti: `bench-${from + i}` }).setProtectedHeader({ alg, kid, typ: 'JWT' }).setIssuedAt().setExpirationTime('2h').sign(key),
  );
}
parentPort.postMessage(tokens);
