/**
 * The API preview of a collection (as PocketBase's dashboard offers): for each action a client
 * may call — list, view, create, update, delete, realtime and, for auth collections, the
 * sign-in methods, MFA, verification, password reset and email change — the rule that decides who may, an example for the JS SDK and one for curl,
 * and example responses, all built from the collection's real fields.
 */
import { bodyParams, exampleBody, exampleFilter, exampleRecord, exampleSort, fileFields, type ExampleCollection, type ParamDoc } from './api-example-values.js';

export interface PreviewCollection extends ExampleCollection {
  listRule?: string | null;
  viewRule?: string | null;
  createRule?: string | null;
  updateRule?: string | null;
  deleteRule?: string | null;
  authRule?: string | null;
  passwordAuth?: { enabled?: boolean; identityFields?: string[] };
  oauth2?: { enabled?: boolean; providers?: { name: string }[] };
  otp?: { enabled?: boolean };
  mfa?: { enabled?: boolean };
}

export interface ExampleResponse {
  status: number;
  /** JSON, or '' for an empty body (204). */
  body: string;
}

export interface ApiAction {
  id: string;
  label: string;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  /** The rules that decide who may call it, and what each says. */
  rules: { name: string; value: string | null }[];
  /** A sentence on what the action does, or when it is off. */
  note: string;
  /** The query parameters or body fields it takes. */
  params: { title: string; rows: ParamDoc[] } | null;
  sdk: string;
  curl: string;
  responses: ExampleResponse[];
}

/** Who a rule lets call the action, in words (superusers always may). */
export function describeRule(value: string | null | undefined): string {
  if (value === null || value === undefined) return 'Only superusers (the rule is locked).';
  if (value.trim() === '') return 'Anyone, signed in or not (the rule is empty).';
  return `Superusers, and requests for which this rule holds: ${value}`;
}

const json = (v: unknown): string => JSON.stringify(v, null, 2);
/** A JS string literal in single quotes. */
const jsString = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
/** A shell word in single quotes. */
const sh = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** The record endpoints' common query parameters (PocketBase's, which the SDK sends). */
const EXPAND: ParamDoc = { name: 'expand', type: 'String', description: 'Relations to return inline, e.g. author,comments_via_post (up to 6 levels).' };
const FIELDS: ParamDoc = { name: 'fields', type: 'String', description: 'The fields to return, e.g. id,title,expand.author.name; :excerpt(200) shortens text.' };
const LIST_PARAMS: ParamDoc[] = [
  { name: 'page', type: 'Number', description: 'The page (from 1). Default 1.' },
  { name: 'perPage', type: 'Number', description: 'Records per page. Default 30, at most 1000.' },
  { name: 'sort', type: 'String', description: 'Fields to sort by, - for descending, e.g. -created,id; @random.' },
  { name: 'filter', type: 'String', description: 'A filter in the rule language, e.g. (title ~ "abc" && views > 10).' },
  EXPAND,
  FIELDS,
  { name: 'skipTotal', type: 'Boolean', description: 'Skips counting (totalItems and totalPages are -1): faster on large collections.' },
];

const ERROR_400 = { status: 400, message: 'Something went wrong while processing your request.', data: {} };
const ERROR_403 = { status: 403, message: 'Only superusers can perform this action.', data: {} };
const ERROR_404 = { status: 404, message: "The requested resource wasn't found.", data: {} };

/** A 403 only where the rule is locked: a rule that does not hold hides records (404, or not listed) instead. */
const forbidden = (rule: string | null | undefined): ExampleResponse[] => (rule === null || rule === undefined ? [{ status: 403, body: json(ERROR_403) }] : []);

/** A request header the curl example sends when the action is not public. */
function authHeader(rule: string | null | undefined): string {
  return rule === '' ? '' : ` \\\n  -H 'Authorization: AUTH_TOKEN'`;
}

