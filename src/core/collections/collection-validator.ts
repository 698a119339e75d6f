/**
 * Turns a submitted collection (create or update) into a valid, normalised definition, or a 400
 * with field codes. Nothing is written here: the service applies the result in one transaction.
 */
import { transact } from '../events/transaction.js';
import { badRequest, fieldError, MESSAGES, type ErrorData } from '../errors.js';
import type { Database } from '../ports.js';
import { parseRule } from '../rules/parsed-rule.js';
import { FilterSyntaxError } from '../rules/parser.js';
import { nowText, type Clock } from '../clock.js';
import type { CollectionRegistry } from './collection-registry.js';
import { isPlainObject } from './fields/coerce.js';
import { validateFields, FIELD_NAME, MAX_NAME_LENGTH } from './fields-validator.js';
import { formatIndex, IndexSyntaxError, indexColumnNames, parseIndex, findSingleColumnUniqueIndex, type IndexDefinition } from './index-definition.js';
import {
  authSystemFields,
  authSystemIndexes,
  defaultAuthOptions,
  defaultCollectionId,
  idField,
  scaffoldCollection,
} from './scaffolds.js';
import { AUTH_OPTION_KEYS, TOKEN_KEYS, type Collection, type CollectionType, type TokenConfig } from '../model/collection-types.js';
import { inferViewFields } from './view-fields.js';
import { ruleErrors as ruleErrorsOf } from './rule-check.js';
import { checkWorkflow } from '../workflows/workflow-validator.js';
import { workflowRuleErrors } from '../workflows/workflow-rules.js';
import { randomString } from '../ids.js';
import { normalizeProviders } from '../auth/oauth2/provider-config.js';

const RULE_KEYS = ['listRule', 'viewRule', 'createRule', 'updateRule', 'deleteRule'] as const;
const TYPES: CollectionType[] = ['base', 'auth', 'view'];
const MAX_RULE_LENGTH = 3500;
const MAX_VIEW_QUERY_LENGTH = 5000;

export interface ValidateContext {
  registry: CollectionRegistry;
  db: Database;
  clock: Clock;
  /** Other collections being saved in the same operation (import). */
  pending?: Collection[];
}

function tokenOptions(input: unknown, previous: TokenConfig | undefined, fallback: TokenConfig, errors: ErrorData, key: string): TokenConfig {
  const out: TokenConfig = { duration: previous?.duration ?? fallback.duration, secret: previous?.secret ?? fallback.secret };
  if (input === undefined) return out;
  if (!isPlainObject(input)) {
    errors[key] = fieldError('validation_invalid_value', 'Must be an object.');
    return out;
  }
  if (input.duration !== undefined) {
    if (typeof input.duration !== 'number' || !Number.isInteger(input.duration) || input.duration < 10 || input.duration > 63072000) {
      errors[key] = { duration: fieldError('validation_invalid_duration', 'Must be a whole number of seconds between 10 and 63072000.') };
    } else out.duration = input.duration;
  }
  // Secrets are write-only: setting one rotates it (and revokes every token signed with the old one).
  if (input.secret !== undefined && input.secret !== '') {
    if (typeof input.secret !== 'string' || input.secret.length < 30 || input.secret.length > 255) {
      errors[key] = { secret: fieldError('validation_length_out_of_range', 'Must be between 30 and 255 characters.') };
    } else out.secret = input.secret;
  }
  return out;
}

function mergeObject<T extends object>(base: T, input: unknown, key: string, errors: ErrorData): T {
  if (input === undefined) return base;
  if (!isPlainObject(input)) {
    errors[key] = fieldError('validation_invalid_value', 'Must be an object.');
    return base;
  }
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const k of Object.keys(base)) if ((input as Record<string, unknown>)[k] !== undefined) out[k] = (input as Record<string, unknown>)[k];
  return out as T;
}

