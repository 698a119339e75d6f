/**
 * The collections editor's pure helpers (dashboard/src/lib): field types and their options,
 * collection ↔ form conversion (renames keep the field's id), the server's nested errors as
 * paths, index statements, the rule language's tokens and completions, export and import diff.
 */
import { describe, expect, it } from 'vitest';
import { buildIndex, describeIndex, ensureAuthShape, onTable, errorsUnder, flattenErrors, rulesOf, toDraft, toPayload } from '../../dashboard/src/lib/collection-form.js';
import { exportJson, importDiff, parseImport } from '../../dashboard/src/lib/collection-export.js';
import { addableTypes, FIELD_TYPES, freeFieldName, newField, parseList, parseOptionalNumber, withTimestamps } from '../../dashboard/src/lib/field-types.js';
import { accessOf, matchRoute } from '../../dashboard/src/lib/routes.js';
import { applyCompletion, completions, syntaxProblem, tokenize, wordAt, type CompletionContext } from '../../dashboard/src/lib/rule-syntax.js';

describe('field types', () => {
  it('has every PocketBase type; password only for auth collections', () => {
    expect(FIELD_TYPES.map((t) => t.type)).toEqual(['text', 'editor', 'number', 'bool', 'email', 'url', 'date', 'autodate', 'select', 'file', 'relation', 'json', 'geoPoint', 'password']);
    expect(addableTypes('base').some((t) => t.type === 'password')).toBe(false);
    expect(addableTypes('auth').some((t) => t.type === 'password')).toBe(true);
  });

  it('makes new fields with their defaults and free names', () => {
    const f = newField('select', 'status');
    expect(f).toMatchObject({ name: 'status', type: 'select', maxSelect: 1, values: [], required: false, hidden: false });
    expect(f.id).toBeUndefined();
    expect(newField('select', 'x').key).not.toBe(f.key);
    expect(freeFieldName([{ name: 'text' }, { name: 'text2' }], 'text')).toBe('text3');
    expect(freeFieldName([], 'text')).toBe('text');
  });

  it('parses list and optional number options as typed', () => {
    expect(parseList(' a, b ,, c ')).toEqual(['a', 'b', 'c']);
    expect(parseList('')).toEqual([]);
    expect(parseOptionalNumber('')).toBeNull();
    expect(parseOptionalNumber('2.5')).toBe(2.5);
  });

  it('adds created/updated to new base and auth collections, not views or twice', () => {
    expect(withTimestamps([], 'base').map((f) => [f.name, f.onUpdate])).toEqual([
      ['created', false],
      ['updated', true],
    ]);
    expect(withTimestamps([], 'view')).toEqual([]);
    expect(withTimestamps([newField('autodate', 'created')], 'auth')).toHaveLength(1);
  });
});

