import type { FieldTypeName } from '../../model/collection-types.js';
import { boolField } from './bool-field.js';
import { autodateField, dateField } from './date-field.js';
import { editorField } from './editor-field.js';
import { emailField } from './email-field.js';
import type { FieldType } from './field-type.js';
import { fileField } from './file-field.js';
import { geoPointField } from './geo-point-field.js';
import { jsonField } from './json-field.js';
import { numberField } from './number-field.js';
import { passwordField } from './password-field.js';
import { relationField } from './relation-field.js';
import { selectField } from './select-field.js';
import { textField } from './text-field.js';
import { urlField } from './url-field.js';

/** Every field type by name: the single place a new type is registered. */
export const fieldTypes: Readonly<Record<FieldTypeName, FieldType>> = {
  text: textField,
  number: numberField,
  bool: boolField,
  email: emailField,
  url: urlField,
  editor: editorField,
  date: dateField,
  autodate: autodateField,
  select: selectField,
  file: fileField,
  relation: relationField,
  json: jsonField,
  password: passwordField,
  geoPoint: geoPointField,
};

export function fieldTypeOf(type: FieldTypeName): FieldType {
  return fieldTypes[type];
}

export type { FieldType } from './field-type.js';
