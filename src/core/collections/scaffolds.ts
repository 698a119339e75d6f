/**
 * Default shapes of new collections (`GET /api/collections/meta/scaffolds`) and the system
 * collections created on first start, as PocketBase defines them.
 */
import { crc32 } from 'node:zlib';
import { randomString } from '../ids.js';
import { fieldTypeOf } from './fields/index.js';
import {
  SUPERUSERS_COLLECTION_ID,
  SUPERUSERS_COLLECTION_NAME,
  type AuthOptions,
  type Collection,
  type CollectionType,
  type Field,
  type FieldTypeName,
} from '../model/collection-types.js';

/** PocketBase derives stable field ids from the type and name: `text3208210256`. */
export function defaultFieldId(type: string, name: string): string {
  return type + String(crc32(name));
}

/** PocketBase derives collection ids from the name: `pbc_1125843985`. */
export function defaultCollectionId(name: string): string {
  return 'pbc_' + String(crc32(name));
}

/** A field of `type` with every option at its default, overridden by `props`. */
export function makeField(type: FieldTypeName, name: string, props: Partial<Field> = {}): Field {
  return {
    ...fieldTypeOf(type).defaults,
    id: defaultFieldId(type, name),
    name,
    type,
    system: false,
    hidden: false,
    presentable: false,
    help: '',
    ...props,
  } as Field;
}

export function idField(): Field {
  return makeField('text', 'id', {
    system: true,
    required: true,
    primaryKey: true,
    min: 15,
    max: 15,
    pattern: '^[a-z0-9]+$',
    autogeneratePattern: '[a-z0-9]{15}',
  });
}

function timestampFields(system: boolean): Field[] {
  return [
    makeField('autodate', 'created', { system, onCreate: true, onUpdate: false }),
    makeField('autodate', 'updated', { system, onCreate: true, onUpdate: true }),
  ];
}

/** The system fields every auth collection has, in PocketBase's order. */
export function authSystemFields(): Field[] {
  return [
    makeField('password', 'password', { system: true, hidden: true, required: true, min: 8 }),
    makeField('text', 'tokenKey', {
      system: true,
      hidden: true,
      required: true,
      min: 30,
      max: 60,
      autogeneratePattern: '[a-zA-Z0-9]{50}',
    }),
    makeField('email', 'email', { system: true, required: true }),
    makeField('bool', 'emailVisibility', { system: true }),
    makeField('bool', 'verified', { system: true }),
  ];
}

export function authSystemIndexes(collectionId: string, name: string): string[] {
  return [
    `CREATE UNIQUE INDEX \`idx_tokenKey_${collectionId}\` ON \`${name}\` (\`tokenKey\`)`,
    `CREATE UNIQUE INDEX \`idx_email_${collectionId}\` ON \`${name}\` (\`email\`) WHERE \`email\` != ''`,
  ];
}

const template = (subject: string, body: string) => ({ subject, body });