function applyAuthOptions(c: Collection, input: Record<string, unknown>, previous: Collection | undefined, errors: ErrorData): void {
  const defaults = defaultAuthOptions();
  for (const key of AUTH_OPTION_KEYS) {
    if ((TOKEN_KEYS as readonly string[]).includes(key)) {
      (c as any)[key] = tokenOptions(input[key], previous?.[key] as TokenConfig | undefined, defaults[key] as TokenConfig, errors, key);
    } else if (key === 'authRule' || key === 'manageRule') {
      if (input[key] !== undefined) (c as any)[key] = input[key];
      else if (c[key] === undefined) (c as any)[key] = defaults[key];
    } else {
      (c as any)[key] = mergeObject(((c as any)[key] ?? defaults[key]) as object, input[key], key, errors);
    }
  }
  const pa = c.passwordAuth!;
  if (typeof pa.enabled !== 'boolean') errors.passwordAuth = { enabled: fieldError('validation_invalid_value', 'Must be a boolean.') };
  if (!Array.isArray(pa.identityFields) || pa.identityFields.some((f) => typeof f !== 'string')) {
    errors.passwordAuth = { identityFields: fieldError('validation_invalid_value', 'Must be a list of field names.') };
  }
  for (const [key, min, max] of [['mfa', 10, 86400], ['otp', 10, 86400]] as const) {
    const d = (c[key] as { duration: unknown }).duration;
    if (typeof d !== 'number' || !Number.isInteger(d) || d < min || d > max) {
      errors[key] = { duration: fieldError('validation_invalid_duration', `Must be between ${min} and ${max} seconds.`) };
    }
  }
  const otpLength = c.otp!.length;
  if (typeof otpLength !== 'number' || !Number.isInteger(otpLength) || otpLength < 4 || otpLength > 12) {
    errors.otp = { length: fieldError('validation_invalid_value', 'Must be between 4 and 12.') };
  }
  const oauth2 = c.oauth2!;
  if (typeof oauth2.enabled !== 'boolean') errors.oauth2 = { enabled: fieldError('validation_invalid_value', 'Must be a boolean.') };
  else oauth2.providers = normalizeProviders(oauth2.providers, previous?.oauth2?.providers, oauth2.enabled, errors);
  const mapped = oauth2.mappedFields as unknown;
  if (!isPlainObject(mapped) || Object.values(mapped).some((v) => typeof v !== 'string')) {
    errors.oauth2 = { mappedFields: fieldError('validation_invalid_value', 'Must map id, name, username and avatarURL to field names (or "").') };
  }
  // A second factor needs a second method (PocketBase's rule; an authenticator app is per record).
  if (c.mfa!.enabled && [c.passwordAuth!.enabled, oauth2.enabled, c.otp!.enabled].filter(Boolean).length < 2) {
    errors.mfa = { enabled: fieldError('validation_mfa_not_enough_auths', 'MFA requires at least 2 auth methods to be enabled.') };
  }
}

/**
 * An OAuth2 mapping to a field that no longer exists is dropped (as PocketBase does), not an
 * error: deleting the field must stay possible.
 */
function dropMissingMappedFields(c: Collection): void {
  const mapped = c.oauth2?.mappedFields as Record<string, unknown> | undefined;
  if (!mapped || !isPlainObject(mapped)) return;
  for (const [key, field] of Object.entries(mapped)) if (field !== '' && !c.fields.some((f) => f.name === field)) mapped[key] = '';
}

function checkRules(c: Collection, input: Record<string, unknown>, errors: ErrorData): void {
  const keys: string[] = [...RULE_KEYS];
  if (c.type === 'auth') keys.push('authRule', 'manageRule');
  for (const key of keys) {
    if (input[key] === undefined) continue;
    const v = input[key];
    if (v !== null && typeof v !== 'string') errors[key] = fieldError('validation_invalid_rule', 'Must be a filter expression, "" or null.');
    else if (typeof v === 'string' && v.length > MAX_RULE_LENGTH) errors[key] = fieldError('validation_invalid_rule', `Must be at most ${MAX_RULE_LENGTH} characters.`);
    else (c as any)[key] = v;
  }
  if (c.type === 'view') {
    for (const key of ['createRule', 'updateRule', 'deleteRule'] as const) {
      if (c[key] !== null) errors[key] = fieldError('validation_view_rule', 'View collections are read-only: leave this rule null.');
    }
  }
  for (const key of keys) {
    if (errors[key]) continue;
    try {
      parseRule((c as any)[key]);
    } catch (err) {
      if (err instanceof FilterSyntaxError) errors[key] = fieldError('validation_invalid_rule', `Invalid rule: ${err.message}.`);
      else throw err;
    }
  }
  if (c.type === 'auth' && c.mfa?.rule) {
    try {
      parseRule(c.mfa.rule);
    } catch (err) {
      if (err instanceof FilterSyntaxError) errors.mfa = { rule: fieldError('validation_invalid_rule', `Invalid rule: ${err.message}.`) };
      else throw err;
    }
  }
}

