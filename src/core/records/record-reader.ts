/** Record reads (spec §1.2): list with rules, filter, sort, paging; view by id. */
import { sql } from 'kysely';
import type { CollectionModel } from '../model/collection-model.js';
import { badRequest, fieldError, forbidden, MESSAGES, notFound } from '../errors.js';
import { assertScope, type Caller } from './caller.js';
import { checkClientQuery, type ClientQuery } from './client-query.js';
import { decodeCursor, encodeCursor } from './list-cursor.js';
import { EmptyListThrottle } from './list-throttle.js';
import { parseListParams, type ListParams } from './list-params.js';
import { presentRecords } from './record-presenter.js';
import { codecOf } from './record-codec.js';
import { and, filterPredicate, ROOT, rulePredicate, sortPlan, type QueryContext, type SortPlan } from './record-query.js';
import type { RecordModel } from '../model/record-model.js';
import type { ParsedRule } from '../rules/parsed-rule.js';
import { bindSlots, compiledTemplate, compileSlotted, Slot, type SlottedQuery } from '../compiled-query.js';
import type { ListRequest } from './slow-queries.js';
import type { Sql } from '../rules/filter-dialect.js';
import { sameVersions, type CountPlan } from './count-cache.js';
import { searchPlan } from './search-plan.js';
import { MAX_RANKED_IDS, type RankedOrder } from './ranked-orders.js';
import { ANCHOR_MIN_OFFSET, keysetCondition, sortValueColumns, sortValuesOf, type Anchor, type KeysetTerm } from './page-anchors.js';

export interface ListResult<T> {
  page: number;
  perPage: number;
  totalItems: number;
  totalPages: number;
  items: T[];
  /** With `cursor` (Basalt's cursor paging): where the next page starts, null after the last. */
  nextCursor?: string | null;
}

/** The record if `rule` lets the caller see it (superusers: always), else null; a locked rule is a 403. */
/**
 * `forUpdate` locks the row until the transaction ends, so a read-modify-write (body modifiers
 * such as `n+`) cannot lose a concurrent update.
 */
export async function findRecord(ctx: QueryContext, collection: CollectionModel, id: string, caller: Caller, rule: ParsedRule, forUpdate = false): Promise<RecordModel | null> {
  if (!caller.can.bypassesRules && rule.kind === 'locked') throw forbidden(MESSAGES.superusersOnly);
  // No stored id contains NUL (PostgreSQL text cannot): answer "not found" without asking.
  if (id.includes('\u0000')) return null;
  const codec = codecOf(collection);
  const predicate = rulePredicate(ctx, collection, rule, caller);
  let rows: Record<string, unknown>[];
  if (!predicate) {
    // The common case (open rule, superuser, server lookups): SQL compiled once per collection.
    const byId = compiledTemplate(ctx.db, collection, forUpdate ? 'byIdForUpdate' : 'byId', () =>
      sql`SELECT ${codec.columns(ROOT)} FROM ${sql.id(collection.table)} AS ${sql.id(ROOT)} WHERE ${sql.ref(`${ROOT}.id`)} = ${ctx.db.filter.param('', 'text')} LIMIT 1 ${forUpdate ? ctx.db.filter.forUpdate() : sql``}`,
    );
    rows = await ctx.db.query(byId.text, [id]);
  } else {
    const where = sql`${sql.ref(`${ROOT}.id`)} = ${ctx.db.filter.param(id, 'text')} AND ${predicate}`;
    rows = await ctx.db.rows(sql`SELECT ${codec.columns(ROOT)} FROM ${sql.id(collection.table)} AS ${sql.id(ROOT)} WHERE ${where} LIMIT 1 ${forUpdate ? ctx.db.filter.forUpdate() : sql``}`);
  }
  return rows.length > 0 ? codec.decode(rows[0]) : null;
}

/**
 * Up to this many matches, a page of a `~` search on a searchable field starts from the
 * substring index (listing the candidates costs about as much as reading them); past it, the
 * rows are read in order until a page of them matches (SQLite: see FilterDialect.searchNarrow).
 */
const NARROW_PAGES_UP_TO = 5000;

