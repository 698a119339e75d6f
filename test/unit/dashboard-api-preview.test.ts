/**
 * The API preview's examples (dashboard/src/lib/api-preview.ts, api-example-values.ts): values
 * per field type, the record and body shapes, rules in words, and the SDK and curl examples of
 * each action built from the collection's own fields and rules.
 */
import { describe, expect, it } from 'vitest';
import { bodyParams, exampleBody, exampleFilter, exampleRecord, exampleValue } from '../../dashboard/src/lib/api-example-values.js';
import { apiActions, describeRule, type PreviewCollection } from '../../dashboard/src/lib/api-preview.js';
import { matchRoute } from '../../dashboard/src/lib/routes.js';
import { screenKey } from '../../dashboard/src/lib/screen-key.js';

const BASE = 'http://127.0.0.1:8090';

const posts: PreviewCollection = {
  id: 'pbc_posts',
  name: 'posts',
  type: 'base',
  listRule: '',
  viewRule: '@request.auth.id != ""',
  createRule: null,
  updateRule: null,
  deleteRule: null,
  fields: [
    { name: 'id', type: 'text', primaryKey: true, system: true },
    { name: 'title', type: 'text', required: true },
    { name: 'tags', type: 'select', maxSelect: 3, values: ['news', 'tech'] },
    { name: 'status', type: 'select', maxSelect: 1, values: ['draft'] },
    { name: 'secret', type: 'text', hidden: true },
    { name: 'meta', type: 'json' },
    { name: 'created', type: 'autodate' },
  ],
};

const users: PreviewCollection = {
  id: 'pbc_users',
  name: 'users',
  type: 'auth',
  authRule: '',
  listRule: null,
  fields: [
    { name: 'id', type: 'text', primaryKey: true },
    { name: 'password', type: 'password', hidden: true },
    { name: 'tokenKey', type: 'text', hidden: true },
    { name: 'email', type: 'email' },
    { name: 'avatar', type: 'file', maxSelect: 1 },
  ],
  passwordAuth: { enabled: true, identityFields: ['email'] },
  oauth2: { enabled: false, providers: [] },
  otp: { enabled: true },
};

describe('example values', () => {
  it('follows each type and its options', () => {
    expect(exampleValue({ name: 'n', type: 'number' })).toBe(123);
    expect(exampleValue({ name: 's', type: 'select', maxSelect: 3, values: ['news'] })).toEqual(['news']);
    expect(exampleValue({ name: 's', type: 'select', values: ['draft'] })).toBe('draft');
    expect(exampleValue({ name: 'r', type: 'relation', maxSelect: 2 })).toEqual(['RELATION_RECORD_ID']);
    expect(exampleValue({ name: 'g', type: 'geoPoint' })).toEqual({ lon: 0, lat: 0 });
  });

  it('leaves hidden fields and passwords out of records, and server-filled fields out of bodies', () => {
    expect(Object.keys(exampleRecord(posts))).toEqual(['collectionId', 'collectionName', 'id', 'title', 'tags', 'status', 'meta', 'created']);
    expect(Object.keys(exampleBody(posts))).toEqual(['title', 'tags', 'status', 'secret', 'meta']);
    expect(exampleBody(users)).toEqual({ password: 'Secret-Password-1', passwordConfirm: 'Secret-Password-1', email: 'test@example.com' });
    expect(exampleBody(users, true)).toEqual({ email: 'test@example.com' });
  });

  it('filters on a text field, else the id', () => {
    expect(exampleFilter(posts)).toBe('title != ""');
    expect(exampleFilter(users)).toBe('id != ""');
  });
});

describe('body fields', () => {
  it('lists what a create sends, with types and what is required', () => {
    const rows = bodyParams(posts);
    expect(rows.map((r) => r.name)).toEqual(['id', 'title', 'tags', 'status', 'secret', 'meta']);
    expect(rows.find((r) => r.name === 'title')).toEqual({ name: 'title', type: 'String', description: 'Required.' });
    expect(rows.find((r) => r.name === 'tags')!.type).toBe('Array<String>');
    expect(rows[0]!.description).toMatch(/made by the server/);
    expect(bodyParams(posts, true).map((r) => [r.name, r.description])).toContainEqual(['title', 'Optional.']);
    expect(bodyParams(users).map((r) => r.name)).toEqual(['id', 'password', 'passwordConfirm', 'email', 'avatar']);
    expect(bodyParams(users, true).map((r) => r.name)).toEqual(['email', 'avatar']);
  });
});

describe('rules in words', () => {
  it('tells locked, public and conditional rules apart', () => {
    expect(describeRule(null)).toMatch(/Only superusers/);
    expect(describeRule('')).toMatch(/Anyone/);
    expect(describeRule('author = @request.auth.id')).toMatch(/author = @request.auth.id$/);
  });
});