function checkIndexes(c: Collection, input: unknown, ctx: ValidateContext, errors: ErrorData): IndexDefinition[] {
  if (!Array.isArray(input) || input.some((s) => typeof s !== 'string')) {
    errors.indexes = fieldError('validation_invalid_indexes', 'Must be a list of CREATE INDEX statements.');
    return [];
  }
  if (c.type === 'view' && input.length > 0) {
    errors.indexes = fieldError('validation_view_indexes', 'View collections cannot have indexes.');
    return [];
  }
  const defs: IndexDefinition[] = [];
  const indexErrors: ErrorData = {};
  const otherIndexNames = new Set<string>();
  for (const other of [...ctx.registry.all().map((m) => m.data), ...(ctx.pending ?? [])]) {
    if (other.id === c.id) continue;
    for (const sql of other.indexes) {
      try {
        otherIndexNames.add(parseIndex(sql).name.toLowerCase());
      } catch {
        // a stored index that no longer parses cannot clash
      }
    }
  }
  input.forEach((raw: string, i) => {
    let def: IndexDefinition;
    try {
      def = parseIndex(raw);
    } catch (err) {
      if (!(err instanceof IndexSyntaxError)) throw err;
      indexErrors[String(i)] = fieldError('validation_invalid_index_expression', err.message);
      return;
    }
    def = { ...def, table: c.name };
    // Columns of the list and of the WHERE clause alike must be fields.
    const missing = indexColumnNames(def).find((name) => !c.fields.some((f) => f.name.toLowerCase() === name.toLowerCase()));
    if (missing) {
      indexErrors[String(i)] = fieldError('validation_missing_index_column', `Unknown field "${missing}".`);
      return;
    }
    const nameTaken = otherIndexNames.has(def.name.toLowerCase()) || defs.some((d) => d.name.toLowerCase() === def.name.toLowerCase());
    if (nameTaken) {
      indexErrors[String(i)] = fieldError('validation_duplicated_index_name', `An index named "${def.name}" already exists.`);
      return;
    }
    defs.push(def);
  });
  if (Object.keys(indexErrors).length > 0) errors.indexes = indexErrors;
  return defs;
}

/**
 * Validates and normalises `input` into a collection definition. `previous` is the stored
 * collection for an update. Throws ApiError(400) with field errors.
 */
