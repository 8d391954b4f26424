import { randomUUID } from 'node:crypto';
import { SignJWT, importPKCS8 } from 'jose';
import type { Algorithm } from '../tenancy/app-credentials.js';

export interface TokenRequest {
  clientId: string;
  /** The client secret (HS256) or a PKCS#8 PEM private key (RS256/ES256). */
  key: string;
  algorithm?: Algorithm;
  expiresInSeconds?: number;
  subject?: string;
}

/**
 * Signs a token the way the vendor's JWT tool does: the client id in the `appId` claim. A `jti` and `iat`
 * are added so the token also satisfies apps that enforce replay protection.
 */
export async function signAppToken(request: TokenRequest): Promise<string> {
  const algorithm = request.algorithm ?? 'HS256';
  const key = algorithm === 'HS256' ? new TextEncoder().encode(request.key) : await importPKCS8(request.key, algorithm);
  const jwt = new SignJWT({ appId: request.clientId })
    .setProtectedHeader({ alg: algorithm, typ: 'JWT' })
    .setIssuedAt()
    .setJti(randomUUID());
  if (request.subject) jwt.setSubject(request.subject);
  if (request.expiresInSeconds) jwt.setExpirationTime(`${request.expiresInSeconds}s`);
  return jwt.sign(key);
}