/**
 * A list query's identity for what is kept of it (anchors, deep-page statements, ranked orders):
 * the plan's key holds the predicate's SQL and parameters; the sort as sent names the order
 * (plain columns, or a search's rank over the words the predicate holds), in this catalogue
 * generation.
 */
function queryKey(plan: CountPlan, sortText: string): string {
  return `${plan.generation}\u0001${plan.key}\u0001${sortText}`;
}

/** Deep-page statements kept compiled (one per query shape: predicate, parameters, sort). */
const MAX_DEEP_STATEMENTS = 1024;
const LIMIT_SLOT = new Slot('limit');
const SKIP_SLOT = new Slot('offset');

export class RecordReader {
  private readonly throttle: EmptyListThrottle;
  private readonly deepStatements = new Map<string, SlottedQuery>();

  constructor(private readonly ctx: QueryContext) {
    this.throttle = new EmptyListThrottle(ctx.clock);
  }

  async list(collection: CollectionModel, query: Record<string, string | undefined>, caller: Caller): Promise<ListResult<Record<string, unknown>>> {
    assertScope(caller, collection, 'list');
    const params = parseListParams(query);
    const checked = checkClientQuery(query, caller);
    const rule = collection.rules.list;
    if (!caller.can.bypassesRules && rule.kind === 'locked') throw forbidden(MESSAGES.superusersOnly);
    const rulePart = rulePredicate(this.ctx, collection, rule, caller);
    const search = searchPlan(this.ctx, collection, checked, caller);
    const where = and([rulePart, filterPredicate(this.ctx, collection, checked, caller), search?.predicate(true) ?? null]) ?? sql`1=1`;
    // The same without substring-index narrowing, when the filter has some (see `pageWhere` below).
    const unnarrowed = this.ctx.db.filter.searchNarrow && collection.fields.some((f) => f.searchable === true)
      ? (and([rulePart, filterPredicate(this.ctx, collection, checked, caller, undefined, undefined, false), search?.predicate(false) ?? null]) ?? sql`1=1`)
      : null;
    const searching = unnarrowed !== null && unnarrowed.compile(this.ctx.db.kysely).sql !== where.compile(this.ctx.db.kysely).sql;
    const sort = sortPlan(this.ctx, collection, checked, caller, search?.rank ?? null);
    const codec = codecOf(collection);
    const table = sql`${sql.id(collection.table)} AS ${sql.id(ROOT)}`;
    const joins = sort.joins.length > 0 ? sql.join(sort.joins, sql` `) : sql``;
    const offset = (params.page - 1) * params.perPage;
    const db = this.ctx.db;
    // `from`: start at an anchor (page-anchors.ts): the rows at or after its sort values, fewer skipped.
    const request = { filter: checked.filter === null ? '' : (query.filter ?? ''), sort: checked.sort, search: checked.search ? (query.search ?? '') : undefined };
    const rowsSql = (extra: Sql | null, from: Sql | null, pageWhere: Sql, limit: unknown, skip: unknown) =>
      // The extra columns (versions, sort values) after the fields: the rows keep the fields where
      // a plain page has them, so decoding them finds the same object layout.
      sql`SELECT ${codec.columns(ROOT)}${extra ? sql`, ${extra}` : sql``} FROM ${table} ${joins} WHERE ${from ? sql`(${pageWhere}) AND ${from}` : pageWhere} ORDER BY ${sort.orderBy} LIMIT ${limit} OFFSET ${skip}`;
    const rowsQuery = (extra: Sql | null, pageWhere: Sql = where) => this.read(collection, request, rowsSql(extra, null, pageWhere, params.perPage, offset));
    if (params.cursor !== null) return this.listAfterCursor(collection, params, request, caller, checked, { table, joins, where, sort });
    const counts = this.ctx.counts;
    const keyset = sort.keyset;
    const deep = this.ctx.anchors && keyset && offset >= ANCHOR_MIN_OFFSET;
    const ranked = this.ctx.rankings && sort.ranked && offset + params.perPage <= MAX_RANKED_IDS;
    const plan = counts && (!params.skipTotal || deep || ranked) ? counts.plan(db, collection, where) : null;
    const rankedPage = plan && ranked ? await this.rankedPage(collection, request, plan, checked.sort, offset, params.perPage, { table, joins, where, orderBy: sort.orderBy }) : null;
    let rows: Record<string, unknown>[];
    let total: number;
    if (rankedPage) {
      rows = rankedPage.rows;
      total = params.skipTotal ? -1 : rankedPage.total;
    } else if (plan && deep) {
      let versions: number[];
      ({ rows, versions } = await this.deepPage(collection, request, plan, keyset, checked.sort, offset, params.perPage, (extra, from, limit, skip) => rowsSql(extra, from, where, limit, skip)));
      total = params.skipTotal ? -1 : await counts!.resolve(plan, versions);
    } else if (searching && !params.skipTotal) {
      // A substring index pays for a page when the term is rare; for a common one, reading rows in
      // order finds a page of matches sooner than listing every match first. The total (a stored
      // count, or counted through the index) tells which.
      total = plan ? await counts!.resolve(plan, null) : Number((await this.read(collection, request, sql`SELECT COUNT(*) AS ${sql.id('n')} FROM ${table} WHERE ${where}`))[0]?.n ?? 0);
      // Ranked, every match is scored before the first row is known: the index lists them.
      rows = await rowsQuery(null, total > NARROW_PAGES_UP_TO && !sort.ranked ? unnarrowed! : where);
    } else if (plan && counts!.hasCandidate(plan)) {
      // A stored count may answer: read the versions it depends on with the rows (one snapshot).
      rows = await rowsQuery(counts!.versionColumns(plan));
      total = await counts!.resolve(plan, counts!.versionsOf(plan, rows));
    } else if (plan) {
      // Counted alongside the rows (shared with any request counting the same), checked against
      // the versions read with the rows.
      const [read, counted] = await Promise.all([rowsQuery(counts!.versionColumns(plan)), counts!.shared(plan)]);
      rows = read;
      total = await counts!.countAt(plan, counts!.versionsOf(plan, rows), counted);
    } else {
      [rows, total] = await Promise.all([
        rowsQuery(null),
        params.skipTotal ? Promise.resolve(-1) : this.read(collection, request, sql`SELECT COUNT(*) AS ${sql.id('n')} FROM ${table} WHERE ${where}`).then((r) => Number(r[0]?.n ?? 0)),
      ]);
    }
    const records = rows.map((r) => codec.decode(r));
    if (records.length === 0 && !caller.can.bypassesRules && rule.kind === 'filter' && checked.filter !== null) {
      await this.throttle.onEmptyResult(collection.id);
    }
    return {
      page: params.page,
      perPage: params.perPage,
      totalItems: total,
      totalPages: total < 0 ? -1 : Math.ceil(total / params.perPage),
      items: await presentRecords(this.ctx, records, caller, checked),
    };
  }

