/**
 * Record tokens (spec §1.1): HS256 JWTs with PocketBase's claims, signed with the record's
 * tokenKey plus the collection's secret for the token type. Rotating either (a password change
 * rotates tokenKey) invalidates every token signed with it.
 */
import { decodeJwt, jwtVerify, SignJWT } from 'jose';
import type { Clock } from '../clock.js';
import type { CollectionModel } from '../model/collection-model.js';
import type { TokenConfig } from '../model/collection-types.js';
import type { RecordModel } from '../model/record-model.js';

export type TokenType = 'auth' | 'file' | 'verification' | 'passwordReset' | 'emailChange';

const CONFIG_KEY: Record<TokenType, 'authToken' | 'fileToken' | 'verificationToken' | 'passwordResetToken' | 'emailChangeToken'> = {
  auth: 'authToken',
  file: 'fileToken',
  verification: 'verificationToken',
  passwordReset: 'passwordResetToken',
  emailChange: 'emailChangeToken',
};

export interface TokenClaims {
  id: string;
  type: TokenType;
  collectionId: string;
  refreshable?: boolean;
  exp: number;
  [claim: string]: unknown;
}

const encoder = new TextEncoder();

function tokenConfig(collection: CollectionModel, type: TokenType): TokenConfig {
  const config = collection.data[CONFIG_KEY[type]];
  if (!config?.secret) throw new Error(`collection ${collection.name} has no ${type} token secret`);
  return config;
}

function signingKey(record: RecordModel, type: TokenType): Uint8Array {
  return encoder.encode(String(record.values.tokenKey ?? '') + tokenConfig(record.collection, type).secret);
}

/** Signs a token of `type` for `record`; `durationSeconds` overrides the collection's duration. */
export async function signRecordToken(clock: Clock, record: RecordModel, type: TokenType, extra: Record<string, unknown> = {}, durationSeconds?: number): Promise<string> {
  const duration = durationSeconds ?? tokenConfig(record.collection, type).duration;
  return new SignJWT({ id: String(record.values.id), type, collectionId: record.collection.id, ...extra })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setExpirationTime(Math.floor(clock.now() / 1000) + duration)
    .sign(signingKey(record, type));
}

/** The claims of a token without checking it (to find the record whose key verifies it). */
export function peekClaims(token: string): Partial<TokenClaims> | null {
  try {
    return decodeJwt(token) as Partial<TokenClaims>;
  } catch {
    return null;
  }
}

/** Verifies signature, expiry and type; null for anything invalid (never an error). */
export async function verifyRecordToken(clock: Clock, token: string, record: RecordModel, type: TokenType): Promise<TokenClaims | null> {
  try {
    const { payload } = await jwtVerify(token, signingKey(record, type), { algorithms: ['HS256'], currentDate: new Date(clock.now()) });
    if (payload.type !== type || payload.id !== record.values.id || payload.collectionId !== record.collection.id) return null;
    return payload as unknown as TokenClaims;
  } catch {
    return null;
  }
}
