/**
 * The first run: while no superuser exists, `basalt serve` prints a link to the dashboard
 * (`/_/#/pbinstal/<token>`, as PocketBase's apis/installer.go does) whose token authorises
 * exactly one thing: creating a superuser.
 *
 * PocketBase signs an ordinary auth token for a placeholder superuser it creates, which holds
 * every superuser power for 30 minutes. Basalt's token names no record: it resolves to the
 * `installer` principal, whose only capability is `createsFirstSuperuser`, and the write checks
 * inside its transaction that no superuser exists yet, so the link is spent by its first use.
 */
import { sql } from 'kysely';
import { jwtVerify, SignJWT } from 'jose';
import type { Clock } from '../clock.js';
import { COLLECTIONS_TABLE } from '../collections/collection-store.js';
import { forbidden, MESSAGES } from '../errors.js';
import type { CollectionModel, SchemaView } from '../model/collection-model.js';
import { SUPERUSERS_COLLECTION_ID } from '../model/collection-types.js';
import type { Database } from '../ports.js';
import { peekClaims } from './tokens.js';

/** How long the printed link works: PocketBase's 30 minutes. */
export const INSTALLER_TOKEN_SECONDS = 30 * 60;

const TOKEN_TYPE = 'installer';
const encoder = new TextEncoder();

export interface FirstRunDeps {
  db: Database;
  schema: SchemaView;
  clock: Clock;
}

export class FirstRun {
  constructor(private readonly deps: FirstRunDeps) {}

  private superusers(): CollectionModel {
    const c = this.deps.schema.find(SUPERUSERS_COLLECTION_ID);
    if (!c) throw new Error('the _superusers collection is missing');
    return c;
  }

  /**
   * Signed with the superusers' auth-token secret (stored in the database, so any node of a
   * cluster verifies it, and rotating the secret voids it) plus a suffix of its own, so that
   * neither kind of token can be passed off as the other.
   */
  private key(): Uint8Array {
    const secret = this.superusers().data.authToken?.secret;
    if (!secret) throw new Error('the _superusers collection has no auth token secret');
    return encoder.encode(`${secret}\u0000${TOKEN_TYPE}`);
  }

  /** Whether no superuser exists (the link is printed only then). */
  async needed(): Promise<boolean> {
    const rows = await this.deps.db.rows(sql`SELECT 1 AS ${sql.id('one')} FROM ${sql.id(this.superusers().table)} LIMIT 1`);
    return rows.length === 0;
  }

  /** A token of the installer principal, valid `INSTALLER_TOKEN_SECONDS`. */
  async issueToken(): Promise<string> {
    return new SignJWT({ type: TOKEN_TYPE, collectionId: SUPERUSERS_COLLECTION_ID })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setExpirationTime(Math.floor(this.deps.clock.now() / 1000) + INSTALLER_TOKEN_SECONDS)
      .sign(this.key());
  }

  /** Whether `token` is an unexpired installer token of this database (never throws). */
  async accepts(token: string): Promise<boolean> {
    // Cheap refusal first: this runs for every token that is not a valid auth token.
    if ((peekClaims(token)?.type as string | undefined) !== TOKEN_TYPE) return false;
    try {
      const { payload } = await jwtVerify(token, this.key(), { algorithms: ['HS256'], currentDate: new Date(this.deps.clock.now()) });
      return payload.type === TOKEN_TYPE && payload.collectionId === SUPERUSERS_COLLECTION_ID;
    } catch {
      return false;
    }
  }
}

/**
 * Inside the write's transaction: refuses unless no superuser exists. Locking the superusers'
 * catalogue row serialises concurrent first-run writes (an empty table has no row to lock), so
 * the second one counts after the first committed.
 */
export async function assertNoSuperuserYet(db: Database, collection: CollectionModel): Promise<void> {
  await db.rows(sql`SELECT ${sql.id('id')} FROM ${sql.id(COLLECTIONS_TABLE)} WHERE ${sql.id('id')} = ${collection.id} ${db.filter.forUpdate()}`);
  const rows = await db.rows(sql`SELECT 1 AS ${sql.id('one')} FROM ${sql.id(collection.table)} LIMIT 1`);
  if (rows.length > 0) throw forbidden(MESSAGES.firstRunSpent);
}