/** The SDK's opening lines, with the sign-in a locked or non-empty rule needs. */
function sdkHead(baseUrl: string, rule: string | null | undefined): string {
  const head = `import PocketBase from 'pocketbase';\n\nconst pb = new PocketBase(${jsString(baseUrl)});\n`;
  if (rule === '') return head;
  if (rule === null || rule === undefined) {
    return `${head}// The rule is locked: only a superuser may call this.\nawait pb.collection('_superusers').authWithPassword('SUPERUSER_EMAIL', 'SUPERUSER_PASSWORD');\n`;
  }
  return `${head}// The rule is not empty: sign in first (as a user the rule lets in), e.g.\n// await pb.collection('users').authWithPassword('USER_EMAIL', 'USER_PASSWORD');\n`;
}

/** The curl parts of a create or update body: JSON, or multipart with the collection's files. */
function curlBody(c: PreviewCollection, body: Record<string, unknown>): string {
  const files = fileFields(c);
  if (files.length === 0) return ` \\\n  -H 'Content-Type: application/json' \\\n  -d ${sh(JSON.stringify(body))}`;
  const parts = Object.entries(body).map(([k, v]) => ` \\\n  -F ${sh(`${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)}`);
  for (const f of files) parts.push(` \\\n  -F ${sh(`${f.name}=@./filename.jpg`)}`);
  return parts.join('');
}

/** The SDK's body, with a note on the files where the collection has file fields. */
function sdkBody(c: PreviewCollection, body: Record<string, unknown>): string {
  const files = fileFields(c);
  const fileNote = files.length ? `\n// Files: add File or Blob values (${files.map((f) => f.name).join(', ')}), the SDK sends multipart.` : '';
  return `const data = ${json(body)};${fileNote}\n`;
}

