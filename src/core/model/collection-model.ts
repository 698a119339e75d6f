/**
 * A collection as the record engine uses it: the stored definition plus everything derived from
 * it once per schema change (fields by name, parsed rules and indexes, the SQL column list), so
 * requests never re-derive them.
 */
import { parseIndex, type IndexDefinition } from '../collections/index-definition.js';
import { LOCKED, parseRule, type ParsedRule } from '../rules/parsed-rule.js';
import { fieldTypeOf } from '../collections/fields/index.js';
import type { Collection, CollectionType, Field } from './collection-types.js';

/** A rule that does not parse (only possible in a draft being validated) locks the action. */
function safeRule(rule: string | null | undefined): ParsedRule {
  try {
    return parseRule(rule);
  } catch {
    return LOCKED;
  }
}

export interface RuleSet {
  list: ParsedRule;
  view: ParsedRule;
  create: ParsedRule;
  update: ParsedRule;
  delete: ParsedRule;
  /** Auth collections: who may authenticate, and who may manage other records. */
  auth: ParsedRule;
  manage: ParsedRule;
  /** Auth collections: which records need a second factor when MFA is on (open = all). */
  mfa: ParsedRule;
}

export class CollectionModel {
  readonly id: string;
  readonly name: string;
  readonly type: CollectionType;
  readonly fields: readonly Field[];
  readonly indexes: readonly IndexDefinition[];
  readonly rules: RuleSet;
  private readonly byName = new Map<string, Field>();

  constructor(readonly data: Collection) {
    this.id = data.id;
    this.name = data.name;
    this.type = data.type;
    this.fields = data.fields;
    for (const f of data.fields) this.byName.set(f.name.toLowerCase(), f);
    // Stored definitions were validated on save; a draft being validated may still hold a bad
    // rule or index: it then fails closed (locked rule, index ignored) instead of throwing.
    this.indexes = data.indexes.flatMap((sql) => {
      try {
        return [parseIndex(sql)];
      } catch {
        return [];
      }
    });
    this.rules = {
      list: safeRule(data.listRule),
      view: safeRule(data.viewRule),
      create: safeRule(data.createRule),
      update: safeRule(data.updateRule),
      delete: safeRule(data.deleteRule),
      auth: data.type === 'auth' ? safeRule(data.authRule ?? '') : LOCKED,
      manage: data.type === 'auth' ? safeRule(data.manageRule ?? null) : LOCKED,
      mfa: data.type === 'auth' ? safeRule(data.mfa?.rule ?? '') : LOCKED,
    };
  }

  get table(): string {
    return this.name;
  }

  get isAuth(): boolean {
    return this.type === 'auth';
  }

  get isView(): boolean {
    return this.type === 'view';
  }

  /** Field lookup by name, case-insensitive as in SQL. */
  field(name: string): Field | undefined {
    return this.byName.get(name.toLowerCase());
  }


  isMultiple(field: Field): boolean {
    return fieldTypeOf(field.type).isMultiple(field);
  }
}

/** Read access to the current collections, as the rules resolver and the record engine need it. */
export interface SchemaView {
  find(idOrName: string): CollectionModel | undefined;
  all(): readonly CollectionModel[];
}