describe('collection form', () => {
  const collection = {
    id: 'pbc_1',
    name: 'posts',
    type: 'base',
    created: '2025-01-01',
    updated: '2025-01-01',
    fields: [
      { id: 'text1', name: 'title', type: 'text' },
      { id: 'bool2', name: 'done', type: 'bool' },
    ],
    indexes: [],
    listRule: null,
  };

  it('keeps field ids through a rename and leaves out the stamps and editor keys', () => {
    const draft = toDraft(collection);
    draft.fields[0]!.name = 'headline';
    draft.fields.push(newField('number', 'score'));
    const payload = toPayload(draft) as { fields: Record<string, unknown>[] } & Record<string, unknown>;
    expect(payload.created).toBeUndefined();
    expect(payload.viewQuery).toBeUndefined();
    expect(payload.fields[0]).toEqual({ id: 'text1', name: 'headline', type: 'text' });
    expect(payload.fields[2]).not.toHaveProperty('key');
    expect(payload.fields[2]).not.toHaveProperty('id');
    // The original is untouched (the draft is a copy).
    expect(collection.fields[0]!.name).toBe('title');
  });

  it('sends no id for a new collection, and the view query only for views', () => {
    expect(toPayload(toDraft({ name: 'v', type: 'view', viewQuery: 'SELECT 1', fields: [] }))).toMatchObject({ viewQuery: 'SELECT 1' });
    expect(toPayload(toDraft({ id: '', name: 'n', type: 'base' }))).not.toHaveProperty('id');
  });

  it('flattens the server’s nested errors into paths', () => {
    const errors = flattenErrors({
      listRule: { code: 'validation_invalid_rule', message: 'Invalid rule.' },
      fields: { 0: { values: { code: 'validation_required', message: 'Provide a value.' } }, 2: { name: { code: 'x', message: 'Bad name.' } } },
      indexes: { 1: { code: 'y', message: 'Bad index.' } },
    });
    expect(errors).toEqual({ listRule: 'Invalid rule.', 'fields.0.values': 'Provide a value.', 'fields.2.name': 'Bad name.', 'indexes.1': 'Bad index.' });
    expect(errorsUnder(errors, 'fields.2')).toEqual({ name: 'Bad name.' });
    expect(errorsUnder(errors, 'fields.20')).toEqual({});
    expect(flattenErrors(null)).toEqual({});
    // An import's: the collection's error, and its own errors under it.
    expect(
      flattenErrors({ collections: { 0: { code: 'validation_collection_invalid', message: 'Failed to create collection.', data: { listRule: { code: 'r', message: 'Invalid rule.' } } } } }),
    ).toEqual({ 'collections.0': 'Failed to create collection.', 'collections.0.listRule': 'Invalid rule.' });
  });

  it('has the rules of each type', () => {
    expect(rulesOf('view').map((r) => r.key)).toEqual(['listRule', 'viewRule']);
    expect(rulesOf('base')).toHaveLength(5);
    expect(rulesOf('auth').map((r) => r.key)).toContain('manageRule');
  });

  it('fills the option objects an auth form writes into', () => {
    const c: Record<string, unknown> = { type: 'auth', oauth2: null, otp: { enabled: true } };
    ensureAuthShape(c);
    expect(c.oauth2).toEqual({ providers: [] });
    expect(c.otp).toEqual({ enabled: true, emailTemplate: {} });
    expect((c.passwordAuth as { identityFields: unknown }).identityFields).toEqual([]);
  });

  it('points the indexes at the collection’s current name', () => {
    expect(onTable(["CREATE UNIQUE INDEX `idx_email_x` ON `` (`email`) WHERE `email` != ''", 'CREATE INDEX idx_t ON posts (title)', 'CREATE INDEX "i" ON "old" ("a")'], 'members')).toEqual([
      "CREATE UNIQUE INDEX `idx_email_x` ON `members` (`email`) WHERE `email` != ''",
      'CREATE INDEX idx_t ON `members` (title)',
      'CREATE INDEX "i" ON `members` ("a")',
    ]);
    expect((toPayload(toDraft({ name: 'm', type: 'auth', indexes: ['CREATE INDEX i ON `` (a)'] })) as { indexes: string[] }).indexes).toEqual(['CREATE INDEX i ON `m` (a)']);
  });

  it('builds and reads index statements', () => {
    const sql = buildIndex('posts', ['title', 'slug'], true);
    expect(sql).toBe('CREATE UNIQUE INDEX `idx_posts_title_slug` ON `posts` (`title`, `slug`)');
    expect(describeIndex(sql)).toEqual({ name: 'idx_posts_title_slug', unique: true, columns: 'title, slug' });
    expect(describeIndex("CREATE INDEX idx_e ON users (email) WHERE email != ''")).toEqual({ name: 'idx_e', unique: false, columns: "email WHERE email != ''" });
    expect(describeIndex('nonsense').columns).toBe('nonsense');
  });
});