export async function prepareCollection(input: unknown, previous: Collection | undefined, ctx: ValidateContext): Promise<Collection> {
  const failMessage = previous ? MESSAGES.collectionUpdateFailed : MESSAGES.collectionCreateFailed;
  if (!isPlainObject(input)) throw badRequest(failMessage, { '': fieldError('validation_invalid_body', 'Must be a JSON object.') });
  const errors: ErrorData = {};

  const type = (input.type ?? previous?.type ?? 'base') as CollectionType;
  if (!TYPES.includes(type)) throw badRequest(failMessage, { type: fieldError('validation_invalid_type', 'Must be base, auth or view.') });
  if (previous && type !== previous.type) {
    throw badRequest(failMessage, { type: fieldError('validation_collection_type_change', 'The collection type cannot be changed.') });
  }

  const c: Collection = previous ? structuredClone(previous) : scaffoldCollection(type);
  if (!previous) {
    c.fields = [];
    for (const key of RULE_KEYS) c[key] = null;
  }

  // name
  const name = input.name === undefined ? c.name : typeof input.name === 'string' ? input.name.trim() : '';
  if (!FIELD_NAME.test(name) || name.length > MAX_NAME_LENGTH) {
    errors.name = fieldError('validation_invalid_name', `Use letters, digits and _ (starting with a letter), at most ${MAX_NAME_LENGTH} characters.`);
  } else if (name.startsWith('_') && !(previous?.system && name === previous.name)) {
    errors.name = fieldError('validation_collection_name_reserved', 'Names starting with "_" are reserved for system collections.');
  } else if (name.includes('_via_')) {
    errors.name = fieldError('validation_collection_name_via', 'Names cannot contain "_via_" (it denotes back-relations in filters).');
  } else if (previous?.system && name !== previous.name) {
    errors.name = fieldError('validation_system_collection_rename', 'System collections cannot be renamed.');
  } else {
    const others = [...ctx.registry.all().map((m) => m.data), ...(ctx.pending ?? [])].filter((o) => o.id !== c.id);
    if (others.some((o) => o.name.toLowerCase() === name.toLowerCase())) {
      errors.name = fieldError('validation_collection_name_exists', 'A collection with this name already exists.');
    } else if (others.some((o) => o.id.toLowerCase() === name.toLowerCase())) {
      // Collections are looked up "by id or name": a name equal to another id would be ambiguous.
      errors.name = fieldError('validation_collection_name_id_duplicate', 'Another collection has this value as its id.');
    }
  }
  c.name = name;

  // id
  if (!previous) {
    if (input.id !== undefined && input.id !== '') {
      if (typeof input.id !== 'string' || !/^[A-Za-z0-9_]{1,100}$/.test(input.id)) {
        errors.id = fieldError('validation_invalid_id', 'Use letters, digits and _ (at most 100).');
      } else c.id = input.id;
    } else c.id = defaultCollectionId(name);
    const taken = (id: string) => ctx.registry.find(id) !== undefined || (ctx.pending ?? []).some((p) => p.id === id || p.name.toLowerCase() === id.toLowerCase());
    if (taken(c.id)) {
      if (input.id) errors.id = fieldError('validation_collection_id_exists', 'A collection with this id or name already exists.');
      else c.id = 'pbc_' + randomString(10, '0123456789');
    }
  }

  if (type === 'auth') applyAuthOptions(c, input, previous, errors);
  checkRules(c, input, errors);

  // fields
  if (type === 'view') {
    if (input.viewQuery !== undefined) c.viewQuery = typeof input.viewQuery === 'string' ? input.viewQuery.trim() : '';
    const query = c.viewQuery ?? '';
    if (query === '' || query.length > MAX_VIEW_QUERY_LENGTH) {
      errors.viewQuery = fieldError('validation_invalid_view_query', `Provide a SELECT statement of at most ${MAX_VIEW_QUERY_LENGTH} characters.`);
    } else if (!errors.name) {
      try {
        const columns = await transact(ctx.db, (tx) => tx.db.schema.describeQuery(query));
        c.fields = inferViewFields(query, columns, ctx.registry.overlay(ctx.pending ?? []), previous?.fields);
        if (!c.fields.some((f) => f.name === 'id')) {
          errors.viewQuery = fieldError('validation_missing_view_id', 'The query must select an "id" column.');
        }
        if (new Set(c.fields.map((f) => f.name.toLowerCase())).size !== c.fields.length) {
          errors.viewQuery = fieldError('validation_duplicated_view_column', 'Every selected column needs a unique name.');
        }
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        errors.viewQuery = fieldError('validation_invalid_view_query', `Invalid query: ${message}.`);
      }
    }
  } else if (input.fields !== undefined) {
    const pendingView = ctx.registry.overlay([...(ctx.pending ?? []), c]);
    const result = validateFields(input.fields, c, previous, { findCollection: (id) => pendingView.find(id)?.data });
    Object.assign(errors, result.errors);
    c.fields = result.fields;
  }
  if (type !== 'view') {
    if (!c.fields.some((f) => f.name === 'id' && f.primaryKey)) c.fields.unshift(idField());
    if (type === 'auth') {
      const missing = authSystemFields().filter((sys) => !c.fields.some((f) => f.name === sys.name));
      c.fields.splice(1, 0, ...missing);
      dropMissingMappedFields(c);
    }
  }

  // workflow (Basalt's addition): kept when not sent, removed by null, checked on every save
  if (input.workflow === null) delete c.workflow;
  const workflowInput = input.workflow ?? c.workflow;
  if (workflowInput !== undefined) {
    const workflow = checkWorkflow(workflowInput, c, errors);
    if (workflow) c.workflow = workflow;
  }

  // indexes
  let indexInput = input.indexes ?? c.indexes;
  if (type === 'auth' && Array.isArray(indexInput)) {
    const given = indexInput as string[];
    const wanted = authSystemIndexes(c.id, c.name);
    const hasUnique = (column: string) =>
      given.some((s) => {
        try {
          return findSingleColumnUniqueIndex([parseIndex(s)], column) !== undefined;
        } catch {
          return false;
        }
      });
    indexInput = [...given, ...wanted.filter((_, i) => !hasUnique(i === 0 ? 'tokenKey' : 'email'))];
  }
  const indexDefs = checkIndexes(c, indexInput, ctx, errors);
  if (!errors.indexes) c.indexes = indexDefs.map(formatIndex);

  if (type === 'auth' && !errors.passwordAuth) {
    for (const identity of c.passwordAuth!.identityFields) {
      if (!c.fields.some((f) => f.name === identity)) {
        errors.passwordAuth = { identityFields: fieldError('validation_missing_identity_field', `Unknown field "${identity}".`) };
      } else if (!findSingleColumnUniqueIndex(indexDefs, identity)) {
        errors.passwordAuth = { identityFields: fieldError('validation_identity_field_not_unique', `"${identity}" needs a UNIQUE index to be an identity field.`) };
      }
    }
  }

  if (Object.keys(errors).length > 0) throw badRequest(failMessage, errors);

  // Rules must resolve against the schema as it will be after this change.
  const schema = ctx.registry.overlay([...(ctx.pending ?? []), c]);
  const model = schema.find(c.id)!;
  const ruleErrors = ruleErrorsOf(model, schema, ctx.db.filter);
  const workflowErrors = workflowRuleErrors(c, model, schema, ctx.db.filter);
  if (workflowErrors) ruleErrors.workflow = workflowErrors;
  if (Object.keys(ruleErrors).length > 0) throw badRequest(failMessage, ruleErrors);

  const now = nowText(ctx.clock);
  if (!previous) c.created = now;
  c.updated = now;
  return c;
}