  /** A list with `cursor` (list-cursor.ts): the rows after the cursor's, and the cursor after them. */
  private async listAfterCursor(
    collection: CollectionModel,
    params: ListParams,
    request: ListRequest,
    caller: Caller,
    checked: ClientQuery,
    q: { table: Sql; joins: Sql; where: Sql; sort: SortPlan },
  ): Promise<ListResult<Record<string, unknown>>> {
    const keyset = q.sort.keyset;
    if (!keyset) {
      throw badRequest(MESSAGES.invalidListParams, {
        cursor: fieldError('validation_cursor_unsupported_sort', 'Cursors follow sorts by fields of the record itself that cannot be empty (not JSON, relation paths or @random).'),
      });
    }
    const after = params.cursor ? keysetCondition(keyset, decodeCursor(params.cursor, checked.sort, keyset), false) : null;
    const where = after ? sql`(${q.where}) AND ${after}` : q.where;
    const codec = codecOf(collection);
    const [rows, total] = await Promise.all([
      this.read(collection, request, sql`SELECT ${codec.columns(ROOT)}, ${sortValueColumns(keyset)} FROM ${q.table} ${q.joins} WHERE ${where} ORDER BY ${q.sort.orderBy} LIMIT ${params.perPage}`),
      params.skipTotal ? Promise.resolve(-1) : this.total(collection, q.where, q.table),
    ]);
    const values = rows.map((row) => sortValuesOf(keyset, row));
    const records = rows.map((r) => codec.decode(r));
    const rule = collection.rules.list;
    if (records.length === 0 && !caller.can.bypassesRules && rule.kind === 'filter' && checked.filter !== null) {
      await this.throttle.onEmptyResult(collection.id);
    }
    return {
      page: 0,
      perPage: params.perPage,
      totalItems: total,
      totalPages: total < 0 ? -1 : Math.ceil(total / params.perPage),
      items: await presentRecords(this.ctx, records, caller, checked),
      nextCursor: rows.length === params.perPage ? encodeCursor(checked.sort, values.at(-1)!) : null,
    };
  }