describe('API actions', () => {
  it('has the record actions for a base collection, and the sign-in ones for an auth collection', () => {
    expect(apiActions(posts, BASE).map((a) => a.id)).toEqual(['list', 'view', 'create', 'update', 'delete', 'realtime']);
    expect(apiActions(users, BASE).map((a) => a.id)).toEqual(['list', 'view', 'create', 'update', 'delete', 'realtime', 'auth-methods', 'auth-with-password', 'auth-with-oauth2', 'auth-with-otp', 'auth-refresh', 'mfa', 'verification', 'password-reset', 'email-change']);
    expect(apiActions({ ...posts, type: 'view' }, BASE).map((a) => a.id)).toEqual(['list', 'view']);
  });

  it('writes a list example with the filter, and a curl with its URL encoded, no token for a public rule', () => {
    const list = apiActions(posts, BASE).find((a) => a.id === 'list')!;
    expect(list.sdk).toContain(`new PocketBase('${BASE}')`);
    expect(list.sdk).toContain(`pb.collection('posts').getList(1, 30, {\n  filter: 'title != ""',`);
    expect(list.sdk).not.toContain('authWithPassword');
    expect(list.curl).toBe(`curl '${BASE}/api/collections/posts/records?page=1&perPage=30&sort=-created&filter=title+%21%3D+%22%22'`);
    expect(list.rules).toEqual([{ name: 'List/Search rule', value: '' }]);
    // A 403 only where the rule is locked.
    expect(list.responses.map((r) => r.status)).toEqual([200, 400]);
    expect(apiActions(posts, BASE).find((a) => a.id === 'delete')!.responses.map((r) => r.status)).toEqual([204, 403, 404]);
    const realtime = apiActions(posts, BASE).find((a) => a.id === 'realtime')!;
    expect(realtime.rules.map((r) => r.value)).toEqual(['', '@request.auth.id != ""']);
  });

  it('asks for a token where the rule is not empty, and quotes bodies for the shell', () => {
    const [, view, create] = apiActions(posts, BASE);
    expect(view!.curl).toContain(`-H 'Authorization: AUTH_TOKEN'`);
    expect(view!.sdk).toContain('sign in first');
    expect(create!.sdk).toContain(`await pb.collection('_superusers').authWithPassword(`);
    expect(create!.curl).toContain(`-H 'Content-Type: application/json'`);
    const quoted = apiActions({ ...posts, fields: [{ name: "it's", type: 'text' }] }, BASE).find((a) => a.id === 'create')!;
    expect(quoted.curl).toContain(`-d '{"it'\\''s":"test"}'`);
  });

  it('sends file fields as multipart parts', () => {
    const create = apiActions(users, BASE).find((a) => a.id === 'create')!;
    expect(create.curl).toContain(`-F 'email=test@example.com'`);
    expect(create.curl).toContain(`-F 'avatar=@./filename.jpg'`);
    expect(create.sdk).toContain('Files: add File or Blob values (avatar)');
  });

  it('shows the email round trips (request, then confirm with the token) and the MFA second step', () => {
    const actions = apiActions(users, BASE);
    const verification = actions.find((a) => a.id === 'verification')!;
    expect(verification.sdk).toContain(`await pb.collection('users').requestVerification('test@example.com');`);
    expect(verification.sdk).toContain(`await pb.collection('users').confirmVerification('VERIFICATION_TOKEN');`);
    expect(verification.curl).toContain(`'${BASE}/api/collections/users/request-verification'`);
    expect(verification.curl).toContain(`'${BASE}/api/collections/users/confirm-verification'`);
    expect(verification.curl).not.toContain('Authorization');
    expect(verification.responses.map((r) => r.status)).toEqual([204, 400]);
    const reset = actions.find((a) => a.id === 'password-reset')!;
    expect(reset.curl).toContain(`-d '{"token":"RESET_TOKEN","password":"New-Password-1","passwordConfirm":"New-Password-1"}'`);
    // Asking for an email change needs the signed-in user's token; confirming it does not.
    const change = actions.find((a) => a.id === 'email-change')!;
    const [ask, confirm] = change.curl.split('\n\n');
    expect(ask).toContain(`-H 'Authorization: AUTH_TOKEN'`);
    expect(confirm).not.toContain('Authorization');
    expect(change.params!.rows.map((r) => r.name)).toEqual(['newEmail', 'token', 'password']);
    const mfa = actions.find((a) => a.id === 'mfa')!;
    expect(mfa.sdk).toContain(`authWithOTP(result.otpId, 'CODE_FROM_EMAIL', { mfaId })`);
    expect(JSON.parse(mfa.responses[0]!.body)).toEqual({ mfaId: 'MFA_ID' });
    expect(mfa.note).toMatch(/MFA is off/);
    expect(apiActions({ ...users, mfa: { enabled: true } }, BASE).find((a) => a.id === 'mfa')!.note).not.toMatch(/is off/);
  });

  it('says when a sign-in method is off, and names the identity fields', () => {
    const actions = apiActions(users, BASE);
    expect(actions.find((a) => a.id === 'auth-with-oauth2')!.note).toMatch(/OAuth2 is off/);
    expect(actions.find((a) => a.id === 'auth-with-password')!.note).not.toMatch(/is off/);
    expect(actions.find((a) => a.id === 'auth-with-otp')!.curl).toContain(`${BASE}/api/collections/users/request-otp`);
    expect(JSON.parse(actions.find((a) => a.id === 'auth-methods')!.responses[0]!.body)).toMatchObject({ password: { enabled: true, identityFields: ['email'] }, otp: { enabled: true } });
    expect(actions.find((a) => a.id === 'auth-refresh')!.curl).toBe(`curl -X POST '${BASE}/api/collections/users/auth-refresh' \\\n  -H 'Authorization: AUTH_TOKEN'`);
  });
});

describe('route', () => {
  it('opens the API preview of a collection', () => {
    const r = matchRoute('#/collections/posts/api?action=view');
    expect(r.name).toBe('collectionApi');
    expect(r.params.collection).toBe('posts');
    expect(r.query.get('action')).toBe('view');
  });
});

describe('screen key', () => {
  it('is the same for a new query on a screen, and differs for other parameters or screens', () => {
    expect(screenKey(matchRoute('#/collections/posts?filter=a'))).toBe(screenKey(matchRoute('#/collections/posts?page=2')));
    expect(screenKey(matchRoute('#/collections/posts'))).not.toBe(screenKey(matchRoute('#/collections/users')));
    expect(screenKey(matchRoute('#/collections/posts'))).not.toBe(screenKey(matchRoute('#/collections/posts/api')));
  });
});
