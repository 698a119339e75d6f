/**
 * The collection model, as the API serializes it (spec §3). Collections are dynamic: the types
 * stay plain and field options stay flat, exactly as PocketBase sends them.
 */

export type CollectionType = 'base' | 'auth' | 'view';

export const FIELD_TYPES = [
  'text',
  'number',
  'bool',
  'email',
  'url',
  'editor',
  'date',
  'autodate',
  'select',
  'file',
  'relation',
  'json',
  'password',
  'geoPoint',
] as const;

export type FieldTypeName = (typeof FIELD_TYPES)[number];

/** A field definition. Type options (`min`, `maxSelect`, `collectionId`…) sit at the top level. */
export interface Field {
  id: string;
  name: string;
  type: FieldTypeName;
  system: boolean;
  hidden: boolean;
  presentable: boolean;
  help?: string;
  required?: boolean;
  [option: string]: unknown;
}

/** `null` = superusers only; `''` = everyone; anything else = a filter expression. */
export type Rule = string | null;

export interface TokenConfig {
  duration: number;
  /** Signing secret: part of every token's HMAC key. Never serialized. */
  secret?: string;
}

export interface EmailTemplate {
  subject: string;
  body: string;
}

export interface AuthOptions {
  authRule: Rule;
  manageRule: Rule;
  authAlert: { enabled: boolean; emailTemplate: EmailTemplate };
  oauth2: {
    enabled: boolean;
    providers: unknown[];
    mappedFields: { id: string; name: string; username: string; avatarURL: string };
  };
  passwordAuth: { enabled: boolean; identityFields: string[] };
  mfa: { enabled: boolean; duration: number; rule: string };
  otp: { enabled: boolean; duration: number; length: number; emailTemplate: EmailTemplate };
  authToken: TokenConfig;
  passwordResetToken: TokenConfig;
  emailChangeToken: TokenConfig;
  verificationToken: TokenConfig;
  fileToken: TokenConfig;
  verificationTemplate: EmailTemplate;
  resetPasswordTemplate: EmailTemplate;
  confirmEmailChangeTemplate: EmailTemplate;
}

export interface Collection extends Partial<AuthOptions> {
  id: string;
  name: string;
  type: CollectionType;
  system: boolean;
  fields: Field[];
  indexes: string[];
  listRule: Rule;
  viewRule: Rule;
  createRule: Rule;
  updateRule: Rule;
  deleteRule: Rule;
  created: string;
  updated: string;
  /** View collections only: the SELECT that defines the view. */
  viewQuery?: string;
  /** Basalt's addition: a state machine on one single-valued select field (docs/workflows.md). */
  workflow?: WorkflowDefinition;
}

/** What a transition does besides changing the state, in the transition's transaction. */
export type WorkflowEffect =
  | { job: string; payload?: unknown }
  | { email: { to: string; subject: string; body: string } }
  | { webhook: string };

/** A named move between states of a workflow (docs/workflows.md). */
export interface WorkflowTransition {
  name: string;
  /** The states the transition may start from. */
  from: string[];
  to: string;
  /** Who may take it: absent or null = the collection's update rule; '' = anyone; else a filter. */
  rule?: string | null;
  /** Distinct approvers needed before it fires. @default 1 */
  approvals?: number;
  /** Fires by itself: a duration after entering a `from` state ("48h", "30m", "1d12h"), or at a date field's time. */
  after?: string | { field: string };
  effects?: WorkflowEffect[];
  /** Fields the transition's body may set along with the state. @default [] */
  fields?: string[];
}

export interface WorkflowDefinition {
  /** The single-valued select field holding the state; its values are the states. */
  field: string;
  /** The state every new record starts in. */
  initial: string;
  transitions: WorkflowTransition[];
}

/** The id and name PocketBase (and its SDK's `isSuperuser`) expect for superusers. */
export const SUPERUSERS_COLLECTION_ID = 'pbc_3142635823';
export const SUPERUSERS_COLLECTION_NAME = '_superusers';

export const AUTH_OPTION_KEYS = [
  'authRule',
  'manageRule',
  'authAlert',
  'oauth2',
  'passwordAuth',
  'mfa',
  'otp',
  'authToken',
  'passwordResetToken',
  'emailChangeToken',
  'verificationToken',
  'fileToken',
  'verificationTemplate',
  'resetPasswordTemplate',
  'confirmEmailChangeTemplate',
] as const satisfies readonly (keyof AuthOptions)[];

export const TOKEN_KEYS = [
  'authToken',
  'passwordResetToken',
  'emailChangeToken',
  'verificationToken',
  'fileToken',
] as const satisfies readonly (keyof AuthOptions)[];

export function isAuthCollection(c: Pick<Collection, 'type'>): boolean {
  return c.type === 'auth';
}

export function isViewCollection(c: Pick<Collection, 'type'>): boolean {
  return c.type === 'view';
}