  /** A client list's statement, timed for the slow-query log when there is one. */
  private read(collection: CollectionModel, request: ListRequest, query: Sql): Promise<Record<string, unknown>[]> {
    return this.ctx.slow ? this.ctx.slow.rows(this.ctx.db, collection, request, query) : this.ctx.db.rows(query);
  }

  /** All rows matching `where` (the rule and filter), from a stored count when one holds. */
  private async total(collection: CollectionModel, where: Sql, table: Sql): Promise<number> {
    const counts = this.ctx.counts;
    const plan = counts ? counts.plan(this.ctx.db, collection, where) : null;
    if (plan) return counts!.resolve(plan, null);
    const r = await this.ctx.db.rows<{ n: number }>(sql`SELECT COUNT(*) AS ${sql.id('n')} FROM ${table} WHERE ${where}`);
    return Number(r[0]?.n ?? 0);
  }

  /**
   * A page of a ranked search (ranked-orders.ts): from the kept order of the same search when
   * the page's rows, read by id, come with the versions it was ranked at; else ranked again (the
   * ids of the first MAX_RANKED_IDS matches, and how many there are) and kept. null when the
   * page cannot be built that way (no match, or a write landed between ranking and reading the
   * page): the caller reads it the plain way.
   */
  private async rankedPage(
    collection: CollectionModel,
    request: ListRequest,
    plan: CountPlan,
    sortText: string,
    offset: number,
    perPage: number,
    q: { table: Sql; joins: Sql; where: Sql; orderBy: Sql },
  ): Promise<{ rows: Record<string, unknown>[]; total: number } | null> {
    const counts = this.ctx.counts!;
    const rankings = this.ctx.rankings!;
    const codec = codecOf(collection);
    const id = sql.ref(`${ROOT}.id`);
    const versionColumns = counts.versionColumns(plan);
    const key = queryKey(plan, sortText);
    const pageOf = async (order: RankedOrder) => {
      const ids = order.ids.slice(offset, offset + perPage);
      if (ids.length === 0) return { rows: [], versions: await counts.currentVersions(plan) };
      const read = await this.read(collection, request, sql`SELECT ${codec.columns(ROOT)}, ${versionColumns} FROM ${q.table} WHERE ${id} IN (${sql.join(ids.map((v) => this.ctx.db.filter.param(v, 'text')))})`);
      const byId = new Map(read.map((row) => [String(row.id), row]));
      // A row gone since (deleted, renamed out of the predicate) also changed the versions.
      const rows = ids.map((v) => byId.get(v)).filter((row) => row !== undefined);
      return { rows, versions: rows.length === ids.length ? counts.versionsOf(plan, rows)! : [] };
    };
    const kept = rankings.find(key);
    if (kept) {
      const page = await pageOf(kept);
      if (rankings.holdsAt(kept, page.versions)) return { rows: page.rows, total: kept.total };
    }
    // Every match is scored before the sort: counting them too (the window) costs next to nothing.
    const matches = sql.id('__matches');
    const ranked = await this.read(collection, request, sql`SELECT ${id} AS ${sql.id('id')}, COUNT(*) OVER () AS ${matches}, ${versionColumns} FROM ${q.table} ${q.joins} WHERE ${q.where} ORDER BY ${q.orderBy} LIMIT ${MAX_RANKED_IDS}`);
    if (ranked.length === 0) return null;
    const order: RankedOrder = { versions: counts.versionsOf(plan, ranked)!, ids: ranked.map((row) => String(row.id)), total: Number(ranked[0].__matches) };
    rankings.remember(key, order);
    const page = await pageOf(order);
    return sameVersions(page.versions, order.versions) ? { rows: page.rows, total: order.total } : null;
  }