/** Auth options with PocketBase's defaults and fresh token secrets. */
export function defaultAuthOptions(): AuthOptions {
  const secret = () => randomString(50, 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789');
  return {
    authRule: '',
    manageRule: null,
    authAlert: {
      enabled: true,
      emailTemplate: template(
        'Login from a new location',
        '<p>Hello,</p>\n<p>We noticed a login to your {APP_NAME} account from a new location.</p>\n<p>If this wasn\'t you, you should immediately change your {APP_NAME} account password to revoke access from all other locations.</p>\n<p>If this was you, you may disregard this email.</p>\n<p>\n  Thanks,<br/>\n  {APP_NAME} team\n</p>',
      ),
    },
    oauth2: { enabled: false, providers: [], mappedFields: { id: '', name: '', username: '', avatarURL: '' } },
    passwordAuth: { enabled: true, identityFields: ['email'] },
    mfa: { enabled: false, duration: 600, rule: '' },
    otp: {
      enabled: false,
      duration: 180,
      length: 8,
      emailTemplate: template(
        'OTP for {APP_NAME}',
        "<p>Hello,</p>\n<p>Your one-time password is: <strong>{OTP}</strong></p>\n<p><i>If you didn't ask for the one-time password, you can ignore this email.</i></p>\n<p>\n  Thanks,<br/>\n  {APP_NAME} team\n</p>",
      ),
    },
    authToken: { duration: 432000, secret: secret() },
    passwordResetToken: { duration: 1800, secret: secret() },
    emailChangeToken: { duration: 1800, secret: secret() },
    verificationToken: { duration: 86400, secret: secret() },
    fileToken: { duration: 180, secret: secret() },
    verificationTemplate: template(
      'Verify your {APP_NAME} email',
      '<p>Hello,</p>\n<p>Thank you for joining us at {APP_NAME}.</p>\n<p>Click on the button below to verify your email address.</p>\n<p>\n  <a class="btn" href="{APP_URL}/_/#/auth/confirm-verification/{TOKEN}" target="_blank" rel="noopener">Verify</a>\n</p>\n<p>\n  Thanks,<br/>\n  {APP_NAME} team\n</p>',
    ),
    resetPasswordTemplate: template(
      'Reset your {APP_NAME} password',
      '<p>Hello,</p>\n<p>Click on the button below to reset your password.</p>\n<p>\n  <a class="btn" href="{APP_URL}/_/#/auth/confirm-password-reset/{TOKEN}" target="_blank" rel="noopener">Reset password</a>\n</p>\n<p><i>If you didn\'t ask to reset your password, you can ignore this email.</i></p>\n<p>\n  Thanks,<br/>\n  {APP_NAME} team\n</p>',
    ),
    confirmEmailChangeTemplate: template(
      'Confirm your {APP_NAME} new email address',
      '<p>Hello,</p>\n<p>Click on the button below to confirm your new email address.</p>\n<p>\n  <a class="btn" href="{APP_URL}/_/#/auth/confirm-email-change/{TOKEN}" target="_blank" rel="noopener">Confirm new email</a>\n</p>\n<p><i>If you didn\'t ask to change your email address, you can ignore this email.</i></p>\n<p>\n  Thanks,<br/>\n  {APP_NAME} team\n</p>',
    ),
  };
}

/**
 * A new collection of `type` with PocketBase's default fields, rules and options (its
 * NewBaseCollection/NewAuthCollection/NewViewCollection): a base collection has only `id`, an
 * auth one `id` and the auth system fields, a view none. NB: no `created`/`updated`; clients
 * (PocketBase's dashboard) append those themselves, and would otherwise send them twice.
 */
export function scaffoldCollection(type: CollectionType, name = '', id = '', now = ''): Collection {
  const base: Collection = {
    id,
    name,
    type,
    system: false,
    fields: [],
    indexes: [],
    listRule: null,
    viewRule: null,
    createRule: null,
    updateRule: null,
    deleteRule: null,
    created: now,
    updated: now,
  };
  if (type === 'view') return { ...base, viewQuery: '' };
  if (type === 'base') return { ...base, fields: [idField()] };
  return {
    ...base,
    fields: [idField(), ...authSystemFields()],
    indexes: id && name ? authSystemIndexes(id, name) : [],
    ...defaultAuthOptions(),
  };
}

const OWNER_RULE = "@request.auth.id != '' && recordRef = @request.auth.id && collectionRef = @request.auth.collectionId";

function systemCollection(now: string, name: string, fields: Field[], indexes: string[], rules: Partial<Collection> = {}): Collection {
  const id = defaultCollectionId(name);
  return {
    ...scaffoldCollection('base', name, id, now),
    system: true,
    fields: [idField(), ...fields, ...timestampFields(true)],
    indexes: indexes.map((sql) => sql.replaceAll('{id}', id)),
    ...rules,
  };
}

const ref = (name: string) => makeField('text', name, { system: true, required: true });

/** The collections Basalt creates on first start, in dependency order. */
export function systemCollections(now: string): Collection[] {
  const superusers = scaffoldCollection('auth', SUPERUSERS_COLLECTION_NAME, SUPERUSERS_COLLECTION_ID, now);
  superusers.system = true;
  superusers.fields.push(...timestampFields(true));

  const usersId = '_pb_users_auth_';
  const users = scaffoldCollection('auth', 'users', usersId, now);
  users.fields.push(
    makeField('text', 'name', { max: 255 }),
    makeField('file', 'avatar', {
      maxSelect: 1,
      mimeTypes: ['image/jpeg', 'image/png', 'image/svg+xml', 'image/gif', 'image/webp'],
    }),
    ...timestampFields(false),
  );
  Object.assign(users, {
    listRule: 'id = @request.auth.id',
    viewRule: 'id = @request.auth.id',
    createRule: '',
    updateRule: 'id = @request.auth.id',
    deleteRule: 'id = @request.auth.id',
  });

  return [
    superusers,
    systemCollection(
      now,
      '_externalAuths',
      [ref('collectionRef'), ref('recordRef'), ref('provider'), ref('providerId')],
      [
        'CREATE UNIQUE INDEX `idx_externalAuths_record_provider` ON `_externalAuths` (`collectionRef`, `recordRef`, `provider`)',
        'CREATE UNIQUE INDEX `idx_externalAuths_collection_provider` ON `_externalAuths` (`collectionRef`, `provider`, `providerId`)',
      ],
      { listRule: OWNER_RULE, viewRule: OWNER_RULE, deleteRule: OWNER_RULE },
    ),
    systemCollection(
      now,
      '_mfas',
      [ref('collectionRef'), ref('recordRef'), ref('method')],
      ['CREATE INDEX `idx_mfas_collectionRef_recordRef` ON `_mfas` (`collectionRef`, `recordRef`)'],
      { listRule: OWNER_RULE, viewRule: OWNER_RULE },
    ),
    systemCollection(
      now,
      '_otps',
      [
        ref('collectionRef'),
        ref('recordRef'),
        makeField('password', 'password', { system: true, hidden: true, required: true }),
        makeField('text', 'sentTo', { system: true, hidden: true }),
      ],
      ['CREATE INDEX `idx_otps_collectionRef_recordRef` ON `_otps` (`collectionRef`, `recordRef`)'],
      { listRule: OWNER_RULE, viewRule: OWNER_RULE },
    ),
    systemCollection(
      now,
      '_authOrigins',
      [ref('collectionRef'), ref('recordRef'), ref('fingerprint')],
      ['CREATE UNIQUE INDEX `idx_authOrigins_unique_pairs` ON `_authOrigins` (`collectionRef`, `recordRef`, `fingerprint`)'],
      { listRule: OWNER_RULE, viewRule: OWNER_RULE, deleteRule: OWNER_RULE },
    ),
    users,
  ];
}