export function apiActions(c: PreviewCollection, baseUrl: string): ApiAction[] {
  const name = c.name;
  const records = `/api/collections/${encodeURIComponent(name)}/records`;
  const url = (path: string) => `${baseUrl}${path}`;
  const coll = `pb.collection(${jsString(name)})`;
  const record = { id: 'RECORD_ID', ...exampleRecord(c) };
  const filter = exampleFilter(c);
  const sort = exampleSort(c);
  const actions: ApiAction[] = [];

  const listQuery = new URLSearchParams({ page: '1', perPage: '30', sort, filter }).toString();
  actions.push({
    id: 'list',
    label: 'List/Search',
    method: 'GET',
    path: records,
    rules: [{ name: 'List/Search rule', value: c.listRule ?? null }],
    params: { title: 'Query parameters', rows: LIST_PARAMS },
    note: 'A page of records, filtered and sorted with the filter language; records the rule leaves out are not listed (no error).',
    sdk: `${sdkHead(baseUrl, c.listRule)}\nconst resultList = await ${coll}.getList(1, 30, {\n  filter: ${jsString(filter)},\n  sort: ${jsString(sort)},\n});\n`,
    curl: `curl ${sh(`${url(records)}?${listQuery}`)}${authHeader(c.listRule)}`,
    responses: [
      { status: 200, body: json({ page: 1, perPage: 30, totalPages: 1, totalItems: 1, items: [record] }) },
      { status: 400, body: json({ ...ERROR_400, message: "Something went wrong while processing your request. Invalid filter." }) },
      ...forbidden(c.listRule),
    ],
  });

  actions.push({
    id: 'view',
    label: 'View',
    method: 'GET',
    path: `${records}/:id`,
    rules: [{ name: 'View rule', value: c.viewRule ?? null }],
    params: { title: 'Query parameters', rows: [EXPAND, FIELDS] },
    note: 'One record by its id.',
    sdk: `${sdkHead(baseUrl, c.viewRule)}\nconst record = await ${coll}.getOne('RECORD_ID');\n`,
    curl: `curl ${sh(url(`${records}/RECORD_ID`))}${authHeader(c.viewRule)}`,
    responses: [
      { status: 200, body: json(record) },
      ...forbidden(c.viewRule),
      { status: 404, body: json(ERROR_404) },
    ],
  });

  if (c.type !== 'view') {
    const createBody = exampleBody(c);
    const updateBody = exampleBody(c, true);
    actions.push({
      id: 'create',
      label: 'Create',
      method: 'POST',
      path: records,
      rules: [{ name: 'Create rule', value: c.createRule ?? null }],
      params: { title: 'Body fields (JSON, or multipart with files)', rows: bodyParams(c) },
      note: 'A new record; the server fills the id (unless given) and the dates.',
      sdk: `${sdkHead(baseUrl, c.createRule)}\n${sdkBody(c, createBody)}\nconst record = await ${coll}.create(data);\n`,
      curl: `curl -X POST ${sh(url(records))}${authHeader(c.createRule)}${curlBody(c, createBody)}`,
      responses: [
        { status: 200, body: json(record) },
        { status: 400, body: json({ ...ERROR_400, message: 'Failed to create record.', data: { [c.fields.find((f) => !f.primaryKey)?.name ?? 'id']: { code: 'validation_required', message: 'Missing required value.' } } }) },
        ...forbidden(c.createRule),
      ],
    });
    actions.push({
      id: 'update',
      label: 'Update',
      method: 'PATCH',
      path: `${records}/:id`,
      rules: [{ name: 'Update rule', value: c.updateRule ?? null }],
      params: { title: 'Body fields (only those to change; field+ and field- add to and remove from lists)', rows: bodyParams(c, true) },
      note: 'Changes the fields sent and keeps the others.',
      sdk: `${sdkHead(baseUrl, c.updateRule)}\n${sdkBody(c, updateBody)}\nconst record = await ${coll}.update('RECORD_ID', data);\n`,
      curl: `curl -X PATCH ${sh(url(`${records}/RECORD_ID`))}${authHeader(c.updateRule)}${curlBody(c, updateBody)}`,
      responses: [
        { status: 200, body: json(record) },
        { status: 400, body: json({ ...ERROR_400, message: 'Failed to update record.' }) },
        ...forbidden(c.updateRule),
        { status: 404, body: json(ERROR_404) },
      ],
    });
    actions.push({
      id: 'delete',
      label: 'Delete',
      method: 'DELETE',
      path: `${records}/:id`,
      rules: [{ name: 'Delete rule', value: c.deleteRule ?? null }],
      params: null,
      note: 'Deletes the record (and, by their cascade option, the records whose relations require it).',
      sdk: `${sdkHead(baseUrl, c.deleteRule)}\nawait ${coll}.delete('RECORD_ID');\n`,
      curl: `curl -X DELETE ${sh(url(`${records}/RECORD_ID`))}${authHeader(c.deleteRule)}`,
      responses: [
        { status: 204, body: '' },
        ...forbidden(c.deleteRule),
        { status: 404, body: json(ERROR_404) },
      ],
    });
  }

  // A view's records are never written, so it has no realtime events (as PocketBase's preview).
  if (c.type !== 'view') actions.push({
    id: 'realtime',
    label: 'Realtime',
    method: 'GET',
    path: '/api/realtime',
    rules: [
      { name: 'List/Search rule (subscriptions to "*")', value: c.listRule ?? null },
      { name: 'View rule (subscriptions to one record)', value: c.viewRule ?? null },
    ],
    params: null,
    note: 'Server-sent events for every change of the collection ("*") or of one record (its id); each event is delivered only to clients its List (or View) rule lets see the record.',
    sdk: `${sdkHead(baseUrl, c.listRule)}\n// Every change of the collection…\nawait ${coll}.subscribe('*', (e) => {\n  console.log(e.action, e.record);\n});\n\n// …or of one record.\nawait ${coll}.subscribe('RECORD_ID', (e) => {\n  console.log(e.action, e.record);\n});\n\n// Stop listening.\nawait ${coll}.unsubscribe();\n`,
    curl: `# 1. Open the event stream; its first event (PB_CONNECT) carries the clientId.\ncurl -N ${sh(url('/api/realtime'))}\n\n# 2. In another shell, subscribe that client to the collection.\ncurl -X POST ${sh(url('/api/realtime'))}${authHeader(c.listRule)} \\\n  -H 'Content-Type: application/json' \\\n  -d ${sh(JSON.stringify({ clientId: 'CLIENT_ID', subscriptions: [`${name}/*`] }))}`,
    responses: [{ status: 200, body: `event: ${name}/*\ndata: ${JSON.stringify({ action: 'create', record })}` }],
  });

  if (c.type === 'auth') actions.push(...authActions(c, baseUrl, record));
  return actions;
}

function authActions(c: PreviewCollection, baseUrl: string, record: Record<string, unknown>): ApiAction[] {
  const base = `/api/collections/${encodeURIComponent(c.name)}`;
  const coll = `pb.collection(${jsString(c.name)})`;
  // NB: null is a locked rule, not a missing one: only `undefined` (an older server) counts as empty.
  const rules = [{ name: 'Authentication rule', value: c.authRule === undefined ? '' : c.authRule }];
  const authResponse = json({ token: 'JWT_TOKEN', record });
  const head = `import PocketBase from 'pocketbase';\n\nconst pb = new PocketBase(${jsString(baseUrl)});\n`;
  const off = (enabled: boolean | undefined, what: string) => (enabled ? '' : ` ${what} is off for this collection: turn it on in its auth options first.`);
  const identities = c.passwordAuth?.identityFields?.length ? c.passwordAuth.identityFields : ['email'];
  const provider = c.oauth2?.providers?.[0]?.name ?? 'google';
  const post = (path: string, body: unknown) =>
    `curl -X POST ${sh(`${baseUrl}${path}`)} \\\n  -H 'Content-Type: application/json' \\\n  -d ${sh(JSON.stringify(body))}`;

  return [
    {
      id: 'auth-methods',
      label: 'List auth methods',
      method: 'GET',
      path: `${base}/auth-methods`,
      rules: [],
      params: null,
      note: 'Public: which sign-in methods the collection offers (what a sign-in page should show).',
      sdk: `${head}\nconst methods = await ${coll}.listAuthMethods();\n`,
      curl: `curl ${sh(`${baseUrl}${base}/auth-methods`)}`,
      responses: [
        {
          status: 200,
          body: json({
            password: { enabled: Boolean(c.passwordAuth?.enabled), identityFields: identities },
            oauth2: { enabled: Boolean(c.oauth2?.enabled), providers: (c.oauth2?.providers ?? []).map((p) => ({ name: p.name, displayName: p.name, state: 'STATE', authURL: 'AUTH_URL', codeVerifier: 'CODE_VERIFIER', codeChallenge: 'CODE_CHALLENGE', codeChallengeMethod: 'S256' })) },
            mfa: { enabled: false, duration: 0 },
            otp: { enabled: Boolean(c.otp?.enabled), duration: 180 },
          }),
        },
      ],
    },
    {
      id: 'auth-with-password',
      label: 'Auth with password',
      method: 'POST',
      path: `${base}/auth-with-password`,
      rules,
      params: null,
      note: `Signs in with an identity (${identities.join(' or ')}) and the password; the SDK keeps the token in its auth store.${off(c.passwordAuth?.enabled, 'Password sign-in')}`,
      sdk: `${head}\nconst authData = await ${coll}.authWithPassword('test@example.com', 'Secret-Password-1');\n\nconsole.log(pb.authStore.isValid, pb.authStore.token, pb.authStore.record?.id);\n`,
      curl: post(`${base}/auth-with-password`, { identity: 'test@example.com', password: 'Secret-Password-1' }),
      responses: [
        { status: 200, body: authResponse },
        { status: 400, body: json({ ...ERROR_400, message: 'Failed to authenticate.' }) },
      ],
    },
    {
      id: 'auth-with-oauth2',
      label: 'Auth with OAuth2',
      method: 'POST',
      path: `${base}/auth-with-oauth2`,
      rules,
      params: null,
      note: `Signs in (or signs up) through a provider: the SDK opens its page in a popup and finishes the exchange over realtime.${off(c.oauth2?.enabled, 'OAuth2')}`,
      sdk: `${head}\nconst authData = await ${coll}.authWithOAuth2({ provider: ${jsString(provider)} });\n`,
      curl: `# After the provider redirected back with a code (the SDK does all of this for you):\n${post(`${base}/auth-with-oauth2`, { provider, code: 'CODE', codeVerifier: 'CODE_VERIFIER', redirectURL: 'REDIRECT_URL' })}`,
      responses: [
        { status: 200, body: json({ token: 'JWT_TOKEN', record, meta: { id: 'PROVIDER_USER_ID', name: 'John Doe', email: 'test@example.com', isNew: false } }) },
        { status: 400, body: json({ ...ERROR_400, message: 'Failed to authenticate.' }) },
      ],
    },
    {
      id: 'auth-with-otp',
      label: 'Auth with OTP',
      method: 'POST',
      path: `${base}/auth-with-otp`,
      rules,
      params: null,
      note: `A one-time password sent by email: ask for it, then sign in with its id and the code.${off(c.otp?.enabled, 'OTP')}`,
      sdk: `${head}\n// 1. Send the code by email.\nconst result = await ${coll}.requestOTP('test@example.com');\n\n// 2. Sign in with the code the user typed.\nconst authData = await ${coll}.authWithOTP(result.otpId, 'CODE_FROM_EMAIL');\n`,
      curl: `${post(`${base}/request-otp`, { email: 'test@example.com' })}\n\n${post(`${base}/auth-with-otp`, { otpId: 'OTP_ID', password: 'CODE_FROM_EMAIL' })}`,
      responses: [
        { status: 200, body: authResponse },
        { status: 400, body: json({ ...ERROR_400, message: 'Failed to authenticate.' }) },
      ],
    },
    {
      id: 'auth-refresh',
      label: 'Auth refresh',
      method: 'POST',
      path: `${base}/auth-refresh`,
      rules: [],
      params: null,
      note: 'A new token (and the record as it is now) for a signed-in client, before its token expires.',
      sdk: `${head}\n// Signed in earlier (the SDK's auth store keeps the token).\nconst authData = await ${coll}.authRefresh();\n`,
      curl: `curl -X POST ${sh(`${baseUrl}${base}/auth-refresh`)} \\\n  -H 'Authorization: AUTH_TOKEN'`,
      responses: [
        { status: 200, body: authResponse },
        { status: 401, body: json({ status: 401, message: 'The request requires valid record authorization token.', data: {} }) },
      ],
    },
    {
      id: 'mfa',
      label: 'Multi-factor auth',
      method: 'POST',
      path: `${base}/auth-with-otp`,
      rules,
      params: null,
      note: `With MFA on, the first method that succeeds answers 401 with an mfaId instead of a token; a second, different method given that mfaId signs in.${off(c.mfa?.enabled, 'MFA')}`,
      sdk: `${head}\ntry {\n  await ${coll}.authWithPassword('test@example.com', 'Secret-Password-1');\n} catch (err) {\n  const mfaId = err.response?.mfaId;\n  if (!mfaId) throw err; // a real failure, not the first factor\n\n  // The second factor, here a one-time password sent by email.\n  const result = await ${coll}.requestOTP('test@example.com');\n  await ${coll}.authWithOTP(result.otpId, 'CODE_FROM_EMAIL', { mfaId });\n}\n`,
      curl: `${post(`${base}/auth-with-password`, { identity: 'test@example.com', password: 'Secret-Password-1' })}\n# → 401 {"mfaId": "MFA_ID"}\n\n${post(`${base}/request-otp`, { email: 'test@example.com' })}\n\n${post(`${base}/auth-with-otp`, { otpId: 'OTP_ID', password: 'CODE_FROM_EMAIL', mfaId: 'MFA_ID' })}`,
      responses: [
        { status: 401, body: json({ mfaId: 'MFA_ID' }) },
        { status: 200, body: authResponse },
      ],
    },
    twoStep({
      id: 'verification',
      label: 'Verification',
      note: 'Sends a link to confirm the address (its token in the URL the verification email template builds), then confirms it: the record becomes verified.',
      request: { path: `${base}/request-verification`, body: { email: 'test@example.com' }, sdk: `${coll}.requestVerification('test@example.com')` },
      confirm: { path: `${base}/confirm-verification`, body: { token: 'VERIFICATION_TOKEN' }, sdk: `${coll}.confirmVerification('VERIFICATION_TOKEN')` },
      params: [
        { name: 'email', type: 'String', description: 'Request: the address to verify (the answer is 204 whether or not a record has it).' },
        { name: 'token', type: 'String', description: 'Confirm: the token from the email.' },
      ],
    }),
    twoStep({
      id: 'password-reset',
      label: 'Password reset',
      note: 'Sends a reset link by email, then sets the new password with its token; every token issued before it stops working.',
      request: { path: `${base}/request-password-reset`, body: { email: 'test@example.com' }, sdk: `${coll}.requestPasswordReset('test@example.com')` },
      confirm: {
        path: `${base}/confirm-password-reset`,
        body: { token: 'RESET_TOKEN', password: 'New-Password-1', passwordConfirm: 'New-Password-1' },
        sdk: `${coll}.confirmPasswordReset('RESET_TOKEN', 'New-Password-1', 'New-Password-1')`,
      },
      params: [
        { name: 'email', type: 'String', description: 'Request: the account\'s address (204 whether or not a record has it).' },
        { name: 'token', type: 'String', description: 'Confirm: the token from the email.' },
        { name: 'password', type: 'String', description: 'Confirm: the new password.' },
        { name: 'passwordConfirm', type: 'String', description: 'Confirm: the same again.' },
      ],
    }),
    twoStep({
      id: 'email-change',
      label: 'Email change',
      note: 'A signed-in user asks to change their address: a link goes to the new one, and confirming it (with the current password) changes it.',
      request: { path: `${base}/request-email-change`, body: { newEmail: 'new@example.com' }, sdk: `${coll}.requestEmailChange('new@example.com')`, signedIn: true },
      confirm: { path: `${base}/confirm-email-change`, body: { token: 'EMAIL_CHANGE_TOKEN', password: 'Secret-Password-1' }, sdk: `${coll}.confirmEmailChange('EMAIL_CHANGE_TOKEN', 'Secret-Password-1')` },
      params: [
        { name: 'newEmail', type: 'String', description: 'Request (signed in): the new address.' },
        { name: 'token', type: 'String', description: 'Confirm: the token from the email sent to the new address.' },
        { name: 'password', type: 'String', description: 'Confirm: the account\'s current password.' },
      ],
    }),
  ];

  /** An email round trip: a request (204, an email sent) and a confirmation with the email's token (204). */
  function twoStep(a: {
    id: string;
    label: string;
    note: string;
    request: { path: string; body: unknown; sdk: string; signedIn?: boolean };
    confirm: { path: string; body: unknown; sdk: string };
    params: ParamDoc[];
  }): ApiAction {
    const signedIn = a.request.signedIn ? " \\\n  -H 'Authorization: AUTH_TOKEN'" : '';
    return {
      id: a.id,
      label: a.label,
      method: 'POST',
      path: a.request.path,
      rules: [],
      params: { title: 'Body', rows: a.params },
      note: a.note,
      sdk: `${head}\n// 1. Send the email${a.request.signedIn ? ' (signed in: the SDK sends the token)' : ''}.\nawait ${a.request.sdk};\n\n// 2. With the token from the email's link.\nawait ${a.confirm.sdk};\n`,
      curl: `${post(a.request.path, a.request.body)}${signedIn}\n\n${post(a.confirm.path, a.confirm.body)}`,
      responses: [
        { status: 204, body: '' },
        { status: 400, body: json({ ...ERROR_400, message: 'An error occurred while validating the submitted data.', data: { token: { code: 'validation_invalid_token', message: 'Invalid or expired token.' } } }) },
      ],
    };
  }
}