  /** A client list's statement compiled already (compiled-query.ts), timed like `read`. */
  private readCompiled(collection: CollectionModel, request: ListRequest, query: SlottedQuery, params: unknown[], statement: () => Sql): Promise<Record<string, unknown>[]> {
    const db = this.ctx.db;
    return this.ctx.slow ? this.ctx.slow.compiledRows(db, collection, request, query.text, params, statement) : db.readCompiled(query.text, params);
  }

  /**
   * A page at a deep offset (page-anchors.ts): from the nearest anchor when one holds for the
   * data the rows were read from, else a plain OFFSET; leaves anchors at its first and last rows.
   * `build` makes the statement: the anchor's condition (when `from`), LIMIT and OFFSET. Its SQL
   * is compiled once per query shape, with slots for what changes between pages
   * (compiled-query.ts): building and compiling it cost the main thread more than running it.
   */
  private async deepPage(
    collection: CollectionModel,
    request: ListRequest,
    plan: CountPlan,
    keyset: KeysetTerm[],
    sortText: string,
    offset: number,
    perPage: number,
    build: (extra: Sql, from: Sql | null, limit: unknown, skip: unknown) => Sql,
  ): Promise<{ rows: Record<string, unknown>[]; versions: number[] }> {
    const counts = this.ctx.counts!;
    const anchors = this.ctx.anchors!;
    // One key, one statement: a keyset sort is plain columns of the row, nothing the caller changes.
    const key = queryKey(plan, sortText);
    const statement = (values: readonly unknown[] | null, limit: unknown, skip: unknown) =>
      build(sql`${counts.versionColumns(plan)}, ${sortValueColumns(keyset)}`, values ? keysetCondition(keyset, values, true) : null, limit, skip);
    const readAt = async (anchor: Anchor | null) => {
      const shape = `${anchor ? 'a' : 'p'}${key}`;
      let compiled = this.deepStatements.get(shape);
      if (!compiled) {
        const valueSlots = keyset.map((_, i) => new Slot(`anchor${i}`));
        compiled = compileSlotted(this.ctx.db, statement(anchor ? valueSlots : null, LIMIT_SLOT, SKIP_SLOT), [LIMIT_SLOT, SKIP_SLOT, ...(anchor ? valueSlots : [])]);
        if (this.deepStatements.size >= MAX_DEEP_STATEMENTS) this.deepStatements.delete(this.deepStatements.keys().next().value!);
        this.deepStatements.set(shape, compiled);
      }
      const skip = offset - (anchor?.offset ?? 0);
      const params = bindSlots(compiled, [perPage, skip, ...(anchor?.values ?? [])]);
      const rows = await this.readCompiled(collection, request, compiled, params, () => statement(anchor?.values ?? null, perPage, skip));
      return { rows, versions: counts.versionsOf(plan, rows) ?? (await counts.currentVersions(plan)) };
    };
    const anchor = anchors.find(key, offset);
    let page = await readAt(anchor);
    // Written since the anchor was taken: positions moved; read the page the plain way.
    if (anchor && !sameVersions(anchor.versions, page.versions)) page = await readAt(null);
    else if (anchor && anchor.offset === offset) return page; // the same page again: its anchors are in place
    const { rows } = page;
    if (rows.length > 0) {
      anchors.remember(key, page.versions, offset, sortValuesOf(keyset, rows[0]));
      anchors.remember(key, page.versions, offset + rows.length - 1, sortValuesOf(keyset, rows.at(-1)!));
    }
    return page;
  }

  find(collection: CollectionModel, id: string, caller: Caller, rule = collection.rules.view): Promise<RecordModel | null> {
    return findRecord(this.ctx, collection, id, caller, rule);
  }

  async view(collection: CollectionModel, id: string, query: Record<string, string | undefined>, caller: Caller): Promise<Record<string, unknown>> {
    assertScope(caller, collection, 'view');
    const checked = checkClientQuery(query, caller);
    const record = await this.find(collection, id, caller);
    if (!record) throw notFound();
    const [json] = await presentRecords(this.ctx, [record], caller, checked);
    return json;
  }
}