describe('rule syntax', () => {
  it('tokenizes losslessly, with kinds', () => {
    const rule = '@request.auth.id != "" && (status = \'live\' || views > 10) && created > @todayStart // note';
    const tokens = tokenize(rule);
    expect(tokens.map((t) => t.text).join('')).toBe(rule);
    const kinds = Object.fromEntries(tokens.filter((t) => t.kind !== 'space').map((t) => [t.text, t.kind]));
    expect(kinds).toMatchObject({ '@request.auth.id': 'variable', '!=': 'operator', '""': 'string', '&&': 'operator', status: 'identifier', "'live'": 'string', '10': 'number', '@todayStart': 'macro', '// note': 'comment' });
    expect(tokenize('"unterminated').map((t) => t.kind)).toEqual(['string']);
  });

  const ctx: CompletionContext = { fields: ['title', 'status', 'author'], collections: { users: ['email', 'name'] }, authFields: ['email', 'verified'] };

  it('completes fields, @request, @collection, macros and modifiers', () => {
    expect(completions('st', ctx)).toEqual(['status']);
    expect(completions('@request.au', ctx)).toEqual(['@request.auth.']);
    expect(completions('@request.auth.', ctx)).toEqual(['@request.auth.id', '@request.auth.collectionId', '@request.auth.collectionName', '@request.auth.email', '@request.auth.verified']);
    expect(completions('@request.body.ti', ctx)).toEqual(['@request.body.title', '@request.body.title:isset']);
    expect(completions('@coll', ctx)).toEqual(['@collection.']);
    expect(completions('@collection.u', ctx)).toEqual(['@collection.users.']);
    expect(completions('@collection.users.e', ctx)).toEqual(['@collection.users.email']);
    expect(completions('@today', ctx)).toEqual(['@todayStart', '@todayEnd']);
    expect(completions('title:l', ctx)).toEqual(['title:length', 'title:lower']);
    expect(completions('', ctx)).toEqual([]);
    expect(completions('status', ctx)).toEqual([]);
    // Through a relation: the target's fields.
    expect(completions('author.', { ...ctx, relations: { author: ['email', 'name'] } })).toEqual(['author.email', 'author.name']);
    expect(completions('author.n', { ...ctx, relations: { author: ['email', 'name'] } })).toEqual(['author.name']);
    expect(completions('title.x', ctx)).toEqual([]);
  });

  it('points out what is plainly broken while typing, and nothing else', () => {
    expect(syntaxProblem('')).toBe('');
    expect(syntaxProblem('(a = 1 || b = "x") && c ~ \'y\' // done')).toBe('');
    expect(syntaxProblem('nosuchfield = 1')).toBe('');
    expect(syntaxProblem('a = "open')).toBe('Unclosed string "open');
    expect(syntaxProblem('(a = 1')).toBe('1 unclosed “(”.');
    expect(syntaxProblem('a = 1)')).toBe('A “)” closes nothing.');
    expect(syntaxProblem('a = 1 &&')).toBe('Nothing after “&&”.');
  });

  it('finds the word at the cursor and replaces it', () => {
    const text = 'x = @request.au && y';
    const cursor = 'x = @request.au'.length;
    expect(wordAt(text, cursor)).toEqual({ start: 4, word: '@request.au' });
    expect(applyCompletion(text, 4, cursor, '@request.auth.')).toEqual({ text: 'x = @request.auth. && y', cursor: 18 });
  });
});

describe('export and import', () => {
  const current = [
    { id: 'a', name: 'posts', type: 'base', system: false, listRule: null, fields: [{ id: 'f1', name: 'title', type: 'text' }], created: 'x' },
    { id: 'b', name: 'old', type: 'base', system: false, fields: [] },
    { id: 'c', name: '_superusers', type: 'auth', system: true, fields: [] },
  ];

  it('exports without the stamps', () => {
    expect(JSON.parse(exportJson([current[0]!]))).toEqual([{ id: 'a', name: 'posts', type: 'base', system: false, listRule: null, fields: [{ id: 'f1', name: 'title', type: 'text' }] }]);
  });

  it('previews what an import changes', () => {
    const incoming = [
      { id: 'a', name: 'posts', type: 'base', listRule: '', fields: [{ id: 'f1', name: 'headline', type: 'text' }, { name: 'views', type: 'number' }] },
      { name: 'tags', type: 'base', fields: [] },
    ];
    expect(importDiff(current, incoming, false)).toEqual([
      { kind: 'update', name: 'posts', details: ['listRule', 'fields: title→headline +views'] },
      { kind: 'create', name: 'tags', details: [] },
    ]);
    // With deleteMissing, the collections not in the file go (system ones never).
    expect(importDiff(current, incoming, true).filter((c) => c.kind === 'delete')).toEqual([{ kind: 'delete', name: 'old', details: [] }]);
    expect(importDiff(current, [{ ...current[0]!, created: 'y' }], false)).toEqual([]);
  });

  it('refuses files that are not collections', () => {
    expect(parseImport('{')).toHaveProperty('error');
    expect(parseImport('{}')).toEqual({ error: 'Expected an array of collections.' });
    expect(parseImport('[{"type":"base"}]')).toEqual({ error: 'Every collection needs a name.' });
    expect(parseImport('[{"name":"x"}]')).toEqual({ collections: [{ name: 'x' }] });
  });
});

describe('collections editor routes', () => {
  it('has its own routes, for superusers; a collection called "new" stays a collection', () => {
    expect(matchRoute('#/new-collection?type=auth')).toMatchObject({ name: 'collectionNew', params: {} });
    expect(matchRoute('#/new-collection').query.get('type')).toBeNull();
    expect(matchRoute('#/collections/my%20posts/edit')).toMatchObject({ name: 'collectionEdit', params: { collection: 'my posts' } });
    expect(matchRoute('#/collections/new')).toMatchObject({ name: 'collections', params: { collection: 'new' } });
    expect(accessOf('collectionNew')).toBe('superuser');
    expect(accessOf('collectionEdit')).toBe('superuser');
  });
});
