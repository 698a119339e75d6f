/**
 * API keys (Basalt's addition): long-lived credentials for servers and third-party consumers,
 * created by superusers, scoped to collections × record actions. A key acts past the
 * collection rules (as a service account) but only within its scopes; it cannot use the admin
 * API, filter with `@request`/`@collection`, or sign in.
 *
 * The key (`bsk_` + 43 base62 characters, 256 random bits) is shown once, at creation; only
 * its SHA-256 is stored (a fast hash is right for a random secret of this size: nothing to
 * brute-force), looked up through a unique index. Expired or deleted keys stop working at once.
 */
import { createHash, randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { SchemaView } from '../model/collection-model.js';
import { badRequest, fieldError, notFound, type ErrorData, type FieldError } from '../errors.js';
import { newId } from '../ids.js';
import { API_KEYS_TABLE } from '../internal-tables.js';
import type { Database, Logger } from '../ports.js';
import { formatDate, parseDate } from '../time.js';
import { nowText, type Clock } from '../clock.js';
import { RECORD_ACTIONS, type ApiKeyPrincipal, type ApiKeyScope, type RecordAction } from './api-key-scope.js';

export const API_KEY_PREFIX = 'bsk_';

/** A key as the API shows it (never the key itself, nor its hash). */
export interface ApiKeyInfo {
  id: string;
  name: string;
  keyPrefix: string;
  scopes: (ApiKeyScope & { collectionName: string })[];
  expires: string;
  lastUsed: string;
  created: string;
  updated: string;
}

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** How often a key's `lastUsed` is written at most (it is a hint, not an audit log). */
const LAST_USED_EVERY_MS = 60_000;
const MAX_NAME = 255;
const MAX_SCOPES = 100;

function generateKey(): string {
  // Rejection sampling keeps every character uniform over the 62 symbols.
  let out = API_KEY_PREFIX;
  while (out.length < API_KEY_PREFIX.length + 43) {
    for (const byte of randomBytes(64)) {
      if (byte < 248 && out.length < API_KEY_PREFIX.length + 43) out += BASE62[byte % 62];
    }
  }
  return out;
}

const hashKey = (key: string) => createHash('sha256').update(key).digest('hex');

interface ApiKeyRow {
  id: string;
  name: string;
  keyHash: string;
  keyPrefix: string;
  scopes: string | ApiKeyScope[];
  expires: string;
  lastUsed: string;
  created: string;
  updated: string;
}

const scopesOf = (row: ApiKeyRow): ApiKeyScope[] => (typeof row.scopes === 'string' ? JSON.parse(row.scopes || '[]') : row.scopes) as ApiKeyScope[];

export class ApiKeyService {
  private readonly lastUsedWrites = new Map<string, number>();

  constructor(
    private readonly db: Database,
    private readonly schema: SchemaView,
    private readonly logger: Logger,
    private readonly clock: Clock,
  ) {}

  private toInfo(row: ApiKeyRow): ApiKeyInfo {
    return {
      id: row.id,
      name: row.name,
      keyPrefix: row.keyPrefix,
      scopes: scopesOf(row).map((s) => ({ ...s, collectionName: s.collection === '*' ? '*' : this.schema.find(s.collection)?.name ?? '' })),
      expires: row.expires,
      lastUsed: row.lastUsed,
      created: row.created,
      updated: row.updated,
    };
  }

  /** Validates `name`, `scopes` and `expires` of a create (all required but expires) or an update. */
  private parseInput(body: Record<string, unknown>, isNew: boolean): Partial<Pick<ApiKeyRow, 'name' | 'expires'>> & { scopes?: ApiKeyScope[] } {
    const errors: ErrorData = {};
    const out: Partial<Pick<ApiKeyRow, 'name' | 'expires'>> & { scopes?: ApiKeyScope[] } = {};
    for (const key of Object.keys(body)) {
      if (!['name', 'scopes', 'expires'].includes(key)) errors[key] = fieldError('validation_unknown_field', 'Unknown field.');
    }
    if (body.name !== undefined || isNew) {
      const name = typeof body.name === 'string' ? body.name.trim() : '';
      if (name === '' || name.length > MAX_NAME) errors.name = fieldError(name === '' ? 'validation_required' : 'validation_length_out_of_range', name === '' ? 'Missing required value.' : `Must be at most ${MAX_NAME} characters.`);
      out.name = name;
    }
    if (body.expires !== undefined) {
      if (body.expires === '' || body.expires === null) out.expires = '';
      else {
        const d = parseDate(body.expires);
        if (!d) errors.expires = fieldError('validation_invalid_date', 'Must be a valid date.');
        else out.expires = formatDate(d);
      }
    }
    if (body.scopes !== undefined || isNew) {
      const parsed = this.parseScopes(body.scopes);
      if ('error' in parsed) errors.scopes = parsed.error;
      else out.scopes = parsed.scopes;
    }
    if (Object.keys(errors).length > 0) throw badRequest('An error occurred while validating the submitted data.', errors);
    return out;
  }

  private parseScopes(value: unknown): { scopes: ApiKeyScope[] } | { error: FieldError | ErrorData } {
    if (!Array.isArray(value) || value.length === 0) return { error: fieldError('validation_required', 'At least one scope is required.') };
    if (value.length > MAX_SCOPES) return { error: fieldError('validation_too_many_values', `At most ${MAX_SCOPES} scopes.`) };
    const scopes: ApiKeyScope[] = [];
    const errors: ErrorData = {};
    value.forEach((raw, i) => {
      const e: Record<string, FieldError> = {};
      const entry = raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
      let collection = '';
      if (entry.collection === '*') collection = '*';
      else if (typeof entry.collection === 'string') {
        const found = this.schema.find(entry.collection);
        if (!found) e.collection = fieldError('validation_missing_collection', 'No collection has this name or id.');
        else if (found.data.system) e.collection = fieldError('validation_system_collection', 'API keys cannot reach system collections.');
        else collection = found.id;
      } else e.collection = fieldError('validation_required', 'Missing required value.');
      const actions = Array.isArray(entry.actions) ? [...new Set(entry.actions)] : null;
      if (!actions || actions.length === 0) e.actions = fieldError('validation_required', `At least one of ${RECORD_ACTIONS.join(', ')}.`);
      else if (!actions.every((a) => (RECORD_ACTIONS as readonly unknown[]).includes(a))) e.actions = fieldError('validation_in_invalid', `Actions must be among ${RECORD_ACTIONS.join(', ')}.`);
      if (Object.keys(e).length > 0) errors[String(i)] = e;
      else scopes.push({ collection, actions: actions as RecordAction[] });
    });
    return Object.keys(errors).length > 0 ? { error: errors } : { scopes };
  }

  /** Creates a key; the returned `key` is the only time it is ever shown. */
  async create(body: Record<string, unknown>): Promise<ApiKeyInfo & { key: string }> {
    const input = this.parseInput(body, true);
    const key = generateKey();
    const now = nowText(this.clock);
    const row: ApiKeyRow = {
      id: newId(),
      name: input.name!,
      keyHash: hashKey(key),
      keyPrefix: key.slice(0, API_KEY_PREFIX.length + 6),
      scopes: JSON.stringify(input.scopes),
      expires: input.expires ?? '',
      lastUsed: '',
      created: now,
      updated: now,
    };
    await this.db.kysely.insertInto(API_KEYS_TABLE).values(row).execute();
    return { ...this.toInfo(row), key };
  }

  private async findRow(id: string): Promise<ApiKeyRow> {
    const rows = await this.db.rows<ApiKeyRow>(sql`SELECT * FROM ${sql.id(API_KEYS_TABLE)} WHERE ${sql.id('id')} = ${id}`);
    if (!rows[0]) throw notFound();
    return rows[0];
  }

  async list(): Promise<ApiKeyInfo[]> {
    const rows = await this.db.rows<ApiKeyRow>(sql`SELECT * FROM ${sql.id(API_KEYS_TABLE)} ORDER BY ${sql.id('created')}, ${sql.id('id')}`);
    return rows.map((r) => this.toInfo(r));
  }

  async view(id: string): Promise<ApiKeyInfo> {
    return this.toInfo(await this.findRow(id));
  }

  async update(id: string, body: Record<string, unknown>): Promise<ApiKeyInfo> {
    await this.findRow(id);
    const input = this.parseInput(body, false);
    const set: Record<string, unknown> = { updated: nowText(this.clock) };
    if (input.name !== undefined) set.name = input.name;
    if (input.expires !== undefined) set.expires = input.expires;
    if (input.scopes !== undefined) set.scopes = JSON.stringify(input.scopes);
    await this.db.kysely.updateTable(API_KEYS_TABLE).set(set).where('id', '=', id).execute();
    return this.view(id);
  }

  /** Revokes the key: every later request with it is a guest request. */
  async delete(id: string): Promise<void> {
    const result = await this.db.kysely.deleteFrom(API_KEYS_TABLE).where('id', '=', id).executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw notFound();
  }

  /** The principal of a presented key, or null (unknown, revoked or expired). */
  async resolve(key: string): Promise<ApiKeyPrincipal | null> {
    if (!key.startsWith(API_KEY_PREFIX) || key.length > 200) return null;
    const rows = await this.db.rows<ApiKeyRow>(sql`SELECT * FROM ${sql.id(API_KEYS_TABLE)} WHERE ${sql.id('keyHash')} = ${hashKey(key)}`);
    const row = rows[0];
    if (!row) return null;
    if (row.expires !== '' && row.expires <= nowText(this.clock)) return null;
    this.touch(row.id);
    return { id: row.id, name: row.name, scopes: scopesOf(row) };
  }

  private touch(id: string): void {
    const now = this.clock.now();
    if (now - (this.lastUsedWrites.get(id) ?? 0) < LAST_USED_EVERY_MS) return;
    this.lastUsedWrites.set(id, now);
    if (this.lastUsedWrites.size > 10_000) this.lastUsedWrites.clear();
    this.db.kysely
      .updateTable(API_KEYS_TABLE)
      .set({ lastUsed: nowText(this.clock) })
      .where('id', '=', id)
      .execute()
      .catch((err) => this.logger.warn({ err: { message: (err as Error).message } }, 'could not record an API key use'));
  }
}
